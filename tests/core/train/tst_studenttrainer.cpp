// The student stage on a tiny real dataset: a few dozen 2 s noisy clips built from a built-in
// corpus of synthetic speakers, MFCC features through the FeatureCache, TC-ResNet8.
#include "core/checkpoint/Checkpoint.h"
#include "core/checkpoint/TrainedModels.h"
#include "core/data/BuiltinCorpus.h"
#include "core/data/FeatureCache.h"
#include "core/data/NoisyDataset.h"
#include "core/data/PreparedData.h"
#include "core/features/FeatureExtractor.h"
#include "core/io/SafeTensors.h"
#include "core/models/StudentRegistry.h"
#include "core/train/StudentTrainer.h"
#include "core/train/TeacherTrainer.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainLoop.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <QtTest>

#include <atomic>
#include <cmath>
#include <dlfcn.h>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

namespace {

// Records what the trainer reports; optionally cancels after a number of steps.
class Recorder : public tkd::TrainObserver
{
public:
    tkd::TrainControl *control = nullptr;
    int64_t cancelAfter = -1;
    std::vector<tkd::StepReport> steps;
    std::vector<tkd::EpochReport> epochs;
    std::vector<std::string> messages;
    int checkpoints = 0;
    void onStep(const tkd::StepReport &r) override
    {
        steps.push_back(r);
        if (control && cancelAfter > 0 && int64_t(steps.size()) == cancelAfter)
            control->requestCancel();
    }
    void onEpoch(const tkd::EpochReport &r) override { epochs.push_back(r); }
    void onMessage(Level, const std::string &t) override { messages.push_back(t); }
    void onCheckpoint(const std::string &, const std::string &, bool) override { ++checkpoints; }
};

bool sameWeights(const tkd::StudentModel &a, const tkd::StudentModel &b)
{
    const auto pa = a.namedParameters(), pb = b.namedParameters();
    if (pa.size() != pb.size())
        return false;
    for (size_t i = 0; i < pa.size(); ++i)
        if (!torch::equal(pa[i].value(), pb[i].value()))
            return false;
    return true;
}

} // namespace

class TestStudentTrainer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void tinyRunLearnsAndCheckpoints();
    void deterministicGivenTheSeed();
    void temporalKdFromTheOracle();
    void optimisersAndSchedules_data();
    void optimisersAndSchedules();
    void cancelThenResumeMatchesUninterrupted();
    void pauseHoldsTheLoop();
    void nanLossStopsAndKeepsLastGoodCheckpoint();
    void gradientClipAndEarlyStoppingFloor();
    void badOptions();
    void denormalsAreFlushedInEveryThread();

private:
    tkd::StudentTrainOptions baseOptions() const;
    tkd::StudentData data() const;

    QTemporaryDir m_tmp;
    tkd::DatasetIndex m_index;
    std::unique_ptr<tkd::NoisyDataset> m_noisy;
    tkd::PreparedSplit m_train, m_val, m_test;
};

void TestStudentTrainer::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    qputenv("TKD_CACHE_DIR", m_tmp.path().toUtf8() + "/cache");
    torch::set_num_threads(1);
    tkd::BuiltinCorpusConfig c;
    c.speakers = 8; // 6 train, 1 validation, 1 test speaker
    c.words = { "yes", "no", "up", "down", "bed" };
    c.seed = 3;
    tkd::BuiltinCorpus corpus(c, m_tmp.path().toStdString() + "/corpus");
    corpus.ensure();
    m_index = corpus.index12();
    tkd::NoisyConfig n;
    n.lengthSec = 2.0;
    n.seed = 4;
    m_noisy = std::make_unique<tkd::NoisyDataset>(m_index, n);
    const tkd::PreparedData prepared(*m_noisy);
    const tkd::FeatureCache cache;
    const tkd::FeatureExtractor fx(tkd::FeatureConfig {});
    m_train = prepared.split(tkd::Split::Train, fx, cache);
    m_val = prepared.split(tkd::Split::Validation, fx, cache);
    m_test = prepared.split(tkd::Split::Test, fx, cache);
    QVERIFY(m_train.size() >= 24);
    QVERIFY(m_val.size() >= 4);
    QCOMPARE(m_train.frames(), int64_t(99)); // 2 s at 49 frames/s
    QCOMPARE(m_train.features.size(2), int64_t(20));
    QCOMPARE(int64_t(m_train.windows.size()), m_train.size());

    // A second preparation reads the cache and the items file: the same tensors, no audio.
    const tkd::PreparedSplit again = prepared.split(tkd::Split::Train, fx, cache);
    QVERIFY(again.featuresFromCache);
    QVERIFY(torch::equal(again.features, m_train.features));
    QVERIFY(torch::equal(again.targets, m_train.targets));
    QCOMPARE(again.windows[3].onsetSec, m_train.windows[3].onsetSec);
}

