// The main window's menus, view shortcuts and Help (split from MainWindow.cpp, which keeps the
// docks, the dataset and run plumbing and playback).
#include "MainWindow.h"

#include "AttentionController.h"
#include "ExperimentPanel.h"
#include "LiveView.h"
#include "RunController.h"
#include "StartPage.h"
#include "TrainingPanel.h"

#include "core/audio/PortAudioSession.h"
#include "core/util/BuildInfo.h"
#include "widgets/ClipBrowser.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QDockWidget>
#include <QFile>
#include <QKeySequence>
#include <QMenuBar>
#include <QMessageBox>
#include <QShortcut>
#include <QTextBrowser>

namespace tkd {

void MainWindow::buildMenus()
{
    QMenu *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("Open &built-in corpus (12 labels)"), this,
        [this] { openDataset(QStringLiteral("builtin"), {}, 12); });
    file->addAction(tr("Open built-in corpus (35 labels)"), this,
        [this] { openDataset(QStringLiteral("builtin"), {}, 35); });
    file->addSeparator();
    file->addAction(tr("Open &Speech Commands v2 folder..."), this,
        [this] { chooseFolder(QStringLiteral("speech-commands")); });
    file->addAction(
        tr("Open &FSD50K folder..."), this, [this] { chooseFolder(QStringLiteral("fsd50k")); });
    file->addAction(tr("Open folder-per-&class dataset..."), QKeySequence::Open, this,
        [this] { chooseFolder(QStringLiteral("folder")); });
    file->addSeparator();
    file->addAction(tr("Open &run folder..."), QKeySequence(Qt::CTRL | Qt::ALT | Qt::Key_O), this,
        &MainWindow::chooseRunFolder);
    file->addSeparator();
    file->addAction(m_experiment->newAction());
    file->addAction(m_experiment->openAction());
    file->addMenu(m_experiment->recentMenu());
    file->addAction(m_experiment->saveAction());
    file->addAction(m_experiment->saveAsAction());
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close)
        ->setObjectName(QStringLiteral("quitAction"));

    QMenu *runMenu = menuBar()->addMenu(tr("&Run"));
    runMenu->addAction(m_experiment->runAction());
    runMenu->addAction(m_experiment->quickstartAction());
    runMenu->addSeparator();
    QAction *pause = runMenu->addAction(
        tr("&Pause / Resume"), QKeySequence(Qt::CTRL | Qt::Key_P), this, [this] {
            if (m_runController->isRunning())
                m_runController->setPaused(!m_runController->isPaused());
        });
    QAction *stop = runMenu->addAction(tr("&Stop (checkpoint first)"),
        QKeySequence(Qt::CTRL | Qt::Key_Period), m_runController, &RunController::stop);
    QAction *resume
        = runMenu->addAction(tr("&Continue Stopped Run..."), this, &MainWindow::continueStoppedRun);
    resume->setToolTip(tr("Continue a stopped, killed or incomplete run from its checkpoints"));
    pause->setObjectName(QStringLiteral("pauseAction"));
    stop->setObjectName(QStringLiteral("stopAction"));
    resume->setObjectName(QStringLiteral("continueAction"));
    connect(runMenu, &QMenu::aboutToShow, this, [this, pause, stop, resume] {
        pause->setEnabled(m_runController->isRunning());
        stop->setEnabled(m_runController->isRunning());
        resume->setEnabled(!m_runController->isRunning());
    });
    runMenu->addSeparator();
    runMenu->addAction(
        tr("&Follow Run Folder in Training view..."), m_training, &TrainingPanel::chooseRunFolder);

    QMenu *view = menuBar()->addMenu(tr("&View"));
    addViewShortcuts(view);
    view->addSeparator();
    for (auto *dock : findChildren<QDockWidget *>())
        view->addAction(dock->toggleViewAction());

    // Audio output: the device list is read when the menu opens, so plugged-in devices show up.
    QMenu *audio = menuBar()->addMenu(tr("&Audio"));
    connect(audio, &QMenu::aboutToShow, this, [this, audio] {
        audio->clear();
        auto *group = new QActionGroup(audio);
        auto addDevice = [&](const QString &label, const QString &name) {
            QAction *a = audio->addAction(label, this, [this, name] { setOutputDevice(name); });
            a->setCheckable(true);
            a->setChecked(name == m_outputDevice);
            group->addAction(a);
        };
        addDevice(tr("System default output"), QString());
        try {
            for (const auto &d : listAudioDevices())
                if (d.maxOutputChannels > 0)
                    addDevice(QString::fromStdString(d.name + " (" + d.hostApi + ")"),
                        QString::fromStdString(d.name));
        } catch (const std::exception &e) {
            audio->addAction(tr("No audio: %1").arg(QString::fromStdString(e.what())))
                ->setEnabled(false);
        }
    });

    buildHelpMenu();
}

