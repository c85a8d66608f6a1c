// The Slurm side of `tkd grid --slurm` without a cluster: option checks (Slurm's time formats,
// partition names), shell quoting checked by a real shell, the two batch scripts (directives,
// the shard of each array task, bash syntax) and the submit commands; submitBatchJob's errors
// through real processes standing in for sbatch (missing, failing, odd answers).
// tst_slurm_cli runs the real daemons.
#include "core/train/SlurmGrid.h"
#include "core/util/Error.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QtTest>

namespace {
QString shellEcho(const std::string &quoted)
{
    QProcess sh;
    sh.start("/bin/sh", { "-c", QString::fromStdString("printf %s " + quoted) });
    sh.waitForFinished(10000);
    return QString::fromUtf8(sh.readAllStandardOutput());
}

tkd::SlurmGridPlan plan()
{
    tkd::SlurmGridPlan p;
    p.gridDir = "/shared/runs/20260101-000000-g-abcdef12";
    p.workDir = "/home/me/my experiments"; // a space: quoted in the script body
    p.tkd = "/opt/tkd/bin/tkd";
    p.shards = 3;
    p.subsampling = 2;
    p.jobName = "tkd-g";
    p.submittedBy = "tkd grid --config g.yaml --slurm";
    p.slurm.partition = "cpu";
    p.slurm.time = "1-00:00:00";
    p.slurm.cpusPerTask = 4;
    return p;
}
} // namespace

class TestSlurmGrid : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void timeFormats_data()
    {
        QTest::addColumn<QString>("time");
        QTest::addColumn<bool>("valid");
        for (const char *t :
            { "30", "30:00", "2:00:00", "1-12", "1-12:30", "1-12:30:00", "UNLIMITED", "" })
            QTest::newRow(t) << QString(t) << true;
        for (const char *t : { "2h", "1:2:3:4", "-5", "1-", "1.5", "1-2-3", " 30" })
            QTest::newRow(t) << QString(t) << false;
    }
    void timeFormats()
    {
        QFETCH(QString, time);
        QFETCH(bool, valid);
        tkd::SlurmOptions o;
        o.time = time.toStdString();
        try {
            tkd::validateSlurmOptions(o);
            QVERIFY2(valid, "accepted");
        } catch (const tkd::Error &e) {
            QVERIFY2(!valid, e.what());
            QCOMPARE(QString::fromStdString(e.subject()), QString("--time"));
        }
    }

    void partitionsAndCpus()
    {
        tkd::SlurmOptions o;
        o.partition = "cpu,gpu-a100";
        tkd::validateSlurmOptions(o);
        o.partition = "cpu gpu";
        QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::validateSlurmOptions(o));
        o.partition.clear();
        o.cpusPerTask = 0;
        QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::validateSlurmOptions(o));
    }

    void quotingSurvivesTheShell()
    {
        for (const char *w : { "plain/path-1.yaml", "with space", "it's", "$HOME", "a\"b", "" })
            QCOMPARE(shellEcho(tkd::shellQuote(w)), QString(w));
        tkd::checkSlurmPath("/shared/runs", "output.runs_dir");
        QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::checkSlurmPath("/my runs", "output.runs_dir"));
        QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::checkSlurmPath("/runs/%j", "output.runs_dir"));
    }

    void scripts()
    {
        const tkd::SlurmGridPlan p = plan();
        const QString teacher = QString::fromStdString(p.teacherScript());
        const QString students = QString::fromStdString(p.studentScript());
        for (const QString &s : { teacher, students }) {
            QVERIFY(s.startsWith("#!/bin/bash\n"));
            QVERIFY(s.contains("#SBATCH --partition=cpu\n"));
            QVERIFY(s.contains("#SBATCH --time=1-00:00:00\n"));
            QVERIFY(s.contains("#SBATCH --cpus-per-task=4\n"));
            QVERIFY(s.contains("cd '/home/me/my experiments'\n"));
            QVERIFY(s.contains("srun --ntasks=1 --cpus-per-task=4 /opt/tkd/bin/tkd "));
            QVERIFY(s.contains(" --subsampling 2"));
            QVERIFY(!s.contains("--threads")); // the grid's config.yaml has them
            // Valid bash, as written.
            QTemporaryDir dir;
            QFile f(dir.filePath("job.sbatch"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(s.toUtf8());
            f.close();
            QProcess bash;
            bash.start("bash", { "-n", f.fileName() });
            QVERIFY(bash.waitForFinished(10000));
            QVERIFY2(bash.exitCode() == 0, bash.readAllStandardError().constData());
        }
        QVERIFY(teacher.contains(
            "#SBATCH --output=" + QString::fromStdString(p.gridDir) + "/slurm-teacher.log\n"));
        QVERIFY(teacher.contains(
            " cache --resume " + QString::fromStdString(p.gridDir) + " --subsampling 2\n"));
        QVERIFY(!teacher.contains("--array"));
        QVERIFY(students.contains("#SBATCH --array=0-2\n"));
        QVERIFY(students.contains(
            "#SBATCH --output=" + QString::fromStdString(p.gridDir) + "/shard-%a.log\n"));
        QVERIFY(students.contains(" train --config " + QString::fromStdString(p.gridDir)
            + "/config.yaml --teacher-run " + QString::fromStdString(p.gridDir)));
        QVERIFY(students.contains("--shard \"${SLURM_ARRAY_TASK_ID}/3\"\n"));

        // An oracle grid has no teacher to hand over; a reused one is handed to both jobs.
        tkd::SlurmGridPlan o = plan();
        o.oracleTeacher = true;
        QVERIFY(!QString::fromStdString(o.studentScript()).contains("--teacher-run"));
        o.oracleTeacher = false;
        o.teacherRunDir = "/shared/runs/old";
        QVERIFY(
            QString::fromStdString(o.teacherScript()).contains("--teacher-run /shared/runs/old"));
        QVERIFY(
            QString::fromStdString(o.studentScript()).contains("--teacher-run /shared/runs/old"));

        const auto array = p.studentSubmitCommand("42");
        QCOMPARE(QString::fromStdString(tkd::shellCommand(array)),
            "sbatch --parsable --dependency=afterok:42 --kill-on-invalid-dep=yes "
                + QString::fromStdString(p.gridDir) + "/slurm-students.sbatch");
    }

    void submitErrors()
    {
        QTemporaryDir dir;
        const std::string scratch = dir.path().toStdString();
        QCOMPARE(tkd::submitBatchJob({ "echo", "1234" }, scratch), std::string("1234"));
        QCOMPARE(tkd::submitBatchJob({ "echo", "77;cluster-a" }, scratch), std::string("77"));
        try {
            tkd::submitBatchJob({ "/nonexistent/sbatch", "x" }, scratch);
            QFAIL("no error for a missing sbatch");
        } catch (const tkd::Error &e) {
            QVERIFY2(QString(e.what()).contains("not found on PATH"), e.what());
        }
        try {
            tkd::submitBatchJob(
                { "sh", "-c", "echo 'sbatch: error: no such partition' >&2; exit 1" }, scratch);
            QFAIL("no error for a failing sbatch");
        } catch (const tkd::Error &e) {
            QVERIFY2(QString(e.what()).contains("exit status 1")
                    && QString(e.what()).contains("sbatch: error: no such partition"),
                e.what());
        }
        QVERIFY_THROWS_EXCEPTION(
            tkd::Error, tkd::submitBatchJob({ "echo", "Submitted batch job" }, scratch));
        QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden).size(), 0); // no leftovers
    }
};

QTEST_GUILESS_MAIN(TestSlurmGrid)
#include "tst_slurmgrid.moc"