tkd::StudentTrainOptions TestStudentTrainer::baseOptions() const
{
    tkd::StudentTrainOptions o;
    o.student = "tc-resnet8";
    o.epochs = 2;
    o.batchSize = 8;
    o.lr = 3e-3;
    o.schedule = tkd::ScheduleKind::Constant;
    o.warmupEpochs = 0;
    o.seed = 1;
    return o;
}

tkd::StudentData TestStudentTrainer::data() const
{
    tkd::StudentData d;
    d.train = &m_train;
    d.validation = &m_val;
    d.test = &m_test;
    return d;
}

void TestStudentTrainer::tinyRunLearnsAndCheckpoints()
{
    tkd::StudentTrainOptions o = baseOptions();
    o.epochs = 3;
    o.checkpointDir = m_tmp.path().toStdString() + "/tiny";
    Recorder rec;
    tkd::StudentTrainer trainer(o, &rec);
    const tkd::StudentResult r = trainer.train(data());
    QCOMPARE(r.status, tkd::StudentResult::Status::Completed);
    QCOMPARE(r.epochsRun, int64_t(3));
    QCOMPARE(int64_t(rec.steps.size()), r.steps);
    QCOMPARE(r.epochLosses.size(), size_t(3));
    QVERIFY2(r.epochLosses.back() < r.epochLosses.front(),
        qPrintable(QString("loss %1 -> %2").arg(r.epochLosses.front()).arg(r.epochLosses.back())));
    QVERIFY(r.bestEpoch >= 1);
    QVERIFY(std::filesystem::exists(r.bestCheckpoint));
    QVERIFY(std::filesystem::exists(r.lastCheckpoint));
    QCOMPARE(r.test.metrics.count, m_test.size());
    QCOMPARE(int64_t(r.test.metrics.confusion.size()), int64_t(12 * 12));
    QVERIFY(r.test.metrics.accuracy >= 0.0 && r.test.metrics.accuracy <= 1.0);
    QCOMPARE(rec.epochs.size(), size_t(3));
    QVERIFY(rec.epochs[0].validation.count("accuracy"));
    // Vanilla: no branch, so no branch localisation; TC-ResNet has no native attention.
    QVERIFY(!r.branch);
    QCOMPARE(r.test.branch.scoredClips, int64_t(0));
    // The best checkpoint holds the best weights, and evaluates as reported.
    tkd::FeatureNorm norm;
    const tkd::StudentModel loaded
        = tkd::TrainedModels::loadStudent(r.bestCheckpoint, nullptr, &norm);
    QVERIFY(sameWeights(loaded, r.model));
    QVERIFY(torch::equal(norm.mean, r.norm.mean));
    const tkd::StudentEvaluation e = tkd::StudentTrainer::evaluate(
        loaded, tkd::AttentionBranch { nullptr }, m_test, torch::kCPU, 256, norm);
    QCOMPARE(e.metrics.accuracy, r.test.metrics.accuracy);
}

void TestStudentTrainer::deterministicGivenTheSeed()
{
    const tkd::StudentTrainOptions o = baseOptions();
    const tkd::StudentResult a = tkd::StudentTrainer(o).train(data());
    const tkd::StudentResult b = tkd::StudentTrainer(o).train(data());
    QVERIFY(sameWeights(a.model, b.model));
    QCOMPARE(a.epochLosses, b.epochLosses);
    tkd::StudentTrainOptions other = o;
    other.seed = 2;
    const tkd::StudentResult c = tkd::StudentTrainer(other).train(data());
    QVERIFY(!sameWeights(a.model, c.model));
}

