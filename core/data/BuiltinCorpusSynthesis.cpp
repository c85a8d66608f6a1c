#include "core/data/BuiltinCorpusSynthesis.h"

#include "core/audio/AudioFile.h"
#include "core/data/FliteVoices.h"
#include "core/data/NoiseGenerator.h"
#include "core/data/SpeechActivity.h"
#include "core/util/AtomicFile.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"
#include "core/util/Rng.h"

#include <espeak-ng/speak_lib.h>

#include <algorithm>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>

#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace tkd::corpus {

// libsamplerate's fastest sinc converter: ~97 dB SNR is far beyond what a TTS keyword needs, and
// it keeps resampling a small share of the synthesis time (kResampleQualityName names it).
constexpr ResampleQuality kResampleQuality = ResampleQuality::Fastest;
constexpr double kPadSec = 0.020; // kept around the detected speech when trimming
constexpr double kFadeSec = 0.005; // fades at the trim edges, so no clicks
constexpr double kMaxSpeechSec = 0.96; // longer words are resynthesised faster
constexpr double kNoiseFloorDb = -74.0; // RMS of the faint floor under every keyword clip
constexpr int kEspeakVolume = 60; // espeak clips some voices at its default 100

// English accents x variants that stay intelligible and do not clip; robotic and joke voices left
// out. Accents weighted towards US English like Speech Commands' speakers.
const std::vector<std::string> &accents()
{
    static const std::vector<std::string> a = { "en-us", "en-us", "en-us", "en", "en",
        "en-gb-scotland", "en-gb-x-rp", "en-029", "en-us-nyc" };
    return a;
}

const std::vector<std::string> &variants()
{
    static const std::vector<std::string> v = { "", "m1", "m2", "m3", "m4", "m5", "m6", "m7", "f1",
        "f2", "f3", "f4", "f5", "klatt", "klatt2", "klatt3", "croak", "whisper", "whisperf", "Andy",
        "Annie", "Alicia", "Gene", "Lee", "Mike", "Michael", "adam", "aunty", "belinda", "benjamin",
        "caleb", "david", "edward", "grandma", "grandpa", "john", "linda", "max", "norbert", "paul",
        "quincy", "rob", "robert", "shelby", "steph", "travis", "victor", "zac", "Alex", "Denis",
        "boris", "michel" };
    return v;
}

uint64_t textKey(const std::string &s)
{
    uint64_t h = 1469598103934665603ULL; // FNV-1a: a stable key for a word
    for (unsigned char c : s) {
        h ^= c;
        h *= 1099511628211ULL;
    }
    return h;
}

// espeak-ng keeps state between utterances that no API call resets (e.g. the phase of its pitch
// "flutter" lives in a function-static counter), so a word's waveform depends on everything spoken
// before it in the process. To make every speaker's clips a pure function of the config, each
// speaker is synthesised in a fresh child process (fork) that initialises espeak, speaks that
// speaker's words in plan order and sends the finished clips back through a pipe. The parent never
// synthesises, so every child starts from the same pristine state. It also keeps espeak's
// non-thread-safe globals out of the calling process.
std::vector<short> *g_synthTarget = nullptr;

int synthCallback(short *wav, int n, espeak_EVENT *)
{
    if (wav && n > 0 && g_synthTarget)
        g_synthTarget->insert(g_synthTarget->end(), wav, wav + n);
    return 0;
}

// Only ever called in a synthesis child.
int ensureEspeak()
{
    static int rate = 0;
    if (rate > 0)
        return rate;
    const int r
        = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, nullptr, espeakINITIALIZE_DONT_EXIT);
    if (r <= 0)
        throw Error("espeak-ng",
            "cannot initialise the synthesiser (is espeak-ng-data installed? "
            "ESPEAK_DATA_PATH can point at it)");
    espeak_SetSynthCallback(synthCallback);
    rate = r;
    return rate;
}

