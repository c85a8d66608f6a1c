#pragma once

#include "widgets/ClipTableModel.h"
#include "widgets/WaveformView.h"

#include <QMainWindow>
#include <QThread>

#include <memory>

class QAction;
class QLabel;
class QMenu;
class QProgressBar;
class QTimer;
class QToolButton;

namespace tkd {

class AttentionController;
class AudioPlayer;
class ClipBrowser;
class DatasetWorker;
class LiveView;
class ExperimentPanel;
class RunController;
class TrainingPanel;

// The studio's main window: dockable views over one dataset (and, as the engine lands, its
// experiments and runs). Core work runs in m_workerThread; the window only holds snapshots.
class MainWindow : public QMainWindow
{
    Q_OBJECT
public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    // Opens a dataset in the background: kind "builtin" | "speech-commands" | "fsd50k" | "folder".
    void openDataset(const QString &kind, const QString &path, int task = 12);

    ClipBrowser *clipBrowser() const { return m_browser; }
    WaveformView *waveformView() const { return m_waveform; }
    QToolButton *playButton() const { return m_play; }
    const ClipAudio &currentClip() const { return m_clip; }
    // Output device for playback (exact name or substring; empty: the system default). Persisted.
    void setOutputDevice(const QString &name);
    QString outputDevice() const { return m_outputDevice; }
    bool isPlaying() const;
    // A run folder (or a folder of runs) written by tkd train: results grid, the run's clips with
    // predictions, attention of the selected clip. Loaded in the background.
    void openRun(const QString &folder, double lengthSec = 0.0);
    AttentionController *runViews() const { return m_runs; }
    // Shows decoded audio in the clip panel (from any worker).
    void showClip(const ClipAudio &audio);

    // Experiment and Training views: an experiment file into the form; the training run and
    // the views that follow it.
    bool openExperiment(const QString &path);
    ExperimentPanel *experimentPanel() const { return m_experiment; }
    TrainingPanel *trainingPanel() const { return m_training; }
    LiveView *liveView() const { return m_live; }
    RunController *runController() const { return m_runController; }
    // Raises a view by name: "experiment", "training" (and any dock whose object name is
    // <name>Dock). False when there is none.
    bool showView(const QString &name);
    // The start page's three first moves (also in the menus).
    void liveDemo();
    void chooseRunFolder();
    // Run > Continue Stopped Run...: the selected run in Training, else a folder chosen.
    void continueStoppedRun();
    // Asks Save / Discard / Cancel when the experiment has unsaved edits; true when the caller
    // may go on (saved or discarded).
    bool maybeSaveExperiment();

Q_SIGNALS:
    void requestOpenDataset(const QString &kind, const QString &path, int task);
    void requestClip(const tkd::ClipRow &clip);
    void datasetShown(int clips);
    void clipShown();
    void playbackStarted();
    void playbackStopped();
    void errorShown(const QString &message);
    void runShown(int clips);
    void playbackPosition(double sec); // seconds into the clip while playing; -1 when stopped

protected:
    void closeEvent(QCloseEvent *event) override;
    void dragEnterEvent(QDragEnterEvent *event) override;
    void dropEvent(QDropEvent *event) override;

private:
    void buildMenus();
    void showProgress(const QString &stage, qint64 done, qint64 total);
    void showError(const QString &message);
    void togglePlayback();
    void updateCursor();
    void chooseFolder(const QString &kind);
    void buildHelpMenu();
    void addViewShortcuts(QMenu *view);
    bool eventFilter(QObject *watched, QEvent *event) override;

    ClipBrowser *m_browser;
    WaveformView *m_waveform;
    QToolButton *m_play;
    QLabel *m_clipTitle;
    QLabel *m_status;
    QProgressBar *m_progress;
    QTimer *m_cursorTimer;
    QThread m_workerThread;
    DatasetWorker *m_worker;
    std::unique_ptr<AudioPlayer> m_player;
    QString m_playerError;
    QString m_outputDevice;
    ClipAudio m_clip;
    AttentionController *m_runs = nullptr;
    RunController *m_runController = nullptr;
    ExperimentPanel *m_experiment = nullptr;
    TrainingPanel *m_training = nullptr;
    LiveView *m_live = nullptr;
    bool m_closeAfterRun = false;
    bool m_unsavedAnswered = false; // asked once on the way out (a run may delay the close)
};

} // namespace tkd
