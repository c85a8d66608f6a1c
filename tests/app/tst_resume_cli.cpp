// tkd-test-labels: e2e ml
// Issue 15, items 2 and 3, through the real `tkd` binary on a tiny built-in corpus:
// - a run killed with SIGKILL in each stage (data, teacher, cache, a student before and after its
//   first checkpoint) and continued with `tkd train --resume RUN` ends with the same teacher and
//   student results, and the same best weights, as the run that was never interrupted;
// - cells that fail (here: their checkpoints cannot be written, the file-size limit standing in
//   for a full disk) make `tkd train` exit 3 naming each cell and why, mark the run incomplete in
//   events.jsonl, metrics.json and `tkd eval`; resuming it trains those cells and exits 0.
// The kills land on exact event lines through TKD_CRASH_AT (the run raises SIGKILL itself right
// after writing that line): an external kill would race a run that takes two seconds.
#include "app/ProcessRun.h"
#include "core/io/SafeTensors.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <csignal>
#include <sys/resource.h>

class TestResumeCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString m_config;
    QString m_referenceRun;

    using Run = tkd::test::ProcessResult;

    // The test's environment for one tkd process: its own cache folder when given (a killed
    // run must meet the caches it left itself), and TKD_CRASH_AT to die by SIGKILL right after
    // writing the event line that contains it.
    void prepare(QProcess &p, qint64 fileSizeLimit = 0, const QString &cache = {},
        const QString &crashAt = {})
    {
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("TKD_CACHE_DIR", cache.isEmpty() ? m_tmp.filePath("cache") : cache);
        env.insert("TKD_THREADS", "1");
        env.remove("TKD_CRASH_AT");
        if (!crashAt.isEmpty())
            env.insert("TKD_CRASH_AT", crashAt);
        p.setProcessEnvironment(env);
        p.setWorkingDirectory(m_tmp.path());
        if (fileSizeLimit > 0)
            p.setChildProcessModifier([fileSizeLimit] {
                // Writes past the limit fail with EFBIG instead of killing the process.
                std::signal(SIGXFSZ, SIG_IGN);
                const rlimit r { rlim_t(fileSizeLimit), rlim_t(fileSizeLimit) };
                ::setrlimit(RLIMIT_FSIZE, &r);
            });
    }

    Run tkd(const QStringList &args, qint64 fileSizeLimit = 0, const QString &cache = {},
        const QString &crashAt = {})
    {
        QProcess p;
        prepare(p, fileSizeLimit, cache, crashAt);
        return tkd::test::runProcess(p, TKD_CLI_PATH, args, 600000);
    }

    QString writeConfig(const QString &name, const QString &body)
    {
        QFile f(m_tmp.filePath(name));
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(body.toUtf8());
        return f.fileName();
    }

    // The one run folder under runs_dir.
    QString onlyRun(const QString &runsDir)
    {
        const QStringList runs = QDir(runsDir).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        return runs.size() == 1 ? QDir(runsDir).filePath(runs.front()) : QString();
    }

    static nlohmann::json readJson(const QString &path)
    {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            return {};
        return nlohmann::json::parse(f.readAll().toStdString(), nullptr, false);
    }

    static QString lastLine(const QString &path)
    {
        QFile f(path);
        if (!f.open(QIODevice::ReadOnly))
            return {};
        const QStringList lines = QString::fromUtf8(f.readAll()).trimmed().split('\n');
        return lines.isEmpty() ? QString() : lines.back();
    }

    // Everything a result says about the models, without wall times and paths.
    static nlohmann::json results(const nlohmann::json &metrics)
    {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &l : metrics["lengths"]) {
            nlohmann::json cells = nlohmann::json::array();
            for (const auto &c : l["cells"])
                cells.push_back({ c["student"], c["lambda"], c["seed"], c["status"],
                    c["validation"], c["test"], c["best_epoch"], c["epochs_run"] });
            out.push_back({ l["length_sec"], l["teacher"]["kind"], l["teacher"]["validation"],
                l["teacher"]["test"], l["data_hash"], cells });
        }
        return out;
    }

    // Every tensor of two safetensors files, bit for bit.
    static bool sameTensors(const QString &a, const QString &b, QString *why)
    {
        const auto ta = tkd::safetensors::load(a.toStdString());
        const auto tb = tkd::safetensors::load(b.toStdString());
        if (ta.size() != tb.size()) {
            *why = "different tensor counts";
            return false;
        }
        for (const auto &[name, t] : ta) {
            const auto it = tb.find(name);
            if (it == tb.end() || !t.sizes().equals(it->second.sizes())
                || !torch::equal(t, it->second)) {
                *why = QString::fromStdString(name) + " differs";
                return false;
            }
        }
        return true;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_config = writeConfig("resume.yaml", R"(name: resume
data:
  source: builtin
  corpus: {speakers: 5, seed: 4}
  noisy: {length_sec: 2, snr_db: [5, 15], noise: [white, pink]}
teacher: {kind: tiny, epochs: 2, batch_size: 8}
students: [tc-resnet8]
kd: {lambdas: [0.25]}
grid: {lengths_sec: [2], seeds: [1]}
train: {epochs: 3, batch_size: 8, warmup_epochs: 0}
output: {runs_dir: runs-reference}
)");
        const Run r = tkd({ "train", "--config", m_config });
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        m_referenceRun = onlyRun(m_tmp.filePath("runs-reference"));
        QVERIFY(!m_referenceRun.isEmpty());
        QVERIFY(lastLine(m_referenceRun + "/events.jsonl").contains("\"finished\""));
        QCOMPARE(readJson(m_referenceRun + "/metrics.json")["status"].get<std::string>(),
            std::string("finished"));
    }

    void killedInEveryStageResumesToTheSameResult_data()
    {
        QTest::addColumn<QString>("marker"); // the event line to wait for before SIGKILL
        QTest::newRow("data") << "\"stage\":\"data";
        QTest::newRow("teacher") << "\"stage\":\"teacher L=2\"";
        QTest::newRow("cache") << "\"stage\":\"cache L=2\"";
        QTest::newRow("student, before a checkpoint") << "\"stage\":\"student tc-resnet8";
        QTest::newRow("student, after a checkpoint")
            << "students/tc-resnet8-L2-lambda0.25-seed1/last.safetensors";
    }
    void killedInEveryStageResumesToTheSameResult()
    {
        QFETCH(QString, marker);
        // The row's name as a file name: the config's flow map would split a path at its comma.
        const QString tag
            = QString(QTest::currentDataTag()).replace(QRegularExpression("[^a-z]+"), "-");
        const QString runsDir = m_tmp.filePath("runs-" + tag);
        // The same experiment in its own runs folder (the config's hash covers output too, so
        // the copy is what both the killed and the resumed run see).
        QFile in(m_config);
        QVERIFY(in.open(QIODevice::ReadOnly));
        QString body = QString::fromUtf8(in.readAll());
        body.replace("runs_dir: runs-reference", "runs_dir: " + runsDir);
        const QString cfg = writeConfig(tag + ".yaml", body);

        const QString cache = m_tmp.filePath("cache-" + tag);
        const Run killed = tkd({ "train", "--config", cfg }, 0, cache, marker);
        QCOMPARE(killed.code, -1); // SIGKILL: no handler runs, nothing is flushed
        const QString run = onlyRun(runsDir);
        QVERIFY(!run.isEmpty());
        QVERIFY2(lastLine(run + "/events.jsonl").contains(marker),
            qPrintable(
                "the run did not die on " + marker + ": " + lastLine(run + "/events.jsonl")));
        QVERIFY2(
            !lastLine(run + "/events.jsonl").contains("\"type\":\"done\""), "it finished anyway");
        const nlohmann::json killedMetrics = readJson(run + "/metrics.json");
        if (!killedMetrics.is_null() && !killedMetrics.is_discarded()) {
            QCOMPARE(killedMetrics["status"].get<std::string>(), std::string("running"));
            const Run e = tkd({ "eval", run }, 0, cache);
            QVERIFY2(e.code == 0 && e.out.contains("[incomplete: the run stopped"),
                qPrintable(e.out + e.err));
        }

        const Run r = tkd({ "train", "--resume", run }, 0, cache);
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        const nlohmann::json resumed = readJson(run + "/metrics.json");
        const nlohmann::json reference = readJson(m_referenceRun + "/metrics.json");
        QCOMPARE(resumed["status"].get<std::string>(), std::string("finished"));
        QVERIFY2(results(resumed) == results(reference),
            qPrintable(QString::fromStdString(
                results(resumed).dump(1) + "\nreference:\n" + results(reference).dump(1))));
        QString why;
        const QString cell = "/students/tc-resnet8-L2-lambda0.25-seed1/best.safetensors";
        QVERIFY2(sameTensors(run + cell, m_referenceRun + cell, &why), qPrintable(why));
        QVERIFY2(sameTensors(run + "/teacher-L2/best.safetensors",
                     m_referenceRun + "/teacher-L2/best.safetensors", &why),
            qPrintable(why));
        if (QString(QTest::currentDataTag()).contains("after a checkpoint"))
            QVERIFY2(r.err.contains("resumed from") || r.out.contains("resumed from"),
                qPrintable(r.out + r.err));
    }

    void failedCellsAreNeverExitZero()
    {
        QFile in(m_config);
        QVERIFY(in.open(QIODevice::ReadOnly));
        QString body = QString::fromUtf8(in.readAll());
        body.replace("teacher: {kind: tiny, epochs: 2, batch_size: 8}", "teacher: {kind: oracle}");
        body.replace("kd: {lambdas: [0.25]}", "kd: {lambdas: [0, 0.25]}");
        body.replace("runs_dir: runs-reference", "runs_dir: runs-full-disk");
        const QString cfg = writeConfig("full-disk.yaml", body);
        // The data caches are built first without a limit: only the checkpoints then exceed it.
        const Run warm = tkd({ "cache", "--config", cfg });
        QVERIFY2(warm.code == 0, qPrintable(warm.err + warm.out));
        QDir(m_tmp.filePath("runs-full-disk")).removeRecursively();

        const Run r = tkd({ "train", "--config", cfg }, 150 * 1024);
        QVERIFY2(r.code == 3, qPrintable(QString::number(r.code) + "\n" + r.err + r.out));
        QVERIFY2(r.err.contains("2 cell(s) failed"), qPrintable(r.err));
        for (const char *cell :
            { "tc-resnet8-L2-lambda0-seed1: ", "tc-resnet8-L2-lambda0.25-seed1: " })
            QVERIFY2(r.err.contains(cell), qPrintable(r.err));
        QVERIFY2(r.err.contains("File too large"), qPrintable(r.err));
        QVERIFY2(r.out.contains("[failed]"), qPrintable(r.out));
        const QString run = onlyRun(m_tmp.filePath("runs-full-disk"));
        QVERIFY(!run.isEmpty());
        QVERIFY2(lastLine(run + "/events.jsonl").contains("\"incomplete\""),
            qPrintable(lastLine(run + "/events.jsonl")));
        QCOMPARE(readJson(run + "/metrics.json")["status"].get<std::string>(),
            std::string("incomplete"));
        const Run e = tkd({ "eval", run });
        QVERIFY2(e.out.contains("[incomplete: 2 failed cells]"), qPrintable(e.out));
        QVERIFY2(e.out.contains("failed cells:"), qPrintable(e.out));

        // With room again, the resume trains exactly the failed cells and the run is complete.
        const Run again = tkd({ "train", "--resume", run });
        QVERIFY2(again.code == 0, qPrintable(again.err + again.out));
        QCOMPARE(
            readJson(run + "/metrics.json")["status"].get<std::string>(), std::string("finished"));
        QVERIFY(lastLine(run + "/events.jsonl").contains("\"finished\""));
    }

    void resumeRefusesWhatItCannotContinue()
    {
        const Run missing = tkd({ "train", "--resume", m_tmp.filePath("no-such-run") });
        QCOMPARE(missing.code, 1);
        QVERIFY2(missing.err.contains("no-such-run"), qPrintable(missing.err));
        // Another experiment than the run's own.
        const QString other = writeConfig(
            "other.yaml", QString::fromUtf8(readAll(m_config)).replace("epochs: 3", "epochs: 4"));
        const Run mismatch = tkd({ "train", "--config", other, "--resume", m_referenceRun });
        QCOMPARE(mismatch.code, 1);
        QVERIFY2(mismatch.err.contains("config.yaml") && mismatch.err.contains("differs"),
            qPrintable(mismatch.err));
    }

private:
    static QByteArray readAll(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
    }
};

QTEST_GUILESS_MAIN(TestResumeCli)
#include "tst_resume_cli.moc"