// Synthesises one word (in a synthesis child). espeak draws on rand() for the noise sources of
// some voices, so it is reseeded per clip from the clip's own seed.
std::vector<float> espeakWord(const std::string &voice, int rate, int pitch, int range,
    const std::string &word, unsigned randSeed)
{
    const int sr = ensureEspeak();
    if (sr != BuiltinCorpus::kSynthRate)
        throw Error("espeak-ng", "unexpected output rate " + std::to_string(sr));
    if (espeak_SetVoiceByName(voice.c_str()) != EE_OK)
        throw Error("espeak-ng voice '" + voice + "'", "not available in this espeak-ng-data");
    espeak_SetParameter(espeakRATE, rate, 0);
    espeak_SetParameter(espeakPITCH, pitch, 0);
    espeak_SetParameter(espeakRANGE, range, 0);
    espeak_SetParameter(espeakVOLUME, kEspeakVolume, 0);
    espeak_SetParameter(espeakWORDGAP, 0, 0);
    espeak_SetParameter(espeakPUNCTUATION, espeakPUNCT_NONE, 0);
    espeak_SetParameter(espeakCAPITALS, 0, 0);
    std::srand(randSeed);
    std::vector<short> pcm;
    g_synthTarget = &pcm;
    const espeak_ERROR err = espeak_Synth(
        word.c_str(), word.size() + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, nullptr, nullptr);
    espeak_Synchronize();
    g_synthTarget = nullptr;
    if (err != EE_OK)
        throw Error("espeak-ng", "synthesis failed for '" + word + "' with voice " + voice);
    std::vector<float> out(pcm.size());
    for (size_t i = 0; i < pcm.size(); ++i)
        out[i] = float(pcm[i]) / 32768.0f;
    return out;
}

// The speaking rate of a speaker's first attempt at a word: espeak's words per minute, or flite's
// rate factor (1 = the voice's own), both including the vocal-tract compensation below.
double firstRate(const CorpusSpeaker &spk)
{
    const double speed = spk.speed / spk.vtl;
    return spk.family == VoiceFamily::Flite ? speed : double(std::lround(spk.rateWpm * speed));
}

// One word of a speaker at 16 kHz, with the speaker's randomisation. The vocal-tract factor a
// scales every frequency by reading the synthesiser's output as if it ran a times faster; the
// word is spoken a times slower (and, for flite, a times lower) beforehand, so only the formants
// move. (espeak's pitch is not compensated: its pitch parameter is not in Hz.)
std::vector<float> speakWord(
    const CorpusSpeaker &spk, double rate, const std::string &word, unsigned randSeed)
{
    if (spk.family == VoiceFamily::Flite) {
        const double f0 = std::pow(2.0, spk.pitchSemitones / 12.0) / spk.vtl;
        const FliteWave w = fliteWord(spk.voice, word, 1.0 / rate, f0);
        return resample(w.samples.data(), w.samples.size(), w.sampleRate * spk.vtl, kSampleRate,
            kResampleQuality);
    }
    const std::vector<float> raw
        = espeakWord(spk.voice, int(rate), spk.pitch, spk.pitchRange, word, randSeed);
    return resample(
        raw.data(), raw.size(), BuiltinCorpus::kSynthRate * spk.vtl, kSampleRate, kResampleQuality);
}

std::string wavBytesPcm16(const std::vector<float> &x)
{
    const uint32_t dataBytes = uint32_t(x.size() * 2);
    std::string b;
    b.reserve(44 + dataBytes);
    auto u32 = [&](uint32_t v) {
        for (int i = 0; i < 4; ++i)
            b.push_back(char((v >> (8 * i)) & 0xff));
    };
    auto u16 = [&](uint16_t v) {
        b.push_back(char(v & 0xff));
        b.push_back(char(v >> 8));
    };
    b += "RIFF";
    u32(36 + dataBytes);
    b += "WAVEfmt ";
    u32(16);
    u16(1); // PCM
    u16(1); // mono
    u32(kSampleRate);
    u32(kSampleRate * 2);
    u16(2);
    u16(16);
    b += "data";
    u32(dataBytes);
    for (float v : x) {
        const long q = std::lround(std::clamp(double(v), -1.0, 1.0) * 32767.0);
        u16(uint16_t(int16_t(q)));
    }
    return b;
}

void writeClip(const std::string &path, const std::string &bytes)
{
    AtomicFile file(path, /*sync=*/false);
    file.write(bytes.data(), bytes.size());
    file.commit();
}

std::vector<ClipPlan> planClips(
    const BuiltinCorpusConfig &cfg, const std::vector<CorpusSpeaker> &speakers)
{
    std::vector<ClipPlan> plan;
    for (size_t s = 0; s < speakers.size(); ++s) {
        for (const auto &w : cfg.effectiveWords())
            plan.push_back({ s, w, -1, "clips/" + w + "/" + speakers[s].id + ".wav" });
        for (int k = 0; k < cfg.silenceClipsPerSpeaker; ++k)
            plan.push_back({ s, kSilenceLabel, k,
                std::string("clips/") + kSilenceLabel + "/" + speakers[s].id + "_"
                    + std::to_string(k) + ".wav" });
    }
    return plan;
}

