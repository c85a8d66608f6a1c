#pragma once
// Real human voices for the personal-keyword tests: Debian's alsa-utils recordings (one person
// saying "Front Center", "Rear Right", ...) stand in for the user's takes, and the freedesktop
// sound theme's files of the same phrases are the "held-out" takes. They are NOT another voice:
// they are the same recordings, Ogg Vorbis-encoded (the difference is about -30 dB), so they check
// that the adapted student learned the takes through a different codec, not that it generalises
// to another speaker (no second human recording is available here). Test material only: never
// part of a corpus or a shipped model. Also a tiny run trained here at L = 2 s.
#include "core/audio/AudioFile.h"
#include "core/infer/LiveFixture.h" // the tiny run and the file-backed capture devices

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

// A tiny run at L = 2 s (the phrases last about a second), 15 student epochs on 2 threads.
// About a minute on one core.
struct VoiceRun
{
    std::string runDir, cellDir;
    void build(const std::string &root)
    {
        TinyRunShape s;
        s.name = "voice-fixture";
        s.lengthSec = 2.0;
        s.snrDbMin = 10.0;
        s.epochs = 15;
        s.batchSize = 32;
        s.threads = 2;
        runDir = trainTinyRun(root, tinyRunConfig(root, s), 2, &cellDir);
    }
};

} // namespace tkd::test
