// tkd-test-labels: e2e ml
// Issue 12: `tkd grid --slurm` against a real single-node Slurm. The test starts its own munged,
// slurmctld and slurmd (Debian's munge, slurmctld, slurmd and slurm-client packages) with every
// file, socket and port in a temporary folder, so nothing system-wide is used or changed; runs a
// 2-cell grid through sbatch (a teacher job, then a job array of `srun tkd train --shard K/2`
// tasks that waits for it); gathers the table with `tkd grid --table`; and checks the errors
// (bad --time, an unknown partition with sbatch's own message, sbatch missing, --dry-run), and
// that a failed teacher job cancels the array.
// Every wait has a timeout and the daemons are stopped whatever happens. The daemons run as the
// test's user (root in CI; an ordinary user works too: SlurmUser and SlurmdUser are that user).
// Without the packages, or when the daemons do not come up, the test fails saying why;
// TKD_SKIP_SLURM=1 turns that into a skip.
#include "app/ProcessRun.h"
#include "core/util/FreePort.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <csignal>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>

namespace {

using Result = tkd::test::ProcessResult;

Result runProgram(const QString &program, const QStringList &args, const QProcessEnvironment &env,
    const QString &workDir, int timeoutMs)
{
    QProcess p;
    p.setProcessEnvironment(env);
    p.setWorkingDirectory(workDir);
    return tkd::test::runProcess(p, program, args, timeoutMs);
}

QString userName()
{
    const passwd *pw = ::getpwuid(::getuid());
    return pw ? QString::fromLocal8Bit(pw->pw_name) : QStringLiteral("root");
}

QString tail(const QString &path, int lines = 15)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return path + ": (no file)";
    const QStringList all = QString::fromUtf8(f.readAll()).split('\n');
    return path + ":\n" + all.mid(std::max<qsizetype>(0, all.size() - lines)).join('\n');
}

// A one-node Slurm in a folder: munged, slurmctld and slurmd in the foreground as children of
// this process, stopped by the destructor (running jobs cancelled first).
class SlurmCluster
{
public:
    explicit SlurmCluster(const QString &dir)
        : m_dir(dir)
    { }
    ~SlurmCluster() { stop(); }

    // Empty when the node is up and idle; else what went wrong, with the daemons' log tails.
    QString start()
    {
        for (const char *sub : { "munge", "ctld", "d", "log" })
            QDir(m_dir).mkpath(sub);
        const QString key = path("munge/munge.key");
        Result r = runProgram(find("mungekey"), { "--create", "--keyfile=" + key, "--force" },
            QProcessEnvironment::systemEnvironment(), m_dir, 30000);
        if (r.code != 0)
            return "mungekey failed: " + r.err;
        dieWithTest(m_munged);
        m_munged.setProcessChannelMode(QProcess::MergedChannels);
        m_munged.setStandardOutputFile(path("log/munged.out"));
        // --force: the temporary folder's parent (/tmp) is world-writable, which munged
        // otherwise refuses for its socket.
        m_munged.start(find("munged"),
            { "--foreground", "--force", "--socket=" + socket(), "--key-file=" + key,
                "--pid-file=" + path("munge/munged.pid"), "--seed-file=" + path("munge/seed"),
                "--log-file=" + path("log/munged.log") });
        if (!waitFor([&] { return QFile::exists(socket()); }, 15000))
            return "munged did not create its socket\n" + tail(path("log/munged.out"));
        writeConfig();
        startDaemon(m_ctld, "slurmctld", { "-D", "-f", conf() }, "log/slurmctld.out");
        startDaemon(m_slurmd, "slurmd", { "-D", "-f", conf(), "-N", "tkdnode" }, "log/slurmd.out");
        QString state;
        const bool idle = waitFor(
            [&] {
                const Result s = client("sinfo", { "-h", "-n", "tkdnode", "-o", "%T" }, 10000);
                state = s.out.trimmed() + s.err.trimmed();
                return s.code == 0 && state == "idle";
            },
            45000);
        if (!idle)
            return "the node did not become idle (sinfo: " + state + ")\n"
                + tail(path("log/slurmctld.log")) + "\n" + tail(path("log/slurmd.log")) + "\n"
                + tail(path("log/slurmctld.out")) + "\n" + tail(path("log/slurmd.out"));
        return {};
    }

