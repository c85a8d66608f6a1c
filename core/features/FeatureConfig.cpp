#include "core/features/FeatureConfig.h"

#include "core/util/Error.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace tkd {

namespace {

std::string key(const std::string &name)
{
    return "features." + name;
}

// Shortest text that reads back to the same double, so canonicalString() is both exact and stable.
std::string exactText(double v)
{
    char buf[40];
    for (int precision = 6; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v)
            break;
    }
    return buf;
}

double hzToHtkMel(double hz)
{
    return 2595.0 * std::log10(1.0 + hz / 700.0);
}

double htkMelToHz(double mel)
{
    return 700.0 * (std::pow(10.0, mel / 2595.0) - 1.0);
}

int samplesFor(double ms, int sampleRate)
{
    return int(std::lround(ms * sampleRate / 1000.0));
}

} // namespace

const std::vector<ParamSpec> &FeatureConfig::declared()
{
    static const std::vector<ParamSpec> specs = {
        { "sample_rate", 16000, 8000, 48000, true, "sample rate of the input waveform (Hz)" },
        { "window_ms", 40.0, 5.0, 100.0, false,
            "analysis window (periodic Hann) length in ms; rounded to whole samples" },
        { "hop_ms", 20.0, 1.0, 100.0, false, "hop between frames in ms; at most window_ms" },
        { "mel_bins", 40, 1, 256, true, "number of HTK mel filters" },
        { "f_min_hz", 20.0, 0.0, 24000.0, false, "lower edge of the lowest mel filter (Hz)" },
        { "f_max_hz", 7600.0, 100.0, 24000.0, false,
            "upper edge of the highest mel filter (Hz); at most sample_rate / 2" },
        { "mfcc_count", 20, 1, 256, true,
            "cepstral coefficients kept (mfcc only); at most mel_bins" },
        { "log_floor", 1e-12, 1e-30, 1e-2, false,
            "mel energies are clamped to this before the log" },
    };
    return specs;
}

double FeatureConfig::value(const std::string &name) const
{
    if (name == "sample_rate")
        return sampleRate;
    if (name == "window_ms")
        return windowMs;
    if (name == "hop_ms")
        return hopMs;
    if (name == "mel_bins")
        return melBins;
    if (name == "f_min_hz")
        return fMinHz;
    if (name == "f_max_hz")
        return fMaxHz;
    if (name == "mfcc_count")
        return mfccCount;
    if (name == "log_floor")
        return logFloor;
    throw Error(key(name), "unknown feature parameter");
}

void FeatureConfig::setValue(const std::string &name, double v)
{
    const ParamSpec *spec = nullptr;
    for (const ParamSpec &s : declared())
        if (s.name == name)
            spec = &s;
    if (!spec)
        throw Error(key(name), "unknown feature parameter");
    // Integers are stored as int, so a fractional value cannot wait for validate(): reject it
    // here rather than silently rounding.
    if (spec->integer) {
        if (!std::isfinite(v) || v != std::floor(v) || std::fabs(v) > 1e9)
            throw Error(key(name), "must be a whole number, got " + exactText(v));
    }
    if (name == "sample_rate")
        sampleRate = int(v);
    else if (name == "window_ms")
        windowMs = v;
    else if (name == "hop_ms")
        hopMs = v;
    else if (name == "mel_bins")
        melBins = int(v);
    else if (name == "f_min_hz")
        fMinHz = v;
    else if (name == "f_max_hz")
        fMaxHz = v;
    else if (name == "mfcc_count")
        mfccCount = int(v);
    else if (name == "log_floor")
        logFloor = v;
}

FeatureConfig::Kind FeatureConfig::kindFromName(const std::string &name)
{
    if (name == "logmel")
        return Kind::LogMel;
    if (name == "mfcc")
        return Kind::Mfcc;
    throw Error("features.kind", "unknown feature kind '" + name + "' (expected logmel or mfcc)");
}

