#include "core/data/NoisyDataset.h"

#include "core/audio/AudioFile.h"
#include "core/data/NoiseGenerator.h"
#include "core/util/DirEntry.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"
#include "core/util/Rng.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <set>

namespace fs = std::filesystem;
using nlohmann::json;

namespace tkd {

namespace {

constexpr int kRecipeVersion = 2; // bump when item construction changes (2: ziggurat noise)
constexpr double kNominalSpeechRms = 0.1; // reference level where there is no keyword (silence)
constexpr double kBabblePadSec = 0.02; // kept around a babble word's speech window
constexpr double kBabbleBedWordsPerSec = 4; // density of the "babble" background kind
constexpr float kMaxPeak = 0.99f;

double meanSquare(const float *x, size_t n)
{
    if (n == 0)
        return 0.0;
    double e = 0.0;
    for (size_t i = 0; i < n; ++i)
        e += double(x[i]) * x[i];
    return e / double(n);
}

// Adds src (scaled) into dst at offset, clipping whatever falls outside dst.
void addAt(std::vector<float> &dst, const std::vector<float> &src, long offset, double gain)
{
    for (size_t k = 0; k < src.size(); ++k) {
        const long j = offset + long(k);
        if (j >= 0 && j < long(dst.size()))
            dst[size_t(j)] += float(src[k] * gain);
    }
}

bool isAudioFile(const fs::path &p)
{
    std::string ext = p.extension().string();
    std::transform(
        ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return std::tolower(c); });
    return ext == ".wav" || ext == ".flac" || ext == ".ogg" || ext == ".mp3" || ext == ".aiff"
        || ext == ".aif";
}

} // namespace

void NoisyConfig::validate() const
{
    if (!std::isfinite(lengthSec) || lengthSec < 0.5 || lengthSec > 600.0)
        throw Error("noise.length_sec",
            "must be between 0.5 and 600 seconds, got " + std::to_string(lengthSec));
    if (!std::isfinite(snrDbMin) || !std::isfinite(snrDbMax))
        throw Error("noise.snr_db", "must be finite");
    if (snrDbMin > snrDbMax)
        throw Error("noise.snr_db",
            "range is reversed (" + std::to_string(snrDbMin) + " > " + std::to_string(snrDbMax)
                + ")");
    if (snrDbMin < -30.0 || snrDbMax > 60.0)
        throw Error("noise.snr_db", "must lie within [-30, 60] dB");
    if (kinds.empty())
        throw Error("noise.kinds", "needs at least one noise kind");
    std::set<NoiseKind> seen;
    for (NoiseKind k : kinds)
        if (!seen.insert(k).second)
            throw Error("noise.kinds", std::string("'") + noiseKindName(k) + "' is listed twice");
    if (!std::isfinite(babbleGainDb) || babbleGainDb < -60.0 || babbleGainDb > 20.0)
        throw Error("noise.babble_gain_db", "must be between -60 and 20 dB");
    roomChannel.validate();
    if (babbleWords < 0 || babbleWords > 20)
        throw Error(
            "noise.babble_words", "must be between 0 and 20, got " + std::to_string(babbleWords));
}

std::string NoisyConfig::canonicalJson() const
{
    json j;
    j["length_sec"] = lengthSec;
    j["snr_db"] = { snrDbMin, snrDbMax };
    json k = json::array();
    for (NoiseKind kind : kinds)
        k.push_back(noiseKindName(kind));
    j["kinds"] = k;
    j["folder"] = noiseFolder;
    j["babble_gain_db"] = babbleGainDb;
    j["babble_words"] = babbleWords;
    j["seed"] = seed;
    roomChannel.toJson(j);
    return j.dump();
}

