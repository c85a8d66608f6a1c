// tkd-test-labels: ml e2e
// Scoring a trained run on other data (tkd eval RUN --data): the tiny run of LiveFixture scored
// on its own noisy test split (which must reproduce the test accuracy training recorded), on a
// folder-per-class set made from its corpus clips (class names matched regardless of case, an
// unknown class counted as _unknown_, every confusion row summing to that class's clip count), and
// on Debian's real human recordings; the errors for bad input; cancellation; the JSON file.
#include "LiveFixture.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/infer/DatasetEvaluation.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <QDir>
#include <QFile>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <fstream>
#include <map>

using namespace tkd;

namespace {

int64_t rowSum(const ModelEvaluation &m, size_t k)
{
    int64_t s = 0;
    for (int64_t v : m.confusion[k])
        s += v;
    return s;
}

int64_t trace(const ModelEvaluation &m)
{
    int64_t s = 0;
    for (size_t k = 0; k < m.confusion.size(); ++k)
        s += m.confusion[k][k];
    return s;
}

size_t indexOf(const std::vector<std::string> &v, const std::string &s)
{
    return size_t(std::find(v.begin(), v.end(), s) - v.begin());
}

} // namespace

class TestDatasetEvaluation : public QObject
{
    Q_OBJECT

    QTemporaryDir m_dir;
    test::LiveFixture m_fixture;
    QString m_folder; // folder-per-class copy of some test clips
    std::map<std::string, int64_t> m_expected; // run class -> clips in m_folder

    DatasetEvaluation evaluate(const std::string &data, const std::string &split = "auto")
    {
        DatasetEvaluationOptions o;
        o.data = EvalDataSpec::parse(data);
        o.split = split;
        o.batchSize = 8;
        o.threads = 2;
        return evaluateDataset(m_fixture.runDir, o);
    }

private Q_SLOTS:
    void initTestCase()
    {
        torch::set_num_threads(1);
        QVERIFY(m_dir.isValid());
        m_fixture.build(m_dir.path().toStdString());
        // Three keywords (folder names in another case) and a class the run does not have.
        m_folder = m_dir.filePath("folder");
        std::map<std::string, int> taken;
        const std::map<std::string, std::string> folderOf
            = { { "yes", "Yes" }, { "no", "NO" }, { "left", "left" } };
        for (const ClipRef *c : m_fixture.index.clipsIn(Split::Test)) {
            const std::string label = m_fixture.index.classes[size_t(c->labels[0])];
            std::string folder;
            if (folderOf.count(label))
                folder = folderOf.at(label);
            else if (label == kUnknownLabel)
                folder = "zebra";
            else
                continue;
            if (taken[folder] >= 4)
                continue;
            const QString dir = m_folder + "/" + QString::fromStdString(folder);
            QVERIFY(QDir().mkpath(dir));
            QVERIFY(QFile::copy(QString::fromStdString(c->path),
                dir + "/" + QString::number(taken[folder]++) + ".wav"));
            ++m_expected[folderOf.count(label) ? label : std::string(kUnknownLabel)];
        }
        QCOMPARE(int(m_expected.size()), 4);
    }

    void ownNoisyTestSplitReproducesTraining()
    {
        const DatasetEvaluation e = evaluate("noisy:builtin");
        QCOMPARE(e.split, std::string("test"));
        const std::vector<LiveCell> cells = listLiveCells(m_fixture.runDir);
        QCOMPARE(cells.size(), size_t(1));
        QCOMPARE(e.models.size(), size_t(2)); // the student and the tiny teacher
        const ModelEvaluation &s = e.models.front();
        QCOMPARE(s.kind, std::string("student"));
        QCOMPARE(s.clips, int64_t(m_fixture.index.clipsIn(Split::Test).size()));
        // The same items and the same checkpoint as training's test pass: the same accuracy (one
        // clip of slack for a float tie between batch shapes).
        QVERIFY2(
            std::abs(s.accuracy() - cells.front().testAccuracy) <= 1.0 / double(s.clips) + 1e-9,
            qPrintable(QString("eval %1 vs training %2")
                           .arg(s.accuracy())
                           .arg(cells.front().testAccuracy)));
        QCOMPARE(e.models.back().kind, std::string("teacher"));
    }

