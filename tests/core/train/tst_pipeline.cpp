// The whole experiment through Pipeline on a tiny built-in corpus (5 synthetic speakers, 2 s
// clips): run folder, events, metrics, checkpoints, the teacher cache hit on a second run, cancel.
// tkd-test-labels: ml e2e
#include "core/experiment/ExperimentConfig.h"
#include "core/train/EventLog.h"
#include "core/train/Pipeline.h"
#include "core/train/RunDirectory.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>

namespace {
class CancelOnStep : public tkd::TrainObserver
{
public:
    explicit CancelOnStep(tkd::TrainControl *c, std::string stagePrefix)
        : m_control(c)
        , m_prefix(std::move(stagePrefix))
    { }
    void onStep(const tkd::StepReport &r) override
    {
        if (r.stage.rfind(m_prefix, 0) == 0)
            m_control->requestCancel();
    }

private:
    tkd::TrainControl *m_control;
    std::string m_prefix;
};
} // namespace

class TestPipeline : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void oracleEndToEnd();
    void unseenVoicesAreScored();
    void tinyTeacherThenCacheHit();
    void cancelStopsTheRun();
    void badConfig();

private:
    tkd::ExperimentConfig config(const std::string &teacher) const;

    QTemporaryDir m_tmp;
};

void TestPipeline::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    qputenv("TKD_CACHE_DIR", m_tmp.path().toUtf8() + "/cache");
}

tkd::ExperimentConfig TestPipeline::config(const std::string &teacher) const
{
    tkd::ExperimentConfig c;
    c.name = "tiny";
    c.data.source = "builtin";
    c.data.corpus.speakers = 5; // 3 train, 1 validation, 1 test speaker; 12 clips each
    c.data.noisy.lengthSec = 2.0;
    c.teacher.kind = tkd::teacherKindFromName(teacher);
    c.teacher.epochs = 2;
    c.teacher.batchSize = 8;
    c.students = { "tc-resnet8" };
    c.kd.lambdas = { 0.0, 0.25 };
    c.grid.lengthsSec = { 2.0 };
    c.grid.seeds = { 1 };
    c.train.epochs = 2;
    c.train.batchSize = 8;
    c.train.lr = 3e-3;
    c.train.warmupEpochs = 0;
    c.train.numThreads = 1;
    c.output.runsDir = m_tmp.path().toStdString() + "/runs";
    return c;
}

void TestPipeline::oracleEndToEnd()
{
    tkd::Pipeline pipeline(config("oracle"));
    const tkd::PipelineResult r = pipeline.run();
    QVERIFY(!r.cancelled);
    QCOMPARE(r.lengths.size(), size_t(1));
    const tkd::LengthResult &l = r.lengths[0];
    QCOMPARE(l.teacherKind, std::string("oracle"));
    QCOMPARE(l.trainClips, int64_t(36));
    // The oracle finds the keyword: well above what uniform attention scores.
    QVERIFY(l.teacherTest.at("localisation") > 2.0 * l.teacherTest.at("localisation_baseline"));
    QCOMPARE(l.cells.size(), size_t(2));
    for (const auto &c : l.cells) {
        QCOMPARE(c.status, std::string("completed"));
        QVERIFY(std::filesystem::exists(c.checkpoint));
        QVERIFY(c.test.at("accuracy") >= 0.0);
    }
    QVERIFY(std::isnan(l.cells[0].test.at("localisation_branch"))); // lambda 0: no branch
    QVERIFY(std::isfinite(l.cells[1].test.at("localisation_branch")));

    // The run folder: config, provenance with the data hash, events, metrics.
    const tkd::RunDirectory run = tkd::RunDirectory::open(r.runDir);
    QCOMPARE(run.config().teacher.kind, tkd::TeacherKind::Oracle);
    QCOMPARE(run.provenance().dataHash, l.dataHash);
    QCOMPARE(run.provenance().teacherHash, std::string("oracle"));
    const auto events = tkd::readEventLog(run.eventLogPath());
    int steps = 0, epochs = 0, done = 0, checkpoints = 0;
    for (const auto &e : events) {
        steps += e.type == tkd::Event::Type::Step;
        epochs += e.type == tkd::Event::Type::Epoch;
        done += e.type == tkd::Event::Type::Done;
        checkpoints += e.type == tkd::Event::Type::Checkpoint;
    }
    QCOMPARE(steps, 2 * 2 * 5); // 2 cells x 2 epochs x ceil(36 / 8) steps
    QCOMPARE(epochs, 4);
    QCOMPARE(done, 1);
    QVERIFY(checkpoints >= 4);
    const tkd::PipelineResult back = tkd::PipelineResult::fromJson(run.readMetrics());
    QCOMPARE(back.lengths[0].cells.size(), size_t(2));
    QCOMPARE(back.lengths[0].cells[1].test.at("accuracy"), l.cells[1].test.at("accuracy"));
    const QString table = QString::fromStdString(back.table());
    QVERIFY2(
        table.contains("teacher oracle") && table.contains("tc-resnet8") && table.contains("0.25"),
        qPrintable(table));
}

