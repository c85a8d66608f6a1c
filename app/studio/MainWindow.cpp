#include "MainWindow.h"

#include "AttentionController.h"
#include "DatasetWorker.h"
#include "ExperimentPanel.h"
#include "LiveView.h"
#include "RunController.h"
#include "StartPage.h"
#include "TrainingPanel.h"

#include "core/audio/AudioPlayer.h"
#include "core/data/NoisyManifest.h"
#include "core/infer/LiveModel.h"
#include "core/models/StudentRegistry.h"
#include "core/util/BuildInfo.h"
#include "core/util/Error.h"
#include "widgets/ClipBrowser.h"
#include "widgets/ModelColours.h"

#include <QAction>
#include <QActionGroup>
#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QDropEvent>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QKeyEvent>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QMimeData>
#include <QProgressBar>
#include <QPushButton>
#include <QScrollArea>
#include <QSettings>
#include <QShortcut>
#include <QStatusBar>
#include <QStyle>
#include <QTableView>
#include <QTextBrowser>
#include <QTimer>
#include <QToolButton>
#include <QUrl>
#include <QVBoxLayout>

// The resources live in a static library: register them explicitly (outside any namespace).
static void initStudioResources()
{
    Q_INIT_RESOURCE(resources);
}

namespace tkd {

namespace {
QDockWidget *makeDock(QMainWindow *window, const QString &title, const QString &objectName,
    QWidget *content, Qt::DockWidgetArea area, bool scrollable = true)
{
    auto *dock = new QDockWidget(title, window);
    dock->setObjectName(objectName); // saveState() keys layouts by object name
    if (scrollable) {
        // A view's minimum size must not become the window's: on a small screen the view
        // scrolls instead, and every control stays reachable.
        auto *area = new QScrollArea;
        area->setObjectName(objectName + QStringLiteral("Scroll"));
        area->setWidgetResizable(true);
        area->setFrameShape(QFrame::NoFrame);
        area->setWidget(content);
        dock->setWidget(area);
    } else {
        dock->setWidget(content);
    }
    window->addDockWidget(area, dock);
    return dock;
}
} // namespace

// Which loader a dropped or command-line folder needs, from the files that identify each layout.
QString detectDatasetKind(const QString &path)
{
    const QDir dir(path);
    if (isNoisyManifestFolder(path.toStdString()))
        return QStringLiteral("noisy");
    if (dir.exists(QStringLiteral("validation_list.txt"))
        || dir.exists(QStringLiteral("_background_noise_")))
        return QStringLiteral("speech-commands");
    if (dir.exists(QStringLiteral("FSD50K.ground_truth")))
        return QStringLiteral("fsd50k");
    return QStringLiteral("folder");
}

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_browser(new ClipBrowser)
    , m_waveform(new WaveformView)
    , m_play(new QToolButton)
    , m_clipTitle(new QLabel(tr("No clip selected")))
    , m_status(new QLabel(tr("Ready")))
    , m_progress(new QProgressBar)
    , m_cursorTimer(new QTimer(this))
    , m_worker(new DatasetWorker)
{
    // The plots' colours come from the student registry (widgets know no models).
    for (const StudentSpec &spec : StudentRegistry::specs())
        setModelColour(QString::fromStdString(spec.name), QColor(QRgb(spec.colour)));
    initStudioResources();
    setWindowTitle(tr("TKD Studio"));
    setWindowIcon(QIcon(QStringLiteral(":/icons/tkd-studio.svg")));
    setDockNestingEnabled(true);
    setAcceptDrops(true);

    // The clip panel: title, transport, waveform + spectrogram.
    auto *clipPanel = new QWidget;
    auto *transport = new QHBoxLayout;
    m_play->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
    m_play->setText(tr("Play"));
    m_play->setToolButtonStyle(Qt::ToolButtonTextBesideIcon);
    m_play->setShortcut(Qt::Key_Space);
    m_play->setToolTip(tr("Play or stop the selected clip (Space)"));
    m_play->setEnabled(false);
    transport->addWidget(m_play);
    transport->addWidget(m_clipTitle, 1);
    auto *clipLayout = new QVBoxLayout(clipPanel);
    clipLayout->addLayout(transport);
    clipLayout->addWidget(m_waveform, 1);

    auto *clipsDock = makeDock(
        this, tr("Clips"), QStringLiteral("clipsDock"), m_browser, Qt::LeftDockWidgetArea);
    auto *clipDock = makeDock(
        this, tr("Clip"), QStringLiteral("clipDock"), clipPanel, Qt::RightDockWidgetArea);
    // Run views: attention of the selected clip, the results grid.
    m_runs = new AttentionController(this);
    auto *attentionDock = makeDock(this, tr("Attention"), QStringLiteral("attentionDock"),
        m_runs->attentionView(), Qt::RightDockWidgetArea);
    auto *resultsDock = makeDock(this, tr("Results"), QStringLiteral("resultsDock"),
        m_runs->resultsView(), Qt::RightDockWidgetArea);
    tabifyDockWidget(clipDock, attentionDock);
    tabifyDockWidget(attentionDock, resultsDock);
    clipDock->raise();
    connect(m_runs, &AttentionController::progress, this, &MainWindow::showProgress);
    connect(m_runs, &AttentionController::failed, this, &MainWindow::showError);
    connect(m_runs, &AttentionController::notice, this, [this](const QString &text) {
        m_progress->setVisible(false);
        m_status->setText(text);
    });
    connect(m_runs, &AttentionController::clipLoaded, this, &MainWindow::showClip);
    connect(this, &MainWindow::playbackPosition, m_runs, &AttentionController::setPlaybackSec);
    connect(m_runs, &AttentionController::runOpened, this,
        [this](const QVector<ClipRow> &clips, const QString &note) {
            m_progress->setVisible(false);
            m_browser->setClips(clips);
            m_status->setText(tr("Run %1 (L = %2 s): %3 clips; %4")
                                  .arg(QFileInfo(m_runs->runDir()).fileName())
                                  .arg(m_runs->lengthSec())
                                  .arg(clips.size())
                                  .arg(note));
            setWindowTitle(tr("TKD Studio - %1").arg(QFileInfo(m_runs->runDir()).fileName()));
            // Held-out clips first: the test split is where the run's metrics come from.
            m_browser->splitBox()->setCurrentIndex(
                std::max(0, m_browser->splitBox()->findData(QStringLiteral("test"))));
            m_browser->selectVisibleRow(0);
            // Live follows the open run (a folder of runs: the one shown).
            if (!m_live->isRunning()
                && QDir::cleanPath(m_live->modelPath()) != QDir::cleanPath(m_runs->runDir()))
                m_live->openModel(m_runs->runDir());
            Q_EMIT runShown(int(clips.size()));
        });
    connect(
        m_runs->resultsView(), &ResultsView::attentionRequested, attentionDock, [attentionDock] {
            attentionDock->show();
            attentionDock->raise();
        });

    // Experiment (the config form) beside the clips; Training (curves, progress) with the run
    // views.
    m_runController = new RunController(this);
    m_experiment = new ExperimentPanel(m_runController);
    m_training = new TrainingPanel(m_runController);
    // Not scrolled as a whole: its form scrolls by itself, so Run at its top stays in view.
    auto *experimentDock = makeDock(this, tr("Experiment"), QStringLiteral("experimentDock"),
        m_experiment, Qt::LeftDockWidgetArea, false);
    auto *trainingDock = makeDock(
        this, tr("Training"), QStringLiteral("trainingDock"), m_training, Qt::RightDockWidgetArea);
    tabifyDockWidget(clipsDock, experimentDock);
    tabifyDockWidget(resultsDock, trainingDock);
    // Live: microphone (or file) through a trained student, with the run views.
    m_live = new LiveView(this);
    auto *liveDock
        = makeDock(this, tr("Live"), QStringLiteral("liveDock"), m_live, Qt::RightDockWidgetArea);
    tabifyDockWidget(trainingDock, liveDock);
    // The start page: the three first moves for someone who has never seen the studio.
    auto *start = new StartPage;
    auto *startDock
        = makeDock(this, tr("Start"), QStringLiteral("startDock"), start, Qt::LeftDockWidgetArea);
    tabifyDockWidget(experimentDock, startDock);
    connect(start, &StartPage::quickstartRequested, m_experiment->quickstartAction(),
        &QAction::trigger);
    connect(start, &StartPage::openRunRequested, this, &MainWindow::chooseRunFolder);
    connect(start, &StartPage::liveDemoRequested, this, &MainWindow::liveDemo);
    connect(start, &StartPage::openExampleRequested, m_experiment->openAction(), &QAction::trigger);
    clipsDock->raise();
    clipDock->raise();
    connect(m_experiment, &ExperimentPanel::errorReported, this, &MainWindow::showError);
    connect(m_training, &TrainingPanel::errorReported, this, &MainWindow::showError);
    // A Results cell opens its run's curves here (the Attention view focuses its student itself).
    connect(m_runs, &AttentionController::runRequested, m_training,
        [this](const QString &runDir, const QString &) {
            if (!runDir.isEmpty())
                m_training->followRun(runDir);
        });
    connect(m_experiment, &ExperimentPanel::runStarted, this,
        [this] { showView(QStringLiteral("training")); });
    connect(m_runController, &RunController::finished, this,
        [this](const QString &runDir, bool ok, bool cancelled) {
            if (m_closeAfterRun) {
                QTimer::singleShot(0, this, &QWidget::close);
                return;
            }
            // A finished run opens in Results, Clips and Attention: the table and the maps
            // are the point of running it.
            if (ok && !cancelled && !runDir.isEmpty()) {
                openRun(runDir);
                showView(QStringLiteral("results"));
            }
        });

    setCentralWidget(nullptr);
    resizeDocks({ clipsDock, clipDock }, { 560, 640 }, Qt::Horizontal);

    m_progress->setMaximumWidth(220);
    m_progress->setVisible(false);
    // Long status texts are cut, never widen the window.
    m_status->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_status->setMinimumWidth(120);
    statusBar()->addWidget(m_status, 2);
    statusBar()->addPermanentWidget(m_progress);
    statusBar()->addPermanentWidget(m_training->statusLabel(), 1);

    buildMenus();

    // Worker thread: every core call happens there; results come back as queued signals.
    m_worker->moveToThread(&m_workerThread);
    connect(&m_workerThread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &MainWindow::requestOpenDataset, m_worker, &DatasetWorker::openDataset);
    connect(this, &MainWindow::requestClip, m_worker, &DatasetWorker::loadClip);
    connect(m_worker, &DatasetWorker::progress, this, &MainWindow::showProgress);
    connect(m_worker, &DatasetWorker::failed, this, &MainWindow::showError);
    connect(m_worker, &DatasetWorker::datasetOpened, this,
        [this](const QString &name, const QVector<ClipRow> &clips) {
            m_progress->setVisible(false);
            m_browser->setClips(clips);
            m_status->setText(tr("%1: %2 clips").arg(name).arg(clips.size()));
            setWindowTitle(tr("TKD Studio - %1").arg(name));
            m_browser->selectVisibleRow(0); // something to look at straight away
            Q_EMIT datasetShown(int(clips.size()));
        });
    connect(m_worker, &DatasetWorker::clipLoaded, this, &MainWindow::showClip);
    connect(m_browser, &ClipBrowser::clipSelected, this, [this](const ClipRow &row) {
        m_clipTitle->setText(tr("Loading %1 ...").arg(QFileInfo(row.path).fileName()));
        if (row.runItem >= 0) // a clip of an opened run: rebuilt from the run's dataset
            m_runs->selectClip(row);
        else
            Q_EMIT requestClip(row);
    });
    m_workerThread.start();

    connect(m_play, &QToolButton::clicked, this, &MainWindow::togglePlayback);
    // Space plays from the list even where the play button's own shortcut is not active.
    m_browser->table()->installEventFilter(this);
    m_cursorTimer->setInterval(33);
    connect(m_cursorTimer, &QTimer::timeout, this, &MainWindow::updateCursor);

    QSettings settings;
    resize(1280, 720); // first start (a laptop's screen); a saved geometry wins
    m_outputDevice = settings.value(QStringLiteral("audio/outputDevice")).toString();
    restoreGeometry(settings.value(QStringLiteral("window/geometry")).toByteArray());
    restoreState(settings.value(QStringLiteral("window/state")).toByteArray());
}

MainWindow::~MainWindow()
{
    m_worker->cancel();
    m_workerThread.quit();
    m_workerThread.wait();
}

void MainWindow::chooseRunFolder()
{
    // The runs folder the studio writes into is where a newcomer's runs are.
    QString startDir = RunController::defaultRunsDir();
    if (!QFileInfo(startDir).isDir())
        startDir = QDir::homePath();
    const QString dir = QFileDialog::getExistingDirectory(
        this, tr("Choose a run folder (or a folder of runs)"), startDir);
    if (!dir.isEmpty())
        openRun(dir);
}

void MainWindow::continueStoppedRun()
{
    // The run selected in Training when it can be continued, else one chosen from disk.
    QString dir = m_training->continuableRun();
    if (dir.isEmpty()) {
        QString startDir = RunController::defaultRunsDir();
        if (!QFileInfo(startDir).isDir())
            startDir = QDir::homePath();
        dir = QFileDialog::getExistingDirectory(
            this, tr("Choose the run folder to continue"), startDir);
        if (dir.isEmpty())
            return;
        QString error;
        if (!m_training->followRun(dir, &error)) {
            showError(error);
            return;
        }
    }
    showView(QStringLiteral("training"));
    QString error;
    if (!m_training->continueRun(dir, &error))
        showError(error);
}

void MainWindow::liveDemo()
{
    // Live with the model it has or is loading (the shipped demo student, or a run's), else the
    // newest run that has students.
    showView(QStringLiteral("live"));
    if (m_live->hasModel() || m_live->isLoadingModel())
        return;
    const QDir runs(RunController::defaultRunsDir());
    const QFileInfoList dirs = runs.entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Time);
    for (const QFileInfo &d : dirs)
        if (QDir(d.absoluteFilePath()).exists(QStringLiteral("students"))) {
            m_live->openModel(d.absoluteFilePath());
            return;
        }
    const QString demo = QString::fromStdString(shippedDemoStudent());
    if (!demo.isEmpty()) { // closed since start-up: the shipped demo student again
        m_live->openModel(demo);
        return;
    }
    m_live->panel()->showMessage(tr("No trained run yet: run the Quick-start first (a few "
                                    "minutes), or open a run folder with the folder button."));
}