SynthesisedClip synthesiseKeyword(const BuiltinCorpusConfig &cfg, size_t speakerIndex,
    const CorpusSpeaker &spk, const std::string &word)
{
    Rng rng({ cfg.seed, 0x434c4950ULL /* CLIP */, uint64_t(cfg.firstSpeaker) + speakerIndex,
        textKey(word) });
    const unsigned randSeed = unsigned(rng.nextU64() & 0x7fffffff);
    // espeak's output is noiseless and has little silence around the word, so a noise-floor
    // estimate would land inside the word: trim relative to the peak only.
    SpeechActivityOptions vadOptions;
    vadOptions.floorMarginDb = 0.0;
    vadOptions.peakRelativeDb = -40.0;
    const SpeechActivity vad(vadOptions);
    std::vector<float> speech;
    SpeechWindow win;
    double rate = firstRate(spk);
    for (int attempt = 0;; ++attempt) {
        speech = speakWord(spk, rate, word, randSeed);
        win = vad.detect(speech, kSampleRate);
        if (!win.found())
            throw Error(voiceFamilyName(spk.family),
                "produced no audible speech for '" + word + "' with voice " + spk.voice);
        if (win.offsetSec - win.onsetSec + 2 * kPadSec <= kMaxSpeechSec || attempt >= 4)
            break;
        // Too long for a 1 s clip: speak faster (espeak's rate stays whole words per minute).
        rate = spk.family == VoiceFamily::Flite ? rate * 1.25 : double(int(rate * 1.25));
    }
    // Trim to the speech plus a little padding.
    const long n = long(speech.size());
    const long on = long(std::lround(win.onsetSec * kSampleRate));
    const long off = long(std::lround(win.offsetSec * kSampleRate));
    const long pad = long(std::lround(kPadSec * kSampleRate));
    long a = std::max(0L, on - pad);
    long b = std::min(n, off + pad);
    if (b - a > BuiltinCorpus::kClipSamples) // only if 4 speed-ups did not help: keep the middle
    {
        const long excess = (b - a) - BuiltinCorpus::kClipSamples;
        a += excess / 2;
        b = a + BuiltinCorpus::kClipSamples;
    }
    std::vector<float> seg(speech.begin() + a, speech.begin() + b);
    const long fade = std::min(long(std::lround(kFadeSec * kSampleRate)), long(seg.size()) / 2);
    for (long i = 0; i < fade; ++i) {
        const float g = float(i) / float(fade);
        seg[size_t(i)] *= g;
        seg[seg.size() - 1 - size_t(i)] *= g;
    }
    // Level: the speaker's peak level with a little per-clip variation.
    float peak = 0.0f;
    for (float v : seg)
        peak = std::max(peak, std::fabs(v));
    const double targetPeak = std::pow(10.0, (spk.peakDb + rng.uniform(-2.0, 2.0)) / 20.0);
    if (peak > 0.0f)
        for (float &v : seg)
            v = float(v * targetPeak / peak);

    SynthesisedClip clip;
    const long offset
        = long(rng.below(uint64_t(BuiltinCorpus::kClipSamples - long(seg.size())) + 1));
    Rng floorRng({ cfg.seed, 0x464c4f4fULL /* FLOO */, uint64_t(cfg.firstSpeaker) + speakerIndex,
        textKey(word) });
    clip.samples
        = NoiseGenerator::generate(NoiseKind::White, BuiltinCorpus::kClipSamples, floorRng);
    const float floorRms = float(std::pow(10.0, kNoiseFloorDb / 20.0));
    for (float &v : clip.samples)
        v *= floorRms;
    for (size_t i = 0; i < seg.size(); ++i)
        clip.samples[size_t(offset) + i] += seg[i];
    clip.onsetSec = double(offset + std::max(0L, on - a)) / kSampleRate;
    clip.offsetSec = double(offset + std::min(long(seg.size()), off - a)) / kSampleRate;
    return clip;
}

