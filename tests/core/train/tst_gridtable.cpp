// GridTable over hand-made pipeline results and over run folders on disk: mean and sample std over
// seeds, the best lambda per student and length, failed runs kept out of the mean, the three
// export formats, and clear errors for folders that are not runs.
#include "core/train/GridTable.h"
#include "core/train/PaperTable.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>

namespace {
tkd::CellResult cell(const std::string &student, double lambda, uint64_t seed, double acc,
    const std::string &status = "completed")
{
    tkd::CellResult c;
    c.student = student;
    c.lambda = lambda;
    c.lengthSec = 8.0;
    c.seed = seed;
    c.status = status;
    c.test
        = { { "accuracy", acc }, { "map", 0.5 }, { "localisation_branch", lambda > 0 ? 0.6 : NAN },
              { "localisation_native", NAN }, { "localisation_baseline", 0.1 } };
    c.wallSeconds = 10.0;
    return c;
}

// Two "shards" of one grid, as `tkd grid --jobs 2` leaves them.
std::vector<tkd::PipelineResult> shards()
{
    tkd::PipelineResult a, b;
    a.runDir = "shard-a";
    b.runDir = "shard-b";
    tkd::LengthResult la, lb;
    la.lengthSec = lb.lengthSec = 8.0;
    la.teacherKind = "tiny";
    la.teacherTest
        = { { "accuracy", 0.7 }, { "localisation", 0.3 }, { "localisation_baseline", 0.05 } };
    la.cells = { cell("tc-resnet8", 0.0, 1, 0.70), cell("tc-resnet8", 0.25, 1, 0.80),
        cell("tc-resnet8", 0.0, 3, 0.74) };
    lb.cells = { cell("tc-resnet8", 0.0, 2, 0.72), cell("tc-resnet8", 0.25, 2, 0.76),
        cell("tc-resnet8", 0.25, 3, 0.0, "failed"), cell("crnn", 0.0, 1, 0.60) };
    a.lengths = { la };
    b.lengths = { lb };
    return { a, b };
}
} // namespace