    void stop()
    {
        if (m_ctld.state() == QProcess::Running) {
            client("scancel", { "--user", userName() }, 15000);
            waitFor(
                [&] { return client("squeue", { "-h" }, 10000).out.trimmed().isEmpty(); }, 20000);
        }
        for (QProcess *p : { &m_slurmd, &m_ctld, &m_munged }) {
            if (p->state() == QProcess::NotRunning)
                continue;
            p->terminate();
            if (!p->waitForFinished(15000)) {
                p->kill();
                p->waitForFinished(5000);
            }
        }
    }

    // The environment of every client and tkd run: this cluster's config.
    QProcessEnvironment env() const
    {
        QProcessEnvironment e = QProcessEnvironment::systemEnvironment();
        e.insert("SLURM_CONF", conf());
        return e;
    }
    Result client(const QString &program, const QStringList &args, int timeoutMs) const
    {
        return runProgram(find(program), args, env(), m_dir, timeoutMs);
    }
    QString path(const QString &rel) const { return QDir(m_dir).filePath(rel); }
    QString conf() const { return path("slurm.conf"); }
    QString socket() const { return path("munge/munge.sock"); }

    static QString find(const QString &program)
    {
        const QString p = QStandardPaths::findExecutable(program);
        return p.isEmpty()
            ? QStandardPaths::findExecutable(program, { "/usr/sbin", "/sbin", "/usr/bin" })
            : p;
    }
    static bool waitFor(const std::function<bool()> &done, int timeoutMs)
    {
        QElapsedTimer t;
        t.start();
        while (!done()) {
            if (t.elapsed() > timeoutMs)
                return false;
            QThread::msleep(250);
        }
        return true;
    }

private:
    // A daemon outlives no test: killed with it even when the test itself is killed (a CTest
    // timeout), where the destructor never runs.
    static void dieWithTest(QProcess &p)
    {
        p.setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGTERM); });
    }

    void startDaemon(
        QProcess &p, const QString &program, const QStringList &args, const QString &out)
    {
        dieWithTest(p);
        p.setProcessEnvironment(env());
        p.setProcessChannelMode(QProcess::MergedChannels);
        p.setStandardOutputFile(path(out));
        p.start(find(program), args);
    }

    void writeConfig()
    {
        // Two CPUs at most: the two array tasks side by side (more would only oversubscribe
        // a CI runner; fewer than the machine has is fine for slurmd).
        const int cpus = std::min(2u, std::max(1u, std::thread::hardware_concurrency()));
        const int ctldPort = tkd::freeLoopbackPort();
        int slurmdPort = tkd::freeLoopbackPort();
        while (slurmdPort == ctldPort) // a released port may come back at once
            slurmdPort = tkd::freeLoopbackPort();
        QFile f(conf());
        f.open(QIODevice::WriteOnly);
        f.write(QStringLiteral(
            "ClusterName=tkdtest\nSlurmctldHost=localhost\nSlurmctldPort=%1\nSlurmdPort=%2\n"
            "AuthType=auth/munge\nCredType=cred/munge\nAuthInfo=socket=%3\n"
            "SlurmUser=%4\nSlurmdUser=%4\n"
            "StateSaveLocation=%5\nSlurmdSpoolDir=%6\n"
            "SlurmctldPidFile=%7/slurmctld.pid\nSlurmdPidFile=%7/slurmd.pid\n"
            "SlurmctldLogFile=%7/slurmctld.log\nSlurmdLogFile=%7/slurmd.log\n"
            "ProctrackType=proctrack/linuxproc\nTaskPlugin=task/none\n"
            "SelectType=select/cons_tres\nSelectTypeParameters=CR_CPU\n"
            "MpiDefault=none\nSwitchType=switch/none\nMailProg=/bin/true\n"
            "JobCompType=jobcomp/none\nAccountingStorageType=accounting_storage/none\n"
            "ReturnToService=2\nMinJobAge=600\n"
            "NodeName=tkdnode NodeHostname=localhost NodeAddr=127.0.0.1 CPUs=%8 State=UNKNOWN\n"
            "PartitionName=tkd Nodes=tkdnode Default=YES MaxTime=INFINITE State=UP\n")
                    .arg(ctldPort)
                    .arg(slurmdPort)
                    .arg(socket(), userName(), path("ctld"), path("d"), path("log"))
                    .arg(cpus)
                    .toUtf8());
    }

    QString m_dir;
    QProcess m_munged, m_ctld, m_slurmd;
};

} // namespace

class TestSlurmCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    std::unique_ptr<SlurmCluster> m_cluster;
    QString m_config;

    Result tkd(const QStringList &args, const QProcessEnvironment &env, int timeoutMs = 120000)
    {
        QProcessEnvironment e = env;
        e.insert("TKD_CACHE_DIR", m_tmp.filePath("cache"));
        e.insert("TKD_THREADS", "1");
        return runProgram(TKD_CLI_PATH, args, e, m_tmp.path(), timeoutMs);
    }
    QStringList runFolders() const
    {
        return QDir(m_tmp.filePath("runs")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        const bool skip = qEnvironmentVariable("TKD_SKIP_SLURM") == "1";
        QStringList missing;
        for (const char *p : { "munged", "mungekey", "slurmctld", "slurmd", "sbatch", "squeue",
                 "sinfo", "srun", "scancel", "scontrol" })
            if (SlurmCluster::find(p).isEmpty())
                missing << p;
        if (!missing.isEmpty()) {
            const QString why = "Slurm is not installed (missing " + missing.join(", ")
                + "): run scripts/install-deps.sh (munge slurmctld slurmd slurm-client), or set "
                  "TKD_SKIP_SLURM=1 to skip this test";
            if (skip)
                QSKIP(qPrintable(why));
            QFAIL(qPrintable(why));
        }
        m_cluster = std::make_unique<SlurmCluster>(m_tmp.filePath("slurm"));
        const QString error = m_cluster->start();
        if (!error.isEmpty()) {
            const QString why = "could not start a one-node Slurm as " + userName() + ": " + error
                + "\n(set TKD_SKIP_SLURM=1 to skip this test)";
            m_cluster.reset();
            if (skip)
                QSKIP(qPrintable(why));
            QFAIL(qPrintable(why));
        }
        QFile f(m_tmp.filePath("grid.yaml"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(R"(name: slurm-grid
data:
  source: builtin
  corpus: {speakers: 6, seed: 3}
  noisy: {length_sec: 2, snr_db: [5, 15], noise: [white, pink]}
teacher: {kind: tiny, epochs: 1, batch_size: 8}
students: [tc-resnet8]
kd: {lambdas: [0, 0.25]}
grid: {lengths_sec: [2], seeds: [1]}
train: {epochs: 1, batch_size: 16, warmup_epochs: 0}
output: {runs_dir: runs}
)");
        m_config = f.fileName();
    }

    void cleanupTestCase() { m_cluster.reset(); }

    void dryRunCreatesNothing()
    {
        const Result r = tkd({ "grid", "--config", m_config, "--slurm", "--dry-run", "--partition",
                                 "tkd", "--time", "0:10:00", "--cpus-per-task", "1" },
            m_cluster->env());
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        for (const char *expected : { "#SBATCH --array=0-1", "#SBATCH --partition=tkd",
                 "#SBATCH --time=0:10:00", "#SBATCH --cpus-per-task=1", " cache --resume ",
                 " train --config ", "--shard \"${SLURM_ARRAY_TASK_ID}/2\"",
                 "--dependency=afterok:${TEACHER_JOB}", "dry run: nothing created" })
            QVERIFY2(r.out.contains(expected), qPrintable(QString(expected) + "\n" + r.out));
        QVERIFY2(runFolders().isEmpty(), qPrintable(runFolders().join(' ')));
        QVERIFY(m_cluster->client("squeue", { "-h" }, 10000).out.trimmed().isEmpty());

        // --jobs: fewer array tasks, each a shard of the cells.
        const Result one
            = tkd({ "grid", "--config", m_config, "--slurm", "--dry-run", "--jobs", "1" },
                m_cluster->env());
        QVERIFY2(one.code == 0 && one.out.contains("#SBATCH --array=0-0")
                && one.out.contains("#SBATCH --cpus-per-task=1\n") // no train.num_threads
                && one.out.contains("--shard \"${SLURM_ARRAY_TASK_ID}/1\""),
            qPrintable(one.err + one.out));
    }

    void badOptionsAreNamed()
    {
        const Result time
            = tkd({ "grid", "--config", m_config, "--slurm", "--time", "2h" }, m_cluster->env());
        QVERIFY2(time.code != 0 && time.err.contains("--time") && time.err.contains("2h"),
            qPrintable(time.err));
        const Result threads
            = tkd({ "grid", "--config", m_config, "--slurm", "--threads", "2" }, m_cluster->env());
        QVERIFY2(
            threads.code != 0 && threads.err.contains("--cpus-per-task"), qPrintable(threads.err));
        const Result part
            = tkd({ "grid", "--config", m_config, "--partition", "tkd" }, m_cluster->env());
        QVERIFY2(part.code != 0 && part.err.contains("--slurm"), qPrintable(part.err));

        // The real sbatch refuses an unknown partition: its own message is shown, and the
        // grid folder made for the submission does not stay behind.
        const Result refused = tkd(
            { "grid", "--config", m_config, "--slurm", "--partition", "nosuch" }, m_cluster->env());
        QVERIFY2(refused.code == 1 && refused.err.contains("sbatch")
                && refused.err.contains("partition", Qt::CaseInsensitive),
            qPrintable(refused.err));
        QVERIFY2(runFolders().isEmpty(), qPrintable(runFolders().join(' ')));

        QProcessEnvironment noSlurm = m_cluster->env();
        noSlurm.insert("PATH", m_tmp.filePath("empty-path"));
        const Result missing = tkd({ "grid", "--config", m_config, "--slurm" }, noSlurm);
        QVERIFY2(missing.code == 1 && missing.err.contains("sbatch: not found on PATH"),
            qPrintable(missing.err));
        QVERIFY2(runFolders().isEmpty(), qPrintable(runFolders().join(' ')));
    }

    void gridRunsAsTeacherJobAndArray()
    {
        QElapsedTimer clock;
        clock.start();
        const Result r = tkd({ "grid", "--config", m_config, "--slurm", "--partition", "tkd",
                                 "--time", "10", "--cpus-per-task", "1" },
            m_cluster->env());
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        const auto ids
            = QRegularExpression(R"(teacher job (\d+):[^\n]*\nstudent array (\d+)_)").match(r.out);
        QVERIFY2(ids.hasMatch(), qPrintable(r.out));
        const QString teacher = ids.captured(1), array = ids.captured(2);
        const auto gridMatch = QRegularExpression(R"(grid folder (\S+))").match(r.out);
        QVERIFY(gridMatch.hasMatch());
        const QString grid = gridMatch.captured(1);
        QVERIFY(QFile::exists(grid + "/slurm-teacher.sbatch"));
        QVERIFY(QFile::exists(grid + "/slurm-students.sbatch"));

        // Both jobs leave the queue (the teacher, then the array that waited for it).
        const bool drained = SlurmCluster::waitFor(
            [&] { return m_cluster->client("squeue", { "-h" }, 10000).out.trimmed().isEmpty(); },
            240000);
        const QString logs = tail(grid + "/slurm-teacher.log") + "\n" + tail(grid + "/shard-0.log")
            + "\n" + tail(grid + "/shard-1.log");
        QVERIFY2(drained, qPrintable("the jobs did not finish in 240 s\n" + logs));
        qInfo("teacher job + 2-task array: %.1f s from submission", clock.elapsed() / 1000.0);

        // Slurm's own record: every job and array task completed with exit code 0.
        const Result jobs = m_cluster->client("scontrol", { "-o", "show", "job", teacher }, 10000);
        QVERIFY2(jobs.out.contains("JobState=COMPLETED") && jobs.out.contains("ExitCode=0:0"),
            qPrintable(logs + "\n" + jobs.out + jobs.err));
        const Result tasks = m_cluster->client("scontrol", { "-o", "show", "job", array }, 10000);
        QCOMPARE(tasks.out.count("JobState=COMPLETED"), 2);
        QVERIFY2(tasks.out.count("ExitCode=0:0") == 2, qPrintable(logs + "\n" + tasks.out));
        QVERIFY2(tasks.out.contains(QStringLiteral("Dependency=")), qPrintable(tasks.out));

        // Each task announced its own run folder and ran under srun with the teacher job's
        // teachers (no teacher trained in a task).
        for (const char *shard : { "/shard-0.log", "/shard-1.log" }) {
            QFile f(grid + shard);
            QVERIFY2(f.open(QIODevice::ReadOnly), shard);
            const QString log = QString::fromUtf8(f.readAll());
            QVERIFY2(log.contains("run folder ") && log.contains("teacher-L2/best.safetensors"),
                qPrintable(log));
        }
        QCOMPARE(runFolders().size(), 3); // the grid (teachers) + one run per array task

        const Result table = tkd({ "grid", "--table", grid }, m_cluster->env());
        QVERIFY2(table.code == 0, qPrintable(table.err + table.out));
        QVERIFY2(
            table.out.contains("| tc-resnet8 | 0 |") && table.out.contains("| tc-resnet8 | 0.25 |"),
            qPrintable(table.out));
        QFile g(grid + "/grid.json");
        QVERIFY(g.open(QIODevice::ReadOnly));
        const auto j = nlohmann::json::parse(g.readAll().toStdString());
        QCOMPARE(j["run_dirs"].size(), size_t(3));
        QFile csv(grid + "/grid.csv");
        QVERIFY(csv.open(QIODevice::ReadOnly));
        const QStringList rows = QString::fromUtf8(csv.readAll()).trimmed().split('\n');
        QCOMPARE(rows.size(), 3); // header + lambda 0 + lambda 0.25, one seed each
        for (int i = 1; i < rows.size(); ++i) {
            const QStringList cols = rows[i].split(',');
            // One seed, counted once (a shard named by its log and by grid.json is one run).
            QVERIFY2(
                cols.size() > 6 && cols[3] == "accuracy" && cols[6] == "1", qPrintable(rows[i]));
            bool ok = false;
            const double acc = cols[4].toDouble(&ok);
            QVERIFY2(ok && acc >= 0.0 && acc <= 1.0, qPrintable(rows[i]));
        }
    }

    void failedTeacherCancelsTheArray()
    {
        // The teacher job dies (SIGKILL right after its teacher stage starts, TKD_CRASH_AT,
        // which sbatch passes on): the array that waits for it is cancelled, not left pending.
        QProcessEnvironment env = m_cluster->env();
        env.insert("TKD_CRASH_AT", "\"stage\":\"teacher L=2\"");
        const Result r = tkd({ "grid", "--config", m_config, "--slurm", "--time", "10" }, env);
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        const auto ids
            = QRegularExpression(R"(teacher job (\d+):[^\n]*\nstudent array (\d+)_)").match(r.out);
        QVERIFY2(ids.hasMatch(), qPrintable(r.out));
        const bool drained = SlurmCluster::waitFor(
            [&] { return m_cluster->client("squeue", { "-h" }, 10000).out.trimmed().isEmpty(); },
            120000);
        QVERIFY2(drained,
            qPrintable(m_cluster->client("squeue", {}, 10000).out
                + "\nthe array stayed queued after its teacher job failed"));
        const Result teacher
            = m_cluster->client("scontrol", { "-o", "show", "job", ids.captured(1) }, 10000);
        QVERIFY2(teacher.out.contains("JobState=FAILED"), qPrintable(teacher.out));
        const Result array
            = m_cluster->client("scontrol", { "-o", "show", "job", ids.captured(2) }, 10000);
        QVERIFY2(array.out.contains("JobState=CANCELLED")
                && array.out.contains("DependencyNeverSatisfied"),
            qPrintable(array.out));
        const QString grid = QRegularExpression(R"(grid folder (\S+))").match(r.out).captured(1);
        QVERIFY(!QFile::exists(grid + "/shard-0.log")); // no task ran
    }
};

QTEST_GUILESS_MAIN(TestSlurmCli)
#include "tst_slurm_cli.moc"