NoisyDataset::NoisyDataset(DatasetIndex index, NoisyConfig config)
    : m_index(std::move(index))
    , m_config(std::move(config))
{
    m_config.validate();
    m_length = size_t(std::lround(m_config.lengthSec * kSampleRate));
    m_silenceLabel = m_index.classIndex(kSilenceLabel);
    for (size_t i = 0; i < m_index.clips.size(); ++i)
        m_splitClips[m_index.clips[i].split].push_back(i);

    if (!m_config.noiseFolder.empty()) {
        std::error_code ec;
        if (!fs::is_directory(m_config.noiseFolder, ec))
            throw Error("noise.folder", "'" + m_config.noiseFolder + "' is not a folder");
        for (auto it = fs::recursive_directory_iterator(m_config.noiseFolder, ec);
             !ec && it != fs::recursive_directory_iterator(); it.increment(ec))
            if (entryKind(*it) == EntryKind::RegularFile && isAudioFile(it->path()))
                m_noiseFiles.push_back(it->path().string());
        std::sort(m_noiseFiles.begin(), m_noiseFiles.end());
        if (m_noiseFiles.empty())
            throw Error("noise.folder", "'" + m_config.noiseFolder + "' holds no audio files");
    } else {
        m_noiseFiles = m_index.noiseFiles;
    }
    if (std::find(m_config.kinds.begin(), m_config.kinds.end(), NoiseKind::Folder)
            != m_config.kinds.end()
        && m_noiseFiles.empty())
        throw Error("noise.folder",
            "noise kind 'folder' needs a noise folder (the dataset '" + m_index.name
                + "' has no noise recordings)");

    // The source identity: the index's own hash, or its clip list where it has none.
    std::string indexHash = m_index.contentHash;
    if (indexHash.empty()) {
        Sha256 h;
        for (const auto &c : m_index.clips) {
            h.update(c.path).update("|").update(splitName(c.split)).update("|");
            for (int l : c.labels)
                h.update(std::to_string(l) + ",");
            h.update("|" + std::to_string(c.startSec) + "|" + std::to_string(c.durationSec) + "\n");
        }
        indexHash = h.hexDigest();
    }
    Sha256 h;
    h.update("tkd-noisy " + std::to_string(kRecipeVersion) + "|").update(m_config.canonicalJson());
    h.update("|index " + indexHash + "|noise");
    for (const auto &f : m_noiseFiles)
        h.update("|" + f);
    m_contentHash = h.hexDigest();
    m_hashKey = std::stoull(m_contentHash.substr(0, 16), nullptr, 16);
}

size_t NoisyDataset::size(Split split) const
{
    const auto it = m_splitClips.find(split);
    return it == m_splitClips.end() ? 0 : it->second.size();
}

bool NoisyDataset::isSilence(const ClipRef &clip) const
{
    if (clip.word == kSilenceLabel)
        return true;
    return m_silenceLabel >= 0
        && std::find(clip.labels.begin(), clip.labels.end(), m_silenceLabel) != clip.labels.end();
}

NoisyDataset::Source NoisyDataset::loadSource(const ClipRef &clip) const
{
    Source s;
    s.samples = loadAudio(clip.path, kSampleRate);
    if (clip.durationSec > 0.0 || clip.startSec > 0.0) {
        const long a = long(std::lround(clip.startSec * kSampleRate));
        const long len = clip.durationSec > 0.0 ? long(std::lround(clip.durationSec * kSampleRate))
                                                : long(s.samples.size()) - a;
        if (a < 0 || len <= 0 || a + len > long(s.samples.size()))
            throw Error(clip.path,
                "segment " + std::to_string(clip.startSec) + " s + "
                    + std::to_string(clip.durationSec) + " s lies beyond the end of the file");
        s.samples = std::vector<float>(s.samples.begin() + a, s.samples.begin() + a + len);
    }
    if (s.samples.empty())
        throw Error(clip.path, "clip is empty");
    if (isSilence(clip))
        return s; // no window
    if (clip.speechOnsetSec >= 0.0 && clip.speechOffsetSec > clip.speechOnsetSec) {
        s.window.onsetSec = clip.speechOnsetSec;
        s.window.offsetSec = clip.speechOffsetSec;
    } else {
        s.window = m_vad.detect(s.samples, kSampleRate);
    }
    const double dur = double(s.samples.size()) / kSampleRate;
    if (!s.window.found()) { // a labelled clip too quiet to find: the whole clip is the keyword
        s.window.onsetSec = 0.0;
        s.window.offsetSec = dur;
    }
    s.window.onsetSec = std::clamp(s.window.onsetSec, 0.0, dur);
    s.window.offsetSec = std::clamp(s.window.offsetSec, s.window.onsetSec, dur);
    return s;
}