void MainWindow::openDataset(const QString &kind, const QString &path, int task)
{
    m_status->setText(kind == QLatin1String("builtin") ? tr("Preparing the built-in corpus ...")
                                                       : tr("Opening %1 ...").arg(path));
    m_progress->setRange(0, 0);
    m_progress->setVisible(true);
    Q_EMIT requestOpenDataset(kind, path, task);
}

void MainWindow::openRun(const QString &folder, double lengthSec)
{
    m_status->setText(tr("Opening run %1 ...").arg(folder));
    m_progress->setRange(0, 0);
    m_progress->setVisible(true);
    m_runs->openRun(folder, lengthSec);
    m_training->followRun(folder); // its curves too (a live one keeps updating)
    // Live follows the open run: its best student, ready to listen.
    if (QDir(folder).exists(QStringLiteral("students")) && !m_live->isRunning())
        m_live->openModel(folder);
}

bool MainWindow::openExperiment(const QString &path)
{
    QString error;
    if (!m_experiment->loadFile(path, &error)) {
        showError(error);
        return false;
    }
    showView(QStringLiteral("experiment"));
    return true;
}

bool MainWindow::showView(const QString &name)
{
    auto *dock = findChild<QDockWidget *>(name + QStringLiteral("Dock"));
    if (!dock)
        return false;
    dock->show();
    dock->raise();
    return true;
}

