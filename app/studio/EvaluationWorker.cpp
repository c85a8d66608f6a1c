#include "EvaluationWorker.h"
#include "WorkerJob.h"

#include "core/infer/DatasetEvaluation.h"
#include "core/util/Error.h"

#include <QThread>

namespace tkd {

EvaluationWorker::EvaluationWorker(QObject *parent)
    : QObject(parent)
{ }

DatasetEvaluationSummary EvaluationWorker::toSummary(
    const DatasetEvaluation &e, const QString &file)
{
    DatasetEvaluationSummary s;
    s.runDir = QString::fromStdString(e.runDir);
    s.data = QString::fromStdString(e.data);
    s.datasetName = QString::fromStdString(e.datasetName);
    s.split = QString::fromStdString(e.split);
    s.placement = QString::fromStdString(e.placement);
    s.file = file;
    for (const auto &c : e.classes)
        s.classes << QString::fromStdString(c);
    for (const auto &m : e.mapping)
        s.mapping << QStringLiteral("%1 -> %2 (%3)")
                         .arg(QString::fromStdString(m.datasetClass),
                             m.runClass.empty() ? QObject::tr("skipped")
                                                : QString::fromStdString(m.runClass))
                         .arg(m.clips);
    s.clips = e.clips;
    s.skipped = e.skipped;
    for (const auto &n : e.notes)
        s.notes << QString::fromStdString(n);
    for (const auto &m : e.models) {
        EvaluationModelScores ms;
        ms.name = QString::fromStdString(m.name);
        ms.kind = QString::fromStdString(m.kind);
        ms.lengthSec = m.lengthSec;
        ms.clips = m.clips;
        ms.correct = m.correct;
        for (const auto &row : m.confusion)
            ms.confusion << QVector<qint64>(row.begin(), row.end());
        s.models << ms;
    }
    return s;
}

void EvaluationWorker::evaluate(const QString &runDir, const QString &data, const QString &split)
{
    const Progress p = startWorkerJob(this, m_cancel);
    try {
        DatasetEvaluationOptions o;
        o.data = EvalDataSpec::parse(data.toStdString());
        o.split = split.toStdString();
        o.threads = std::max(1, QThread::idealThreadCount());
        const DatasetEvaluation e = evaluateDataset(runDir.toStdString(), o, p);
        const QString file = QString::fromStdString(e.save());
        Q_EMIT finished(toSummary(e, file));
    } catch (const Cancelled &) {
        Q_EMIT failed(tr("The evaluation was cancelled."));
    } catch (const std::exception &e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

} // namespace tkd