std::shared_ptr<const std::vector<float>> NoisyDataset::noiseFile(const std::string &path) const
{
    {
        std::lock_guard<std::mutex> lock(m_noiseMutex);
        const auto it = m_noiseCache.find(path);
        if (it != m_noiseCache.end())
            return it->second;
    }
    // Decoded outside the lock; a second thread decoding the same file gets the same samples.
    auto samples = std::make_shared<std::vector<float>>(loadAudio(path, kSampleRate));
    if (meanSquare(samples->data(), samples->size()) <= 1e-12)
        throw Error(path, "noise recording is silent");
    std::lock_guard<std::mutex> lock(m_noiseMutex);
    return m_noiseCache.emplace(path, std::move(samples)).first->second;
}

const ClipRef *NoisyDataset::pickOtherWord(
    Split split, const std::string &avoidWord, Rng &rng) const
{
    const auto it = m_splitClips.find(split);
    if (it == m_splitClips.end() || it->second.empty())
        return nullptr;
    const auto &ids = it->second;
    for (int attempt = 0; attempt < 64; ++attempt) {
        const ClipRef &c = m_index.clips[ids[rng.below(ids.size())]];
        if (isSilence(c) || (!avoidWord.empty() && c.word == avoidWord))
            continue;
        return &c;
    }
    return nullptr; // e.g. a tiny split with one word only: no babble
}

std::vector<float> NoisyDataset::babbleBed(Split split, const std::string &avoidWord, size_t n,
    long coverAt, Rng &rng, std::vector<std::string> &sources) const
{
    // Many words of equal loudness at random offsets, overlapping, covering the whole clip. The
    // first is centred on coverAt (the keyword's centre), so the bed never leaves a gap exactly
    // where the SNR is measured.
    std::vector<float> bed(n, 0.0f);
    const int count = std::max(3, int(std::ceil(kBabbleBedWordsPerSec * double(n) / kSampleRate)));
    for (int k = 0; k < count; ++k) {
        const ClipRef *c = pickOtherWord(split, avoidWord, rng);
        if (!c)
            break;
        const Source s = loadSource(*c);
        const long a = long(std::lround(s.window.onsetSec * kSampleRate));
        const long b = std::max(a + 1, long(std::lround(s.window.offsetSec * kSampleRate)));
        const double p = meanSquare(s.samples.data() + a, size_t(b - a));
        if (p <= 0.0)
            continue;
        const long len = long(s.samples.size());
        const long offset = k == 0 && coverAt >= 0
            ? coverAt - (a + b) / 2
            : long(rng.below(uint64_t(long(n) + len))) - len / 2 - a;
        addAt(bed, s.samples, offset, 1.0 / std::sqrt(p));
        sources.push_back(c->path);
    }
    return bed;
}

