#include "AttentionWorker.h"
#include "WorkerJob.h"

#include "RunInspector.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/train/GridFolder.h"
#include "core/train/Pipeline.h"
#include "core/util/Error.h"
#include "core/util/Progress.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QThread>

#include <algorithm>

namespace tkd {

AttentionWorker::AttentionWorker(QObject *parent)
    : QObject(parent)
{ }

AttentionWorker::~AttentionWorker() = default;

void AttentionWorker::openRun(const QString &folder, double lengthSec)
{
    const Progress p = startWorkerJob(this, m_cancel);
    QElapsedTimer clock;
    clock.start();
    try {
        QString title;
        const QVector<ResultEntry> entries = RunInspector::resultEntries(folder, &title);
        Q_EMIT resultsLoaded(folder, title, entries);
        Q_EMIT paperCompared(RunInspector::paperComparison(folder));
        // A grid table without its run folders, or run folders that keep their results alone
        // (docs/paper-table/runs/): the table is all there is to show.
        const auto withCheckpoints = [](const ResultEntry &e) {
            return !e.runDir.isEmpty() && RunInspector::keepsCheckpoints(e.runDir);
        };
        if (std::none_of(entries.begin(), entries.end(), withCheckpoints)) {
            Q_EMIT notice(tr("%1: %2 (no checkpoints here: no clips or attention to show)")
                              .arg(folder, title));
            return;
        }
        // A folder of runs (or a grid folder, whose own run may hold only the teachers): show
        // the clips of the first run that trained students.
        QString runDir = folder;
        if (!RunInspector::isRunFolder(folder) || isGridFolder(folder.toStdString())) {
            runDir = entries.first().runDir;
            for (const auto &e : entries)
                if (e.model != QLatin1String("teacher") && withCheckpoints(e)) {
                    runDir = e.runDir;
                    break;
                }
        }
        if (!m_run || m_run->runDir() != QDir::cleanPath(runDir).toStdString())
            m_run = std::make_unique<RunInspector>(QDir::cleanPath(runDir).toStdString());
        const std::vector<double> lengths = m_run->lengths();
        if (lengths.empty())
            throw Error(runDir.toStdString() + "/metrics.json", "has no finished clip length yet");
        double l = lengths.front();
        for (double x : lengths)
            if (lengthSec > 0 && std::abs(x - lengthSec) < 1e-9)
                l = x;
        QString note;
        const QVector<ClipRow> clips = m_run->clips(l, p, &note);
        note += tr(" (opened in %1 s)").arg(clock.elapsed() / 1000.0, 0, 'f', 1);
        Q_EMIT runOpened(QString::fromStdString(m_run->runDir()), l, clips, note);
    } catch (const Cancelled &) {
        Q_EMIT failed(tr("Opening the run was cancelled."));
    } catch (const std::exception &e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

void AttentionWorker::loadClip(const ClipRow &clip, quint64 seed, int requestId)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (requestId != m_latestClip.load() || !m_run)
        return; // superseded by a newer selection
    try {
        QElapsedTimer clock;
        clock.start();
        ClipAudio audio;
        AttentionFigure figure;
        const int split = clip.split == QLatin1String("train") ? 0
            : clip.split == QLatin1String("validation")        ? 1
                                                               : 2;
        m_run->analyse(clip.runLengthSec, split, clip.runItem, &audio, &figure, seed);
        figure.computeSec = clock.elapsed() / 1000.0;
        Q_EMIT attentionReady(figure);
        Q_EMIT clipLoaded(audio);
    } catch (const std::exception &e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

} // namespace tkd
