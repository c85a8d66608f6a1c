// tkd-test-labels: gui
// The Training view's progress, driven by real event sequences in a run folder (issue 17): a
// pretrained teacher's head adaptation whose frozen pass reaches 100% before its 12 epochs must
// read by its epochs with an ETA, for the stage and the whole run; a stopped run's bars stay where
// it stopped; the status text has its own line; the Progress column is never cut off; a stage
// that ends at chance raises a banner.
#include "RunController.h"
#include "TrainingPanel.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/train/EventLog.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QHeaderView>
#include <QLabel>
#include <QProgressBar>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTreeWidget>
#include <QtTest>

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

namespace {
const char *kTeacher = "teacher L=2";
const char *kStudent = "student tc-resnet8 lambda=0.25 L=2 seed=1";
} // namespace

class TestStudioProgress : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_home;
    double m_t0 = 0.0;

    // A run folder like `tkd train` writes: its config and an events.jsonl to append to.
    QString makeRun(const QString &name)
    {
        const QString dir = m_home.filePath("runs/20260101-120000-" + name + "-0123abcd");
        if (!QDir().mkpath(dir))
            return {};
        tkd::ExperimentConfig c;
        c.name = name.toStdString();
        c.data.source = "builtin";
        c.data.task = 12;
        c.teacher.kind = tkd::TeacherKind::Pretrained;
        c.teacher.epochs = 12;
        c.students = { "tc-resnet8" };
        c.kd.lambdas = { 0.0, 0.25 };
        c.grid.lengthsSec = { 2.0 };
        c.grid.seeds = { 1 };
        c.train.epochs = 3;
        QFile f(dir + "/config.yaml");
        if (!f.open(QIODevice::WriteOnly))
            return {};
        f.write(QByteArray::fromStdString(c.toYaml()));
        return dir;
    }

    tkd::Event at(tkd::Event e, double sec, const char *stage)
    {
        e.t = m_t0 + sec;
        if (stage)
            e.stage = stage;
        return e;
    }

    tkd::Event stage(const char *name, const char *message, double done, double total, double sec,
        bool finished = false)
    {
        tkd::Event e = tkd::Event::stageEvent(name, message);
        e.metrics = { { "done", done }, { "total", total } };
        if (finished)
            e.metrics["finished"] = 1.0;
        return at(e, sec, nullptr);
    }

    tkd::Event epoch(const char *name, int n, double accuracy, double sec)
    {
        return at(tkd::Event::epochEvent(
                      n, n * 10, { { "total", 2.0 } }, { { "val_accuracy", accuracy } }, 1e-3),
            sec, name);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_home.isValid());
        m_t0 = QDateTime::currentMSecsSinceEpoch() / 1000.0 - 600.0;
    }

    void teacherEpochsNotItsFrozenPass()
    {
        const QString dir = makeRun("progress");
        QVERIFY(!dir.isEmpty());
        // The run's lock, held as `tkd train` holds it: the run is in progress until it says not.
        const int lock = ::open(qPrintable(dir + "/lock"), O_CREAT | O_RDWR | O_CLOEXEC, 0644);
        QVERIFY(lock >= 0 && ::flock(lock, LOCK_EX) == 0);
        tkd::EventLog log((dir + "/events.jsonl").toStdString());
        // The head adaptation: a frozen pass over the clips (its own 0..N ticks), then 12 epochs.
        log.append(stage(kTeacher, "frozen teacher on the train clips", 0, 400, 0));
        log.append(stage(kTeacher, "frozen teacher on the validation clips", 50, 50, 20));
        for (int e = 1; e <= 5; ++e)
            log.append(epoch(kTeacher, e, 0.05 + 0.01 * e, 20 + 10 * e));

        tkd::RunController runs;
        tkd::TrainingPanel panel(&runs);
        panel.resize(1000, 600);
        panel.show();
        QVERIFY(panel.followRun(dir));
        QTreeWidgetItem *run = panel.stageTree()->topLevelItem(0);
        QTRY_VERIFY(run && run->childCount() == 1);
        QTreeWidgetItem *teacher = run->child(0);
        // 5 of 12 epochs: 41%, not the frozen pass's 100%.
        QTRY_COMPARE(teacher->text(1), QStringLiteral("epoch 5/12 (41%)"));
        QVERIFY(panel.stageProgressBar()->maximum() == 1000);
        QCOMPARE(panel.stageProgressBar()->value(), 416);
        QVERIFY2(
            panel.etaLabel()->text().contains("ETA stage"), qPrintable(panel.etaLabel()->text()));
        QVERIFY(!teacher->text(2).isEmpty() && teacher->text(2) != QLatin1String("-"));
        QVERIFY2(panel.currentLabel()->text().contains("epoch 5 of 12"),
            qPrintable(panel.currentLabel()->text()));
        // The status text is on its own line, under the bars, never under them.
        const QRect bar = panel.stageProgressBar()->geometry();
        const QRect text = panel.currentLabel()->geometry();
        QVERIFY(text.top() >= bar.bottom());
        QCOMPARE(panel.runProgressBar()->value(), 0); // no student yet of 2

        // The Progress column shows its whole text, even with the panel narrow.
        panel.resize(640, 500);
        QTRY_VERIFY(panel.stageTree()->isVisible());
        QCoreApplication::processEvents();
        const QHeaderView *header = panel.stageTree()->header();
        const int needed = panel.stageTree()->fontMetrics().horizontalAdvance(teacher->text(1));
        QVERIFY2(header->sectionSize(1) >= needed,
            qPrintable(QStringLiteral("%1 < %2").arg(header->sectionSize(1)).arg(needed)));
        QVERIFY(header->sectionViewportPosition(1) + header->sectionSize(1)
            <= panel.stageTree()->viewport()->width());

        // The teacher ends at chance (12 classes: 8.3%): the banner says so.
        QVERIFY(!panel.chanceBanner()->isVisible());
        log.append(stage(kTeacher, "teacher ready", 0, 0, 200, true));
        QTRY_VERIFY(panel.chanceBanner()->isVisible());
        QVERIFY(panel.chanceBanner()->text().contains("chance"));
        QVERIFY(panel.chanceBanner()->text().contains("10.0%")); // its best epoch

        // A student half-way, then the run is stopped: the bars stay where it stopped.
        log.append(stage(kStudent, "training tc-resnet8", 0, 300, 210));
        for (int s = 1; s <= 150; s += 10) {
            tkd::Event e = tkd::Event::stepEvent(s, 1, { { "total", 1.0 } }, 1e-3);
            log.append(at(e, 210 + s * 0.1, kStudent));
        }
        log.append(stage(kStudent, "epoch 2/3", 150, 300, 226));
        QTRY_VERIFY(panel.stageProgressBar()->value() == 500);
        log.append(at(tkd::Event::doneEvent("cancelled"), 230, nullptr));
        QTRY_COMPARE(run->text(3), QStringLiteral("cancelled"));
        QVERIFY2(panel.stageProgressBar()->value() < 1000,
            qPrintable(QString::number(panel.stageProgressBar()->value())));
        QVERIFY(panel.runProgressBar()->value() < 1000);
        QVERIFY(panel.currentLabel()->text().contains("cancelled"));
        ::close(lock);
    }
};

QTEST_MAIN(TestStudioProgress)
#include "tst_studio_progress.moc"
