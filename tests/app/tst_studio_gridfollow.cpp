// tkd-test-labels: gui
// Issue 12: the studio follows a grid whose shards are Slurm array tasks on a shared filesystem.
// A grid folder as `tkd grid --slurm` leaves it (its own run with the teachers, shard-K.log files
// naming each task's run folder, relative to the task's working directory, no grid.json yet):
// the Training view follows the grid and the shards already started, picks up a shard that starts
// later by itself, and does not bring back a run removed by hand; Results shows every shard's
// cells from the grid folder alone.
#include "RunController.h"
#include "RunInspector.h"
#include "TrainingPanel.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/experiment/PipelineResult.h"
#include "core/train/EventLog.h"

#include <QDir>
#include <QFile>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

class TestStudioGridFollow : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_home;

    // A run folder as `tkd train` writes it: config.yaml, events.jsonl, and metrics.json with
    // one student cell (or only the teacher) of the 2-cell grid.
    QString makeRun(const QString &name, double lambda, bool teacherOnly)
    {
        const QString dir = m_home.filePath("runs/20260101-120000-" + name);
        if (!QDir().mkpath(dir))
            return {};
        tkd::ExperimentConfig c;
        c.name = "slurm-grid";
        c.data.source = "builtin";
        c.data.task = 12;
        c.students = { "tc-resnet8" };
        c.kd.lambdas = { 0.0, 0.25 };
        c.grid.lengthsSec = { 2.0 };
        c.grid.seeds = { 1 };
        QFile f(dir + "/config.yaml");
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QByteArray::fromStdString(c.toYaml()));
        tkd::EventLog log((dir + "/events.jsonl").toStdString());
        log.append(tkd::Event::stageEvent(teacherOnly ? "teacher L=2" : "student", "started"));
        tkd::PipelineResult r;
        tkd::LengthResult l;
        l.lengthSec = 2.0;
        l.teacherKind = "tiny";
        l.teacherTest = { { "accuracy", 0.5 } };
        if (!teacherOnly) {
            tkd::CellResult cell;
            cell.student = "tc-resnet8";
            cell.lambda = lambda;
            cell.lengthSec = 2.0;
            cell.status = "completed";
            cell.test = { { "accuracy", 0.4 + lambda } };
            l.cells.push_back(cell);
        }
        r.lengths.push_back(l);
        QFile m(dir + "/metrics.json");
        if (!m.open(QIODevice::WriteOnly))
            return {};
        m.write(QByteArray::fromStdString(r.toJson().dump()));
        return dir;
    }
    // The log of array task K: Slurm's --output, with `tkd train`'s announcement in it.
    void writeShardLog(const QString &grid, int k, const QString &announced)
    {
        QFile f(grid + "/shard-" + QString::number(k) + ".log");
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("[info] loading the teachers\n");
        if (!announced.isEmpty())
            f.write(("[info] run folder " + announced + "\n").toUtf8());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_home.isValid());
    }

    void followsShardsAsTheyStart()
    {
        const QString grid = makeRun("grid", 0.0, true);
        const QString shard0 = makeRun("shard0", 0.0, false);
        QVERIFY(!grid.isEmpty() && !shard0.isEmpty());
        writeShardLog(grid, 0, "runs/20260101-120000-shard0"); // relative: the task's own cwd
        writeShardLog(grid, 1, {}); // queued: no run folder yet

        tkd::RunController runs;
        tkd::TrainingPanel panel(&runs);
        panel.show();
        QVERIFY(panel.followRun(grid));
        QCOMPARE(panel.followedRuns(), QStringList({ grid, shard0 }));

        // Task 1 starts later: its run shows up without anyone opening it.
        const QString shard1 = makeRun("shard1", 0.25, false);
        writeShardLog(grid, 1, "runs/20260101-120000-shard1");
        QTRY_VERIFY_WITH_TIMEOUT(panel.followedRuns().contains(shard1), 10000);

        // A shard removed by hand stays removed.
        panel.removeRun(shard1);
        QTest::qWait(2500);
        QVERIFY(!panel.followedRuns().contains(shard1));

        // Results from the grid folder alone: the teacher once and both shards' cells.
        QString title;
        const QVector<tkd::ResultEntry> entries = tkd::RunInspector::resultEntries(grid, &title);
        QStringList seen;
        for (const tkd::ResultEntry &e : entries)
            seen << e.model + "/" + QString::number(e.lambda) + "@"
                    + QFileInfo(e.runDir).fileName();
        QVERIFY2(seen.contains("tc-resnet8/0@20260101-120000-shard0"), qPrintable(seen.join(' ')));
        QVERIFY2(
            seen.contains("tc-resnet8/0.25@20260101-120000-shard1"), qPrintable(seen.join(' ')));
        QCOMPARE(seen.filter("teacher/").size(), 1);
    }
};

QTEST_MAIN(TestStudioGridFollow)
#include "tst_studio_gridfollow.moc"