void MainWindow::dragEnterEvent(QDragEnterEvent *event)
{
    if (event->mimeData()->hasUrls())
        for (const QUrl &url : event->mimeData()->urls())
            if (url.isLocalFile()) {
                event->acceptProposedAction();
                return;
            }
}

void MainWindow::dropEvent(QDropEvent *event)
{
    // An experiment file goes to the form; a run folder (or a folder of runs) to the run views;
    // any other folder opens as a dataset.
    for (const QUrl &url : event->mimeData()->urls()) {
        const QString path = url.toLocalFile();
        const QFileInfo info(path);
        if (info.isFile()
            && (info.suffix() == QLatin1String("yaml") || info.suffix() == QLatin1String("yml")))
            openExperiment(path);
        else if (info.isDir() && TrainingPanel::containsRuns(path))
            openRun(path);
        else if (info.isDir())
            openDataset(detectDatasetKind(path), path);
        else
            showError(
                tr("%1: drop an experiment (.yaml), a run folder or a dataset folder").arg(path));
    }
    event->acceptProposedAction();
}

void MainWindow::showClip(const ClipAudio &audio)
{
    if (m_player)
        m_player->stop();
    m_clip = audio;
    m_waveform->setClip(audio);
    m_clipTitle->setText(audio.title);
    m_play->setEnabled(true);
    Q_EMIT clipShown();
}

