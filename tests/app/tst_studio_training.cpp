// tkd-test-labels: gui e2e
// The studio's Experiment and Training views, offscreen, with real widgets and the real core:
// the form generated from the schema validates as the user types (messages beside the fields
// appear and go), saves YAML the CLI reads back; Run trains a tiny experiment on the worker
// thread while the curves fill from the run's events.jsonl; Pause holds it; Stop checkpoints;
// a run written by another process is followed by tailing its log; core errors show as
// messages and the window keeps working; closing mid-run asks.
#include "AttentionController.h"
#include "ExperimentPanel.h"
#include "MainWindow.h"
#include "RunController.h"
#include "RunInspector.h"
#include "TrainingPanel.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/experiment/PipelineResult.h"
#include "core/train/EventLog.h"
#include "core/train/Pipeline.h"
#include "widgets/ExperimentForm.h"
#include "widgets/ResultsView.h"
#include "widgets/TrainingCurves.h"

#include <QAction>
#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QDropEvent>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QMimeData>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>
#include <QTreeWidget>
#include <QUrl>
#include <QtTest>

#include <algorithm>
#include <atomic>

class TestStudioTraining : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_home;

    // A tiny experiment: 6 synthetic speakers, 1 s clips, the oracle teacher, one TC-ResNet8 cell.
    tkd::ExperimentConfig tinyConfig(int epochs) const
    {
        tkd::ExperimentConfig c;
        c.name = "tiny";
        c.data.source = "builtin";
        c.data.corpus.speakers = 6;
        c.data.noisy.lengthSec = 1.0;
        c.teacher.kind = tkd::TeacherKind::Oracle;
        c.students = { "tc-resnet8" };
        c.kd.lambdas = { 0.25 };
        c.grid.lengthsSec = { 1.0 };
        c.grid.seeds = { 1 };
        c.train.epochs = epochs;
        c.train.batchSize = 8;
        c.train.lr = 3e-3;
        c.train.warmupEpochs = 0;
        c.train.numThreads = 1;
        c.output.runsDir = m_home.filePath("runs").toStdString();
        return c;
    }

    static QLineEdit *lineEdit(tkd::ExperimentForm *form, const QString &key)
    {
        auto *edit = qobject_cast<QLineEdit *>(form->editor(key));
        if (!edit)
            qWarning("no line edit for %s", qPrintable(key));
        return edit;
    }

    // Types like a user: select all, type the text (each key press is an edit).
    static void typeInto(QLineEdit *edit, const QString &text)
    {
        edit->setFocus();
        edit->selectAll();
        QTest::keyClick(edit, Qt::Key_Backspace);
        QTest::keyClicks(edit, text);
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_home.isValid());
        qputenv("HOME", m_home.path().toUtf8());
        qputenv("TKD_CACHE_DIR", m_home.filePath("cache").toUtf8());
    }

    void formValidatesAsYouType()
    {
        tkd::RunController runs;
        tkd::ExperimentPanel panel(&runs);
        panel.resize(1000, 900);
        panel.show();
        tkd::ExperimentForm *form = panel.form();
        // Generated from the schema: every key has a field.
        for (const tkd::ConfigKeySpec &spec : tkd::ExperimentConfig::schema())
            QVERIFY2(form->hasField(QString::fromStdString(spec.key)), spec.key.c_str());
        QVERIFY(panel.isValid()); // the defaults
        QVERIFY(panel.runButton()->isEnabled());
        QVERIFY(!form->messageVisible("train.lr"));

        // Not a number: the message appears beside the field, the run is blocked.
        QLineEdit *lr = lineEdit(form, "train.lr");
        QVERIFY(lr);
        typeInto(lr, "abc");
        QTRY_VERIFY(form->messageVisible("train.lr"));
        QVERIFY2(
            form->message("train.lr").contains("number"), qPrintable(form->message("train.lr")));
        QVERIFY(!panel.isValid());
        QVERIFY(!panel.runButton()->isEnabled());
        QVERIFY(panel.summaryLabel()->text().contains("problem"));
        // Out of range: core's own range message.
        typeInto(lr, "20");
        QTRY_VERIFY(form->message("train.lr").contains("10"));
        // Fixed: the message goes away.
        typeInto(lr, "0.002");
        QTRY_VERIFY(!form->messageVisible("train.lr"));
        QVERIFY(panel.isValid());
        QVERIFY(panel.runButton()->isEnabled());
        QCOMPARE(panel.config().train.lr, 0.002);

        // A combination: warm-up must be shorter than training.
        typeInto(lineEdit(form, "train.epochs"), "3");
        typeInto(lineEdit(form, "train.warmup_epochs"), "5");
        QTRY_VERIFY(!panel.isValid());
        QTRY_VERIFY(
            form->messageVisible("train.warmup_epochs") || form->messageVisible("train.epochs"));
        typeInto(lineEdit(form, "train.warmup_epochs"), "1");
        QTRY_VERIFY(panel.isValid());
        QVERIFY(
            !form->messageVisible("train.warmup_epochs") && !form->messageVisible("train.epochs"));

        // Lists: one bad lambda is named by its index, shown on the lambdas field.
        typeInto(lineEdit(form, "kd.lambdas"), "0, 0.25, -1");
        QTRY_VERIFY(form->messageVisible("kd.lambdas"));
        QVERIFY2(
            form->message("kd.lambdas").contains("[2]"), qPrintable(form->message("kd.lambdas")));
        typeInto(lineEdit(form, "kd.lambdas"), "0, 0.25");
        QTRY_VERIFY(!form->messageVisible("kd.lambdas"));
        QCOMPARE(panel.config().kd.lambdas, (std::vector<double> { 0.0, 0.25 }));

        // Students are a checkable list; none checked is a problem.
        const auto students = form->editor("students")->findChildren<QCheckBox *>();
        QVERIFY(students.size() >= 5);
        for (QCheckBox *c : students)
            if (c->isChecked())
                QTest::mouseClick(c, Qt::LeftButton, {}, QPoint(4, c->height() / 2));
        QTRY_VERIFY(form->messageVisible("students"));
        for (QCheckBox *c : students)
            if (c->text() == "tc-resnet8")
                QTest::mouseClick(c, Qt::LeftButton, {}, QPoint(4, c->height() / 2));
        QTRY_VERIFY(!form->messageVisible("students"));
        QCOMPARE(panel.config().students, std::vector<std::string> { "tc-resnet8" });

        // Teacher kind from the combo: imported without weights is a problem; the weights field
        // is enabled only for kinds that take weights.
        auto *kind = qobject_cast<QComboBox *>(form->editor("teacher.kind"));
        QVERIFY(kind);
        kind->setCurrentIndex(kind->findText("imported"));
        Q_EMIT kind->activated(kind->currentIndex());
        QTRY_VERIFY(form->messageVisible("teacher.weights"));
        QVERIFY(form->editor("teacher.weights")->isEnabled());
        kind->setCurrentIndex(kind->findText("oracle"));
        Q_EMIT kind->activated(kind->currentIndex());
        QTRY_VERIFY(!form->messageVisible("teacher.weights"));
        QVERIFY(!form->editor("teacher.weights")->isEnabled());
        QVERIFY(panel.isValid());
    }

    void saveWritesWhatTheCliReads()
    {
        tkd::RunController runs;
        tkd::ExperimentPanel panel(&runs);
        panel.setConfig(tinyConfig(2));
        typeInto(lineEdit(panel.form(), "name"), "saved-one");
        typeInto(lineEdit(panel.form(), "data.noisy.snr_db"), "2, 12");
        QTRY_VERIFY(
            panel.config().name == "saved-one" && panel.config().data.noisy.snrDbMin == 2.0);
        const QString path = m_home.filePath("saved.yaml");
        QString error;
        QVERIFY2(panel.saveFile(path, &error), qPrintable(error));
        QVERIFY(!panel.isModified());
        // What the CLI does: load + validate. Same config as the form's.
        const tkd::ExperimentConfig back = tkd::ExperimentConfig::load(path.toStdString());
        QVERIFY(back == panel.config());
        QCOMPARE(back.data.noisy.snrDbMax, 12.0);
        QCOMPARE(back.teacher.kind, tkd::TeacherKind::Oracle);
        QVERIFY(tkd::ExperimentPanel::recentFiles().contains(QFileInfo(path).absoluteFilePath()));

        // A hand-edited file with an unknown key and a bad value: loaded, problems listed with
        // file:line, the bad field marked; saving again writes only known keys.
        QFile f(m_home.filePath("edited.yaml"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("name: edited\ntrain:\n  epochs: 0\n  colour: blue\n");
        f.close();
        tkd::ExperimentPanel other(&runs);
        QVERIFY2(other.loadFile(f.fileName(), &error), qPrintable(error));
        QCOMPARE(other.config().name, std::string("edited"));
        QVERIFY(other.form()->messageVisible("train.epochs"));
        const QList<QLabel *> labels = other.findChildren<QLabel *>();
        bool listed = false;
        for (QLabel *l : labels)
            listed |= l->text().contains("edited.yaml:4") && l->text().contains("colour");
        QVERIFY2(listed, "the unknown key is listed with file:line");
        typeInto(lineEdit(other.form(), "train.epochs"), "4");
        QTRY_VERIFY(other.isValid());
        QVERIFY(other.saveFile(f.fileName(), &error));
        QVERIFY(tkd::ExperimentConfig::load(f.fileName().toStdString()).train.epochs == 4);
    }

    void runShowsCurvesPausesAndStopsWithACheckpoint()
    {
        tkd::MainWindow window;
        window.resize(1400, 900);
        window.show();
        tkd::ExperimentPanel *panel = window.experimentPanel();
        tkd::TrainingPanel *training = window.trainingPanel();
        tkd::RunController *runs = window.runController();
        panel->setConfig(tinyConfig(400)); // long enough to still be training when stopped
        QVERIFY(panel->isValid());

        // Training reports arrive from another thread than the GUI's.
        std::atomic<bool> offGuiThread { false };
        std::atomic<int> reports { 0 };
        connect(
            runs, &tkd::RunController::stepReported, this,
            [&](const QString &, qint64, qint64, double, double, double) {
                offGuiThread = QThread::currentThread() != qApp->thread();
                ++reports;
            },
            Qt::DirectConnection);
        QSignalSpy folder(runs, &tkd::RunController::runFolderCreated);
        QSignalSpy finished(runs, &tkd::RunController::finished);
        QSignalSpy points(training->curves(), &tkd::TrainingCurves::pointsAdded);

        QTest::mouseClick(panel->runButton(), Qt::LeftButton);
        QVERIFY(runs->isRunning());
        QVERIFY(!panel->runButton()->isEnabled()); // one run at a time
        // The run folder appears (or the run ends first, and says why).
        QTRY_VERIFY_WITH_TIMEOUT(!folder.isEmpty() || !finished.isEmpty(), 120000);
        QVERIFY2(!folder.isEmpty(),
            qPrintable("no run folder: " + finished.value(0).value(3).toString()));
        const QString runDir = folder.at(0).at(0).toString();
        QVERIFY(QFileInfo(runDir).isDir());
        // (The spy hears the worker thread's signal at once; the panel a moment later, queued.)
        QTRY_VERIFY(training->followedRuns().contains(QDir::cleanPath(runDir)));

        // Points reach the curves (through the tailed events.jsonl).
        QTRY_VERIFY_WITH_TIMEOUT(training->curves()->totalStepPoints() >= 10, 180000);
        QTRY_VERIFY(points.count() > 0);
        QVERIFY(offGuiThread.load());
        const QString series = training->curves()->seriesIds().value(0);
        QVERIFY(series.contains("student tc-resnet8"));
        QTRY_VERIFY_WITH_TIMEOUT(training->curves()->epochPointCount(series) >= 1, 120000);
        QVERIFY(training->pauseButton()->isEnabled());
        QVERIFY(training->statusLabel()->text().contains("Training"));

        // Pause holds the loop between steps.
        QTest::mouseClick(training->pauseButton(), Qt::LeftButton);
        QVERIFY(runs->isPaused());
        QTest::qWait(600); // a step in flight may still land
        const int held = reports.load();
        QTest::qWait(800);
        QCOMPARE(reports.load(), held);
        QTRY_VERIFY(training->statusLabel()->text().contains("paused"));
        QTest::mouseClick(training->pauseButton(), Qt::LeftButton);
        QVERIFY(!runs->isPaused());
        QTRY_VERIFY_WITH_TIMEOUT(reports.load() > held, 30000);

        // Stop: the trainer checkpoints where it got to; the run ends cancelled.
        QTest::mouseClick(training->stopButton(), Qt::LeftButton);
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.at(0).at(1).toBool(), false); // not completed
        QCOMPARE(finished.at(0).at(2).toBool(), true); // cancelled
        const QString cell
            = QString::fromStdString(tkd::PipelineResult::cellName("tc-resnet8", 1.0, 0.25, 1));
        QVERIFY2(
            QFile::exists(runDir + "/students/" + cell + "/last.safetensors"), qPrintable(runDir));
        QVERIFY(!runs->isRunning());
        QVERIFY(panel->runButton()->isEnabled());
        QTRY_VERIFY(training->messageLog()->toPlainText().contains("stopped"));
    }

    // Issue 15: a run stopped part-way is continued from the studio (Training > Continue, as
    // `tkd train --resume`) and finishes with every cell, from the checkpoint it stopped at.
    void aStoppedRunContinuesFromTheStudio()
    {
        tkd::MainWindow window;
        window.resize(1400, 900);
        window.show();
        tkd::TrainingPanel *training = window.trainingPanel();
        tkd::RunController *runs = window.runController();
        window.experimentPanel()->setConfig(tinyConfig(40));
        QSignalSpy finished(runs, &tkd::RunController::finished);
        QSignalSpy checkpoints(runs, &tkd::RunController::checkpointWritten);
        QTest::mouseClick(window.experimentPanel()->runButton(), Qt::LeftButton);
        // Stop once the student's first last.safetensors is written.
        QTRY_VERIFY_WITH_TIMEOUT(std::any_of(checkpoints.begin(), checkpoints.end(),
                                     [](const QList<QVariant> &c) {
                                         return c.at(1).toString().endsWith("last.safetensors");
                                     })
                || !finished.isEmpty(),
            180000);
        runs->stop();
        QVERIFY(finished.wait(60000) || !finished.isEmpty());
        QVERIFY2(finished.at(0).at(2).toBool(), "the run ended before it could be stopped");
        const QString runDir = finished.at(0).at(0).toString();
        QString title;
        tkd::RunInspector::resultEntries(runDir, &title);
        QFile metrics(runDir + "/metrics.json");
        QVERIFY(metrics.open(QIODevice::ReadOnly));
        QVERIFY2(
            title.contains("[cancelled"), qPrintable(title + "\n" + metrics.readAll().left(400)));

        // The stopped run is selected in the stage tree: Continue is offered, and continues it.
        QTreeWidget *tree = training->stageTree();
        QTreeWidgetItem *item = nullptr;
        for (int i = 0; i < tree->topLevelItemCount(); ++i)
            if (QDir::cleanPath(tree->topLevelItem(i)->data(0, Qt::UserRole).toString())
                == QDir::cleanPath(runDir))
                item = tree->topLevelItem(i);
        QVERIFY(item);
        tree->setCurrentItem(item);
        QTRY_VERIFY(training->continueButton()->isEnabled());
        QTest::mouseClick(training->continueButton(), Qt::LeftButton);
        QVERIFY(runs->isRunning());
        QVERIFY(!training->continueButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(finished.size() == 2, 300000);
        QVERIFY2(finished.at(1).at(1).toBool() && finished.at(1).at(3).toString().isEmpty(),
            qPrintable(finished.at(1).at(3).toString()));
        QCOMPARE(QDir::cleanPath(finished.at(1).at(0).toString()), QDir::cleanPath(runDir));
        QTRY_VERIFY(training->messageLog()->toPlainText().contains("resumed from"));
        const tkd::PipelineResult result = tkd::PipelineResult::read(runDir.toStdString());
        QVERIFY(result.complete());
        QTRY_COMPARE(item->text(3), QString("finished"));
        QVERIFY(!training->continueButton()->isEnabled());
    }

    void aFinishedRunOpensInResults()
    {
        tkd::MainWindow window;
        window.resize(1400, 900);
        window.show();
        tkd::RunController *runs = window.runController();
        window.experimentPanel()->setConfig(tinyConfig(1));
        QSignalSpy finished(runs, &tkd::RunController::finished);
        QTest::mouseClick(window.experimentPanel()->runButton(), Qt::LeftButton);
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 180000);
        QVERIFY2(finished.at(0).at(1).toBool(),
            qPrintable(finished.at(0).at(3).toString())); // completed
        // The table a user came for: both lambdas of the student, read from the run's metrics.json.
        tkd::ResultsView *results = window.runViews()->resultsView();
        QTRY_VERIFY_WITH_TIMEOUT(results->entries().size() >= 2, 60000);
        QVERIFY(results->rowCount() >= 2);
    }

    void followsARunWrittenElsewhere()
    {
        tkd::RunController runs;
        tkd::TrainingPanel panel(&runs);
        QString error;
        QVERIFY(!panel.followRun(m_home.filePath("no-such-run"), &error));
        QVERIFY(error.contains("not a folder"));

        // Another process's run: a folder with an events.jsonl that grows.
        const QString dir = m_home.filePath("external/20260101-120000-cli-0123abcd");
        QVERIFY(QDir().mkpath(dir));
        tkd::EventLog log((dir + "/events.jsonl").toStdString());
        tkd::Event start
            = tkd::Event::stageEvent("student crnn lambda=0.5 L=4 seed=1", "training crnn");
        start.metrics = { { "done", 0 }, { "total", 100 } };
        log.append(start);
        for (int s = 1; s <= 20; ++s) {
            tkd::Event e = tkd::Event::stepEvent(
                s, 1, { { "task", 1.0 }, { "kd", 0.5 }, { "total", 1.25 } }, 1e-3);
            e.stage = "student crnn lambda=0.5 L=4 seed=1";
            log.append(e);
        }
        QVERIFY(panel.followRun(m_home.filePath("external"), &error)); // a folder of runs
        QCOMPARE(panel.followedRuns().size(), 1);
        const QString series = QDir::cleanPath(dir) + "|student crnn lambda=0.5 L=4 seed=1";
        QTRY_COMPARE(panel.curves()->stepPointCount(series), 20); // read on the poll thread
        // More lines appear; the timer picks them up.
        for (int s = 21; s <= 30; ++s) {
            tkd::Event e = tkd::Event::stepEvent(
                s, 2, { { "task", 0.8 }, { "kd", 0.4 }, { "total", 1.0 } }, 1e-3);
            e.stage = "student crnn lambda=0.5 L=4 seed=1";
            log.append(e);
        }
        tkd::Event epoch = tkd::Event::epochEvent(
            1, 30, { { "total", 1.1 } }, { { "val_accuracy", 0.42 } }, 1e-3);
        epoch.stage = "student crnn lambda=0.5 L=4 seed=1";
        log.append(epoch);
        QTRY_COMPARE(panel.curves()->stepPointCount(series), 30);
        QTRY_COMPARE(panel.curves()->epochPointCount(series), 1);
        // Progress of the stage: 30 of 100 steps.
        QTreeWidgetItem *runItem = panel.stageTree()->topLevelItem(0);
        QVERIFY(runItem && runItem->childCount() == 1);
        QVERIFY2(runItem->child(0)->text(1).startsWith("30/100"),
            qPrintable(runItem->child(0)->text(1)));
        QVERIFY(runItem->text(0).startsWith("cli 12:00:00"));
        log.append(tkd::Event::doneEvent("finished"));
        QTRY_COMPARE(runItem->text(3), QString("finished"));
    }

    void coreErrorsAreShownAndTheWindowKeepsWorking()
    {
        tkd::MainWindow window;
        window.show();
        QSignalSpy errors(&window, &tkd::MainWindow::errorShown);
        // Valid as a config, but the folder holds no classes: the pipeline fails on its thread.
        const QString empty = m_home.filePath("empty-dataset");
        QVERIFY(QDir().mkpath(empty));
        tkd::ExperimentConfig c = tinyConfig(1);
        c.data.source = "folder";
        c.data.path = empty.toStdString();
        window.experimentPanel()->setConfig(c);
        QSignalSpy finished(window.runController(), &tkd::RunController::finished);
        if (!window.experimentPanel()->isValid()) {
            // check() already catches it: the message is in the form instead.
            qInfo("caught by check(): %s",
                qPrintable(window.experimentPanel()->problems().join("; ")));
            QVERIFY(window.experimentPanel()->form()->messageVisible("data.path")
                || !window.experimentPanel()->problems().isEmpty());
        } else {
            QVERIFY(window.experimentPanel()->run());
            QVERIFY(finished.wait(60000));
            QVERIFY(!finished.at(0).at(3).toString().isEmpty());
            QVERIFY(errors.count() > 0);
            qInfo("shown: %s", qPrintable(errors.last().at(0).toString()));
            QVERIFY2(errors.last().at(0).toString().contains(empty),
                qPrintable(errors.last().at(0).toString()));
        }
        // Still working: a valid experiment validates and could run.
        window.experimentPanel()->setConfig(tinyConfig(1));
        QVERIFY(window.experimentPanel()->isValid());
        QVERIFY(window.experimentPanel()->runButton()->isEnabled());
        for (QWidget *w : QApplication::topLevelWidgets())
            if (auto *box = qobject_cast<QMessageBox *>(w))
                box->close();
    }

    void quickstartAndDrops()
    {
        // The quick-start the menu runs is a valid experiment, the one `tkd quickstart` runs.
        const tkd::ExperimentConfig q = tkd::RunController::quickstartConfig();
        QVERIFY(q.check().empty());
        QCOMPARE(q.students, std::vector<std::string> { "tc-resnet8" });
        QCOMPARE(q.kd.lambdas, (std::vector<double> { 0.0, 0.25 }));
        QCOMPARE(q.data.noisy.lengthSec, 8.0);

        // Dropping an experiment file onto the window loads it into the form; a run folder is
        // followed by the Training view.
        tkd::MainWindow window;
        window.show();
        tkd::ExperimentConfig c = tinyConfig(2);
        c.name = "dropped";
        const QString yaml = m_home.filePath("dropped.yaml");
        QFile f(yaml);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(QByteArray::fromStdString(c.toYaml()));
        f.close();
        const QString run = m_home.filePath("dropped-runs/20260102-030405-dropped-89abcdef");
        QVERIFY(QDir().mkpath(run));
        tkd::EventLog((run + "/events.jsonl").toStdString())
            .append(tkd::Event::stageEvent("data", "opening"));
        auto drop = [&](const QString &path) {
            QMimeData mime;
            mime.setUrls({ QUrl::fromLocalFile(path) });
            QDragEnterEvent enter(
                QPoint(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
            QApplication::sendEvent(&window, &enter);
            QVERIFY(enter.isAccepted());
            QDropEvent dropEvent(
                QPointF(10, 10), Qt::CopyAction, &mime, Qt::LeftButton, Qt::NoModifier);
            QApplication::sendEvent(&window, &dropEvent);
        };
        drop(yaml);
        QCOMPARE(window.experimentPanel()->config().name, std::string("dropped"));
        QCOMPARE(window.experimentPanel()->filePath(), QFileInfo(yaml).absoluteFilePath());
        drop(run);
        QVERIFY(window.trainingPanel()->followedRuns().contains(QDir::cleanPath(run)));
        for (QWidget *w : QApplication::topLevelWidgets())
            if (auto *box = qobject_cast<QMessageBox *>(w))
                box->close();
    }

    void quickstartRunsFromTheMenu()
    {
        // The Run > Quick-start action starts `tkd quickstart`'s experiment into the studio's
        // runs folder (no terminal); stopping it during data preparation ends it cleanly.
        tkd::MainWindow window;
        window.show();
        tkd::RunController *runs = window.runController();
        QSignalSpy folder(runs, &tkd::RunController::runFolderCreated);
        QSignalSpy finished(runs, &tkd::RunController::finished);
        window.experimentPanel()->quickstartAction()->trigger();
        QVERIFY(runs->isRunning());
        QCOMPARE(runs->runName(), QString("quickstart"));
        QCOMPARE(window.experimentPanel()->config().name,
            std::string("quickstart")); // the form shows it
        QTRY_VERIFY_WITH_TIMEOUT(!folder.isEmpty() || !finished.isEmpty(), 60000);
        QVERIFY2(!folder.isEmpty(),
            qPrintable("no run folder: " + finished.value(0).value(3).toString()));
        QVERIFY(folder.at(0).at(0).toString().startsWith(tkd::RunController::defaultRunsDir()));
        QVERIFY(QFile::exists(folder.at(0).at(0).toString() + "/config.yaml"));
        runs->stop();
        QTRY_VERIFY_WITH_TIMEOUT(!finished.isEmpty(), 120000);
        QVERIFY2(finished.at(0).at(2).toBool(),
            qPrintable(finished.at(0).at(3).toString())); // cancelled, no error
        QVERIFY(!runs->isRunning());
    }

    void closingDuringARunAsksAndStops()
    {
        auto *window = new tkd::MainWindow;
        window->setAttribute(Qt::WA_DeleteOnClose, false);
        window->show();
        tkd::RunController *runs = window->runController();
        window->experimentPanel()->setConfig(tinyConfig(400));
        QSignalSpy folder(runs, &tkd::RunController::runFolderCreated);
        QSignalSpy finished(runs, &tkd::RunController::finished);
        QVERIFY(window->experimentPanel()->run());
        // The run folder appears (or the run ends first, and says why).
        QTRY_VERIFY_WITH_TIMEOUT(!folder.isEmpty() || !finished.isEmpty(), 120000);
        QVERIFY2(!folder.isEmpty(),
            qPrintable("no run folder: " + finished.value(0).value(3).toString()));
        QTRY_VERIFY_WITH_TIMEOUT(window->trainingPanel()->curves()->totalStepPoints() > 0, 120000);

        // The questions come up: the form's unsaved edits (discard them), then the run's;
        // answer "Stop and close".
        bool asked = false;
        QTimer answer;
        answer.setInterval(50);
        connect(&answer, &QTimer::timeout, this, [&] {
            auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
            if (!box)
                return;
            if (box->objectName() == QLatin1String("unsavedExperiment")) {
                box->button(QMessageBox::Discard)->click();
                return;
            }
            for (QAbstractButton *b : box->buttons())
                if (b->text().contains("Stop")) {
                    asked = true;
                    answer.stop();
                    b->click();
                    return;
                }
        });
        answer.start();
        QVERIFY(!window->close()); // not yet: it stops first
        QVERIFY(asked);
        QVERIFY(window->isVisible());
        QVERIFY(finished.wait(60000));
        QCOMPARE(finished.at(0).at(2).toBool(), true); // cancelled, with its checkpoint
        QTRY_VERIFY(!window->isVisible()); // then the window closes by itself
        const QString cell
            = QString::fromStdString(tkd::PipelineResult::cellName("tc-resnet8", 1.0, 0.25, 1));
        QVERIFY(QFile::exists(
            folder.at(0).at(0).toString() + "/students/" + cell + "/last.safetensors"));
        delete window;
    }
};

QTEST_MAIN(TestStudioTraining)
#include "tst_studio_training.moc"
