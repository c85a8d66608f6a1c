// tkd-test-labels: e2e ml
// The engine's command line as a user runs it, on a tiny built-in corpus: `tkd grid --jobs 2`
// (teacher once, two worker processes, one table), `tkd grid --table`, `tkd export` (the student
// alone, loadable, smaller than the training checkpoint) and `tkd teacher import`, plus the errors
// for bad input with their exit codes.
#include "app/ProcessRun.h"
#include "core/checkpoint/Checkpoint.h"
#include "core/checkpoint/TrainedModels.h"
#include "core/distill/AttentionBranch.h"
#include "core/train/StudentTrainer.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QtTest>

#include <nlohmann/json.hpp>

class TestEngineCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString m_gridDir; // the first grid's home run folder

    using Run = tkd::test::ProcessResult;
    Run tkd(const QStringList &args, int timeoutMs = 300000, const QString &crashAt = {})
    {
        QMap<QString, QString> env
            = { { "TKD_CACHE_DIR", m_tmp.filePath("cache") }, { "TKD_THREADS", "1" } };
        if (!crashAt.isEmpty())
            env["TKD_CRASH_AT"] = crashAt; // the process that writes this event line dies there
        return tkd::test::runTkd(args, env, timeoutMs, m_tmp.path());
    }
    QString writeConfig(const QString &name, const QString &body)
    {
        QFile f(m_tmp.filePath(name));
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(body.toUtf8());
        return f.fileName();
    }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_tmp.isValid()); }

    void gridWithTwoWorkers()
    {
        const QString cfg = writeConfig("grid.yaml", R"(name: cli-grid
data:
  source: builtin
  corpus: {speakers: 6, seed: 3}
  noisy: {length_sec: 2, snr_db: [5, 15], noise: [white, pink]}
teacher: {kind: tiny, epochs: 1, batch_size: 8}
students: [tc-resnet8]
kd: {lambdas: [0, 0.25]}
grid: {lengths_sec: [2], seeds: [1, 2]}
train: {epochs: 1, batch_size: 16, warmup_epochs: 0}
output: {runs_dir: runs}
)");
        const Run r = tkd({ "grid", "--config", cfg, "--jobs", "2", "--threads", "2" });
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        QVERIFY2(r.err.contains("worker 0/2") && r.err.contains("worker 1/2")
                || r.out.contains("worker 1/2"),
            qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("4/4 student runs done"), qPrintable(r.out));
        QVERIFY(r.out.contains("| tc-resnet8 | 0.25 |"));

        // The home run folder holds the teacher, both shard logs and the tables.
        const QStringList runs
            = QDir(m_tmp.filePath("runs")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(runs.size(), 3); // home + 2 shards
        for (const QString &d : runs)
            if (QFile::exists(m_tmp.filePath("runs/" + d + "/grid.json")))
                m_gridDir = m_tmp.filePath("runs/" + d);
        QVERIFY(!m_gridDir.isEmpty());
        QVERIFY(QFile::exists(m_gridDir + "/teacher-L2/best.safetensors"));
        QVERIFY(
            QFile::exists(m_gridDir + "/shard-0.log") && QFile::exists(m_gridDir + "/shard-1.log"));
        QFile csv(m_gridDir + "/grid.csv");
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(csv.readAll()).trimmed().split('\n');
        QCOMPARE(lines.size(), 3); // header + lambda 0 + lambda 0.25
        QVERIFY2(lines[1].startsWith("tc-resnet8,0,2,accuracy,") && lines[1].contains(",2,0,"),
            qPrintable(lines[1]));

        // Each shard trained its own share and reused the home run's teacher and its cache.
        QFile g(m_gridDir + "/grid.json");
        QVERIFY(g.open(QIODevice::ReadOnly));
        const auto j = nlohmann::json::parse(g.readAll().toStdString());
        QCOMPARE(j["run_dirs"].size(), size_t(3));
        QFile log(m_gridDir + "/shard-1.log");
        QVERIFY(log.open(QIODevice::ReadOnly));
        const QString shardLog = QString::fromUtf8(log.readAll());
        QVERIFY2(shardLog.contains(
                     "loading " + m_gridDir.section('/', -2) + "/teacher-L2/best.safetensors"),
            qPrintable(shardLog));
        for (size_t k = 1; k < j["run_dirs"].size(); ++k) {
            // run_dirs are relative to the grid folder, so the grid and its runs can move together.
            QFile m(QDir(m_gridDir).filePath(
                QString::fromStdString(j["run_dirs"][k].get<std::string>()) + "/metrics.json"));
            QVERIFY(m.open(QIODevice::ReadOnly));
            const auto mj = nlohmann::json::parse(m.readAll().toStdString());
            QVERIFY2(mj["lengths"][0]["cache"]["hit"].get<bool>(),
                "a shard recomputed the teacher cache");
            QCOMPARE(mj["lengths"][0]["cells"].size(), size_t(2));
        }

        // Re-tabulating the grid folder gives the same table.
        const Run t = tkd({ "grid", "--table", m_gridDir, "--out", m_tmp.filePath("retab") });
        QVERIFY2(t.code == 0, qPrintable(t.err));
        QFile csv2(m_tmp.filePath("retab/grid.csv"));
        QVERIFY(csv2.open(QIODevice::ReadOnly));
        QCOMPARE(QString::fromUtf8(csv2.readAll()).trimmed().split('\n'), lines);
    }

    // A worker killed half-way (SIGKILL, as a machine that goes away) fails the grid with a table
    // of what finished; `tkd grid --resume` keeps the finished shard, continues the killed one
    // from its checkpoint and writes the whole table.
    void gridResumesAKilledWorker()
    {
        QFile in(m_tmp.filePath("grid.yaml"));
        QVERIFY(in.open(QIODevice::ReadOnly));
        const QString cfg = writeConfig("resume.yaml",
            QString::fromUtf8(in.readAll())
                .replace("name: cli-grid", "name: cli-resume")
                .replace("runs_dir: runs", "runs_dir: runs-resume"));
        // The shard that trains the lambda 0.25 cells dies after its first checkpoint.
        const Run killed = tkd({ "grid", "--config", cfg, "--jobs", "2", "--threads", "2" }, 300000,
            "students/tc-resnet8-L2-lambda0.25-seed1/last.safetensors");
        QVERIFY2(killed.code != 0, qPrintable(killed.out));
        QVERIFY2(killed.err.contains("tkd grid --resume"), qPrintable(killed.err));
        QString grid;
        for (const QString &d :
            QDir(m_tmp.filePath("runs-resume")).entryList(QDir::Dirs | QDir::NoDotAndDotDot))
            if (QFile::exists(m_tmp.filePath("runs-resume/" + d + "/shard-0.log")))
                grid = m_tmp.filePath("runs-resume/" + d);
        QVERIFY(!grid.isEmpty());

        const Run resumed = tkd({ "grid", "--resume", grid });
        QVERIFY2(resumed.code == 0, qPrintable(resumed.err + resumed.out));
        QVERIFY2(resumed.out.count("finished before the resume, kept as it is") == 1
                && resumed.out.count(" resumed (pid ") == 1
                && resumed.out.contains("4/4 student runs done"),
            qPrintable(resumed.out));
        // The killed shard's log keeps its first life and goes on with the resume.
        QString logs;
        for (const char *name : { "/shard-0.log", "/shard-1.log" }) {
            QFile log(grid + name);
            QVERIFY(log.open(QIODevice::ReadOnly));
            logs += QString::fromUtf8(log.readAll());
        }
        QCOMPARE(logs.count("run folder runs-resume/"), 2); // the two first lives
        QVERIFY2(logs.contains("continuing the run folder"), qPrintable(logs)); // the resume
        QVERIFY2(logs.contains("resumed from"), qPrintable(logs));
        QCOMPARE(logs.count("[teacher L=2] loading "), 3); // the grid's teacher, never a new one
        QVERIFY2(!logs.contains("[teacher L=2] epoch"), qPrintable(logs));
        QFile csv(grid + "/grid.csv");
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList lines = QString::fromUtf8(csv.readAll()).trimmed().split('\n');
        QCOMPARE(lines.size(), 3);
        for (const QString &line : lines.mid(1)) // both lambdas, both seeds, none failed
            QVERIFY2(line.contains(",accuracy,") && line.contains(",2,0,"), qPrintable(line));

        const Run notAGrid = tkd({ "grid", "--resume", m_tmp.filePath("cache") });
        QVERIFY2(notAGrid.code != 0 && notAGrid.err.contains("tkd train --resume"),
            qPrintable(notAGrid.err));
        const Run both = tkd({ "grid", "--resume", grid, "--config", cfg });
        QVERIFY2(both.code != 0 && both.err.contains("--resume"), qPrintable(both.err));
    }

    void exportStudentAlone()
    {
        QVERIFY(!m_gridDir.isEmpty());
        // The KD cell lives in one of the shard folders.
        QString cell;
        for (const QString &d :
            QDir(m_tmp.filePath("runs")).entryList(QDir::Dirs | QDir::NoDotAndDotDot)) {
            const QString c
                = m_tmp.filePath("runs/" + d + "/students/tc-resnet8-L2-lambda0.25-seed1");
            if (QFile::exists(c + "/best.safetensors"))
                cell = c;
        }
        QVERIFY(!cell.isEmpty());
        const QString out = m_tmp.filePath("student.safetensors");
        const Run r = tkd({ "export", cell, "--out", out, "--repeats", "5" });
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY2(r.out.contains("attention branch left out"), qPrintable(r.out));
        QVERIFY(r.out.contains("ms per second of audio"));
        QVERIFY(QFileInfo(out).size()
            < QFileInfo(cell + "/best.safetensors").size()); // no optimiser, no branch

        tkd::AttentionBranch branch { nullptr };
        tkd::FeatureNorm norm;
        const tkd::StudentModel exported
            = tkd::TrainedModels::loadStudent(out.toStdString(), &branch, &norm);
        QVERIFY(!branch); // the deployed student has no training branch
        QVERIFY(norm.mean.defined());
        const tkd::StudentModel trained
            = tkd::TrainedModels::loadStudent((cell + "/best.safetensors").toStdString());
        const auto a = exported.namedParameters(), b = trained.namedParameters();
        QCOMPARE(a.size(), b.size());
        for (const auto &p : a)
            QVERIFY(torch::equal(p.value(), b[p.key()]));
        QVERIFY(tkd::Checkpoint::load(out.toStdString()).hasValue("clip_seconds"));

        // Refuses to overwrite, and names a run folder's students when given the run folder.
        const Run again = tkd({ "export", cell, "--out", out });
        QVERIFY(again.code != 0 && again.err.contains("exists already"));
        const Run folder = tkd({ "export", m_gridDir });
        QVERIFY(folder.code != 0);
    }

    void teacherImport()
    {
        const QString weights = QStringLiteral(TKD_SOURCE_DIR "/tests/data/wav2vec2/base_style");
        const QString out = m_tmp.filePath("teacher.safetensors");
        const Run r = tkd({ "teacher", "import", weights, "--out", out });
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("MAPPING REPORT"));
        const tkd::Checkpoint ck = tkd::Checkpoint::load(out.toStdString());
        QCOMPARE(ck.text("teacher_kind"), std::string("imported"));
        // A head of another size is refused with the report, and nothing is written.
        const QString bad = m_tmp.filePath("bad.safetensors");
        const Run b = tkd({ "teacher", "import", weights, "--out", bad, "--labels", "12" });
        QVERIFY(b.code != 0);
        QVERIFY2(b.err.contains("mis-shaped") || b.out.contains("mis-shaped"), qPrintable(b.err));
        QVERIFY(!QFile::exists(bad));
    }

    void badInput()
    {
        const Run noConfig = tkd({ "grid" });
        QVERIFY(noConfig.code != 0 && noConfig.err.contains("--config"));
        const Run jobs = tkd({ "grid", "--config", m_tmp.filePath("grid.yaml"), "--jobs", "0" });
        QVERIFY(jobs.code != 0 && jobs.err.contains("--jobs"));
        const Run shard
            = tkd({ "train", "--config", m_tmp.filePath("grid.yaml"), "--shard", "3/2" });
        QVERIFY2(shard.code != 0 && shard.err.contains("shard"), qPrintable(shard.err));
        const Run table = tkd({ "grid", "--table", m_tmp.filePath("nowhere") });
        QVERIFY(table.code != 0 && table.err.contains("nowhere"));
        const Run exp = tkd({ "export", m_tmp.filePath("missing.safetensors") });
        QVERIFY(exp.code != 0 && exp.err.contains("missing.safetensors"));
        const Run teacherRun = tkd(
            { "train", "--config", m_tmp.filePath("grid.yaml"), "--teacher-run", m_tmp.path() });
        QVERIFY2(teacherRun.code != 0 && teacherRun.err.contains("has no teacher"),
            qPrintable(teacherRun.err));
    }

    // Issue 15: out-of-range, negative and non-finite values are refused naming the option,
    // never replaced by a default or passed on to an allocator.
    void badValuesAreRefusedNotCoerced_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("names");
        const QString cell = "cell.safetensors";
        QTest::newRow("--seconds nan")
            << QStringList { "export", cell, "--seconds", "nan" } << "--seconds";
        QTest::newRow("--seconds 1e7")
            << QStringList { "export", cell, "--seconds", "1e7" } << "--seconds";
        QTest::newRow("--repeats -5")
            << QStringList { "export", cell, "--repeats=-5" } << "--repeats";
        QTest::newRow("--labels -7")
            << QStringList { "teacher", "import", "w", "--out", "o", "--labels=-7" } << "--labels";
        QTest::newRow("--features 1e8")
            << QStringList { "models", "--features", "100000000" } << "--features";
        QTest::newRow("--classes 1e9")
            << QStringList { "models", "--classes", "1000000000" } << "--classes";
        QTest::newRow("--hours inf")
            << QStringList { "eval", "run", "--stream", "--hours", "inf" } << "--hours";
        QTest::newRow("--threshold -nan")
            << QStringList { "live", "--file", "x.wav", "--threshold", "-nan" } << "--threshold";
    }
    void badValuesAreRefusedNotCoerced()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, names);
        const Run r = tkd(args);
        QVERIFY2(r.code != 0, qPrintable(r.out + r.err));
        QVERIFY2(r.err.contains(names), qPrintable(r.err));
        QVERIFY2(!r.err.contains("unexpected error"), qPrintable(r.err));
    }

    void badThreadCountIsRefused_data()
    {
        QTest::addColumn<QString>("value");
        for (const char *v : { "abc", "0", "-3", "100000", "4x" })
            QTest::newRow(v) << v;
    }
    void badThreadCountIsRefused()
    {
        QFETCH(QString, value);
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("TKD_THREADS", value);
        p.setProcessEnvironment(env);
        p.start(TKD_CLI_PATH, { "models" });
        QVERIFY(p.waitForFinished(60000));
        const QString err = QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitCode(), 1);
        QVERIFY2(err.contains("TKD_THREADS") && err.contains(value), qPrintable(err));
    }
};

QTEST_GUILESS_MAIN(TestEngineCli)
#include "tst_engine_cli.moc"
