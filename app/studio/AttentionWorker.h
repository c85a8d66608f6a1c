#pragma once

#include "DatasetWorker.h" // Q_DECLARE_METATYPE(tkd::ClipAudio)
#include "widgets/AttentionView.h"
#include "widgets/ClipTableModel.h"
#include "widgets/ResultsView.h"
#include "widgets/WaveformView.h"

#include <QObject>
#include <QString>
#include <QVector>

#include <atomic>
#include <memory>

namespace tkd {

class RunInspector;

// Runs the studio's run-folder work in a worker thread: reading a run's results, rebuilding its
// noisy dataset, predictions for the clip table, and each selected clip's attention (teacher and
// student forward passes). Talks to the GUI only through queued signals with value types.
class AttentionWorker : public QObject
{
    Q_OBJECT
public:
    explicit AttentionWorker(QObject *parent = nullptr);
    ~AttentionWorker() override;

    // Thread-safe: asks the current job to stop at its next progress report.
    void cancel() { m_cancel.store(true); }
    // Thread-safe: a new clip request id; older requests still queued are skipped, so scrolling
    // through the table never builds a backlog of forward passes.
    int nextClipRequest() { return ++m_latestClip; }

public Q_SLOTS:
    // folder: a run folder or a folder of runs (the first run's clips are shown); lengthSec <= 0:
    // the run's first clip length.
    void openRun(const QString &folder, double lengthSec);
    void loadClip(const tkd::ClipRow &clip, quint64 seed, int requestId);

Q_SIGNALS:
    void progress(const QString &stage, qint64 done, qint64 total);
    // Something to say that is not an error (a grid table without its run folders).
    void notice(const QString &text);
    void resultsLoaded(
        const QString &folder, const QString &title, const QVector<tkd::ResultEntry> &entries);
    // The paper's Table 2 and claims for those results (empty when they do not apply).
    void paperCompared(const tkd::PaperComparison &comparison);
    void runOpened(const QString &runDir, double lengthSec, const QVector<tkd::ClipRow> &clips,
        const QString &note);
    void clipLoaded(const tkd::ClipAudio &audio);
    void attentionReady(const tkd::AttentionFigure &figure);
    void failed(const QString &message);

private:
    std::unique_ptr<RunInspector> m_run;
    std::atomic<bool> m_cancel { false };
    std::atomic<int> m_latestClip { 0 };
};

} // namespace tkd