void MainWindow::chooseFolder(const QString &kind)
{
    const QString dir = QFileDialog::getExistingDirectory(this, tr("Choose the dataset folder"));
    if (!dir.isEmpty())
        openDataset(kind, dir);
}

void MainWindow::showProgress(const QString &stage, qint64 done, qint64 total)
{
    m_progress->setVisible(true);
    m_progress->setRange(0, total > 0 ? 1000 : 0);
    if (total > 0)
        m_progress->setValue(int(1000 * done / total));
    m_status->setText(tr("%1: %2 of %3").arg(stage).arg(done).arg(total));
}

void MainWindow::showError(const QString &message)
{
    m_progress->setVisible(false);
    m_status->setText(tr("Error: %1").arg(message));
    // Errors never end the session and never block it: a window-modal box that returns at once.
    auto *box
        = new QMessageBox(QMessageBox::Warning, tr("TKD Studio"), message, QMessageBox::Ok, this);
    box->setAttribute(Qt::WA_DeleteOnClose);
    box->open();
    Q_EMIT errorShown(message);
}

void MainWindow::setOutputDevice(const QString &name)
{
    m_outputDevice = name;
    QSettings().setValue(QStringLiteral("audio/outputDevice"), name);
}

bool MainWindow::isPlaying() const
{
    return m_player && m_player->isPlaying();
}