void MainWindow::addViewShortcuts(QMenu *view)
{
    // Ctrl+1 ... Ctrl+8: the views in the order of the work.
    const QList<QPair<QString, QString>> views = { { QStringLiteral("start"), tr("Start page") },
        { QStringLiteral("experiment"), tr("Experiment") },
        { QStringLiteral("training"), tr("Training") },
        { QStringLiteral("results"), tr("Results") }, { QStringLiteral("clips"), tr("Clips") },
        { QStringLiteral("clip"), tr("Clip") }, { QStringLiteral("attention"), tr("Attention") },
        { QStringLiteral("live"), tr("Live") } };
    for (int i = 0; i < views.size(); ++i) {
        QAction *a = view->addAction(tr("Show %1").arg(views[i].second), this,
            [this, name = views[i].first] { showView(name); });
        a->setShortcut(QKeySequence(Qt::CTRL | Qt::Key(Qt::Key_1 + i)));
        a->setObjectName(QStringLiteral("show-") + views[i].first);
    }
}

void MainWindow::buildHelpMenu()
{
    QMenu *help = menuBar()->addMenu(tr("&Help"));
    // The README, shipped inside the program: readable offline, and always this build's.
    QAction *docs = help->addAction(tr("&Documentation"), QKeySequence::HelpContents, this, [this] {
        QFile readme(QStringLiteral(":/docs/README.md"));
        const QString text = readme.open(QIODevice::ReadOnly) ? QString::fromUtf8(readme.readAll())
                                                              : tr("The documentation is missing.");
        auto *browser = new QTextBrowser;
        browser->setAttribute(Qt::WA_DeleteOnClose);
        browser->setObjectName(QStringLiteral("documentation"));
        browser->setWindowTitle(tr("TKD Studio documentation"));
        browser->setOpenExternalLinks(true);
        browser->setMarkdown(text);
        browser->resize(900, 640);
        browser->show();
    });
    docs->setObjectName(QStringLiteral("documentationAction"));
    help->addAction(tr("&Keyboard shortcuts"), this, [this] {
        QStringList rows;
        for (QAction *a : findChildren<QAction *>())
            if (!a->shortcut().isEmpty() && !a->text().isEmpty())
                rows << QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>")
                            .arg(a->shortcut().toString(QKeySequence::NativeText).toHtmlEscaped(),
                                QString(a->text()).remove(QLatin1Char('&')).toHtmlEscaped());
        rows.sort();
        rows.prepend(tr("<tr><td><b>Space</b></td><td>Play / stop the selected clip</td></tr>"
                        "<tr><td><b>Up / Down</b></td><td>Previous / next clip</td></tr>"));
        auto *box = new QMessageBox(QMessageBox::Information, tr("Keyboard shortcuts"),
            QStringLiteral("<table cellspacing=4>%1</table>").arg(rows.join(QString())),
            QMessageBox::Close, this);
        box->setAttribute(Qt::WA_DeleteOnClose);
        box->open();
    });
    help->addSeparator();
    help->addAction(tr("&About TKD Studio"), this, [this] {
        QMessageBox::about(this, tr("About TKD Studio"),
            tr("<b>TKD Studio</b> %1<br>Build: %2, source revision %3<br>Qt %4<br><br>"
               "Temporal knowledge distillation for on-device audio classification: distil a "
               "transformer teacher's temporal attention into small students.<br>Command line: "
               "<tt>tkd</tt>.")
                .arg(QString::fromLatin1(build::kVersion), QString::fromLatin1(build::kBuildType),
                    QString::fromLatin1(build::kSourceRevision), QString::fromLatin1(qVersion())));
    });
}

} // namespace tkd
