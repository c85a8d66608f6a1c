#include "core/infer/EvalDataSpec.h"

#include "core/audio/AudioFile.h"
#include "core/data/Dataset.h"
#include "core/data/NoiseGenerator.h"
#include "core/data/SpeechActivity.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/Rng.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace tkd {

namespace {

constexpr const char *kNoisyPrefix = "noisy:";
constexpr double kNominalSpeechRms = 0.1; // the noisy construction's level where there is no word
constexpr float kMaxPeak = 0.99f;

// The kinds a single-label evaluation can read, in the order --help lists them.
const std::vector<DatasetSource::Kind> &evalKinds()
{
    static const std::vector<DatasetSource::Kind> kinds = { DatasetSource::Kind::Folder,
        DatasetSource::Kind::SpeechCommands, DatasetSource::Kind::Builtin };
    return kinds;
}

std::string lower(std::string s)
{
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

double meanSquare(const float *x, size_t n)
{
    double e = 0.0;
    for (size_t i = 0; i < n; ++i)
        e += double(x[i]) * x[i];
    return n ? e / double(n) : 0.0;
}

} // namespace

std::string EvalDataSpec::kindList()
{
    std::string out;
    for (DatasetSource::Kind k : evalKinds())
        out += (out.empty() ? "" : ", ") + std::string(DatasetSource::kindName(k));
    return out;
}

EvalDataSpec EvalDataSpec::parse(const std::string &text)
{
    EvalDataSpec s;
    s.text = text;
    std::string rest = text;
    if (rest.rfind(kNoisyPrefix, 0) == 0) {
        s.noisy = true;
        rest = rest.substr(std::string(kNoisyPrefix).size());
    }
    const auto colon = rest.find(':');
    const std::string kind = rest.substr(0, colon);
    s.path = colon == std::string::npos ? std::string() : rest.substr(colon + 1);
    bool known = false;
    for (DatasetSource::Kind k : evalKinds())
        if (kind == DatasetSource::kindName(k)) {
            s.kind = k;
            known = true;
        }
    if (!known) {
        const bool other = kind == DatasetSource::kindName(DatasetSource::Kind::Fsd50k);
        throw Error("--data",
            "'" + text + "': "
                + (other ? std::string("fsd50k is multi-label; only single-label sets are scored")
                         : "unknown kind '" + kind + "'")
                + " (expected KIND:PATH with KIND one of " + kindList()
                + ", optionally behind noisy:, e.g. folder:DIR or noisy:folder:DIR)");
    }
    std::error_code ec;
    if (s.kind == DatasetSource::Kind::Builtin) {
        if (!s.path.empty() && !fs::is_regular_file(s.path, ec))
            throw Error(s.path,
                "no such experiment file (from --data " + text
                    + "; builtin alone is the run's own corpus, builtin:EXPERIMENT.yaml another "
                      "experiment's)");
        return s;
    }
    if (s.path.empty())
        throw Error("--data", "'" + text + "': " + kind + " needs a folder (" + kind + ":DIR)");
    if (!fs::is_directory(s.path, ec))
        throw Error(s.path, "no such folder (from --data " + text + ")");
    return s;
}

std::string EvalDataSpec::slug() const
{
    std::string out = noisy ? "noisy-" : "";
    out += DatasetSource::kindName(kind);
    if (!path.empty()) {
        std::error_code ec;
        fs::path abs = fs::weakly_canonical(fs::absolute(path), ec);
        if (ec)
            abs = fs::absolute(path);
        std::string base = abs.filename().string();
        if (base.empty())
            base = abs.parent_path().filename().string();
        std::string safe;
        for (unsigned char c : base)
            safe += std::isalnum(c) || c == '-' || c == '_' ? char(c) : '_';
        out += "-" + safe.substr(0, 40) + "-" + Sha256::ofString(abs.string()).substr(0, 6);
    }
    return out;
}

std::vector<int> mapClassesByName(const std::vector<std::string> &datasetClasses,
    const std::vector<std::string> &runClasses, const std::string &what)
{
    int unknown = -1;
    for (size_t k = 0; k < runClasses.size(); ++k)
        if (runClasses[k] == kUnknownLabel)
            unknown = int(k);
    std::vector<int> map(datasetClasses.size(), -1);
    bool common = false;
    for (size_t d = 0; d < datasetClasses.size(); ++d) {
        for (size_t k = 0; k < runClasses.size(); ++k)
            if (lower(datasetClasses[d]) == lower(runClasses[k]))
                map[d] = int(k);
        if (map[d] >= 0 && int(map[d]) != unknown)
            common = true;
        else if (map[d] < 0)
            map[d] = unknown;
    }
    if (!common) {
        auto join = [](const std::vector<std::string> &v) {
            std::string s;
            for (size_t i = 0; i < v.size() && i < 12; ++i)
                s += (i ? ", " : "") + v[i];
            return v.size() > 12 ? s + ", ..." : s;
        };
        throw Error(what,
            "has no class in common with the run (dataset: " + join(datasetClasses)
                + "; run: " + join(runClasses) + ")");
    }
    return map;
}

std::vector<float> placeInWindow(
    const std::vector<float> &clip, size_t windowSamples, double snrDb, uint64_t seed)
{
    const SpeechWindow w = SpeechActivity().detect(clip, kSampleRate);
    const long n = long(clip.size()), L = long(windowSamples);
    long a = 0, b = n; // the speech, in clip samples
    if (w.found()) {
        a = std::clamp(long(std::lround(w.onsetSec * kSampleRate)), 0L, n);
        b = std::clamp(long(std::lround(w.offsetSec * kSampleRate)), a, n);
    }
    // Shorter: centred. Longer: the window centred on the speech, kept inside the clip.
    const long placement = n <= L ? (L - n) / 2 : -std::clamp((a + b) / 2 - L / 2, 0L, n - L);
    std::vector<float> out(windowSamples, 0.0f);
    for (long k = 0; k < n; ++k)
        if (placement + k >= 0 && placement + k < L)
            out[size_t(placement + k)] = clip[size_t(k)];

    double speech = b > a ? meanSquare(clip.data() + a, size_t(b - a)) : 0.0;
    if (speech <= 1e-10)
        speech = kNominalSpeechRms * kNominalSpeechRms;
    Rng rng({ 0x65766131ULL, seed });
    std::vector<float> noise = NoiseGenerator::generate(NoiseKind::Pink, windowSamples, rng);
    scaleToRms(noise, std::sqrt(speech) * std::pow(10.0, -snrDb / 20.0));
    float peak = 0.0f;
    for (size_t k = 0; k < out.size(); ++k) {
        out[k] += noise[k];
        peak = std::max(peak, std::abs(out[k]));
    }
    if (peak > kMaxPeak)
        for (float &x : out)
            x *= kMaxPeak / peak;
    return out;
}

} // namespace tkd
