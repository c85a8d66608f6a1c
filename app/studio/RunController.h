#pragma once

#include "core/experiment/ExperimentConfig.h"
#include "core/train/Pipeline.h"
#include "core/train/TrainControl.h"

#include <QElapsedTimer>
#include <QObject>
#include <QString>

#include <memory>

class QThread;

namespace tkd {

// Runs one experiment (core's Pipeline) at a time on its own QThread - never the GUI thread
// (DESIGN.md rule 2). Core's TrainObserver callbacks arrive here on the training thread and
// leave as queued signals carrying Qt value types; pause / resume / stop go to core through
// TrainControl (stop makes the trainer checkpoint where it got to, then the run ends cancelled).
class RunController : public QObject
{
    Q_OBJECT
public:
    explicit RunController(QObject *parent = nullptr);
    ~RunController() override; // stops a run still going and joins its thread

    // Starts `config` (relative output.runs_dir resolved against `baseDir`, else the default
    // runs folder). False, with `error` set, when a run is already going.
    bool start(const ExperimentConfig &config, const PipelineOptions &options = {},
        const QString &baseDir = {}, QString *error = nullptr);
    // Continues a stopped, killed or incomplete run folder with its own config.yaml, as
    // `tkd train --resume DIR` does: finished cells are kept, the others continue from their
    // last checkpoints. False, with `error` set, when the folder is no run or a run is going.
    bool resume(const QString &runDir, QString *error = nullptr);
    // The built-in quick-start (what `tkd quickstart` runs with its defaults).
    bool startQuickstart(QString *error = nullptr);
    // `tkd quickstart`'s experiment: built-in corpus, L = 8 s, tiny teacher (oracle when over
    // the time budget, see quickstartOptions), TC-ResNet8 at lambda 0 and 0.25.
    static ExperimentConfig quickstartConfig();
    static PipelineOptions quickstartOptions();
    // Where studio runs go when the experiment names a relative folder and has no file yet.
    static QString defaultRunsDir();

    bool isRunning() const { return m_thread != nullptr; }
    bool isPaused() const { return m_control.paused(); }
    bool stopRequested() const { return m_control.cancelRequested(); }
    QString runName() const { return m_name; }
    QString runDir() const { return m_runDir; }
    double elapsedSec() const;

    void setPaused(bool paused);
    void stop();
    // Processes events until the run thread has finished or `msecs` pass; true when finished.
    bool waitForFinished(int msecs);

Q_SIGNALS:
    void started(const QString &name);
    void runFolderCreated(const QString &dir);
    void stepReported(
        const QString &stage, qint64 step, qint64 epoch, double task, double kd, double total);
    void epochReported(
        const QString &stage, qint64 epoch, const QString &metric, double value, bool best);
    void stageReported(
        const QString &stage, const QString &message, qint64 done, qint64 total, bool finished);
    // level: 0 info, 1 warning, 2 error
    void messageReported(int level, const QString &text);
    void checkpointWritten(const QString &stage, const QString &path, bool best);
    void pausedChanged(bool paused);
    // ok: completed (with a non-empty `error` naming the failed cells when the run finished
    // incomplete); cancelled: stopped by the user (checkpoints kept); else `error` says why.
    void finished(const QString &runDir, bool ok, bool cancelled, const QString &error,
        const QString &summary);

private:
    void onThreadFinished();

    TrainControl m_control;
    QThread *m_thread = nullptr;
    QString m_name;
    QString m_runDir;
    QElapsedTimer m_clock;
    // Written by the training thread, read once it has finished.
    struct Outcome
    {
        bool ok = false;
        bool cancelled = false;
        QString error;
        QString summary;
        QString runDir;
    };
    std::shared_ptr<Outcome> m_outcome;
};

} // namespace tkd