void MainWindow::togglePlayback()
{
    if (m_player && m_player->isPlaying()) {
        m_player->stop();
        m_player.reset(); // PortAudio ends with it, so a device list re-reads the devices
        m_cursorTimer->stop();
        m_waveform->setCursorSec(-1);
        Q_EMIT playbackPosition(-1);
        m_play->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
        m_play->setText(tr("Play"));
        Q_EMIT playbackStopped();
        return;
    }
    try {
        if (!m_player)
            m_player = std::make_unique<AudioPlayer>();
        const std::vector<float> samples(m_clip.samples.begin(), m_clip.samples.end());
        m_player->play(samples, m_clip.sampleRate, m_outputDevice.toStdString());
    } catch (const std::exception &e) {
        // No sound card (or it vanished): say so on the button itself; the rest keeps working.
        m_playerError = QString::fromStdString(e.what());
        m_play->setToolTip(tr("Cannot play: %1").arg(m_playerError));
        m_status->setText(tr("Playback unavailable: %1").arg(m_playerError));
        return;
    }
    m_play->setIcon(style()->standardIcon(QStyle::SP_MediaStop));
    m_play->setText(tr("Stop"));
    m_play->setToolTip(
        tr("Playing on %1 (Space stops)").arg(QString::fromStdString(m_player->deviceName())));
    m_cursorTimer->start();
    Q_EMIT playbackStarted();
}

