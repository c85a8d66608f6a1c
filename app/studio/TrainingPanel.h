#pragma once

#include <QString>
#include <QStringList>
#include <QThread>
#include <QWidget>

#include "core/train/EventLog.h"

#include <memory>
#include <vector>

class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSplitter;
class QTimer;
class QTreeWidget;
class QTreeWidgetItem;

namespace tkd {

class RunController;
class TrainingCurves;

// The Training view: follows one or several run folders by tailing their events.jsonl
// (EventLogReader on a timer), so runs started here and runs started with `tkd train` in a
// terminal look the same: loss curves per step and the validation metric per epoch overlaid,
// per-stage progress with ETA, the run's messages, and pause / resume / stop for the run this
// studio started (through RunController).
class TrainingPanel : public QWidget
{
    Q_OBJECT
public:
    explicit TrainingPanel(RunController *runs, QWidget *parent = nullptr);
    ~TrainingPanel() override;

    // Follows a run folder (one with events.jsonl or config.yaml), or every run inside a folder of
    // runs. False, with `error` saying why, for anything else. Following twice is a no-op.
    bool followRun(const QString &dir, QString *error = nullptr);
    static bool isRunFolder(const QString &dir);
    // A run folder, or a folder with run folders in it.
    static bool containsRuns(const QString &dir);
    void removeRun(const QString &dir);
    QStringList followedRuns() const;
    // Reads every followed log (on the poll thread) and applies what is new shortly after; the
    // timer does this four times a second.
    void pollNow();
    bool pollPending() const { return m_pollInFlight; }

    TrainingCurves *curves() const { return m_curves; }
    QPushButton *pauseButton() const { return m_pause; }
    QPushButton *stopButton() const { return m_stop; }
    // Continues the selected run when it stopped before finishing (see continueRun).
    QPushButton *continueButton() const { return m_continue; }
    QTreeWidget *stageTree() const { return m_tree; }
    // The current stage's bar and the whole run's (students done of all, with the run's ETA).
    QProgressBar *stageProgressBar() const { return m_progress; }
    QProgressBar *runProgressBar() const { return m_runProgress; }
    QLabel *currentLabel() const { return m_current; }
    QLabel *etaLabel() const { return m_eta; }
    // Shown when a finished stage's validation accuracy is about chance (1 / classes).
    QLabel *chanceBanner() const { return m_banner; }
    QPlainTextEdit *messageLog() const { return m_log; }
    // What is running, for the main window's status bar.
    QLabel *statusLabel() const { return m_statusLabel; }
    QString statusText() const;

    // File > Open Run Folder...
    void chooseRunFolder();
    // Continues a stopped, killed or incomplete run (`tkd train --resume DIR`) and follows it.
    // False, with the reason shown in the log and in `error`, when it cannot.
    bool continueRun(const QString &dir, QString *error = nullptr);
    // The selected run when it can be continued (not finished, nothing running), else empty.
    QString continuableRun() const;

Q_SIGNALS:
    void runFollowed(const QString &dir);
    void eventsRead(int count);
    void statusChanged(const QString &text);
    void errorReported(const QString &message);
    void runEnded(const QString &dir, const QString &how);

private:
    struct Stage;
    struct Run;

    Run *findRun(const QString &dir) const;
    void applyEvent(Run &run, const Event &e);
    Stage &stage(Run &run, const QString &name);
    void finishStage(Run &run, Stage &s, double t);
    void updateStageItem(Run &run, Stage &s);
    void updateRunItem(Run &run);
    void updateStatus();
    void applyBatches(const std::vector<std::pair<QString, EventLogReader::Batch>> &batches);
    void appendMessage(const QString &text, int level);
    void onOwnStage(
        const QString &stage, const QString &message, qint64 done, qint64 total, bool finished);
    void onOwnFinished(
        const QString &dir, bool ok, bool cancelled, const QString &error, const QString &summary);
    void updateButtons();
    void updateBanner();
    double runFraction(const Run &run, const Stage *current) const;
    void resizeEvent(QResizeEvent *event) override;
    void followGridShards(const QString &grid);

    RunController *m_runs;
    TrainingCurves *m_curves;
    QTreeWidget *m_tree;
    QPlainTextEdit *m_log;
    QLabel *m_current;
    QProgressBar *m_progress;
    QProgressBar *m_runProgress;
    QLabel *m_eta;
    QLabel *m_banner;
    QSplitter *m_split = nullptr;
    QPushButton *m_pause;
    QPushButton *m_stop;
    QPushButton *m_continue;
    QPushButton *m_remove;
    QLabel *m_statusLabel;
    QTimer *m_poll;
    QThread m_pollThread;
    QObject *m_pollContext; // lives on m_pollThread
    bool m_pollInFlight = false;
    bool m_pollAgain = false;
    std::vector<std::unique_ptr<Run>> m_followed;
    QStringList m_grids; // followed grid folders, rescanned for shard runs (followGridShards)
    QStringList m_removed; // runs removed by hand: never re-followed by a grid rescan
    QString m_ownDir;
    QString m_lastError;
    QString m_lastStatus;
    qint64 m_ticks = 0;
};

} // namespace tkd