void TestStudentTrainer::temporalKdFromTheOracle()
{
    tkd::StudentTrainOptions o = baseOptions();
    o.lambda = 0.25;
    o.epochs = 3;
    tkd::StudentData d = data();
    d.teacherAttention = tkd::TeacherTrainer::oracleAttention(m_train, m_train.frames());
    QCOMPARE(d.teacherAttention.size(1), int64_t(99));
    Recorder rec;
    const tkd::StudentResult r = tkd::StudentTrainer(o, &rec).train(d);
    QVERIFY(r.branch);
    // The KL term is reported, positive, and falls as the branch learns where the keyword is.
    QVERIFY(rec.steps.front().kd > 0.0);
    const double firstKd = rec.epochs.front().trainLosses.at("kd"),
                 lastKd = rec.epochs.back().trainLosses.at("kd");
    QVERIFY2(lastKd < firstKd, qPrintable(QString("kd %1 -> %2").arg(firstKd).arg(lastKd)));
    QVERIFY(std::abs(rec.steps.back().total - (rec.steps.back().task + 0.25 * rec.steps.back().kd))
        < 1e-4);
    // The branch is scored against the keyword windows on the test split.
    QVERIFY(r.test.branch.scoredClips > 0);
    QVERIFY(std::isfinite(r.test.summary().at("localisation_branch")));
}

void TestStudentTrainer::optimisersAndSchedules_data()
{
    QTest::addColumn<QString>("optimizer");
    QTest::addColumn<QString>("schedule");
    QTest::addColumn<double>("weightDecay");
    QTest::newRow("adam cosine") << "adam"
                                 << "cosine" << 0.0;
    QTest::newRow("sgd onecycle wd") << "sgd"
                                     << "onecycle" << 1e-4;
    QTest::newRow("sgd step") << "sgd"
                              << "step" << 0.0;
}

void TestStudentTrainer::optimisersAndSchedules()
{
    QFETCH(QString, optimizer);
    QFETCH(QString, schedule);
    QFETCH(double, weightDecay);
    tkd::StudentTrainOptions o = baseOptions();
    o.optimizer = tkd::optimiserFromName(optimizer.toStdString());
    o.schedule = tkd::scheduleKindFromName(schedule.toStdString());
    o.weightDecay = weightDecay;
    o.lr = optimizer == "sgd" ? 0.05 : 3e-3;
    o.warmupEpochs = 1;
    Recorder rec;
    const tkd::StudentResult r = tkd::StudentTrainer(o, &rec).train(data());
    QCOMPARE(r.status, tkd::StudentResult::Status::Completed);
    // The reported rate follows the schedule: it changes over the run.
    QVERIFY(rec.steps.front().lr != rec.steps.back().lr);
    QVERIFY(std::isfinite(r.epochLosses.back()));
}

void TestStudentTrainer::cancelThenResumeMatchesUninterrupted()
{
    tkd::StudentTrainOptions o = baseOptions();
    o.checkpointDir = m_tmp.path().toStdString() + "/resume";
    const tkd::StudentResult whole = tkd::StudentTrainer(o).train(data());
    std::filesystem::remove_all(o.checkpointDir);

    tkd::TrainControl control;
    Recorder rec;
    rec.control = &control;
    rec.cancelAfter = 3; // mid-way through the first epoch (5 batches of 8 clips)
    const tkd::StudentResult cut = tkd::StudentTrainer(o, &rec, &control).train(data());
    QCOMPARE(cut.status, tkd::StudentResult::Status::Cancelled);
    QCOMPARE(cut.steps, int64_t(3));
    QVERIFY(std::filesystem::exists(cut.lastCheckpoint));
    QCOMPARE(tkd::Checkpoint::load(cut.lastCheckpoint).intValue("next_batch"), int64_t(3));

    o.resume = true;
    Recorder rest;
    const tkd::StudentResult resumed = tkd::StudentTrainer(o, &rest).train(data());
    QCOMPARE(resumed.status, tkd::StudentResult::Status::Completed);
    QCOMPARE(int64_t(rest.steps.size()), whole.steps - 3);
    QVERIFY2(sameWeights(resumed.model, whole.model),
        "a cancelled and resumed run must end where an uninterrupted one does");
}

void TestStudentTrainer::pauseHoldsTheLoop()
{
    tkd::TrainControl control;
    control.setPaused(true);
    Recorder rec;
    std::atomic<size_t> stepsWhilePaused { 999 };
    std::thread resumer([&] {
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
        stepsWhilePaused = rec.steps.size();
        control.setPaused(false);
    });
    tkd::StudentTrainOptions o = baseOptions();
    o.epochs = 1;
    const tkd::StudentResult r = tkd::StudentTrainer(o, &rec, &control).train(data());
    resumer.join();
    QCOMPARE(size_t(stepsWhilePaused), size_t(0));
    QCOMPARE(r.status, tkd::StudentResult::Status::Completed);
    QVERIFY(r.steps > 0);
}

