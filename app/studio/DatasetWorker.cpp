#include "DatasetWorker.h"
#include "WorkerJob.h"

#include "core/audio/AudioFile.h"
#include "core/data/DatasetSource.h"
#include "core/infer/ClipAnalysis.h"
#include "core/util/Error.h"
#include "core/util/Progress.h"

#include <QDir>
#include <QFileInfo>
#include <QThread>

#include <cmath>

namespace tkd {

DatasetWorker::DatasetWorker(QObject *parent)
    : QObject(parent)
{ }

void DatasetWorker::openDataset(const QString &kind, const QString &path, int task)
{
    const Progress p = startWorkerJob(this, m_cancel);
    try {
        DatasetSource source;
        source.kind = DatasetSource::kindFromName(kind.toStdString());
        source.path = path.toStdString();
        source.task = task;
        source.validate();
        const DatasetIndex index = source.open(p);
        QVector<ClipRow> rows;
        rows.reserve(int(index.clips.size()));
        for (const auto &c : index.clips) {
            ClipRow r;
            r.path = QString::fromStdString(c.path);
            r.split = QString::fromLatin1(splitName(c.split));
            QStringList labels;
            for (int l : c.labels)
                labels << QString::fromStdString(index.classes[size_t(l)]);
            r.label = labels.join(QLatin1Char(','));
            r.word = QString::fromStdString(c.word);
            r.speaker = QString::fromStdString(c.speaker);
            r.startSec = c.startSec;
            r.segmentSec = c.durationSec;
            if (c.durationSec > 0) {
                r.durationSec = c.durationSec;
            } else {
                try {
                    r.durationSec = probeAudio(c.path).durationSec();
                } catch (const Error &) {
                    r.durationSec = 0.0; // shown as 0 s; opening the clip reports why
                }
            }
            r.onsetSec = c.speechOnsetSec;
            r.offsetSec = c.speechOffsetSec;
            rows << r;
        }
        Q_EMIT datasetOpened(QString::fromStdString(index.name), rows);
    } catch (const Cancelled &) {
        Q_EMIT failed(tr("Opening the dataset was cancelled."));
    } catch (const std::exception &e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

void DatasetWorker::loadClip(const ClipRow &clip)
{
    Q_ASSERT(QThread::currentThread() == thread());
    try {
        const ClipAnalysisResult r
            = ClipAnalysis::audioFile(clip.path.toStdString(), clip.startSec, clip.segmentSec);
        ClipAudio a;
        const QFileInfo file(clip.path);
        a.title = file.dir().dirName() + QLatin1Char('/') + file.fileName();
        a.samples = QVector<float>(r.samples.begin(), r.samples.end());
        a.sampleRate = r.sampleRate;
        a.spectrogram.values
            = QVector<float>(r.spectrogram.values.begin(), r.spectrogram.values.end());
        a.spectrogram.frames = int(r.spectrogram.frames);
        a.spectrogram.bins = int(r.spectrogram.bins);
        a.spectrogram.hopSec = r.spectrogram.hopSec;
        a.spectrogram.windowSec = r.spectrogram.windowSec;
        a.onsetSec = clip.onsetSec;
        a.offsetSec = clip.offsetSec;
        Q_EMIT clipLoaded(a);
    } catch (const std::exception &e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

} // namespace tkd