NoisyItem NoisyDataset::item(Split split, size_t i) const
{
    if (i >= size(split))
        throw Error(m_index.name.empty() ? "noisy dataset" : m_index.name,
            "item " + std::to_string(i) + " is out of range for split " + splitName(split) + " ("
                + std::to_string(size(split)) + " items)");
    const ClipRef &clip = m_index.clips[m_splitClips.at(split)[i]];
    Rng rng({ m_hashKey, m_config.seed, uint64_t(split), uint64_t(i) });

    NoisyItem it;
    it.labels = clip.labels;
    it.split = split;
    it.index = i;
    it.sourcePath = clip.path;
    it.word = clip.word;
    it.speaker = clip.speaker;

    // The room and channel draw from their own stream, so the rest of an item is the same
    // whatever their settings (and byte-identical to earlier versions when they are neutral).
    const RoomChannel roomChannel(m_config.roomChannel);
    Rng roomRng(
        { m_hashKey, m_config.seed, uint64_t(split), uint64_t(i), 0x524f4f4dULL /* ROOM */ });
    if (!m_config.roomChannel.neutral())
        it.roomChannel = roomChannel.draw(roomRng);
    const bool reverberant = it.roomChannel.rt60 > 0.0;

    const Source src = loadSource(clip);
    const long L = long(m_length);
    const long n = long(src.samples.size());
    const bool silence = !src.window.found();
    const long winA = silence ? 0 : long(std::lround(src.window.onsetSec * kSampleRate));
    const long winB = silence ? n : long(std::lround(src.window.offsetSec * kSampleRate));

    // Placement: uniform over [0, L - n]; a source longer than L is cropped to L around its
    // keyword window instead (the window kept whole where it fits).
    long cropStart = 0, offset = 0;
    if (n > L) {
        const long lo = std::max(0L, winB - L), hi = std::min(n - L, winA);
        if (lo <= hi)
            cropStart = lo + long(rng.below(uint64_t(hi - lo + 1)));
        else
            cropStart = std::clamp((winA + winB) / 2 - L / 2, 0L, n - L);
    } else {
        offset = long(rng.below(uint64_t(L - n + 1)));
    }
    const long placement = offset - cropStart;
    it.placementSec = double(placement) / kSampleRate;
    std::vector<float> mix(size_t(L), 0.0f);
    addAt(mix, src.samples, placement, 1.0);

    // The keyword window in the long clip; the SNR is measured over it.
    long kwA = 0, kwB = L;
    double speechPower = kNominalSpeechRms * kNominalSpeechRms;
    if (!silence) {
        kwA = std::clamp(placement + winA, 0L, L);
        kwB = std::clamp(placement + winB, kwA, L);
        it.keywordOnsetSec = double(kwA) / kSampleRate;
        it.keywordOffsetSec = double(kwB) / kSampleRate;
        const double p = meanSquare(src.samples.data() + winA, size_t(std::max(0L, winB - winA)));
        if (p > 1e-10)
            speechPower = p;
    }
    if (kwB <= kwA) { // keyword cropped away entirely (cannot happen for L >= clip windows)
        kwA = 0;
        kwB = L;
    }

    // Background at the drawn SNR.
    it.noiseKind = m_config.kinds[rng.below(m_config.kinds.size())];
    it.snrDb = rng.uniform(m_config.snrDbMin, m_config.snrDbMax);
    std::vector<float> bg;
    switch (it.noiseKind) {
    case NoiseKind::White:
        bg = NoiseGenerator::generate(NoiseKind::White, size_t(L), rng);
        break;
    case NoiseKind::Pink:
        bg = NoiseGenerator::generate(NoiseKind::Pink, size_t(L), rng);
        break;
    case NoiseKind::Brown:
        bg = NoiseGenerator::generate(NoiseKind::Brown, size_t(L), rng);
        break;
    case NoiseKind::Folder: {
        it.noiseSource = m_noiseFiles[rng.below(m_noiseFiles.size())];
        const auto file = noiseFile(it.noiseSource);
        const size_t fn = file->size();
        bg.resize(size_t(L));
        if (fn >= size_t(L)) {
            const size_t start = size_t(rng.below(fn - size_t(L) + 1));
            std::copy(file->begin() + long(start), file->begin() + long(start) + L, bg.begin());
        } else { // shorter than L: loop it from a random point
            size_t pos = size_t(rng.below(fn));
            for (long k = 0; k < L; ++k, pos = (pos + 1) % fn)
                bg[size_t(k)] = (*file)[pos];
        }
        break;
    }
    case NoiseKind::Babble:
        bg = babbleBed(split, silence ? std::string() : clip.word, size_t(L),
            silence ? -1 : (kwA + kwB) / 2, rng, it.babbleSources);
        break;
    }
    double noisePower = meanSquare(bg.data() + kwA, size_t(kwB - kwA));
    const double wholePower = meanSquare(bg.data(), bg.size());
    // A gap in a babble bed (or a quiet stretch of a recording) right under the keyword: scaling
    // by it would blow the noise up; fall back to the whole clip's power there.
    if (noisePower < 1e-3 * wholePower)
        noisePower = wholePower;
    const double bgGain = noisePower > 0.0
        ? std::sqrt(speechPower / (noisePower * std::pow(10.0, it.snrDb / 10.0)))
        : 0.0;
    if (!reverberant && noisePower > 0.0)
        addAt(mix, bg, 0, bgGain);

    // Babble overlay: a few other words of the same split, each at babbleGainDb re the keyword.
    const double babblePower = speechPower * std::pow(10.0, m_config.babbleGainDb / 10.0);
    std::vector<std::string> overlay;
    for (int k = 0; k < m_config.babbleWords; ++k) {
        const ClipRef *c = pickOtherWord(split, silence ? std::string() : clip.word, rng);
        if (!c)
            break;
        const Source s = loadSource(*c);
        const long pad = long(std::lround(kBabblePadSec * kSampleRate));
        const long a = std::max(0L, long(std::lround(s.window.onsetSec * kSampleRate)) - pad);
        const long b = std::min(
            long(s.samples.size()), long(std::lround(s.window.offsetSec * kSampleRate)) + pad);
        if (b <= a)
            continue;
        std::vector<float> word(s.samples.begin() + a, s.samples.begin() + b);
        const double p = meanSquare(word.data(), word.size());
        if (p <= 0.0)
            continue;
        const long len = long(word.size());
        const long at = len >= L ? 0 : long(rng.below(uint64_t(L - len + 1)));
        addAt(mix, word, at, std::sqrt(babblePower / p));
        overlay.push_back(c->path);
    }
    if (it.noiseKind == NoiseKind::Babble)
        it.babbleSources.insert(it.babbleSources.end(), overlay.begin(), overlay.end());
    else
        it.babbleSources = std::move(overlay);
    // In a room, the keyword and the overlaid words reverberate; the background is diffuse and
    // is added after (its SNR stays relative to the keyword's direct sound).
    if (reverberant) {
        RoomChannel::reverberate(mix, it.roomChannel, roomRng);
        if (noisePower > 0.0)
            addAt(mix, bg, 0, bgGain);
    }

    float peak = 0.0f;
    for (float v : mix)
        peak = std::max(peak, std::fabs(v));
    if (peak > kMaxPeak) {
        it.mixGain = kMaxPeak / peak;
        for (float &v : mix)
            v *= float(it.mixGain);
    }
    if (!m_config.roomChannel.neutral())
        RoomChannel::colour(mix, it.roomChannel);
    it.samples = std::move(mix);
    return it;
}