void TestStudentTrainer::nanLossStopsAndKeepsLastGoodCheckpoint()
{
    tkd::StudentTrainOptions o = baseOptions();
    o.epochs = 1;
    o.checkpointDir = m_tmp.path().toStdString() + "/nan";
    const tkd::StudentResult good = tkd::StudentTrainer(o).train(data());
    const std::string last = good.lastCheckpoint;
    const std::string before = tkd::readFile(last);

    // Continue with an absurd learning rate: the weights blow up and the loss stops being finite.
    o.resume = true;
    o.epochs = 4;
    o.lr = 1e30;
    Recorder rec;
    try {
        tkd::StudentTrainer(o, &rec).train(data());
        QFAIL("training went on with a non-finite loss");
    } catch (const tkd::Error &e) {
        const QString reason = QString::fromStdString(e.reason());
        QVERIFY2(reason.contains("NaN") || reason.contains("infinite"), qPrintable(reason));
        QVERIFY2(reason.contains("last good checkpoint")
                && reason.contains(QString::fromStdString(last)),
            qPrintable(reason));
    }
    QVERIFY(!rec.messages.empty());
    // The checkpoint on disk is still the good one, and it loads with finite weights.
    QVERIFY(tkd::readFile(last) == before);
    const tkd::StudentModel m = tkd::TrainedModels::loadStudent(last);
    for (const auto &p : m.parameters())
        QVERIFY(torch::isfinite(p).all().item<bool>());
}

// Denormal operands make sgemm ~150x slower (TrainLoop.h): the trainers flush them to zero in
// the calling thread and in every thread of LibTorch's pool (MXCSR is per thread).
namespace {
void clearMxcsr(void *)
{
#if defined(__x86_64__)
    _mm_setcsr(_mm_getcsr() & ~0x8040u);
#endif
}
std::atomic<int> g_unflushed { 0 };
std::mutex g_threadsMutex;
std::set<std::thread::id> g_threads;
void checkMxcsr(void *)
{
#if defined(__x86_64__)
    if ((_mm_getcsr() & 0x8040) != 0x8040) // FTZ (bit 15) and DAZ (bit 6)
        ++g_unflushed;
#endif
    const std::lock_guard<std::mutex> lock(g_threadsMutex);
    g_threads.insert(std::this_thread::get_id());
}
} // namespace

// Denormal operands make sgemm ~150x slower (TrainLoop.h): the trainers flush them to zero in
// the calling thread and in every thread of LibTorch's pool (MXCSR is per thread). The pool is
// libgomp's team of this thread; a team is run here the way LibTorch runs one.
void TestStudentTrainer::denormalsAreFlushedInEveryThread()
{
#if defined(__x86_64__)
    using GompParallel = void (*)(void (*)(void *), void *, unsigned, unsigned);
    const auto gompParallel
        = reinterpret_cast<GompParallel>(::dlsym(RTLD_DEFAULT, "GOMP_parallel"));
    if (!gompParallel)
        QSKIP("this LibTorch does not run its pool on libgomp");
    const int before = torch::get_num_threads();
    torch::set_num_threads(2);
    // The pool's threads exist and have the flags off (a new thread copies its creator's), so
    // only flushDenormals' own team can turn them on in those threads.
    clearMxcsr(nullptr);
    gompParallel(&clearMxcsr, nullptr, 2, 0);
    tkd::TrainLoop::flushDenormals();
    gompParallel(&checkMxcsr, nullptr, 2, 0);
    QCOMPARE(g_threads.size(), size_t(2));
    QCOMPARE(g_unflushed.load(), 0);
    QCOMPARE(_mm_getcsr() & 0x8040, 0x8040u);
    // And the arithmetic, in LibTorch's own parallel kernels: an element-wise product over 4 M
    // floats runs on both pool threads; every denormal result must be zero.
    const torch::Tensor big = torch::full({ 1 << 22 }, 1e-30f) * 1e-10f;
    QCOMPARE(big.abs().max().item<float>(), 0.0f);
    QCOMPARE((torch::full({ 8 }, 1e-39f) * 1.0f).abs().sum().item<float>(), 0.0f); // DAZ
    torch::set_num_threads(before);
#else
    QSKIP("flush-to-zero is checked through x86's MXCSR");
#endif
}

