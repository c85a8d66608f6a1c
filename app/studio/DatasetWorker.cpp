#include "DatasetWorker.h"

#include "core/audio/AudioFile.h"
#include "core/data/DatasetSource.h"
#include "core/features/FeatureExtractor.h"
#include "core/util/Error.h"
#include "core/util/Progress.h"

#include <QDir>
#include <QFileInfo>

#include <cmath>

namespace tkd {

DatasetWorker::DatasetWorker(QObject *parent) : QObject(parent) {}

void DatasetWorker::openDataset(const QString &kind, const QString &path, int task)
{
    m_cancel.store(false);
    Progress p;
    p.cancel = &m_cancel;
    p.onProgress = [this](const std::string &stage, int64_t done, int64_t total) {
        Q_EMIT progress(QString::fromStdString(stage), done, total);
    };
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
    try {
        std::vector<float> samples = loadAudio(clip.path.toStdString());
        if (clip.segmentSec > 0) {
            // A segment of a longer recording (e.g. a silence clip cut from background noise).
            const size_t begin = std::min(samples.size(), size_t(std::llround(clip.startSec * kSampleRate)));
            const size_t len = size_t(std::llround(clip.segmentSec * kSampleRate));
            samples = std::vector<float>(samples.begin() + long(begin),
                                         samples.begin() + long(std::min(samples.size(), begin + len)));
        }
        FeatureConfig config;
        config.kind = FeatureConfig::Kind::LogMel;
        const FeatureExtractor extractor(config);
        const torch::Tensor mel = extractor.compute(samples).contiguous();

        ClipAudio a;
        const QFileInfo file(clip.path);
        a.title = file.dir().dirName() + QLatin1Char('/') + file.fileName();
        a.samples = QVector<float>(samples.begin(), samples.end());
        a.sampleRate = kSampleRate;
        a.frames = int(mel.size(0));
        a.bins = int(mel.size(1));
        a.spectrogram = QVector<float>(mel.data_ptr<float>(), mel.data_ptr<float>() + mel.numel());
        a.hopSec = config.hopMs / 1000.0;
        a.windowSec = config.windowMs / 1000.0;
        a.onsetSec = clip.onsetSec;
        a.offsetSec = clip.offsetSec;
        Q_EMIT clipLoaded(a);
    } catch (const std::exception &e) {
        Q_EMIT failed(QString::fromStdString(e.what()));
    }
}

} // namespace tkd
