#include "core/data/BuiltinCorpus.h"

#include "core/data/BuiltinCorpusSynthesis.h"
#include "core/data/FliteVoices.h"

#include "core/audio/AudioFile.h"
#include "core/data/NoiseGenerator.h"
#include "core/data/SpeechActivity.h"
#include "core/util/DirEntry.h"
#include "core/util/Error.h"
#include "core/util/Format.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"
#include "core/util/Rng.h"

#include <espeak-ng/speak_lib.h>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>

#include <cerrno>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;
using nlohmann::json;

namespace tkd {

using namespace corpus;

// ---- voice families -------------------------------------------------------------------------

namespace {
struct FamilyName
{
    VoiceFamily family;
    const char *name;
};
constexpr FamilyName kFamilyNames[]
    = { { VoiceFamily::Espeak, "espeak" }, { VoiceFamily::Flite, "flite" } };
} // namespace

const std::vector<VoiceFamily> &voiceFamilies()
{
    static const std::vector<VoiceFamily> all = [] {
        std::vector<VoiceFamily> v;
        for (const auto &f : kFamilyNames)
            v.push_back(f.family);
        return v;
    }();
    return all;
}

std::string voiceFamilyName(VoiceFamily f)
{
    for (const auto &n : kFamilyNames)
        if (n.family == f)
            return n.name;
    return "espeak";
}

VoiceFamily voiceFamilyFromName(const std::string &name)
{
    std::string known;
    for (const auto &n : kFamilyNames) {
        if (name == n.name)
            return n.family;
        known += std::string(known.empty() ? "" : ", ") + n.name;
    }
    throw Error("voice family", "'" + name + "' is not one of " + known);
}

// ---- config ---------------------------------------------------------------------------------

bool BuiltinCorpusConfig::randomised() const
{
    return fliteShare != 0.0 || speedMin != 1.0 || speedMax != 1.0 || pitchMinSt != 0.0
        || pitchMaxSt != 0.0 || vtlMin != 1.0 || vtlMax != 1.0;
}

int BuiltinCorpusConfig::generatorVersion() const
{
    return randomised() ? kGeneratorVersion : kNeutralGeneratorVersion;
}

VoiceFamily BuiltinCorpusConfig::onlyFamily() const
{
    return fliteShare >= 1.0 ? VoiceFamily::Flite : VoiceFamily::Espeak;
}

std::optional<BuiltinCorpusConfig> BuiltinCorpusConfig::unseenFamily(int count) const
{
    if (count <= 0 || (fliteShare > 0.0 && fliteShare < 1.0))
        return std::nullopt;
    BuiltinCorpusConfig u = *this;
    u.speakers = count;
    u.firstSpeaker = 300000;
    u.fliteShare = onlyFamily() == VoiceFamily::Flite ? 0.0 : 1.0;
    u.validationFraction = 0.0;
    u.testFraction = 0.95;
    return u;
}

const std::vector<std::string> &BuiltinCorpusConfig::effectiveWords() const
{
    return words.empty() ? speechCommandsWords35() : words;
}

void BuiltinCorpusConfig::validate() const
{
    if (speakers < 1 || speakers > 100000)
        throw Error(
            "corpus.speakers", "must be between 1 and 100000, got " + std::to_string(speakers));
    if (firstSpeaker < 0 || firstSpeaker > 1000000)
        throw Error("corpus.first_speaker",
            "must be between 0 and 1000000, got " + std::to_string(firstSpeaker));
    auto fraction = [](const char *key, double v) {
        if (!std::isfinite(v) || v < 0.0 || v >= 1.0)
            throw Error(key, "must be in [0, 1), got " + std::to_string(v));
    };
    fraction("corpus.validation_fraction", validationFraction);
    fraction("corpus.test_fraction", testFraction);
    if (validationFraction + testFraction >= 1.0)
        throw Error(
            "corpus.test_fraction", "validation + test fractions leave no training speakers");
    std::set<std::string> seen;
    for (const auto &w : words) {
        if (w.empty() || w.size() > 32
            || !std::all_of(w.begin(), w.end(), [](char c) { return c >= 'a' && c <= 'z'; }))
            throw Error("corpus.words", "'" + w + "' is not a lower-case word (a-z)");
        if (!seen.insert(w).second)
            throw Error("corpus.words", "'" + w + "' is listed twice");
    }
    if (silenceClipsPerSpeaker < 0 || silenceClipsPerSpeaker > 20)
        throw Error("corpus.silence_clips_per_speaker", "must be between 0 and 20");
    if (rateMinWpm < 80 || rateMaxWpm > 450 || rateMinWpm > rateMaxWpm)
        throw Error("corpus.rate_wpm",
            "needs 80 <= min <= max <= 450, got " + std::to_string(rateMinWpm) + ".."
                + std::to_string(rateMaxWpm));
    if (!std::isfinite(fliteShare) || fliteShare < 0.0 || fliteShare > 1.0)
        throw Error("corpus.flite_share", "must be in [0, 1], got " + std::to_string(fliteShare));
    auto range = [](const char *key, double lo, double hi, double min, double max) {
        if (!std::isfinite(lo) || !std::isfinite(hi) || lo > hi || lo < min || hi > max)
            throw Error(key,
                "needs " + formatNumber(min) + " <= lo <= hi <= " + formatNumber(max) + ", got ["
                    + formatNumber(lo) + ", " + formatNumber(hi) + "]");
    };
    range("corpus.speed", speedMin, speedMax, 0.5, 2.0);
    range("corpus.pitch_semitones", pitchMinSt, pitchMaxSt, -12.0, 12.0);
    range("corpus.vtl", vtlMin, vtlMax, 0.7, 1.4);
}

std::string BuiltinCorpusConfig::canonicalJson() const
{
    json j;
    j["speakers"] = speakers;
    j["seed"] = seed;
    j["words"] = effectiveWords();
    j["validation_fraction"] = validationFraction;
    j["test_fraction"] = testFraction;
    j["silence_clips_per_speaker"] = silenceClipsPerSpeaker;
    j["rate_wpm"] = { rateMinWpm, rateMaxWpm };
    if (firstSpeaker != 0) // absent at 0, so existing corpora keep their hash
        j["first_speaker"] = firstSpeaker;
    if (randomised()) { // absent when neutral, for the same reason
        j["flite_share"] = fliteShare;
        j["speed"] = { speedMin, speedMax };
        j["pitch_semitones"] = { pitchMinSt, pitchMaxSt };
        j["vtl"] = { vtlMin, vtlMax };
    }
    return j.dump(); // nlohmann's object keys are sorted
}

std::string BuiltinCorpusConfig::hash() const
{
    std::string key = canonicalJson() + "|generator " + std::to_string(generatorVersion()) + "|"
        + BuiltinCorpus::synthVersion() + "|" + kResampleQualityName;
    if (fliteShare > 0.0)
        key += "|" + fliteVersion();
    return Sha256::ofString(key).substr(0, 12);
}

// ---- corpus ---------------------------------------------------------------------------------

std::string BuiltinCorpus::synthVersion()
{
    const char *path = nullptr; // espeak_Info only reports; it initialises nothing
    return std::string("espeak-ng ") + espeak_Info(&path);
}

BuiltinCorpus::BuiltinCorpus(BuiltinCorpusConfig config, std::string cacheDir)
    : m_config(std::move(config))
{
    m_config.validate();
    if (cacheDir.empty())
        cacheDir = cacheRoot() + "/builtin-corpus";
    m_folder = cacheDir + "/" + m_config.hash();
}

namespace {

// The randomisation draws come from their own stream, so an espeak speaker keeps its accent,
// variant, rate and pitch whatever the randomisation settings are.
void randomiseSpeaker(const BuiltinCorpusConfig &cfg, uint64_t global, CorpusSpeaker &spk)
{
    Rng rng({ cfg.seed, 0x564f5852ULL /* VOXR */, global });
    auto round3 = [](double v) { return std::round(v * 1000.0) / 1000.0; };
    if (rng.uniform() < cfg.fliteShare) {
        spk.family = VoiceFamily::Flite;
        spk.voice = fliteVoices()[rng.below(fliteVoices().size())];
    } else {
        rng.below(fliteVoices().size()); // the same number of draws either way
    }
    spk.speed = round3(rng.uniform(cfg.speedMin, cfg.speedMax));
    spk.pitchSemitones = spk.family == VoiceFamily::Flite
        ? round3(rng.uniform(cfg.pitchMinSt, cfg.pitchMaxSt))
        : 0.0;
    spk.vtl = round3(rng.uniform(cfg.vtlMin, cfg.vtlMax));
}

} // namespace

std::vector<CorpusSpeaker> BuiltinCorpus::planSpeakers(const BuiltinCorpusConfig &cfg)
{
    cfg.validate();
    const int n = cfg.speakers;
    const int digits = std::max(4, int(std::to_string(cfg.firstSpeaker + n - 1).size()));
    std::vector<CorpusSpeaker> out(static_cast<size_t>(n));
    for (int s = 0; s < n; ++s) {
        const int global = cfg.firstSpeaker + s;
        Rng rng({ cfg.seed, 0x5350454bULL /* SPEK */, uint64_t(global) });
        auto &spk = out[size_t(s)];
        const std::string num = std::to_string(global);
        spk.id = "s" + std::string(size_t(std::max(0, digits - int(num.size()))), '0') + num;
        const auto &acc = accents()[rng.below(accents().size())];
        const auto &var = variants()[rng.below(variants().size())];
        spk.voice = var.empty() ? acc : acc + "+" + var;
        spk.rateWpm
            = cfg.rateMinWpm + int(rng.below(uint64_t(cfg.rateMaxWpm - cfg.rateMinWpm + 1)));
        spk.pitch = 20 + int(rng.below(61));
        spk.pitchRange = 20 + int(rng.below(71));
        spk.peakDb = std::round(rng.uniform(-14.0, -3.0) * 10.0) / 10.0;
        if (cfg.randomised())
            randomiseSpeaker(cfg, uint64_t(global), spk);
    }
    // Split by speaker: a seeded permutation, the first ones test, then validation, rest train.
    std::vector<int> order(static_cast<size_t>(n));
    for (int i = 0; i < n; ++i)
        order[size_t(i)] = i;
    Rng splitRng({ cfg.seed, 0x53504c54ULL /* SPLT */ });
    for (int i = n - 1; i > 0; --i)
        std::swap(order[size_t(i)], order[splitRng.below(uint64_t(i) + 1)]);
    int nTest = int(std::lround(n * cfg.testFraction));
    int nVal = int(std::lround(n * cfg.validationFraction));
    if (n >= 3) { // a tiny corpus still gets one speaker in each requested split
        if (cfg.testFraction > 0 && nTest == 0)
            nTest = 1;
        if (cfg.validationFraction > 0 && nVal == 0)
            nVal = 1;
    }
    while (nTest + nVal >= n && (nTest > 0 || nVal > 0)) {
        if (nVal >= nTest && nVal > 0)
            --nVal;
        else
            --nTest;
    }
    for (int i = 0; i < n; ++i) {
        auto &spk = out[size_t(order[size_t(i)])];
        spk.split = i < nTest ? Split::Test : i < nTest + nVal ? Split::Validation : Split::Train;
    }
    return out;
}

bool BuiltinCorpus::loadManifest()
{
    json j;
    try {
        j = json::parse(readFile(manifestPath()));
    } catch (...) {
        return false;
    }
    try {
        if (j.at("format") != "tkd-builtin-corpus" || j.at("config_hash") != m_config.hash()
            || j.at("config").dump() != m_config.canonicalJson())
            return false;
        std::vector<CorpusSpeaker> speakers;
        for (const auto &s : j.at("speakers")) {
            CorpusSpeaker spk;
            spk.id = s.at("id").get<std::string>();
            spk.voice = s.at("voice").get<std::string>();
            spk.rateWpm = s.at("rate_wpm").get<int>();
            spk.pitch = s.at("pitch").get<int>();
            spk.pitchRange = s.at("pitch_range").get<int>();
            spk.peakDb = s.at("peak_db").get<double>();
            if (s.contains("family")) { // randomised corpora only
                spk.family = voiceFamilyFromName(s.at("family").get<std::string>());
                spk.speed = s.at("speed").get<double>();
                spk.pitchSemitones = s.at("pitch_semitones").get<double>();
                spk.vtl = s.at("vtl").get<double>();
            }
            spk.split = splitFromName(s.at("split").get<std::string>());
            speakers.push_back(spk);
        }
        std::vector<CorpusClip> clips;
        for (const auto &c : j.at("clips")) {
            CorpusClip clip;
            clip.path = c.at("path").get<std::string>();
            clip.word = c.at("word").get<std::string>();
            clip.speaker = c.at("speaker").get<std::string>();
            clip.split = splitFromName(c.at("split").get<std::string>());
            clip.speechOnsetSec = c.at("speech_onset_sec").get<double>();
            clip.speechOffsetSec = c.at("speech_offset_sec").get<double>();
            clip.sha256 = c.at("sha256").get<std::string>();
            clips.push_back(clip);
        }
        m_speakers = std::move(speakers);
        m_clips = std::move(clips);
        m_contentHash = Sha256::ofString(readFile(manifestPath()));
        return true;
    } catch (...) {
        return false;
    }
}

bool BuiltinCorpus::isComplete() const
{
    BuiltinCorpus probe(*this);
    if (!probe.loadManifest())
        return false;
    const size_t expected = 44 + 2 * size_t(kClipSamples);
    for (const auto &c : probe.m_clips) {
        std::error_code ec;
        if (fs::file_size(m_folder + "/" + c.path, ec) != expected || ec)
            return false;
    }
    return true;
}

void BuiltinCorpus::writeManifest()
{
    json j;
    j["format"] = "tkd-builtin-corpus";
    j["generator_version"] = m_config.generatorVersion();
    j["config_hash"] = m_config.hash();
    j["config"] = json::parse(m_config.canonicalJson());
    j["seed"] = m_config.seed;
    j["synthesiser"] = synthVersion();
    if (m_config.fliteShare > 0.0)
        j["synthesiser_flite"] = fliteVersion();
    j["synthesis_rate"] = kSynthRate;
    j["sample_rate"] = kSampleRate;
    j["resample_quality"] = kResampleQualityName;
    j["clip_seconds"] = double(kClipSamples) / kSampleRate;
    json speakers = json::array();
    for (const auto &s : m_speakers) {
        json spk = { { "id", s.id }, { "voice", s.voice }, { "rate_wpm", s.rateWpm },
            { "pitch", s.pitch }, { "pitch_range", s.pitchRange }, { "peak_db", s.peakDb },
            { "split", splitName(s.split) } };
        if (m_config.randomised()) { // neutral corpora keep their version-2 manifest bytes
            spk["family"] = voiceFamilyName(s.family);
            spk["speed"] = s.speed;
            spk["pitch_semitones"] = s.pitchSemitones;
            spk["vtl"] = s.vtl;
        }
        speakers.push_back(spk);
    }
    j["speakers"] = speakers;
    json clips = json::array();
    json counts = { { "train", 0 }, { "validation", 0 }, { "test", 0 } };
    for (const auto &c : m_clips) {
        clips.push_back({ { "path", c.path }, { "word", c.word }, { "speaker", c.speaker },
            { "split", splitName(c.split) }, { "speech_onset_sec", c.speechOnsetSec },
            { "speech_offset_sec", c.speechOffsetSec }, { "sha256", c.sha256 } });
        counts[splitName(c.split)] = counts[splitName(c.split)].get<int>() + 1;
    }
    j["clip_counts"] = counts;
    j["clips"] = clips;
    const std::string bytes = j.dump(1) + "\n";
    writeFileAtomic(manifestPath(), bytes);
    m_contentHash = Sha256::ofString(bytes);
}

BuiltinCorpus::EnsureResult BuiltinCorpus::ensure(const Progress &progress, bool force)
{
    const auto t0 = std::chrono::steady_clock::now();
    EnsureResult result;
    if (force) {
        std::error_code ec;
        fs::remove_all(m_folder, ec);
        if (ec)
            throw Error(m_folder, "cannot remove the old corpus: " + ec.message());
    } else if (isComplete() && loadManifest()) {
        result.reused = true;
        return result;
    }
    makeDirs(m_folder);
    // A corpus that lost files since it was completed: its manifest still knows the speech windows
    // and hashes of the clips that are left, so only the lost speakers are made again.
    std::map<std::string, std::pair<double, double>> journal;
    std::map<std::string, std::string> knownSha;
    if (!force && loadManifest()) {
        for (const auto &c : m_clips) {
            journal[c.path] = { c.speechOnsetSec, c.speechOffsetSec };
            knownSha[c.path] = c.sha256;
        }
    }
    // An interrupted generation: the manifest (if any) is stale, temp files are halves.
    std::error_code ec;
    fs::remove(manifestPath(), ec);
    for (auto it = fs::recursive_directory_iterator(m_folder, ec);
         !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
        if (entryKind(*it) == EntryKind::RegularFile
            && it->path().filename().string().find(".tmp-") != std::string::npos)
            fs::remove(it->path(), ec);

    m_speakers = planSpeakers(m_config);
    const std::vector<ClipPlan> plan = planClips(m_config, m_speakers);

    // The journal of an interrupted run: which clips were completed, with their speech window
    // (which cannot be recovered from the file without synthesising again). A torn last line is
    // ignored; a clip without a journal line is made again.
    const std::string journalPath = m_folder + "/.partial.jsonl";
    {
        std::ifstream in(journalPath);
        std::string line;
        while (std::getline(in, line)) {
            try {
                const json e = json::parse(line);
                journal[e.at("path").get<std::string>()]
                    = { e.at("onset").get<double>(), e.at("offset").get<double>() };
            } catch (...) { }
        }
    }
    std::ofstream journalOut(journalPath, std::ios::app);
    if (!journalOut)
        throw Error(journalPath, "cannot write");

    std::vector<CorpusClip> clips(plan.size());
    std::set<std::string> madeDirs;
    auto store = [&](size_t i, const SynthesisedClip &made) {
        const std::string path = m_folder + "/" + plan[i].relPath;
        const std::string bytes = wavBytesPcm16(made.samples);
        const std::string dir = fs::path(path).parent_path().string();
        if (madeDirs.insert(dir).second)
            makeDirs(dir);
        writeClip(path, bytes);
        journalOut << json {
            { "path", plan[i].relPath }, { "onset", made.onsetSec }, { "offset", made.offsetSec }
        }.dump() << "\n";
        journalOut.flush();
        clips[i].speechOnsetSec = made.onsetSec;
        clips[i].speechOffsetSec = made.offsetSec;
        clips[i].sha256 = Sha256::ofString(bytes);
        ++result.synthesised;
    };
    auto keep = [&](size_t i) {
        std::string bytes;
        const auto done = journal.find(plan[i].relPath);
        if (done == journal.end() || !readIntactClip(m_folder + "/" + plan[i].relPath, bytes))
            return false;
        const std::string sha = Sha256::ofString(bytes);
        const auto known = knownSha.find(plan[i].relPath);
        if (known != knownSha.end() && known->second != sha)
            return false; // changed since the manifest was written
        clips[i].speechOnsetSec = done->second.first;
        clips[i].speechOffsetSec = done->second.second;
        clips[i].sha256 = sha;
        return true;
    };

    progress.report("synthesise", 0, int64_t(plan.size()));
    size_t i = 0;
    while (i < plan.size()) {
        progress.throwIfCancelled();
        // One speaker at a time: its keyword clips come from one synthesis process, so a speaker
        // is kept whole or made again whole.
        const size_t s = plan[i].speaker;
        size_t end = i;
        std::vector<size_t> keywords, silences;
        for (; end < plan.size() && plan[end].speaker == s; ++end) {
            (plan[end].silenceIndex >= 0 ? silences : keywords).push_back(end);
            clips[end].path = plan[end].relPath;
            clips[end].word = plan[end].word;
            clips[end].speaker = m_speakers[s].id;
            clips[end].split = m_speakers[s].split;
        }
        const bool allKept
            = std::all_of(keywords.begin(), keywords.end(), [&](size_t k) { return keep(k); });
        if (allKept) {
            result.kept += int(keywords.size());
        } else {
            std::vector<std::string> words;
            for (size_t k : keywords)
                words.push_back(plan[k].word);
            std::vector<SynthesisedClip> made;
            try {
                made = synthesiseSpeaker(m_config, s, m_speakers[s], words);
            } catch (const Error &e) {
                // A few espeak-ng variants crash on some pitch/rate settings (seen: one speaker in
                // 1200). The crash is deterministic, so the speaker falls back to its accent's
                // plain voice, the same way every time. Corpora that never crashed are unchanged.
                const auto plus = m_speakers[s].voice.find('+');
                if (std::string(e.what()).find("killed by signal") == std::string::npos
                    || plus == std::string::npos || m_speakers[s].family != VoiceFamily::Espeak)
                    throw;
                m_speakers[s].voice = m_speakers[s].voice.substr(0, plus);
                made = synthesiseSpeaker(m_config, s, m_speakers[s], words);
            }
            for (size_t k = 0; k < keywords.size(); ++k)
                store(keywords[k], made[k]);
        }
        for (size_t k : silences) {
            if (keep(k))
                ++result.kept;
            else
                store(k, synthesiseSilence(m_config, s, plan[k].silenceIndex));
        }
        i = end;
        progress.report("synthesise", int64_t(i), int64_t(plan.size()));
    }
    journalOut.close();
    m_clips = std::move(clips);
    writeManifest();
    fs::remove(journalPath, ec);
    result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    return result;
}

void BuiltinCorpus::verify(const Progress &progress) const
{
    for (size_t i = 0; i < m_clips.size(); ++i) {
        progress.throwIfCancelled();
        const std::string path = m_folder + "/" + m_clips[i].path;
        if (Sha256::ofFile(path) != m_clips[i].sha256)
            throw Error(path, "content differs from the corpus manifest (SHA-256 mismatch)");
        progress.report("verify", int64_t(i + 1), int64_t(m_clips.size()));
    }
}

DatasetIndex BuiltinCorpus::index12(int unknownPerSpeaker) const
{
    if (m_clips.empty())
        throw Error(m_folder, "corpus not loaded (call ensure() first)");
    if (unknownPerSpeaker < 0)
        throw Error("corpus.unknown_per_speaker", "must be >= 0");
    DatasetIndex idx;
    idx.name = "builtin-kws12";
    idx.root = m_folder;
    idx.classes = keywords10();
    idx.classes.push_back(kUnknownLabel);
    idx.classes.push_back(kSilenceLabel);
    const int unknownLabel = int(keywords10().size());
    const int silenceLabel = unknownLabel + 1;

    // The speaker's "unknown" words: a seeded choice among the non-keywords it spoke.
    std::map<std::string, std::set<std::string>> unknownWords;
    for (size_t s = 0; s < m_speakers.size(); ++s) {
        std::vector<std::string> others;
        for (const auto &w : m_config.effectiveWords())
            if (std::find(keywords10().begin(), keywords10().end(), w) == keywords10().end())
                others.push_back(w);
        Rng rng({ m_config.seed, 0x554e4b4eULL /* UNKN */, uint64_t(s) });
        const size_t k = std::min(others.size(), size_t(unknownPerSpeaker));
        for (size_t i = 0; i < k; ++i)
            std::swap(others[i], others[i + rng.below(others.size() - i)]);
        unknownWords[m_speakers[s].id] = std::set<std::string>(others.begin(), others.begin() + k);
    }
    for (const auto &c : m_clips) {
        int label = -1;
        if (c.word == kSilenceLabel)
            label = silenceLabel;
        else if (int k = idx.classIndex(c.word); k >= 0 && k < unknownLabel)
            label = k;
        else if (unknownWords[c.speaker].count(c.word))
            label = unknownLabel;
        if (label < 0)
            continue;
        ClipRef r;
        r.path = m_folder + "/" + c.path;
        r.labels = { label };
        r.split = c.split;
        r.speaker = c.speaker;
        r.word = c.word;
        r.speechOnsetSec = c.speechOnsetSec;
        r.speechOffsetSec = c.speechOffsetSec;
        idx.clips.push_back(std::move(r));
    }
    idx.contentHash = Sha256::ofString(
        m_contentHash + "|kws12|unknown_per_speaker=" + std::to_string(unknownPerSpeaker));
    return idx;
}

DatasetIndex BuiltinCorpus::index35() const
{
    if (m_clips.empty())
        throw Error(m_folder, "corpus not loaded (call ensure() first)");
    DatasetIndex idx;
    idx.name = "builtin-kws35";
    idx.root = m_folder;
    idx.classes = speechCommandsWords35();
    for (const auto &c : m_clips) {
        const int label = idx.classIndex(c.word);
        if (label < 0)
            continue; // silence clips (and words outside the 35)
        ClipRef r;
        r.path = m_folder + "/" + c.path;
        r.labels = { label };
        r.split = c.split;
        r.speaker = c.speaker;
        r.word = c.word;
        r.speechOnsetSec = c.speechOnsetSec;
        r.speechOffsetSec = c.speechOffsetSec;
        idx.clips.push_back(std::move(r));
    }
    idx.contentHash = Sha256::ofString(m_contentHash + "|kws35");
    return idx;
}

} // namespace tkd