// train.grad_clip_norm bounds every step (SGD: a step is lr x the clipped gradient, momentum at
// most 10x it), and train.early_stopping_min_epochs keeps a flat run going up to its epoch.
void TestStudentTrainer::gradientClipAndEarlyStoppingFloor()
{
    tkd::StudentTrainOptions o = baseOptions();
    o.optimizer = tkd::OptimiserKind::Sgd;
    o.lr = 0.05;
    o.epochs = 1;
    const auto drift = [&](double clip) {
        tkd::StudentTrainOptions c = o;
        c.gradClipNorm = clip;
        torch::manual_seed(int64_t(c.seed));
        const tkd::StudentModel init
            = tkd::StudentRegistry::create(c.student, m_train.numClasses, m_train.features.size(2));
        const tkd::StudentResult r = tkd::StudentTrainer(c).train(data());
        double moved = 0.0;
        const auto a = init.namedParameters(), b = r.model.namedParameters();
        for (size_t i = 0; i < a.size(); ++i)
            moved += (b[i].value() - a[i].value()).pow(2).sum().item<double>();
        return std::make_pair(std::sqrt(moved), r.steps);
    };
    const auto [free, steps] = drift(0.0);
    const auto [clipped, clippedSteps] = drift(1e-6);
    QCOMPARE(clippedSteps, steps);
    const double bound = double(steps) * o.lr * 1e-6 * 10.0;
    QVERIFY2(clipped <= bound * 1.001,
        qPrintable(QString("clipped run moved %1 > bound %2").arg(clipped).arg(bound)));
    QVERIFY2(free > 100.0 * bound, qPrintable(QString("unclipped run moved only %1").arg(free)));

    // A rate too small to change the validation score: every epoch after the first is "bad".
    o = baseOptions();
    o.lr = 1e-12;
    o.epochs = 5;
    o.earlyStoppingPatience = 1;
    tkd::StudentResult r = tkd::StudentTrainer(o).train(data());
    QCOMPARE(r.status, tkd::StudentResult::Status::EarlyStopped);
    QCOMPARE(r.epochsRun, int64_t(2));
    o.earlyStoppingMinEpochs = 4;
    r = tkd::StudentTrainer(o).train(data());
    QCOMPARE(r.status, tkd::StudentResult::Status::EarlyStopped);
    QCOMPARE(r.epochsRun, int64_t(4));
    o.earlyStoppingMinEpochs = 5;
    r = tkd::StudentTrainer(o).train(data());
    QCOMPARE(r.status, tkd::StudentResult::Status::Completed);
    QCOMPARE(r.epochsRun, int64_t(5));
}

void TestStudentTrainer::badOptions()
{
    tkd::StudentTrainOptions o = baseOptions();
    o.lambda = 0.25; // KD without any teacher attention
    try {
        tkd::StudentTrainer(o).train(data());
        QFAIL("KD without a_T accepted");
    } catch (const tkd::Error &e) {
        QVERIFY(QString::fromStdString(e.reason()).contains("teacher"));
    }
    o.kdTarget = tkd::KdTarget::Native;
    try {
        tkd::StudentData d = data();
        d.teacherAttention = tkd::TeacherTrainer::oracleAttention(m_train, m_train.frames());
        tkd::StudentTrainer(o).train(d);
        QFAIL("native target on TC-ResNet accepted");
    } catch (const tkd::Error &e) {
        QCOMPARE(QString::fromStdString(e.subject()), QString("kd.target"));
    }
    o = baseOptions();
    try {
        tkd::optimiserFromName("rmsprop"); // the enum's name table refuses it before any trainer
        QFAIL("unknown optimiser accepted");
    } catch (const tkd::Error &e) {
        QCOMPARE(QString::fromStdString(e.subject()), QString("train.optimizer"));
    }
    for (const double clip : { -1.0, std::nan(""), HUGE_VAL }) {
        o = baseOptions();
        o.gradClipNorm = clip;
        try {
            tkd::StudentTrainer(o).train(data());
            QFAIL(qPrintable(QString("grad_clip_norm %1 accepted").arg(clip)));
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), QString("train.grad_clip_norm"));
        }
    }
    o = baseOptions();
    o.earlyStoppingMinEpochs = -1;
    try {
        tkd::StudentTrainer(o).train(data());
        QFAIL("early_stopping_min_epochs -1 accepted");
    } catch (const tkd::Error &e) {
        QCOMPARE(QString::fromStdString(e.subject()), QString("train.early_stopping_min_epochs"));
    }
    o = baseOptions();
    o.student = "no-such-net";
    QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::StudentTrainer(o).train(data()));
}

QTEST_GUILESS_MAIN(TestStudentTrainer)
#include "tst_studenttrainer.moc"
