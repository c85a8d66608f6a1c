#pragma once

#include "widgets/DatasetEvaluationView.h"

#include <QObject>
#include <QString>

#include <atomic>

namespace tkd {

struct DatasetEvaluation;

// Scores a run on a dataset (core/infer/DatasetEvaluation) in a worker thread: the GUI queues
// evaluate(), gets progress and the result back as value types, and can cancel.
class EvaluationWorker : public QObject
{
    Q_OBJECT
public:
    explicit EvaluationWorker(QObject *parent = nullptr);
    // Thread-safe: asks the evaluation to stop at its next batch.
    void cancel() { m_cancel.store(true); }

    // Core's result as the studio's value type.
    static DatasetEvaluationSummary toSummary(const DatasetEvaluation &e, const QString &file);

public Q_SLOTS:
    // data: "KIND:PATH" as tkd eval --data takes it; split: auto | test | validation | train | all.
    void evaluate(const QString &runDir, const QString &data, const QString &split);

Q_SIGNALS:
    void progress(const QString &stage, qint64 done, qint64 total);
    void finished(const tkd::DatasetEvaluationSummary &summary);
    void failed(const QString &message);

private:
    std::atomic<bool> m_cancel { false };
};

} // namespace tkd
