// tkd-test-labels: e2e ml
// Issue 12 through the real `tkd` binary and the real Gloo on 127.0.0.1:
// - `tkd train --nproc 2` trains a tiny experiment on two ranks: rank 0 alone writes the run
//   folder (one line per epoch in events.jsonl, not one per rank), the other rank's lines come
//   prefixed with "[rank 1]";
// - rank 1 killed mid-epoch (TKD_CRASH_RANK_STEP: it raises SIGKILL after that optimiser step):
//   rank 0 fails at its next collective naming rank 1, the launcher names it too, nothing hangs,
//   and `tkd train --resume RUN` with another world size (one process) finishes the run;
// - a one-process run killed after a checkpoint resumes on two ranks;
// - a learned teacher trains on both ranks (each makes half of every epoch's fresh noise), rank 1
//   killed in the teacher's steps is named, and the run resumes on one rank;
// - a learned teacher's attention cache is computed half on each rank and merged by rank 0;
// - `tkd teacher pretrain --nproc 2` trains every stage on both ranks, and a recipe grown by a
//   stage continues in one process.
#include "app/ProcessRun.h"
#include "core/io/SafeTensors.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QtTest>

#include <nlohmann/json.hpp>

class TestDistributedCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;

    struct Run
    {
        int code = -1;
        QString out, err;
        double seconds = 0;
    };

    // crash: TKD_CRASH_RANK_STEP (R:S), or TKD_CRASH_AT (an event line) when crashAtEvent.
    Run tkd(const QStringList &args, const QString &crash = {}, bool crashAtEvent = false,
        const QString &cache = {})
    {
        QProcess p;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert("TKD_CACHE_DIR", cache.isEmpty() ? m_tmp.filePath("cache") : cache);
        env.insert("TKD_THREADS", "1");
        env.insert("TKD_DIST_TIMEOUT", "30");
        for (const char *v : { "TKD_CRASH_AT", "TKD_CRASH_RANK_STEP", "WORLD_SIZE", "RANK",
                 "SLURM_STEP_ID", "SLURM_NTASKS" })
            env.remove(v);
        if (!crash.isEmpty())
            env.insert(crashAtEvent ? "TKD_CRASH_AT" : "TKD_CRASH_RANK_STEP", crash);
        p.setProcessEnvironment(env);
        p.setWorkingDirectory(m_tmp.path());
        QElapsedTimer t;
        t.start();
        const tkd::test::ProcessResult r = tkd::test::runProcess(p, TKD_CLI_PATH, args, 300000);
        return { r.code, r.out, r.err, t.elapsed() / 1000.0 };
    }

    QString writeConfig(const QString &runsDir, const QString &teacher = "{kind: oracle}")
    {
        QFile f(m_tmp.filePath(runsDir + ".yaml"));
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QString(R"(name: dist
data:
  source: builtin
  corpus: {speakers: 5, seed: 4}
  noisy: {length_sec: 2, snr_db: [5, 15], noise: [white, pink]}
teacher: %2
students: [tc-resnet8]
kd: {lambdas: [0.25]}
grid: {lengths_sec: [2], seeds: [1]}
train: {epochs: 3, batch_size: 8, warmup_epochs: 0}
output: {runs_dir: %1}
)")
                    .arg(runsDir, teacher)
                    .toUtf8());
        return f.fileName();
    }

    QString onlyRun(const QString &runsDir)
    {
        const QDir d(m_tmp.filePath(runsDir));
        const QStringList runs = d.entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        return runs.size() == 1 ? d.filePath(runs.front()) : QString();
    }

    static QString readText(const QString &path)
    {
        QFile f(path);
        return f.open(QIODevice::ReadOnly) ? QString::fromUtf8(f.readAll()) : QString();
    }

    static std::string status(const QString &run)
    {
        const auto j
            = nlohmann::json::parse(readText(run + "/metrics.json").toStdString(), nullptr, false);
        return j.is_object() ? j.value("status", std::string()) : std::string();
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        // The data caches once, in one process: the timed runs below then start from them.
        const Run warm = tkd({ "cache", "--config", writeConfig("runs-warm") });
        QVERIFY2(warm.code == 0, qPrintable(warm.err + warm.out));
    }

    void twoRanksTrainAndRankZeroAloneWrites()
    {
        const Run r = tkd({ "train", "--config", writeConfig("runs-two"), "--nproc", "2" });
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        QVERIFY2(r.err.contains("tkd: 2 ranks on 127.0.0.1:"), qPrintable(r.err));
        const QString run = onlyRun("runs-two");
        QVERIFY(!run.isEmpty());
        QCOMPARE(status(run), std::string("finished"));
        const QString events = readText(run + "/events.jsonl");
        QVERIFY(events.contains("data-parallel over 2 ranks"));
        QCOMPARE(events.count("\"type\":\"epoch\""), 3); // rank 0's epochs only
        QVERIFY(QFile::exists(run + "/students/tc-resnet8-L2-lambda0.25-seed1/best.safetensors"));
        qInfo("tkd train --nproc 2: %.1f s", r.seconds);
    }

    void aKilledRankIsNamedAndTheRunResumesOnOneRank()
    {
        const QString cfg = writeConfig("runs-killed");
        // 36 training clips / 8 = 5 steps an epoch: step 8 is in the middle of epoch 2.
        const Run killed = tkd({ "train", "--config", cfg, "--nproc", "2" }, "1:8");
        QCOMPARE(killed.code, 1);
        QVERIFY2(killed.err.contains("tkd: rank 1 (pid ")
                && killed.err.contains("was killed by signal 9"),
            qPrintable(killed.err));
        // Rank 0's own message names the dead rank too.
        QVERIFY2(killed.err.contains("rank 0: ") && killed.err.contains(": rank 1 (pid ")
                && killed.err.contains(") died"),
            qPrintable(killed.err));
        QVERIFY2(killed.seconds < 60, qPrintable(QString::number(killed.seconds)));
        const QString run = onlyRun("runs-killed");
        QVERIFY(!run.isEmpty());
        QCOMPARE(status(run), std::string("failed"));
        QVERIFY(QFile::exists(run + "/students/tc-resnet8-L2-lambda0.25-seed1/last.safetensors"));

        const Run resumed = tkd({ "train", "--resume", run });
        QVERIFY2(resumed.code == 0, qPrintable(resumed.err + resumed.out));
        QVERIFY2((resumed.err + resumed.out).contains("resumed from"),
            qPrintable(resumed.err + resumed.out));
        QVERIFY2((resumed.err + resumed.out).contains("at epoch 2, step 5"),
            qPrintable(resumed.err + resumed.out));
        QCOMPARE(status(run), std::string("finished"));
    }

    // The other way round: a one-process run killed after its first student checkpoint
    // continues on two ranks.
    void aOneRankRunResumesOnTwoRanks()
    {
        const Run killed = tkd({ "train", "--config", writeConfig("runs-one") },
            "students/tc-resnet8-L2-lambda0.25-seed1/last.safetensors", true);
        QCOMPARE(killed.code, -1); // SIGKILL
        const QString run = onlyRun("runs-one");
        QVERIFY(!run.isEmpty());
        const Run resumed = tkd({ "train", "--resume", run, "--nproc", "2" });
        QVERIFY2(resumed.code == 0, qPrintable(resumed.err + resumed.out));
        QVERIFY2((resumed.err + resumed.out).contains("at epoch 2, step 5"),
            qPrintable(resumed.err + resumed.out));
        QCOMPARE(status(run), std::string("finished"));
        QVERIFY(readText(run + "/events.jsonl").contains("data-parallel over 2 ranks"));
    }

    // A learned teacher trains data-parallel: both ranks step it (rank 1 killed at the teacher's
    // third step takes rank 0 down in the teacher's stage), and each makes the fresh noise of its
    // own half of an epoch's clips (18 of the 36). The run then resumes on one rank.
    void aLearnedTeacherTrainsOnBothRanks()
    {
        const QString cfg
            = writeConfig("runs-dp-teacher", "{kind: tiny, epochs: 2, batch_size: 8}");
        const Run r = tkd({ "train", "--config", cfg, "--nproc", "2" });
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        const QString run = onlyRun("runs-dp-teacher");
        QCOMPARE(status(run), std::string("finished"));
        QVERIFY(readText(run + "/events.jsonl")
                    .contains("the teacher trains data-parallel over 2 ranks"));
        QVERIFY2(r.err.contains("teacher L=2: 18/18 (100%)"), qPrintable(r.err)); // epoch 2's noise
        QVERIFY(QFile::exists(run + "/teacher-L2/best.safetensors"));

        const QString cfg2
            = writeConfig("runs-dp-teacher-killed", "{kind: tiny, epochs: 2, batch_size: 8}");
        const Run killed = tkd({ "train", "--config", cfg2, "--nproc", "2" }, "1:3");
        QCOMPARE(killed.code, 1);
        QVERIFY2(killed.err.contains("tkd: rank 1 (pid ")
                && killed.err.contains("was killed by signal 9"),
            qPrintable(killed.err));
        QVERIFY2(killed.err.contains("rank 0: ") && killed.err.contains(") died"),
            qPrintable(killed.err));
        const QString dead = onlyRun("runs-dp-teacher-killed");
        QCOMPARE(status(dead), std::string("failed"));
        QVERIFY(!QFile::exists(dead + "/students")); // it died in the teacher's stage
        const Run resumed = tkd({ "train", "--resume", dead });
        QVERIFY2(resumed.code == 0, qPrintable(resumed.err + resumed.out));
        QCOMPARE(status(dead), std::string("finished"));
    }

    void teacherPretrainRunsOnTwoRanks()
    {
        const auto recipe = [this](int stages) {
            const QString path = m_tmp.filePath(QString("recipe-%1.yaml").arg(stages));
            QFile f(path);
            if (!f.open(QIODevice::WriteOnly))
                return QString();
            f.write(R"(name: tiny-dp
seed: 1
corpus: {speakers: 8, seed: 1, first_speaker: 100000, validation_fraction: 0.125, test_fraction: 0.125}
unknown_per_speaker: 1
model: tiny
batch_size: 16
stages:
  - {length_sec: 1, epochs: 2, lr: 0.002}
  - {length_sec: 2, epochs: 1, lr: 0.001}
)");
            if (stages > 2)
                f.write("  - {length_sec: 2, epochs: 1, lr: 0.0005, focus: 0.5}\n");
            f.write("evaluate_lengths_sec: [1, 2]\n");
            return path;
        };
        const QString out = m_tmp.filePath("pretrain-dp");
        const Run r
            = tkd({ "teacher", "pretrain", "--recipe", recipe(2), "--out", out, "--nproc", "2" });
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        QVERIFY2(r.err.contains("tkd: 2 ranks on 127.0.0.1:"), qPrintable(r.err));
        QVERIFY(QFile::exists(out + "/teacher.safetensors"));
        const QString events = readText(out + "/events.jsonl");
        QCOMPARE(events.count("the teacher trains data-parallel over 2 ranks"), 2); // each stage
        const auto report = nlohmann::json::parse(readText(out + "/report.json").toStdString());
        QCOMPARE(report["stages"].size(), size_t(2));
        QCOMPARE(report["figures"].size(), size_t(2));

        // The recipe grown by a stage continues in one process after the two finished stages.
        const Run more = tkd({ "teacher", "pretrain", "--recipe", recipe(3), "--out", out });
        QVERIFY2(more.code == 0, qPrintable(more.err + more.out));
        QVERIFY2(more.out.contains("stage 1:") && more.out.contains("(finished earlier"),
            qPrintable(more.out));
        QVERIFY(QFile::exists(out + "/stage-3/best.safetensors"));

        const Run bad = tkd({ "teacher", "pretrain", "--recipe", recipe(3), "--out", out,
            "--evaluate-only", "--nproc", "2" });
        QCOMPARE(bad.code, 1);
        QVERIFY2(bad.err.contains("--nproc"), qPrintable(bad.err));
    }

    // A learned teacher: rank 0 trains it, both ranks compute half of its attention cache, rank
    // 0 writes the merged file; one process recomputing it with the same teacher gets the same
    // file (key) and the same rows (to float rounding: the teacher's batches are cut elsewhere).
    void theTeacherCacheIsShardedAndMerged()
    {
        const QString sharded = m_tmp.filePath("cache-sharded"),
                      alone = m_tmp.filePath("cache-alone");
        const QString cfg = writeConfig("runs-tiny", "{kind: tiny, epochs: 1, batch_size: 8}");
        const Run r = tkd({ "train", "--config", cfg, "--nproc", "2" }, {}, false, sharded);
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        const QString run = onlyRun("runs-tiny");
        QVERIFY(readText(run + "/events.jsonl").contains("computed over 2 ranks"));
        const Run one
            = tkd({ "cache", "--config", cfg, "--teacher", run + "/teacher-L2/best.safetensors" },
                {}, false, alone);
        QVERIFY2(one.code == 0, qPrintable(one.err + one.out));
        const QStringList a = QDir(sharded + "/teacher-cache").entryList({ "*.safetensors" });
        const QStringList b = QDir(alone + "/teacher-cache").entryList({ "*.safetensors" });
        QCOMPARE(a.size(), 1);
        QCOMPARE(b, a); // the same key: the same teacher, data and rollout
        const auto ta = tkd::safetensors::load((sharded + "/teacher-cache/" + a[0]).toStdString());
        const auto tb = tkd::safetensors::load((alone + "/teacher-cache/" + b[0]).toStdString());
        for (const char *name : { "attention", "logits" }) {
            QVERIFY(ta.at(name).sizes().equals(tb.at(name).sizes()));
            const double diff = (ta.at(name) - tb.at(name)).abs().max().item<double>();
            QVERIFY2(diff < 1e-5, qPrintable(QString("%1: %2").arg(name).arg(diff)));
        }
    }
};

QTEST_GUILESS_MAIN(TestDistributedCli)
#include "tst_distributed_cli.moc"
