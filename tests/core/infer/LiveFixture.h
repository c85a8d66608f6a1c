#pragma once
// A tiny trained run for the live tests, made by the test itself: a 30-speaker built-in corpus
// (in a temporary TKD_CACHE_DIR), 1 s clips at a high SNR, a tiny spectral teacher (3 epochs)
// and one TC-ResNet8 student with the attention branch (lambda 0.25, 30 epochs). About half a
// minute on one core. Also the test recording: a keyword clip the student recognises offline,
// placed at a known time in low-level noise.
#include "core/audio/AudioFile.h"
#include "core/data/DatasetSource.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/infer/LiveModel.h"
#include "core/infer/StreamingClassifier.h"
#include "core/train/Pipeline.h"

#include <QFile>
#include <QTemporaryDir>
#include <QtGlobal>

#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <vector>

namespace tkd::test {

struct LiveRecording
{
    std::vector<float> samples; // 16 kHz mono
    std::string word;
    int classIndex = -1;
    double keywordOnsetSec = 0.0; // the spoken word inside the recording
    double keywordOffsetSec = 0.0;
    double clipStartSec = 0.0; // where the 1 s corpus clip was placed
    std::string sourcePath;
};

class LiveFixture
{
public:
    // Trains the run (throws tkd::Error on failure).
    void build(const std::string &root)
    {
        qputenv("TKD_CACHE_DIR", QByteArray::fromStdString(root + "/cache"));
        ExperimentConfig c;
        c.name = "live-fixture";
        c.data.source = "builtin";
        c.data.corpus.speakers = 30;
        c.data.noisy.lengthSec = 1.0;
        c.data.noisy.snrDbMin = 20.0;
        c.data.noisy.snrDbMax = 30.0;
        c.data.noisy.noise = { "white", "pink" };
        c.data.noisy.babbleWords = 0;
        c.teacher.kind = tkd::TeacherKind::Tiny;
        c.teacher.epochs = 3;
        c.teacher.batchSize = 16;
        c.students = { "tc-resnet8" };
        c.kd.lambdas = { 0.25 };
        c.grid.lengthsSec = { 1.0 };
        c.grid.seeds = { 1 };
        c.train.epochs = 30;
        c.train.batchSize = 16;
        c.train.lr = 3e-3;
        c.train.warmupEpochs = 0;
        c.train.numThreads = 1;
        c.output.runsDir = root + "/runs";
        config = c;
        PipelineOptions o;
        o.threads = 1;
        const PipelineResult r = Pipeline(c, o).run();
        runDir = r.runDir;
        cellDir = runDir + "/students/" + PipelineResult::cellName("tc-resnet8", 1.0, 0.25, 1);
        index = c.datasetSource().open();
    }

    // A recording of `lengthSec` with one keyword clip at `clipStartSec`: the first keyword clip
    // (training split first: this tests the streaming path, not generalisation) that the
    // student classifies correctly with at least `minPosterior` when the window is centred on it,
    // and where no other keyword reaches 0.5 in any hop's window.
    LiveRecording recording(StreamingClassifier &classifier, double lengthSec, double clipStartSec,
        double minPosterior = 0.8, Split split = Split::Train) const
    {
        const int sr = kSampleRate;
        std::mt19937 rng(7);
        std::normal_distribution<float> noise(0.0f, 0.003f); // about -50 dBFS
        std::vector<float> bed(size_t(lengthSec * sr));
        for (auto &x : bed)
            x = noise(rng);
        const auto &names = classifier.classes();
        for (const ClipRef *clip : index.clipsIn(split)) {
            if (clip->labels.size() != 1 || clip->speechOnsetSec < 0.0)
                continue;
            const std::string &label = names[size_t(clip->labels[0])];
            if (label.empty() || label[0] == '_')
                continue;
            std::vector<float> audio = loadAudio(clip->path);
            // The window centred on the spoken word, offline.
            const double mid = 0.5 * (clip->speechOnsetSec + clip->speechOffsetSec);
            const int64_t w = classifier.windowSamples();
            std::vector<float> rec = bed;
            const size_t at = size_t(clipStartSec * sr);
            for (size_t i = 0; i < audio.size() && at + i < rec.size(); ++i)
                rec[at + i] += audio[i];
            const int64_t start = std::clamp<int64_t>(
                int64_t((clipStartSec + mid) * sr) - w / 2, 0, int64_t(rec.size()) - w);
            std::vector<float> window(rec.begin() + start, rec.begin() + start + w);
            const std::vector<float> p = classifier.classifyWindow(window);
            if (p[size_t(clip->labels[0])] < minPosterior)
                continue;
            // And no other keyword anywhere in the recording reaches 0.5 (a weak model can call
            // the noise bed a keyword; such a recording would test the model, not the stream).
            bool clean = true;
            const int64_t hop = int64_t(std::llround(classifier.hopSec() * sr));
            for (int64_t s0 = 0; clean && s0 + w <= int64_t(rec.size()); s0 += hop) {
                const std::vector<float> q = classifier.classifyWindow(
                    std::vector<float>(rec.begin() + s0, rec.begin() + s0 + w));
                for (size_t k = 0; k < q.size(); ++k)
                    if (int(k) != clip->labels[0] && names[k][0] != '_' && q[k] >= 0.5f)
                        clean = false;
            }
            if (!clean)
                continue;
            LiveRecording r;
            r.samples = std::move(rec);
            r.word = label;
            r.classIndex = clip->labels[0];
            r.clipStartSec = clipStartSec;
            r.keywordOnsetSec = clipStartSec + clip->speechOnsetSec;
            r.keywordOffsetSec = clipStartSec + clip->speechOffsetSec;
            r.sourcePath = clip->path;
            return r;
        }
        return {};
    }

    ExperimentConfig config;
    std::string runDir;
    std::string cellDir;
    DatasetIndex index;
};

// An ALSA capture device named `pcmName` that plays `wavPath` (16 kHz mono int16 raw, from its
// samples) through PortAudio: `homeDir`/.asoundrc with a `type file` PCM. Point HOME at homeDir.
// Returns false when a file cannot be written.
inline bool writeFileCaptureDevice(
    const QString &homeDir, const QString &pcmName, const QString &wavPath)
{
    const QString rawPath = homeDir + "/" + pcmName + ".raw";
    QFile raw(rawPath);
    if (!raw.open(QIODevice::WriteOnly))
        return false;
    for (float x : loadAudio(wavPath.toStdString())) {
        const int16_t s
            = int16_t(std::clamp<long>(std::lround(double(x) * 32768.0), -32768, 32767));
        raw.write(reinterpret_cast<const char *>(&s), 2);
    }
    raw.close();
    QFile rc(homeDir + "/.asoundrc");
    if (!rc.open(QIODevice::WriteOnly))
        return false;
    rc.write(QStringLiteral("pcm.%1 {\n  type file\n  slave.pcm \"null\"\n  file \"/dev/null\"\n"
                            "  infile \"%2\"\n  format \"raw\"\n}\n")
                 .arg(pcmName, rawPath)
                 .toUtf8());
    return true;
}

} // namespace tkd::test