    // builtin:EXPERIMENT.yaml: another experiment's corpus, and behind noisy: its very clips. The
    // run's own config.yaml names its own test clips (the same figures as "noisy:builtin"); a copy
    // with another noise seed names other clips of the same corpus.
    void anotherExperimentsClips()
    {
        const std::string own = m_fixture.runDir + "/config.yaml";
        const DatasetEvaluation mine = evaluate("noisy:builtin"),
                                same = evaluate("noisy:builtin:" + own);
        QCOMPARE(same.split, std::string("test"));
        QCOMPARE(same.clips, mine.clips);
        QCOMPARE(same.models.size(), mine.models.size());
        for (size_t k = 0; k < mine.models.size(); ++k)
            QVERIFY(same.models[k].confusion == mine.models[k].confusion);
        QVERIFY2(same.placement.find(own) != std::string::npos, same.placement.c_str());

        ExperimentConfig other = ExperimentConfig::load(own);
        other.data.noisy.seed = 7;
        const QString otherPath = m_dir.filePath("other-noise.yaml");
        {
            std::ofstream f(otherPath.toStdString());
            f << other.toYaml();
        }
        const DatasetEvaluation moved = evaluate("noisy:builtin:" + otherPath.toStdString());
        QCOMPARE(moved.clips, mine.clips); // the same corpus and split...
        bool differs = false; // ...but other placements and noise
        for (size_t k = 0; k < mine.models.size(); ++k)
            differs = differs || moved.models[k].confusion != mine.models[k].confusion;
        QVERIFY2(differs, "noise seed 7 scored exactly like the run's own clips");

        // Not a built-in experiment, or no file at all: named.
        other.data.source = "folder";
        other.data.path = m_folder.toStdString();
        const QString folderPath = m_dir.filePath("folder-experiment.yaml");
        {
            std::ofstream f(folderPath.toStdString());
            f << other.toYaml();
        }
        try {
            evaluate("builtin:" + folderPath.toStdString());
            QFAIL("a folder experiment was read as a built-in corpus");
        } catch (const Error &e) {
            QCOMPARE(e.subject(), folderPath.toStdString());
            QVERIFY2(std::string(e.what()).find("not builtin") != std::string::npos, e.what());
        }
        try {
            EvalDataSpec::parse("builtin:" + m_dir.filePath("nowhere.yaml").toStdString());
            QFAIL("a missing experiment file was accepted");
        } catch (const Error &e) {
            QVERIFY(e.subject().find("nowhere.yaml") != std::string::npos);
        }
    }

    void folderByNameWithUnknown()
    {
        const DatasetEvaluation e = evaluate("folder:" + m_folder.toStdString());
        QCOMPARE(e.split, std::string("all")); // held-out data: every clip counts
        int64_t total = 0;
        for (const auto &[cls, n] : m_expected)
            total += n;
        QCOMPARE(e.clips, total);
        QCOMPARE(e.skipped, int64_t(0));
        bool zebra = false;
        for (const auto &m : e.mapping) {
            if (m.datasetClass == "zebra") {
                zebra = true;
                QCOMPARE(m.runClass, std::string(kUnknownLabel));
            }
            if (m.datasetClass == "NO")
                QCOMPARE(m.runClass, std::string("no"));
        }
        QVERIFY(zebra);
        QCOMPARE(e.models.size(), size_t(2));
        for (const ModelEvaluation &m : e.models) {
            QCOMPARE(m.clips, total);
            QCOMPARE(m.correct, trace(m));
            for (size_t k = 0; k < e.classes.size(); ++k) {
                const auto it = m_expected.find(e.classes[k]);
                QCOMPARE(rowSum(m, k), it == m_expected.end() ? int64_t(0) : it->second);
                if (it == m_expected.end())
                    QVERIFY(std::isnan(m.recall(k)));
            }
        }
        // Deterministic: the placement noise is seeded per clip.
        const DatasetEvaluation again = evaluate("folder:" + m_folder.toStdString());
        QVERIFY(again.models.front().confusion == e.models.front().confusion);
        // The student recognises its own corpus's clean clips better than chance (1/12).
        QVERIFY2(e.models.front().accuracy() > 0.25, e.table().c_str());
    }