void NoisyDataset::materialise(
    const std::string &outDir, const Progress &progress, size_t maxPerSplit) const
{
    makeDirs(outDir);
    int64_t total = 0;
    for (Split s : { Split::Train, Split::Validation, Split::Test })
        total += int64_t(maxPerSplit ? std::min(maxPerSplit, size(s)) : size(s));
    json items = json::array();
    int64_t done = 0;
    progress.report("materialise", 0, total);
    for (Split s : { Split::Train, Split::Validation, Split::Test }) {
        const size_t n = maxPerSplit ? std::min(maxPerSplit, size(s)) : size(s);
        if (n == 0)
            continue;
        const std::string dir = outDir + "/" + splitName(s);
        makeDirs(dir);
        const int digits = std::max(5, int(std::to_string(n - 1).size()));
        for (size_t i = 0; i < n; ++i) {
            progress.throwIfCancelled();
            const NoisyItem it = item(s, i);
            std::string tag = it.word.empty() ? "clip" : it.word;
            const std::string num = std::to_string(i);
            const std::string rel = std::string(splitName(s)) + "/"
                + std::string(size_t(std::max(0, digits - int(num.size()))), '0') + num + "_" + tag
                + ".wav";
            writeWav(outDir + "/" + rel, it.samples);
            json labels = json::array();
            for (int l : it.labels)
                labels.push_back(l >= 0 && size_t(l) < m_index.classes.size()
                        ? m_index.classes[size_t(l)]
                        : std::to_string(l));
            items.push_back({ { "path", rel }, { "split", splitName(s) }, { "index", i },
                { "labels", labels }, { "word", it.word }, { "speaker", it.speaker },
                { "source", it.sourcePath }, { "placement_sec", it.placementSec },
                { "keyword_onset_sec", it.keywordOnsetSec },
                { "keyword_offset_sec", it.keywordOffsetSec },
                { "noise_kind", noiseKindName(it.noiseKind) }, { "noise_source", it.noiseSource },
                { "snr_db", it.snrDb }, { "babble_sources", it.babbleSources },
                { "mix_gain", it.mixGain } });
            if (!m_config.roomChannel.neutral()) {
                const RoomChannelDraw &d = it.roomChannel;
                items.back()["room_channel"] = { { "rt60_sec", d.rt60 }, { "drr_db", d.drrDb },
                    { "channel", d.channel }, { "tilt_db", d.tiltDb },
                    { "highpass_hz", d.highpassHz }, { "lowpass_hz", d.lowpassHz },
                    { "drive_db", d.driveDb }, { "gain_db", d.gainDb } };
            }
            progress.report("materialise", ++done, total);
        }
    }
    json j;
    j["format"] = "tkd-noisy-dataset";
    j["content_hash"] = m_contentHash;
    j["dataset"] = m_index.name;
    j["dataset_hash"] = m_index.contentHash;
    j["classes"] = m_index.classes;
    j["config"] = json::parse(m_config.canonicalJson());
    j["sample_rate"] = kSampleRate;
    j["items"] = items;
    writeFileAtomic(outDir + "/manifest.json", j.dump(1) + "\n");
}

} // namespace tkd
