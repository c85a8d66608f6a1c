// tkd-test-labels: gui e2e
// The studio as a newcomer meets it (issue 17), offscreen with the real main window: it fits a
// laptop screen with Run, Listen and the stages in reach; quitting with unsaved edits asks Save /
// Discard / Cancel; Space plays from the clip list; the wheel over the form scrolls it instead of
// changing drop-downs; the start page, help and shortcuts are there; a large grid asks first; a
// grid table without its run folders still shows.
#include "AttentionController.h"
#include "ExperimentPanel.h"
#include "LiveView.h"
#include "MainWindow.h"
#include "RunController.h"
#include "StartPage.h"
#include "TrainingPanel.h"

#include "core/audio/AudioFile.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/util/BuildInfo.h"
#include "widgets/ClipBrowser.h"
#include "widgets/ExperimentForm.h"
#include "widgets/LivePanel.h"
#include "widgets/ResultsView.h"

#include <QAbstractButton>
#include <QAction>
#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QLineEdit>
#include <QMessageBox>
#include <QPushButton>
#include <QScrollArea>
#include <QScrollBar>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTextBrowser>
#include <QTimer>
#include <QToolButton>
#include <QTreeWidget>
#include <QWheelEvent>
#include <QtTest>

#include <cmath>
#include <functional>

namespace {

// The part of `w` that is on screen inside `top`: its rect clipped by every parent on the way.
QRect visibleRect(const QWidget *w, const QWidget *top)
{
    if (!w->isVisibleTo(top))
        return {};
    QRect r = w->rect();
    const QWidget *c = w;
    while (c != top && c->parentWidget()) {
        r.translate(c->pos());
        c = c->parentWidget();
        r = r.intersected(c->rect());
    }
    return r;
}

bool fullyShown(const QWidget *w, const QWidget *top)
{
    return visibleRect(w, top).size() == w->size();
}

// Scrolls the nearest scroll area to `w` (what a user does on a small screen).
void scrollTo(QWidget *w)
{
    for (QWidget *p = w->parentWidget(); p; p = p->parentWidget())
        if (auto *area = qobject_cast<QScrollArea *>(p)) {
            area->ensureWidgetVisible(w, 0, 0);
            break;
        }
    QCoreApplication::processEvents();
}

// Answers the next modal message box named `name` with `button`, from the event loop it runs.
void answerBox(QObject *context, const QString &name, QMessageBox::StandardButton button,
    QString *text = nullptr, bool *asked = nullptr)
{
    auto *timer = new QTimer(context);
    timer->setInterval(50);
    QObject::connect(timer, &QTimer::timeout, context, [=] {
        auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
        if (!box || box->objectName() != name)
            return;
        if (text)
            *text = box->text();
        if (asked)
            *asked = true;
        timer->stop();
        timer->deleteLater();
        box->button(button)->click();
    });
    timer->start();
}

} // namespace