void FeatureConfig::validate() const
{
    if (kind != Kind::LogMel && kind != Kind::Mfcc)
        throw Error("features.kind", "unknown feature kind (expected logmel or mfcc)");

    for (const ParamSpec &s : declared()) {
        const double v = value(s.name);
        // Written so that NaN fails too.
        if (!(v >= s.minValue && v <= s.maxValue))
            throw Error(key(s.name),
                exactText(v) + " is outside the valid range [" + exactText(s.minValue) + ", "
                    + exactText(s.maxValue) + "]");
    }

    const double nyquist = sampleRate / 2.0;
    if (fMaxHz > nyquist)
        throw Error(key("f_max_hz"),
            exactText(fMaxHz) + " Hz is above the Nyquist frequency (" + exactText(nyquist)
                + " Hz at sample_rate " + std::to_string(sampleRate) + ")");
    if (fMinHz >= fMaxHz)
        throw Error(key("f_min_hz"),
            exactText(fMinHz) + " Hz must be below f_max_hz (" + exactText(fMaxHz) + " Hz)");
    if (hopMs > windowMs)
        throw Error(key("hop_ms"),
            exactText(hopMs) + " ms is longer than window_ms (" + exactText(windowMs)
                + " ms): samples would be skipped");
    if (kind == Kind::Mfcc && mfccCount > melBins)
        throw Error(key("mfcc_count"),
            std::to_string(mfccCount) + " coefficients need at least as many mel_bins (have "
                + std::to_string(melBins) + ")");
    if (hopSamples() < 1)
        throw Error(key("hop_ms"), "is shorter than one sample");

    // Every triangle must see at least one FFT bin strictly inside it, otherwise its output is
    // the constant log_floor (torchaudio only warns about this; here it is a config error).
    const int nFreqs = fftSize() / 2 + 1;
    const double binHz
        = double(sampleRate / 2) / double(nFreqs - 1); // torchaudio: linspace(0, sr // 2)
    const double melLo = hzToHtkMel(fMinHz);
    const double melHi = hzToHtkMel(fMaxHz);
    for (int m = 0; m < melBins; ++m) {
        const double left = htkMelToHz(melLo + (melHi - melLo) * m / (melBins + 1));
        const double right = htkMelToHz(melLo + (melHi - melLo) * (m + 2) / (melBins + 1));
        const int firstBin = int(std::floor(left / binHz)) + 1;
        if (firstBin * binHz >= right)
            throw Error(key("mel_bins"),
                std::to_string(melBins) + " filters are too narrow for a "
                    + std::to_string(fftSize()) + "-point FFT: filter " + std::to_string(m) + " ("
                    + exactText(left) + "-" + exactText(right)
                    + " Hz) covers no frequency bin; use fewer mel_bins or a longer window_ms");
    }
}

int FeatureConfig::windowSamples() const
{
    return samplesFor(windowMs, sampleRate);
}

int FeatureConfig::hopSamples() const
{
    return samplesFor(hopMs, sampleRate);
}

int FeatureConfig::fftSize() const
{
    return windowSamples();
}

int FeatureConfig::featureDim() const
{
    return kind == Kind::Mfcc ? mfccCount : melBins;
}

int64_t FeatureConfig::numFrames(int64_t samples) const
{
    const int64_t win = windowSamples();
    const int64_t hop = hopSamples();
    if (samples < win || hop <= 0)
        return 0;
    return (samples - win) / hop + 1;
}

std::string FeatureConfig::kindName() const
{
    return kind == Kind::Mfcc ? "mfcc" : "logmel";
}

std::string FeatureConfig::canonicalString() const
{
    // Versioned so that a change in the extractor's maths can invalidate feature caches.
    std::string s = "features/v1 kind=" + kindName();
    for (const ParamSpec &spec : declared()) {
        if (spec.name == "mfcc_count" && kind != Kind::Mfcc)
            continue; // does not affect log-mel output, so must not split caches
        s += " " + spec.name + "=" + exactText(value(spec.name));
    }
    return s;
}

} // namespace tkd