void TestPipeline::unseenVoicesAreScored()
{
    // An espeak-only corpus: its students are also scored on new flite speakers.
    tkd::ExperimentConfig c = config("oracle");
    c.kd.lambdas = { 0.0 };
    c.data.corpus.unseenVoices = 4; // 3 in the test split
    const tkd::PipelineResult r = tkd::Pipeline(c).run();
    const tkd::LengthResult &l = r.lengths[0];
    QVERIFY2(l.unseenVoices == "flite: 3 new speakers, 36 clips", l.unseenVoices.c_str());
    const double acc = l.cells[0].test.at("unseen_voices_accuracy");
    QVERIFY(acc >= 0.0 && acc <= 1.0);
    const tkd::PipelineResult back
        = tkd::PipelineResult::fromJson(tkd::RunDirectory::open(r.runDir).readMetrics());
    QCOMPARE(back.lengths[0].unseenVoices, l.unseenVoices);
    QVERIFY(QString::fromStdString(back.table()).contains("unseen voices (flite"));

    // A corpus with both families leaves none out, and says so instead of scoring.
    c.data.corpus.fliteShare = 0.5;
    tkd::PipelineOptions o;
    o.stopAfter = tkd::PipelineOptions::Stop::AfterTeacher;
    const tkd::PipelineResult both = tkd::Pipeline(c, o).run();
    QVERIFY(both.lengths[0].unseenVoices.empty());
    bool warned = false;
    for (const auto &w : both.lengths[0].warnings)
        warned |= w.find("data.corpus.unseen_voices") != std::string::npos;
    QVERIFY(warned);
}

void TestPipeline::tinyTeacherThenCacheHit()
{
    tkd::PipelineOptions o;
    o.stopAfter = tkd::PipelineOptions::Stop::AfterCache;
    const tkd::PipelineResult first = tkd::Pipeline(config("tiny"), o).run();
    const tkd::LengthResult &l = first.lengths[0];
    QCOMPARE(l.teacherKind, std::string("tiny"));
    QVERIFY(!l.cacheHit);
    QVERIFY(std::filesystem::exists(l.cachePath));
    QVERIFY(std::filesystem::exists(l.teacherCheckpoint));
    QVERIFY(l.teacherValidation.count("accuracy") && l.teacherValidation.count("localisation"));
    QVERIFY(l.cells.empty()); // stopped after the cache
    // Two epochs on 36 clips teach a transformer little: the warnings say so before students train.
    QVERIFY(!l.warnings.empty());

    // The same teacher (its checkpoint) over the same data: the cache is reused, not recomputed.
    o.teacherCheckpoint = l.teacherCheckpoint;
    const tkd::PipelineResult second = tkd::Pipeline(config("tiny"), o).run();
    QVERIFY(second.lengths[0].cacheHit);
    QCOMPARE(second.lengths[0].cachePath, l.cachePath);
    QCOMPARE(second.lengths[0].teacherHash, l.teacherHash);

    // Another noise seed: another dataset, another key.
    tkd::ExperimentConfig c = config("tiny");
    c.data.noisy.seed = 77;
    const tkd::PipelineResult third = tkd::Pipeline(c, o).run();
    QVERIFY(!third.lengths[0].cacheHit);
    QVERIFY(third.lengths[0].cachePath != l.cachePath);
}

void TestPipeline::cancelStopsTheRun()
{
    tkd::TrainControl control;
    CancelOnStep obs(&control, "student");
    tkd::Pipeline pipeline(config("oracle"), {}, &obs, &control);
    QVERIFY_THROWS_EXCEPTION(tkd::Cancelled, pipeline.run());
    // The run folder says so, and the cancelled cell left a checkpoint to resume from.
    const std::string newest = pipeline.runDir();
    QVERIFY(std::filesystem::exists(newest + "/metrics.json"));
    const nlohmann::json m = tkd::RunDirectory::open(newest).readMetrics();
    QCOMPARE(m["cancelled"].get<bool>(), true);
    QCOMPARE(m["lengths"][0]["cells"][0]["status"].get<std::string>(), std::string("cancelled"));
    QVERIFY(std::filesystem::exists(newest + "/students/"
        + tkd::PipelineResult::cellName("tc-resnet8", 2.0, 0.0, 1) + "/last.safetensors"));
}

void TestPipeline::badConfig()
{
    tkd::ExperimentConfig c = config("oracle");
    c.students = { "no-such-student" };
    try {
        tkd::Pipeline p(c);
        QFAIL("a config with an unknown student was accepted");
    } catch (const tkd::Error &e) {
        QVERIFY2(QString::fromStdString(e.what()).contains("students[0]"), e.what());
    }
}

QTEST_GUILESS_MAIN(TestPipeline)
#include "tst_pipeline.moc"
