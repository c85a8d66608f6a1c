#pragma once

// Private to core/data: how the built-in corpus is synthesised (espeak-ng in a child process per
// speaker, trimmed, levelled and placed in a one-second clip) and written, for BuiltinCorpus.

#include "core/data/BuiltinCorpus.h"

#include <cstddef>
#include <string>
#include <vector>

namespace tkd::corpus {

// Bumped whenever the synthesis recipe changes, so old caches are never mistaken for new ones.
// 2: noise floor and silence from Rng::normalFast; 3: voice randomisation (flite voices, speed,
// pitch, vocal-tract length). A neutral config makes exactly a version-2 corpus and keeps its hash.
constexpr int kGeneratorVersion = 3;
constexpr int kNeutralGeneratorVersion = 2;
constexpr const char *kResampleQualityName = "sinc-fastest";

// English accents x variants that stay intelligible and do not clip.
const std::vector<std::string> &accents();
const std::vector<std::string> &variants();

struct ClipPlan
{
    size_t speaker = 0;
    std::string word; // or kSilenceLabel
    int silenceIndex = -1;
    std::string relPath;
};

struct SynthesisedClip
{
    std::vector<float> samples; // kClipSamples
    double onsetSec = -1.0, offsetSec = -1.0;
};

std::vector<ClipPlan> planClips(
    const BuiltinCorpusConfig &cfg, const std::vector<CorpusSpeaker> &speakers);
// Every word of one speaker, spoken in a child process (espeak-ng is not re-entrant).
std::vector<SynthesisedClip> synthesiseSpeaker(const BuiltinCorpusConfig &cfg, size_t speakerIndex,
    const CorpusSpeaker &spk, const std::vector<std::string> &words);
SynthesisedClip synthesiseSilence(const BuiltinCorpusConfig &cfg, size_t speakerIndex, int k);

std::string wavBytesPcm16(const std::vector<float> &x);
// Temp file + rename without fsync (thousands of clips): the manifest, written last with
// writeFileAtomic, is what marks a corpus complete.
void writeClip(const std::string &path, const std::string &bytes);
// A clip file that is a whole WAV of the expected size (an interrupted run's are kept).
bool readIntactClip(const std::string &path, std::string &bytes);

} // namespace tkd::corpus
