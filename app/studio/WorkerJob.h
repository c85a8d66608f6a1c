#pragma once

#include "core/util/Progress.h"

#include <QString>
#include <QThread>

#include <atomic>
#include <cstdint>
#include <string>

namespace tkd {

// The start of one job of a studio worker (DatasetWorker, AttentionWorker, EvaluationWorker):
// it runs on the worker's thread, clears the worker's cancel flag and returns the Progress that
// core reports through: cancellable by that flag, each report re-emitted as the worker's
// progress(stage, done, total) signal, which Qt queues to the GUI.
template <class Worker> Progress startWorkerJob(Worker *worker, std::atomic<bool> &cancel)
{
    Q_ASSERT(QThread::currentThread() == worker->thread()); // queued from the GUI
    cancel.store(false);
    Progress p;
    p.cancel = &cancel;
    p.onProgress = [worker](const std::string &stage, int64_t done, int64_t total) {
        Q_EMIT worker->progress(QString::fromStdString(stage), done, total);
    };
    return p;
}

} // namespace tkd