class TestStudioNewcomer : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_home;
    QString m_dataset;

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        QVERIFY(m_home.isValid());
        qputenv("HOME", m_home.path().toUtf8());
        qputenv("TKD_CACHE_DIR", m_home.filePath("cache").toUtf8());
        m_dataset = m_home.filePath("kws");
        for (const char *split : { "train", "validation", "test" })
            for (const char *cls : { "yes", "no" }) {
                const QString dir = QStringLiteral("%1/%2/%3").arg(m_dataset, split, cls);
                QVERIFY(QDir().mkpath(dir));
                std::vector<float> s(8000);
                for (size_t i = 0; i < s.size(); ++i)
                    s[i] = float(0.3 * std::sin(0.1 * double(i)));
                tkd::writeWav((dir + "/c0.wav").toStdString(), s);
            }
    }

    void fitsALaptop_data()
    {
        QTest::addColumn<QSize>("size");
        QTest::newRow("1024x640") << QSize(1024, 640);
        QTest::newRow("1280x720") << QSize(1280, 720);
    }

    void fitsALaptop()
    {
        QFETCH(QSize, size);
        tkd::MainWindow w;
        w.resize(size);
        w.show();
        QVERIFY(QTest::qWaitForWindowExposed(&w));
        const QSize min = w.minimumSizeHint().expandedTo(w.minimumSize());
        QVERIFY2(min.width() <= size.width() && min.height() <= size.height(),
            qPrintable(QStringLiteral("minimum %1x%2").arg(min.width()).arg(min.height())));
        QCOMPARE(w.size(), size);

        // Run: in view without scrolling, whatever the width.
        QVERIFY(w.showView("experiment"));
        QCoreApplication::processEvents();
        QVERIFY2(fullyShown(w.experimentPanel()->runButton(), &w),
            qPrintable(QStringLiteral("Run shows %1 px of %2")
                           .arg(visibleRect(w.experimentPanel()->runButton(), &w).width())
                           .arg(w.experimentPanel()->runButton()->width())));

        // Training: Pause, Stop and the stage panel within reach.
        QVERIFY(w.showView("training"));
        QCoreApplication::processEvents();
        tkd::TrainingPanel *t = w.trainingPanel();
        for (QWidget *c : std::initializer_list<QWidget *> { t->pauseButton(), t->stopButton() }) {
            scrollTo(c);
            QVERIFY(fullyShown(c, &w));
        }
        scrollTo(t->stageTree());
        const QRect tree = visibleRect(t->stageTree(), &w);
        QVERIFY2(tree.width() >= 200 && tree.height() >= 80,
            qPrintable(QStringLiteral("stage panel %1x%2").arg(tree.width()).arg(tree.height())));

        // Live: Listen and the input picker.
        QVERIFY(w.showView("live"));
        QCoreApplication::processEvents();
        tkd::LivePanel *live = w.liveView()->panel();
        for (QWidget *c :
            std::initializer_list<QWidget *> { live->startButton(), live->inputCombo() }) {
            scrollTo(c);
            QVERIFY(fullyShown(c, &w));
        }
    }

    void quitWithUnsavedEditsAsks()
    {
        auto *w = new tkd::MainWindow;
        w->show();
        tkd::ExperimentPanel *panel = w->experimentPanel();
        QVERIFY(!panel->isModified());
        const QString file = m_home.filePath("mine.yaml");
        QVERIFY(panel->saveFile(file));
        auto *name = qobject_cast<QLineEdit *>(panel->form()->editor("name"));
        QVERIFY(name);
        name->setFocus();
        name->selectAll();
        QTest::keyClicks(name, "edited-name");
        QVERIFY(panel->isModified());

        // Cancel: the window stays, the edits too.
        bool asked = false;
        answerBox(this, "unsavedExperiment", QMessageBox::Cancel, nullptr, &asked);
        QVERIFY(!w->close());
        QVERIFY(asked);
        QVERIFY(w->isVisible());
        QVERIFY(panel->isModified());

        // Save: written to its file, then the window closes.
        asked = false;
        answerBox(this, "unsavedExperiment", QMessageBox::Save, nullptr, &asked);
        QVERIFY(w->close());
        QVERIFY(asked);
        QFile f(file);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QVERIFY(f.readAll().contains("edited-name"));
        delete w;

        // Discard (Ctrl+Q's action): closes without writing.
        tkd::MainWindow w2;
        w2.show();
        w2.experimentPanel()->setConfig(tkd::ExperimentConfig());
        QVERIFY(w2.experimentPanel()->isModified());
        asked = false;
        answerBox(this, "unsavedExperiment", QMessageBox::Discard, nullptr, &asked);
        auto *quit = w2.findChild<QAction *>("quitAction");
        QVERIFY(quit);
        quit->trigger();
        QVERIFY(asked);
        QVERIFY(!w2.isVisible());
    }

    void spacePlaysFromTheClipList()
    {
        tkd::MainWindow w;
        w.setOutputDevice(QStringLiteral("no-such-sound-card")); // the attempt shows on the button
        w.show();
        QSignalSpy shown(&w, &tkd::MainWindow::datasetShown);
        QSignalSpy clip(&w, &tkd::MainWindow::clipShown);
        w.openDataset(QStringLiteral("folder"), m_dataset);
        QVERIFY(shown.wait(60000));
        QVERIFY(clip.count() > 0 || clip.wait(30000));
        // With another view in front of the Clip view (as after opening a run).
        QVERIFY(w.showView("attention"));
        QTableView *table = w.clipBrowser()->table();
        table->setFocus();
        QVERIFY(!w.playButton()->toolTip().contains("no-such-sound-card"));
        QTest::keyClick(table, Qt::Key_Space);
        QTRY_VERIFY2(w.playButton()->toolTip().contains("no-such-sound-card"),
            qPrintable(w.playButton()->toolTip()));
        for (QWidget *top : QApplication::topLevelWidgets())
            if (auto *box = qobject_cast<QMessageBox *>(top))
                box->close();
    }

    void wheelOverTheFormScrollsIt()
    {
        tkd::MainWindow w;
        w.resize(1024, 640);
        w.show();
        QVERIFY(w.showView("experiment"));
        QCoreApplication::processEvents();
        tkd::ExperimentForm *form = w.experimentPanel()->form();
        auto *combo = qobject_cast<QComboBox *>(form->editor("data.source"));
        QVERIFY(combo);
        auto *area = form->findChild<QScrollArea *>();
        QVERIFY(area);
        QScrollBar *bar = area->verticalScrollBar();
        QVERIFY(bar->maximum() > 0); // the form is taller than its view here
        const int index = combo->currentIndex();
        const int scrolled = bar->value();
        QWheelEvent wheel(QPointF(5, 5), combo->mapToGlobal(QPointF(5, 5)), QPoint(),
            QPoint(0, -120), Qt::NoButton, Qt::NoModifier, Qt::NoScrollPhase, false);
        QApplication::sendEvent(combo, &wheel);
        QCOMPARE(combo->currentIndex(), index);
        QVERIFY(bar->value() > scrolled);
    }

    void startPageHelpAndShortcuts()
    {
        tkd::MainWindow w;
        w.show();
        auto *start = w.findChild<tkd::StartPage *>();
        QVERIFY(start);
        QVERIFY(w.showView("start"));
        QCoreApplication::processEvents();
        QVERIFY(start->quickstartButton()->isVisible());
        QVERIFY(start->openRunButton()->isVisible());
        QVERIFY(start->liveDemoButton()->isVisible());
        // Live demo with no run yet: the Live view comes up with the demo student shipped with
        // TKD Studio, ready to listen.
        auto *liveDock = w.findChild<QDockWidget *>("liveDock");
        // The Live view began loading the demo student when the window was built; the button
        // waits for that load rather than starting a second one.
        QVERIFY(w.liveView()->isLoadingModel() || w.liveView()->hasModel());
        QTest::mouseClick(start->liveDemoButton(), Qt::LeftButton);
        QVERIFY(liveDock->isVisible());
        QTRY_VERIFY_WITH_TIMEOUT(w.liveView()->hasModel(), 30000);
        QVERIFY(w.liveView()->modelPath().contains("kws12-demo"));
        QVERIFY(!w.liveView()->isLoadingModel());

        // Shortcuts for pause / stop and the views.
        auto *pause = w.findChild<QAction *>("pauseAction");
        auto *stop = w.findChild<QAction *>("stopAction");
        QVERIFY(pause && !pause->shortcut().isEmpty());
        QVERIFY(stop && !stop->shortcut().isEmpty());
        auto *showTraining = w.findChild<QAction *>("show-training");
        QVERIFY(showTraining && !showTraining->shortcut().isEmpty());
        showTraining->trigger();
        QVERIFY(w.findChild<QDockWidget *>("trainingDock")->isVisible());

        // Help: the README offline.
        auto *docs = w.findChild<QAction *>("documentationAction");
        QVERIFY(docs);
        docs->trigger();
        QTextBrowser *browser = nullptr;
        for (QWidget *top : QApplication::topLevelWidgets())
            if (top->objectName() == QLatin1String("documentation"))
                browser = qobject_cast<QTextBrowser *>(top);
        QVERIFY(browser);
        QVERIFY(browser->toPlainText().contains("quick-start", Qt::CaseInsensitive));
        browser->close();

        // The experiment dialog starts at the shipped examples.
        QVERIFY(QFileInfo::exists(tkd::ExperimentPanel::examplesDir() + "/quick.yaml"));
    }

    void largeGridAsksFirst()
    {
        tkd::MainWindow w;
        w.show();
        tkd::ExperimentConfig big; // the documented default: a grid of dozens of runs
        big.output.runsDir = m_home.filePath("runs").toStdString();
        w.experimentPanel()->setConfig(big);
        QVERIFY(w.experimentPanel()->isValid());
        const size_t cells = big.students.size() * big.kd.lambdas.size() * big.clipLengths().size()
            * big.studentSeeds().size();
        QVERIFY(cells > tkd::ExperimentPanel::kLargeGrid);
        QString text;
        bool asked = false;
        answerBox(this, "confirmLargeGrid", QMessageBox::Cancel, &text, &asked);
        QVERIFY(!w.experimentPanel()->run());
        QVERIFY(asked);
        QVERIFY(text.contains(QString::number(cells)));
        QVERIFY(!w.runController()->isRunning());
    }

    void gridTableWithoutItsRuns()
    {
        // docs/grid-8s: grid.json is committed, its run folders are not.
        const QString grid = QString::fromLatin1(tkd::build::kSourceDir) + "/docs/grid-8s";
        QVERIFY(QFileInfo::exists(grid + "/grid.json"));
        QVERIFY(tkd::TrainingPanel::containsRuns(grid));
        tkd::MainWindow w;
        w.show();
        QSignalSpy results(w.runViews(), &tkd::AttentionController::resultsShown);
        QSignalSpy errors(&w, &tkd::MainWindow::errorShown);
        w.openRun(grid);
        QVERIFY(results.wait(30000));
        QVERIFY(results.at(0).at(0).toInt() > 10);
        QTest::qWait(300);
        QCOMPARE(errors.count(), 0);
        tkd::ResultsView *view = w.runViews()->resultsView();
        QVERIFY(view->rowCount() >= 5);
        QVERIFY2(view->headerLabel()->text().contains("missing"),
            qPrintable(view->headerLabel()->text()));
    }
};

QTEST_MAIN(TestStudioNewcomer)
#include "tst_studio_newcomer.moc"
