#pragma once

#include "core/data/Dataset.h"
#include "core/util/Progress.h"

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace tkd {

// The synthesisers of the built-in corpus. One name table (voiceFamilyName / FromName).
enum class VoiceFamily {
    Espeak, // espeak-ng's English accents x variants (formant synthesis)
    Flite // Debian's flite voices (diphone and clustergen)
};
const std::vector<VoiceFamily> &voiceFamilies();
std::string voiceFamilyName(VoiceFamily f); // "espeak", "flite"
VoiceFamily voiceFamilyFromName(const std::string &name); // throws tkd::Error("voice family")

// What the built-in keyword corpus is made of. Everything that changes a single byte of the
// output is in here (and in the hash, with the synthesiser version), so the cache folder name is
// a faithful key.
struct BuiltinCorpusConfig
{
    // 400 speakers: 14,400 clips, 3,840 training clips for the 12-label task (the calibration
    // probe found ~2k too few for RNN students). Synthesis costs ~40 s of CPU (bench_corpus.sh:
    // 2 min wall on a 2-core machine at load 10) and 455 MB of disk.
    int speakers = 400;
    uint64_t seed = 1;
    // Index of the first speaker: speaker k of a corpus is global speaker firstSpeaker + k (its
    // voice, rate, pitch and clips are a function of (seed, global index) alone). Experiments use
    // 0; the shipped teacher was pretrained on speakers from 100000 on, so it has heard none of
    // the speakers of any experiment's corpus (at most 100000 speakers).
    int firstSpeaker = 0;
    std::vector<std::string> words; // empty: the 35 Speech Commands v2 words
    double validationFraction = 0.1; // of the speakers; the rest minus test is training
    double testFraction = 0.1;
    int silenceClipsPerSpeaker = 1; // low-level noise-only clips for the "_silence_" label
    int rateMinWpm = 140; // espeak speaking rate range, words per minute
    int rateMaxWpm = 220;

    // Domain randomisation of the voices (issue 13), drawn once per speaker. The neutral defaults
    // make exactly the espeak-only corpus of generator version 2, byte for byte (and its hash), so
    // every committed figure stays reproducible; anything else makes a version-3 corpus.
    double fliteShare = 0.0; // corpus.flite_share: share of speakers voiced by flite, not espeak-ng
    double speedMin = 1.0, speedMax = 1.0; // corpus.speed: speaking-rate factor (the synthesiser's)
    double pitchMinSt = 0.0, pitchMaxSt = 0.0; // corpus.pitch_semitones: flite voices' F0 shift
    double vtlMin = 1.0, vtlMax = 1.0; // corpus.vtl: formant (vocal-tract length) factor

    bool randomised() const; // any of the four above away from neutral
    int generatorVersion() const; // 2, or 3 when randomised()
    // The leave-one-family-out corpus: `speakers` new speakers (numbered from 300000: no
    // experiment and not the teacher has them) of the family this corpus does not use, with the
    // same randomisation, nearly all in the test split. Empty when the corpus uses both families.
    std::optional<BuiltinCorpusConfig> unseenFamily(int speakers) const;
    VoiceFamily onlyFamily() const; // Espeak when fliteShare is 0, Flite when 1

    const std::vector<std::string> &effectiveWords() const;
    // Throws tkd::Error("corpus.<key>", reason).
    void validate() const;
    std::string canonicalJson() const; // compact, sorted keys: the thing that gets hashed
    std::string hash() const; // 12 hex digits of SHA-256 over canonicalJson + synth version
};

// One synthetic voice: an espeak-ng English voice with a variant, rate, pitch and pitch range, or
// a flite voice; with the corpus's per-speaker randomisation.
struct CorpusSpeaker
{
    std::string id; // "s0042"
    VoiceFamily family = VoiceFamily::Espeak;
    std::string voice; // espeak name, e.g. "en-us+f3"; flite: "kal", "slt", ...
    int rateWpm = 175; // espeak
    int pitch = 50; // espeak 0..100
    int pitchRange = 50;
    double peakDb = -6.0; // clip peak level, dBFS
    double speed = 1.0; // speaking-rate factor (> 1 faster)
    double pitchSemitones = 0.0; // flite: F0 shift
    double vtl = 1.0; // formants scaled by it, at the same duration (and, for flite, the same F0)
    Split split = Split::Train;
    bool neutral() const { return speed == 1.0 && pitchSemitones == 0.0 && vtl == 1.0; }
};

struct CorpusClip
{
    std::string path; // relative to the corpus folder
    std::string word; // a keyword, or "_silence_" for noise-only clips
    std::string speaker;
    Split split = Split::Train;
    double speechOnsetSec = -1.0; // inside the 1 s clip; -1 for silence clips
    double speechOffsetSec = -1.0;
    std::string sha256;
};

// The built-in keyword corpus: the Speech Commands v2 words spoken by many synthetic espeak-ng
// speakers, split by speaker, generated once into cacheRoot()/builtin-corpus/<config hash>/.
// Each clip is a pure function of (config, speaker, word), so a killed generation is completed
// later with byte-identical results, and two generations with the same config are identical.
class BuiltinCorpus
{
public:
    static constexpr int kClipSamples = 16000; // 1 s at kSampleRate
    static constexpr int kSynthRate = 22050; // espeak-ng's native output rate

    // cacheDir: the folder holding corpora (default cacheRoot() + "/builtin-corpus").
    explicit BuiltinCorpus(BuiltinCorpusConfig config = {}, std::string cacheDir = {});

    const BuiltinCorpusConfig &config() const { return m_config; }
    std::string folder() const { return m_folder; }
    std::string manifestPath() const { return m_folder + "/manifest.json"; }

    struct EnsureResult
    {
        bool reused = false; // a complete corpus was already there
        int synthesised = 0; // clips made now
        int kept = 0; // clips of an interrupted generation found intact and kept
        double seconds = 0.0;
    };
    // Makes the corpus available: reuses a complete one, completes a partial one (killed
    // mid-way: no manifest yet, or files missing), or regenerates everything with force.
    // Throws tkd::Cancelled when progress.cancel is set (what is written so far stays usable).
    EnsureResult ensure(const Progress &progress = {}, bool force = false);

    // True when manifest.json is there, matches this config and every file exists.
    bool isComplete() const;

    // Valid after ensure().
    const std::vector<CorpusClip> &clips() const { return m_clips; }
    const std::vector<CorpusSpeaker> &speakers() const { return m_speakers; }
    std::string contentHash() const { return m_contentHash; } // SHA-256 of manifest.json

    // Rereads every file and compares it with the manifest's SHA-256; throws tkd::Error naming
    // the first file that differs.
    void verify(const Progress &progress = {}) const;

    // The common 12-label task: 10 keywords, "_unknown_" (unknownPerSpeaker of the other words per
    // speaker, so it is about as frequent as one keyword) and "_silence_". Valid after ensure().
    DatasetIndex index12(int unknownPerSpeaker = 1) const;
    // All 35 words, one label each (no silence).
    DatasetIndex index35() const;

    // The speaker plan alone (voices and splits), a pure function of the config.
    static std::vector<CorpusSpeaker> planSpeakers(const BuiltinCorpusConfig &config);
    // The espeak-ng version string (initialises the synthesiser once).
    static std::string synthVersion();

private:
    bool loadManifest();
    void writeManifest();

    BuiltinCorpusConfig m_config;
    std::string m_folder;
    std::vector<CorpusSpeaker> m_speakers;
    std::vector<CorpusClip> m_clips;
    std::string m_contentHash;
};

} // namespace tkd