bool writeAll(int fd, const void *data, size_t n)
{
    const char *p = static_cast<const char *>(data);
    while (n > 0) {
        const ssize_t w = ::write(fd, p, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return false;
        p += w;
        n -= size_t(w);
    }
    return true;
}

// Child side: speaks the words and streams back, per clip, [u32 status][f64 onset][f64 offset]
// [u32 n][n floats]; status 1 means [u32 len][message] follows and the child stops.
[[noreturn]] void synthesisChild(int fd, const BuiltinCorpusConfig &cfg, size_t speakerIndex,
    const CorpusSpeaker &spk, const std::vector<std::string> &words)
{
    for (const auto &w : words) {
        uint32_t status = 0;
        try {
            const SynthesisedClip c = synthesiseKeyword(cfg, speakerIndex, spk, w);
            const uint32_t n = uint32_t(c.samples.size());
            if (!writeAll(fd, &status, 4) || !writeAll(fd, &c.onsetSec, 8)
                || !writeAll(fd, &c.offsetSec, 8) || !writeAll(fd, &n, 4)
                || !writeAll(fd, c.samples.data(), n * sizeof(float)))
                ::_exit(3);
        } catch (const std::exception &e) {
            status = 1;
            const std::string msg = e.what();
            const uint32_t len = uint32_t(msg.size());
            writeAll(fd, &status, 4);
            writeAll(fd, &len, 4);
            writeAll(fd, msg.data(), len);
            ::_exit(2);
        }
    }
    ::_exit(0);
}

std::vector<SynthesisedClip> synthesiseSpeaker(const BuiltinCorpusConfig &cfg, size_t speakerIndex,
    const CorpusSpeaker &spk, const std::vector<std::string> &words)
{
    int fds[2];
    if (::pipe(fds) != 0)
        throw Error("espeak-ng", std::string("cannot create a pipe: ") + std::strerror(errno));
    const pid_t pid = ::fork();
    if (pid < 0) {
        const std::string why = std::strerror(errno);
        ::close(fds[0]);
        ::close(fds[1]);
        throw Error("espeak-ng", "cannot start the synthesis process: " + why);
    }
    if (pid == 0) {
        ::close(fds[0]);
        synthesisChild(fds[1], cfg, speakerIndex, spk, words);
    }
    ::close(fds[1]);
    std::string buf;
    char chunk[65536];
    for (;;) {
        const ssize_t r = ::read(fds[0], chunk, sizeof chunk);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        buf.append(chunk, size_t(r));
    }
    ::close(fds[0]);
    int wstatus = 0;
    while (::waitpid(pid, &wstatus, 0) < 0 && errno == EINTR) { }

    std::vector<SynthesisedClip> out;
    size_t pos = 0;
    auto take = [&](void *dst, size_t n) {
        if (pos + n > buf.size())
            return false;
        std::memcpy(dst, buf.data() + pos, n);
        pos += n;
        return true;
    };
    while (out.size() < words.size()) {
        uint32_t status = 0;
        if (!take(&status, 4))
            break;
        if (status != 0) {
            uint32_t len = 0;
            take(&len, 4);
            std::string msg(std::min<size_t>(len, buf.size() - pos), '\0');
            take(msg.data(), msg.size());
            throw Error("espeak-ng", "speaker " + spk.id + " (" + spk.voice + "): " + msg);
        }
        SynthesisedClip c;
        uint32_t n = 0;
        if (!take(&c.onsetSec, 8) || !take(&c.offsetSec, 8) || !take(&n, 4))
            break;
        c.samples.resize(n);
        if (!take(c.samples.data(), n * sizeof(float)))
            break;
        out.push_back(std::move(c));
    }
    if (out.size() != words.size()) {
        std::string why = "exited early";
        if (WIFSIGNALED(wstatus))
            why = "was killed by signal " + std::to_string(WTERMSIG(wstatus));
        else if (WIFEXITED(wstatus))
            why = "exited with status " + std::to_string(WEXITSTATUS(wstatus));
        throw Error("espeak-ng", "the synthesis process for speaker " + spk.id + " " + why);
    }
    return out;
}

SynthesisedClip synthesiseSilence(const BuiltinCorpusConfig &cfg, size_t speakerIndex, int k)
{
    Rng rng({ cfg.seed, 0x53494c45ULL /* SILE */, uint64_t(cfg.firstSpeaker) + speakerIndex,
        uint64_t(k) });
    const auto colour = NoiseKind(rng.below(3));
    const double rmsDb = rng.uniform(-60.0, -40.0);
    SynthesisedClip clip;
    clip.samples = NoiseGenerator::generate(colour, BuiltinCorpus::kClipSamples, rng);
    const float g = float(std::pow(10.0, rmsDb / 20.0));
    for (float &v : clip.samples)
        v *= g;
    return clip;
}

// An intact clip of this corpus: the exact header and size this generator writes.
bool readIntactClip(const std::string &path, std::string &bytes)
{
    std::error_code ec;
    const auto size = fs::file_size(path, ec);
    const size_t expected = 44 + 2 * size_t(BuiltinCorpus::kClipSamples);
    if (ec || size != expected)
        return false;
    try {
        bytes = readFile(path);
    } catch (const Error &) {
        return false;
    }
    return bytes.size() == expected && bytes.compare(0, 4, "RIFF") == 0
        && bytes.compare(8, 8, "WAVEfmt ") == 0 && bytes.compare(36, 4, "data") == 0;
}

} // namespace tkd::corpus
