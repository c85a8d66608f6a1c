#pragma once
// Real human voices for the personal-keyword tests: Debian's alsa-utils recordings (one person
// saying "Front Center", "Rear Right", ...) stand in for the user's takes, and the freedesktop
// sound theme's files of the same phrases are the "held-out" takes. They are NOT another voice:
// they are the same recordings, Ogg Vorbis-encoded (the difference is about -30 dB), so they check
// that the adapted student learned the takes through a different codec, not that it generalises
// to another speaker (no second human recording is available here). Test material only: never
// part of a corpus or a shipped model. Also a tiny run trained here at
// L = 2 s (the phrases last about a second) and ALSA file-backed capture devices.
#include "core/audio/AudioFile.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/train/Pipeline.h"

#include <QFile>
#include <QFileInfo>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <map>
#include <string>
#include <vector>

namespace tkd::test {

// keyword (a folder name) -> the phrase's file stem.
inline const std::map<std::string, std::string> &voicePhrases()
{
    static const std::map<std::string, std::string> m = {
        { "front-center", "Front_Center" },
        { "rear-right", "Rear_Right" },
        { "side-left", "Side_Left" },
    };
    return m;
}

inline std::string alsaVoice(const std::string &keyword)
{
    return "/usr/share/sounds/alsa/" + voicePhrases().at(keyword) + ".wav";
}

inline std::string freedesktopVoice(const std::string &keyword)
{
    std::string stem = voicePhrases().at(keyword);
    std::transform(stem.begin(), stem.end(), stem.begin(),
        [](unsigned char c) { return c == '_' ? '-' : char(std::tolower(c)); });
    return "/usr/share/sounds/freedesktop/stereo/audio-channel-" + stem + ".oga";
}

inline bool haveVoices()
{
    for (const auto &[k, v] : voicePhrases())
        if (!QFileInfo::exists(QString::fromStdString(alsaVoice(k)))
            || !QFileInfo::exists(QString::fromStdString(freedesktopVoice(k))))
            return false;
    return true;
}

// A "take" of a recording: spoken a little faster or slower (resampled by `speed`), at `gain`.
inline std::vector<float> variantTake(const std::string &path, double speed, double gain)
{
    const std::vector<float> x = loadAudio(path);
    std::vector<float> y = resample(x.data(), x.size(), kSampleRate * speed, kSampleRate);
    for (float &v : y)
        v = float(std::clamp(v * gain, -1.0, 1.0));
    return y;
}

// A tiny run: 30-speaker built-in corpus, clips of 2 s, tiny teacher (3 epochs), TC-ResNet8
// (lambda 0.25). About a minute on one core.
struct VoiceRun
{
    std::string runDir, cellDir;
    void build(const std::string &root)
    {
        qputenv("TKD_CACHE_DIR", QByteArray::fromStdString(root + "/cache"));
        ExperimentConfig c;
        c.name = "voice-fixture";
        c.data.source = "builtin";
        c.data.corpus.speakers = 30;
        c.data.noisy.lengthSec = 2.0;
        c.data.noisy.snrDbMin = 10.0;
        c.data.noisy.snrDbMax = 30.0;
        c.data.noisy.noise = { "white", "pink" };
        c.data.noisy.babbleWords = 0;
        c.teacher.kind = tkd::TeacherKind::Tiny;
        c.teacher.epochs = 3;
        c.teacher.batchSize = 16;
        c.students = { "tc-resnet8" };
        c.kd.lambdas = { 0.25 };
        c.grid.lengthsSec = { 2.0 };
        c.grid.seeds = { 1 };
        c.train.epochs = 15;
        c.train.batchSize = 32;
        c.train.lr = 3e-3;
        c.train.warmupEpochs = 0;
        c.train.numThreads = 2;
        c.output.runsDir = root + "/runs";
        PipelineOptions o;
        o.threads = 2;
        const PipelineResult r = Pipeline(c, o).run();
        runDir = r.runDir;
        cellDir = runDir + "/students/" + PipelineResult::cellName("tc-resnet8", 2.0, 0.25, 1);
    }
};

// ALSA capture devices (one `type file` PCM each) playing the given audio files as 16 kHz mono
// int16, in homeDir/.asoundrc: point HOME at homeDir before PortAudio starts.
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

} // namespace tkd::test
