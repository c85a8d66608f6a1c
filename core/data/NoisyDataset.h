#pragma once

#include "core/data/Dataset.h"
#include "core/data/NoiseGenerator.h"
#include "core/data/RoomChannel.h"
#include "core/data/SpeechActivity.h"
#include "core/util/Progress.h"

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace tkd {

class Rng;

// How a long noisy clip is built around each keyword clip. Keys in error messages are the
// experiment config's ("noise.snr_db", ...).
struct NoisyConfig
{
    double lengthSec = 4.0; // noise.length_sec: total clip length L (any value >= 0.5 s)
    double snrDbMin = 0.0; // noise.snr_db: background SNR drawn uniformly from [min, max]
    double snrDbMax = 10.0;
    std::vector<NoiseKind> kinds = { NoiseKind::White, NoiseKind::Pink,
        NoiseKind::Brown }; // noise.kinds: one drawn per item
    std::string noiseFolder; // noise.folder: for "folder" (else the index's noiseFiles)
    double babbleGainDb
        = -10.0; // noise.babble_gain_db: each overlaid word, relative to the keyword
    int babbleWords = 2; // noise.babble_words: other words overlaid on every item (0: none)
    uint64_t seed = 1; // noise.seed
    RoomChannelConfig roomChannel; // noise.reverb_share ... noise.gain_db (neutral by default)

    void validate() const; // throws tkd::Error("noise.<key>", reason)
    std::string canonicalJson() const;
};

// One noisy item: the long clip and everything needed to score attention against it.
struct NoisyItem
{
    std::vector<float> samples; // lengthSec * kSampleRate, 16 kHz mono
    std::vector<int> labels;
    Split split = Split::Train;
    size_t index = 0;
    std::string sourcePath; // the keyword (or silence) clip it was built from
    std::string word;
    std::string speaker;
    double placementSec = 0.0; // where the source clip's sample 0 sits (negative if cropped)
    double keywordOnsetSec = -1.0; // the keyword's true window in the long clip; -1 for silence
    double keywordOffsetSec = -1.0;
    NoiseKind noiseKind = NoiseKind::White;
    std::string noiseSource; // noise file for "folder"
    double snrDb = 0.0; // requested = achieved background SNR over the keyword window
    std::vector<std::string> babbleSources;
    double mixGain = 1.0; // final scale applied to the whole mix to avoid clipping
    RoomChannelDraw roomChannel; // the room, channel and gain applied after it
    bool silence() const { return keywordOnsetSec < 0.0; }
};

// The noisy construction over ANY DatasetIndex: each keyword clip placed at a uniform random
// offset inside L seconds of background noise at a random SNR, plus a few other words from the
// same split as babble. Item i of a split is a pure function of (config hash, seed, split, i):
// it seeds its own tkd::Rng, so items can be built in any order, on any thread, by any number of
// NoisyDataset objects, and always come out the same (the teacher attention cache relies on it).
class NoisyDataset
{
public:
    // Validates the config (and the noise folder) and keeps a copy of the index.
    NoisyDataset(DatasetIndex index, NoisyConfig config);

    const DatasetIndex &index() const { return m_index; }
    const NoisyConfig &config() const { return m_config; }
    size_t size(Split split) const;
    size_t lengthSamples() const { return m_length; }
    // Identifies config + source index; cache key for features and teacher attention.
    std::string contentHash() const { return m_contentHash; }

    // Thread-safe. Throws tkd::Error naming the source file when it cannot be read.
    NoisyItem item(Split split, size_t i) const;

    // Writes <outDir>/<split>/<index>_<word>.wav and <outDir>/manifest.json (config, and per item
    // labels, source, placement, keyword onset/offset, noise, SNR) for browsing. maxPerSplit = 0:
    // every item.
    void materialise(
        const std::string &outDir, const Progress &progress = {}, size_t maxPerSplit = 0) const;

private:
    struct Source
    {
        std::vector<float> samples;
        SpeechWindow window; // in the source clip; !found() for silence / inaudible
    };
    Source loadSource(const ClipRef &clip) const;
    std::shared_ptr<const std::vector<float>> noiseFile(const std::string &path) const;
    bool isSilence(const ClipRef &clip) const;
    // coverAt: a sample the first word is centred on (the keyword's centre), or -1.
    std::vector<float> babbleBed(Split split, const std::string &avoidWord, size_t n, long coverAt,
        Rng &rng, std::vector<std::string> &sources) const;
    const ClipRef *pickOtherWord(Split split, const std::string &avoidWord, Rng &rng) const;

    DatasetIndex m_index;
    NoisyConfig m_config;
    size_t m_length = 0;
    std::string m_contentHash;
    uint64_t m_hashKey = 0;
    int m_silenceLabel = -1;
    std::vector<std::string> m_noiseFiles;
    std::map<Split, std::vector<size_t>> m_splitClips; // clip indices per split, index order
    SpeechActivity m_vad;

    mutable std::mutex m_noiseMutex;
    mutable std::map<std::string, std::shared_ptr<const std::vector<float>>> m_noiseCache;
};

} // namespace tkd