void MainWindow::updateCursor()
{
    if (!m_player || !m_player->isPlaying()) {
        m_player.reset(); // see togglePlayback
        m_cursorTimer->stop();
        m_waveform->setCursorSec(-1);
        Q_EMIT playbackPosition(-1);
        m_play->setIcon(style()->standardIcon(QStyle::SP_MediaPlay));
        m_play->setText(tr("Play"));
        Q_EMIT playbackStopped();
        return;
    }
    m_waveform->setCursorSec(m_player->positionSec());
    Q_EMIT playbackPosition(m_player->positionSec());
}

bool MainWindow::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_browser->table() && event->type() == QEvent::KeyPress
        && static_cast<QKeyEvent *>(event)->key() == Qt::Key_Space
        && static_cast<QKeyEvent *>(event)->modifiers() == Qt::NoModifier) {
        if (m_play->isEnabled())
            togglePlayback();
        return true;
    }
    return QMainWindow::eventFilter(watched, event);
}

bool MainWindow::maybeSaveExperiment()
{
    if (!m_experiment->isModified())
        return true;
    QMessageBox box(QMessageBox::Warning, tr("Unsaved experiment"),
        tr("The experiment \"%1\" has changes that are not saved. Save them before closing?")
            .arg(m_experiment->displayName()),
        QMessageBox::Save | QMessageBox::Discard | QMessageBox::Cancel, this);
    box.setObjectName(QStringLiteral("unsavedExperiment"));
    box.setDefaultButton(QMessageBox::Save);
    const int answer = box.exec();
    if (answer == QMessageBox::Save)
        return m_experiment->saveInteractively(); // Save As when it has no file; false: cancelled
    return answer == QMessageBox::Discard;
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    // Unsaved edits first (Cancel keeps everything as it was), once per way out.
    if (!m_unsavedAnswered) {
        if (!maybeSaveExperiment()) {
            event->ignore();
            return;
        }
        m_unsavedAnswered = true;
    }
    // Training mid-run (DESIGN.md rule 2): ask; stopping checkpoints first, then the window closes.
    if (m_runController->isRunning()) {
        QMessageBox box(QMessageBox::Question, tr("A run is training"),
            tr("%1 is still training. Stop it (the student being trained is checkpointed "
               "first), or let it finish and close the window then?")
                .arg(m_runController->runName()),
            QMessageBox::NoButton, this);
        QPushButton *stop = box.addButton(tr("Stop and close"), QMessageBox::DestructiveRole);
        QPushButton *wait = box.addButton(tr("Close when finished"), QMessageBox::AcceptRole);
        box.addButton(QMessageBox::Cancel);
        box.setObjectName(QStringLiteral("closeDuringRun"));
        box.exec();
        event->ignore();
        if (box.clickedButton() != stop && box.clickedButton() != wait)
            m_unsavedAnswered = false; // staying: a later close asks again
        if (box.clickedButton() == stop) {
            m_closeAfterRun = true;
            m_runController->stop();
            m_status->setText(
                tr("Stopping the run: the window closes once the checkpoint is written ..."));
        } else if (box.clickedButton() == wait) {
            m_closeAfterRun = true;
            m_status->setText(tr("The window closes when the run finishes."));
        }
        return;
    }
    QSettings settings;
    settings.setValue(QStringLiteral("window/geometry"), saveGeometry());
    settings.setValue(QStringLiteral("window/state"), saveState());
    if (m_player)
        m_player->stop();
    event->accept();
}

} // namespace tkd