    void jsonFileRoundTrips()
    {
        const DatasetEvaluation e = evaluate("folder:" + m_folder.toStdString(), "all");
        const std::string path = e.save();
        QVERIFY(QFile::exists(QString::fromStdString(path)));
        QVERIFY(QString::fromStdString(path).contains("/eval/folder-folder-"));
        QVERIFY(QString::fromStdString(path).endsWith("-all.json"));
        const DatasetEvaluation back
            = DatasetEvaluation::fromJson(nlohmann::json::parse(readFile(path)));
        QCOMPARE(back.toJson().dump(), e.toJson().dump());
        QVERIFY(e.table().find("true \\ predicted") != std::string::npos);

        // A run folder that cannot take an eval/ folder (here a plain file stands where eval/
        // would go; chmod would not stop root) gets the report in the cache instead.
        DatasetEvaluation shipped = e;
        shipped.runDir = m_dir.filePath("installed-run").toStdString();
        QVERIFY(QDir().mkpath(QString::fromStdString(shipped.runDir)));
        QFile blocker(QString::fromStdString(shipped.runDir + "/eval"));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        const std::string elsewhere = shipped.save();
        QVERIFY2(QString::fromStdString(elsewhere).startsWith(
                     QString::fromStdString(cacheRoot() + "/eval/installed-run/")),
            elsewhere.c_str());
        QVERIFY(QFile::exists(QString::fromStdString(elsewhere)));
    }

    void realHumanRecordings()
    {
        // Debian's alsa-utils recordings ("front left", ...): held-back material for tests only.
        const QString alsa = "/usr/share/sounds/alsa";
        if (!QFile::exists(alsa + "/Front_Left.wav"))
            QSKIP("alsa-utils' recordings are not installed");
        const QString dir = m_dir.filePath("alsa");
        for (const QString side : { "Left", "Right", "Center" }) {
            QVERIFY(QDir().mkpath(dir + "/" + side.toLower()));
            for (const QString where : { "Front", "Rear", "Side" })
                if (QFile::exists(alsa + "/" + where + "_" + side + ".wav"))
                    QVERIFY(QFile::copy(alsa + "/" + where + "_" + side + ".wav",
                        dir + "/" + side.toLower() + "/" + where + ".wav"));
        }
        const DatasetEvaluation e = evaluate("folder:" + dir.toStdString());
        QCOMPARE(e.clips,
            int64_t(QDir(dir + "/left").count() - 2 + QDir(dir + "/right").count() - 2
                + QDir(dir + "/center").count() - 2));
        const ModelEvaluation &s = e.models.front();
        QCOMPARE(rowSum(s, indexOf(e.classes, "left")), int64_t(QDir(dir + "/left").count() - 2));
        QCOMPARE(rowSum(s, indexOf(e.classes, kUnknownLabel)),
            int64_t(QDir(dir + "/center").count() - 2));
        qInfo("real recordings: %s", e.table().c_str());
    }

