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
#include <map>
#include <random>
#include <string>
#include <vector>

namespace tkd::test {

// The tiny keyword run the live, evaluation and personal-keyword tests train for themselves: a
// 30-speaker built-in corpus (in root/cache, through TKD_CACHE_DIR), keywords in white and pink
// noise without babble, a tiny spectral teacher (3 epochs) and one TC-ResNet8 student with the
// attention branch (lambda 0.25), one seed. What differs between the tests is its shape.
struct TinyRunShape
{
    std::string name;
    double lengthSec = 1.0;
    double snrDbMin = 20.0, snrDbMax = 30.0;
    int epochs = 30;
    int batchSize = 16;
    int threads = 1;
};

inline ExperimentConfig tinyRunConfig(const std::string &root, const TinyRunShape &s)
{
    ExperimentConfig c;
    c.name = s.name;
    c.data.source = "builtin";
    c.data.corpus.speakers = 30;
    c.data.noisy.lengthSec = s.lengthSec;
    c.data.noisy.snrDbMin = s.snrDbMin;
    c.data.noisy.snrDbMax = s.snrDbMax;
    c.data.noisy.noise = { "white", "pink" };
    c.data.noisy.babbleWords = 0;
    c.teacher.kind = tkd::TeacherKind::Tiny;
    c.teacher.epochs = 3;
    c.teacher.batchSize = 16;
    c.students = { "tc-resnet8" };
    c.kd.lambdas = { 0.25 };
    c.grid.lengthsSec = { s.lengthSec };
    c.grid.seeds = { 1 };
    c.train.epochs = s.epochs;
    c.train.batchSize = s.batchSize;
    c.train.lr = 3e-3;
    c.train.warmupEpochs = 0;
    c.train.numThreads = s.threads;
    c.output.runsDir = root + "/runs";
    return c;
}

// Trains it; returns the run folder and sets `cellDir` to its one student (throws tkd::Error).
inline std::string trainTinyRun(
    const std::string &root, const ExperimentConfig &c, int threads, std::string *cellDir)
{
    qputenv("TKD_CACHE_DIR", QByteArray::fromStdString(root + "/cache"));
    PipelineOptions o;
    o.threads = threads;
    const PipelineResult r = Pipeline(c, o).run();
    if (cellDir)
        *cellDir = r.runDir + "/students/"
            + PipelineResult::cellName("tc-resnet8", c.data.noisy.lengthSec, 0.25, 1);
    return r.runDir;
}

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
        TinyRunShape s;
        s.name = "live-fixture";
        config = tinyRunConfig(root, s);
        runDir = trainTinyRun(root, config, 1, &cellDir);
        index = config.datasetSource().open();
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

// ALSA capture devices (one `type file` PCM each) playing the given audio files as 16 kHz mono
// int16, in homeDir/.asoundrc: point HOME at homeDir before PortAudio starts. Returns false when
// a file cannot be written.
inline bool writeCaptureDevices(
    const QString &homeDir, const std::map<QString, std::string> &devices)
{
    QFile rc(homeDir + "/.asoundrc");
    if (!rc.open(QIODevice::WriteOnly))
        return false;
    for (const auto &[name, audio] : devices) {
        const QString rawPath = homeDir + "/" + name + ".raw";
        QFile raw(rawPath);
        if (!raw.open(QIODevice::WriteOnly))
            return false;
        for (float x : loadAudio(audio)) {
            const int16_t s
                = int16_t(std::clamp<long>(std::lround(double(x) * 32768.0), -32768, 32767));
            raw.write(reinterpret_cast<const char *>(&s), 2);
        }
        rc.write(
            QStringLiteral("pcm.%1 {\n  type file\n  slave.pcm \"null\"\n  file \"/dev/null\"\n"
                           "  infile \"%2\"\n  format \"raw\"\n}\n")
                .arg(name, rawPath)
                .toUtf8());
    }
    return true;
}

// One such device named `pcmName`, playing `wavPath`.
inline bool writeFileCaptureDevice(
    const QString &homeDir, const QString &pcmName, const QString &wavPath)
{
    return writeCaptureDevices(homeDir, { { pcmName, wavPath.toStdString() } });
}

} // namespace tkd::test