class TestGridTable : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void meansSpreadsAndBest()
    {
        const tkd::GridTable t(shards());
        QCOMPARE(t.students(), (std::vector<std::string> { "tc-resnet8", "crnn" }));
        QCOMPARE(t.lambdas(), (std::vector<double> { 0.0, 0.25 }));
        const auto *v = t.find("tc-resnet8", 0.0, 8.0);
        QVERIFY(v);
        QCOMPARE(v->count(), 3);
        QVERIFY(std::abs(v->mean - 0.72) < 1e-12);
        QVERIFY(std::abs(v->spread - 0.02) < 1e-12); // sample std of 0.70, 0.72, 0.74
        const auto *kd = t.find("tc-resnet8", 0.25, 8.0);
        QVERIFY(kd);
        QCOMPARE(kd->count(), 2); // the failed seed is not averaged in ...
        QCOMPARE(kd->failed, 1); // ... but counted
        QVERIFY(std::abs(kd->mean - 0.78) < 1e-12);
        QVERIFY(kd->best);
        QVERIFY(!v->best);
        QVERIFY(std::abs(kd->locBranch - 0.6) < 1e-12);
        QVERIFY(std::isnan(v->locBranch));
        const auto *crnn = t.find("crnn", 0.0, 8.0);
        QVERIFY(crnn && crnn->best && crnn->spread == 0.0); // alone in its row: best of one
        QVERIFY(!t.find("crnn", 0.25, 8.0));
        QCOMPARE(int(t.teachers().size()), 1);
        QCOMPARE(t.teachers()[0].kind, std::string("tiny"));
    }

    void formats()
    {
        const tkd::GridTable t(shards());
        const std::string md = t.markdown();
        QVERIFY2(md.find("**78.0 ± 2.8 (2)**") != std::string::npos, md.c_str());
        QVERIFY2(md.find("72.0 ± 2.0 (3)") != std::string::npos, md.c_str());
        QVERIFY2(md.find("78.0 (λ 0.25) (72.0)") != std::string::npos,
            md.c_str()); // paper-style summary
        const std::string csv = t.csv();
        QVERIFY(csv.rfind("student,lambda,length_sec,metric,mean,spread,n,failed,best", 0) == 0);
        QVERIFY2(
            csv.find("tc-resnet8,0.25,8,accuracy,0.780000,0.028284,2,1,1,") != std::string::npos,
            csv.c_str());
        const auto j = t.json();
        QCOMPARE(j["entries"].size(), size_t(3));
        QCOMPARE(j["run_dirs"].size(), size_t(2));
        QCOMPARE(j["entries"][0]["runs"].size(), size_t(3));
    }

    // The paper picks each student's lambda on validation: a lambda with the better test mean but
    // the worse validation mean is not the best, and the summary shows the validation choice.
    void bestLambdaIsChosenOnValidation()
    {
        tkd::PipelineResult r;
        tkd::LengthResult l;
        l.lengthSec = 8.0;
        auto withVal = [](double lambda, double test, double val) {
            tkd::CellResult c = cell("crnn", lambda, 1, test);
            c.validation = { { "accuracy", val } };
            return c;
        };
        l.cells = { withVal(0.0, 0.70, 0.71), withVal(0.1, 0.80, 0.72), withVal(0.5, 0.75, 0.79) };
        r.lengths = { l };
        const tkd::GridTable t({ r });
        QVERIFY(t.find("crnn", 0.5, 8.0)->best);
        QVERIFY(!t.find("crnn", 0.1, 8.0)->best);
        QCOMPARE(t.bestKd("crnn", 8.0)->lambda, 0.5);
        QVERIFY(std::abs(t.find("crnn", 0.5, 8.0)->validation - 0.79) < 1e-12);
        const std::string md = t.markdown();
        QVERIFY2(md.find("75.0 (λ 0.5) (70.0)") != std::string::npos, md.c_str());
    }

    // The paper's four claims are judged from the figures, met or missed by them, and the
    // paper's own Table 2 stands beside ours.
    void paperClaimsFollowTheFigures()
    {
        auto grid = [](double kdGain) {
            tkd::PipelineResult r;
            for (double L : { 2.0, 8.0 }) {
                tkd::LengthResult l;
                l.lengthSec = L;
                l.teacherKind = "pretrained";
                l.teacherTest = { { "accuracy", 0.80 }, { "localisation", 0.9 } };
                for (const char *s : { "tc-resnet8", "att-rnn" }) {
                    tkd::CellResult v = cell(s, 0.0, 1, 0.70), k = cell(s, 0.25, 1, 0.70);
                    v.lengthSec = k.lengthSec = L;
                    k.test["accuracy"] = 0.70 + (L == 8.0 ? kdGain : kdGain / 2);
                    l.cells.push_back(v);
                    l.cells.push_back(k);
                }
                r.lengths.push_back(l);
            }
            return tkd::GridTable({ r });
        };
        auto verdict = [](const tkd::GridTable &t, const std::string &key) {
            for (const auto &c : tkd::paper::checkClaims(t))
                if (c.key == key)
                    return c.verdict;
            return std::string("absent");
        };
        const tkd::GridTable good = grid(0.12), poor = grid(0.005);
        QCOMPARE(verdict(good, "kd-helps-every-student"), std::string("met"));
        QCOMPARE(verdict(poor, "kd-helps-every-student"), std::string("missed"));
        QCOMPARE(verdict(good, "gain-grows-with-length"), std::string("met"));
        QCOMPARE(verdict(good, "attention-student-beats-teacher"), std::string("met")); // 82 > 80
        QCOMPARE(verdict(poor, "attention-student-beats-teacher"), std::string("missed"));
        QCOMPARE(verdict(good, "kd-raises-attention-mass"), std::string("met")); // 0.6 > 0.1
        const std::string md = good.markdown();
        QVERIFY2(md.find("80.0 / 90.6") != std::string::npos, md.c_str()); // teachers at 2 s
        QVERIFY2(md.find("82.0 (70.0) / 91.0 (88.8)") != std::string::npos, md.c_str());
        QCOMPARE(good.json()["paper"]["claims"].size(), size_t(4));
        // One student short of the mark misses the claim, whatever the students not yet run.
        tkd::PipelineResult partial;
        tkd::LengthResult l8;
        l8.lengthSec = 8.0;
        l8.cells = { cell("crnn", 0.0, 1, 0.70), cell("crnn", 0.25, 1, 0.69),
            cell("lstm-p", 0.0, 1, 0.5, "cancelled") };
        partial.lengths = { l8 };
        QCOMPARE(
            verdict(tkd::GridTable({ partial }), "kd-helps-every-student"), std::string("missed"));
        QCOMPARE(tkd::paper::studentAccuracy("lstm-p", 6.0)->vanilla, 0.4527);
        QVERIFY(!tkd::paper::studentAccuracy("tc-resnet14", 8.0));
    }

    void fromRunFolders()
    {
        QTemporaryDir tmp;
        auto all = shards();
        std::vector<std::string> dirs;
        for (size_t k = 0; k < all.size(); ++k) {
            const std::string d = tmp.path().toStdString() + "/run" + std::to_string(k);
            tkd::makeDirs(d);
            tkd::writeFileAtomic(d + "/metrics.json", all[k].toJson().dump());
            dirs.push_back(d);
        }
        const tkd::GridTable t = tkd::GridTable::fromRunDirs(dirs);
        QCOMPARE(t.find("tc-resnet8", 0.0, 8.0)->count(), 3);
        QCOMPARE(
            t.find("tc-resnet8", 0.0, 8.0)->runs[0].runDir, dirs[0]); // cells open their own run
        t.write(tmp.path().toStdString() + "/out");
        for (const char *f : { "grid.md", "grid.csv", "grid.json" })
            QVERIFY(QFileInfo(tmp.filePath(QString("out/") + f)).size() > 100);

        // Not a run folder, and a corrupt metrics file: errors that name them.
        try {
            tkd::GridTable::fromRunDirs({ tmp.path().toStdString() + "/nothing" });
            QFAIL("expected an error");
        } catch (const tkd::Error &e) {
            QVERIFY(std::string(e.what()).find("nothing") != std::string::npos);
            QVERIFY(std::string(e.what()).find("metrics.json") != std::string::npos);
        }
        tkd::writeFileAtomic(dirs[1] + "/metrics.json", "{\"lengths\": [ {");
        try {
            tkd::GridTable::fromRunDirs(dirs);
            QFAIL("expected an error");
        } catch (const tkd::Error &e) {
            QVERIFY(std::string(e.what()).find(dirs[1] + "/metrics.json") != std::string::npos);
        }
    }

    // Issue 15: a wrongly typed key in metrics.json is named, with what it should be.
    void wronglyTypedMetricsNameTheKey_data()
    {
        QTest::addColumn<QString>("path"); // a JSON pointer into a valid result
        QTest::addColumn<QString>("value"); // the JSON put there
        QTest::addColumn<QString>("expected");
        QTest::newRow("lambda") << "/lengths/0/cells/1/lambda"
                                << "\"0.25\""
                                << "'lengths[0].cells[1].lambda' must be a number, got string";
        QTest::newRow("seed") << "/lengths/0/cells/0/seed"
                              << "-1"
                              << "'lengths[0].cells[0].seed' must be a whole number >= 0";
        QTest::newRow("cells") << "/lengths/0/cells"
                               << "{}"
                               << "'lengths[0].cells' must be a list, got object";
        QTest::newRow("status") << "/status"
                                << "\"done-ish\""
                                << "'status' 'done-ish' is not a run status";
        QTest::newRow("teacher") << "/lengths/0/teacher"
                                 << "[1]"
                                 << "'lengths[0].teacher' must be an object, got array";
    }
    void wronglyTypedMetricsNameTheKey()
    {
        QFETCH(QString, path);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        nlohmann::json j = shards()[0].toJson();
        j[nlohmann::json::json_pointer(path.toStdString())]
            = nlohmann::json::parse(value.toStdString());
        try {
            tkd::PipelineResult::fromJson(j);
            QFAIL("accepted");
        } catch (const tkd::Error &e) {
            QVERIFY2(QString(e.what()).contains(expected), e.what());
            QVERIFY2(QString(e.what()).contains("metrics.json"), e.what());
        }
    }
};

QTEST_APPLESS_MAIN(TestGridTable)
#include "tst_gridtable.moc"