    void badInput()
    {
        try {
            EvalDataSpec::parse("folder:" + m_dir.filePath("missing").toStdString());
            QFAIL("a missing folder was accepted");
        } catch (const Error &e) {
            QVERIFY(e.subject().find("missing") != std::string::npos);
        }
        try {
            EvalDataSpec::parse("zip:" + m_folder.toStdString());
            QFAIL("an unknown kind was accepted");
        } catch (const Error &e) {
            QCOMPARE(e.subject(), std::string("--data"));
            QVERIFY(std::string(e.what()).find("folder, speech-commands, builtin")
                != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(Error, EvalDataSpec::parse("fsd50k:" + m_folder.toStdString()));
        QVERIFY_THROWS_EXCEPTION(Error, EvalDataSpec::parse("builtin:/tmp")); // a folder
        QVERIFY_THROWS_EXCEPTION(Error, EvalDataSpec::parse("folder"));
        // No class in common: named, nothing scored.
        const QString other = m_dir.filePath("other");
        QVERIFY(QDir().mkpath(other + "/cat"));
        QVERIFY(QFile::copy(QDir(m_folder + "/zebra").entryInfoList(QDir::Files).first().filePath(),
            other + "/cat/a.wav"));
        try {
            evaluate("folder:" + other.toStdString());
            QFAIL("a dataset without a common class was scored");
        } catch (const Error &e) {
            QVERIFY2(
                std::string(e.what()).find("no class in common") != std::string::npos, e.what());
            QCOMPARE(e.subject(), other.toStdString());
        }
        DatasetEvaluationOptions o;
        o.data = EvalDataSpec::parse("folder:" + m_folder.toStdString());
        o.cell = "no-such-cell";
        QVERIFY_THROWS_EXCEPTION(Error, evaluateDataset(m_fixture.runDir, o));
        o.cell.clear();
        o.split = "sideways";
        QVERIFY_THROWS_EXCEPTION(Error, evaluateDataset(m_fixture.runDir, o));
    }

    void mappingByName_data()
    {
        QTest::addColumn<QStringList>("dataset");
        QTest::addColumn<QStringList>("run");
        QTest::addColumn<QList<int>>("expected");
        QTest::newRow("same names")
            << QStringList { "a", "b" } << QStringList { "b", "a" } << QList<int> { 1, 0 };
        QTest::newRow("case") << QStringList { "Left" } << QStringList { "left", "_unknown_" }
                              << QList<int> { 0 };
        QTest::newRow("unknown") << QStringList { "left", "zebra" }
                                 << QStringList { "left", "_unknown_" } << QList<int> { 0, 1 };
        QTest::newRow("skipped") << QStringList { "left", "zebra" }
                                 << QStringList { "left", "right" } << QList<int> { 0, -1 };
    }
    void mappingByName()
    {
        QFETCH(QStringList, dataset);
        QFETCH(QStringList, run);
        QFETCH(QList<int>, expected);
        std::vector<std::string> d, r;
        for (const QString &s : dataset)
            d.push_back(s.toStdString());
        for (const QString &s : run)
            r.push_back(s.toStdString());
        const std::vector<int> map = mapClassesByName(d, r, "data");
        QCOMPARE(QList<int>(map.begin(), map.end()), expected);
    }

    void placement()
    {
        // A 1 s "word" (a tone burst in the middle) in a 3 s window: centred, noise everywhere.
        std::vector<float> clip(16000, 0.0f);
        for (size_t i = 6000; i < 10000; ++i)
            clip[i] = 0.3f * float(std::sin(0.05 * double(i)));
        const std::vector<float> w = placeInWindow(clip, 48000, 20.0, 1);
        QCOMPARE(w.size(), size_t(48000));
        QVERIFY(std::abs(w[16000 + 8000] - clip[8000]) < 0.05f); // the burst, centred
        QVERIFY(w[100] != 0.0f && w[47900] != 0.0f); // padding is noise, not digital silence
        QVERIFY(placeInWindow(clip, 48000, 20.0, 1) == w);
        QVERIFY(placeInWindow(clip, 48000, 20.0, 2) != w);
        // Longer than the window: cropped around the speech.
        std::vector<float> longClip(64000, 0.0f);
        for (size_t i = 50000; i < 54000; ++i)
            longClip[i] = 0.3f;
        const std::vector<float> c = placeInWindow(longClip, 16000, 40.0, 1);
        QCOMPARE(c.size(), size_t(16000));
        QVERIFY(std::abs(c[8000] - 0.3f) < 0.05f);
    }

    void cancels()
    {
        DatasetEvaluationOptions o;
        o.data = EvalDataSpec::parse("folder:" + m_folder.toStdString());
        std::atomic<bool> stop { true };
        Progress p;
        p.cancel = &stop;
        QVERIFY_THROWS_EXCEPTION(Cancelled, evaluateDataset(m_fixture.runDir, o, p));
    }
};

QTEST_GUILESS_MAIN(TestDatasetEvaluation)
#include "tst_datasetevaluation.moc"
