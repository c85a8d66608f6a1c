#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

// A declared parameter: name, default and valid range, so every front end validates in one place
// and the GUI can build its form from the same table.
struct ParamSpec
{
    std::string name; // config key under "features." (e.g. "window_ms")
    double defaultValue;
    double minValue;
    double maxValue;
    bool integer;
    std::string help;
};

// The student family's front end (paper notes section 7): 16 kHz, 40 ms Hann window (periodic,
// torch.hann_window's default), 20 ms hop, 640-point FFT, magnitude spectrum (power 1), 40 HTK mel
// bins 20-7600 Hz without filter normalisation, log(max(x, 1e-12)), orthonormal DCT-II: the same
// numbers as torchaudio's Spectrogram + MelScale(norm=None, mel_scale="htk") + create_dct("ortho").
// No centring/padding: a 1 s clip gives 49 frames, and streaming can emit each frame as soon as
// its last sample arrives.
struct FeatureConfig
{
    enum class Kind { LogMel, Mfcc };
    Kind kind = Kind::Mfcc;
    int sampleRate = 16000;
    double windowMs = 40.0;
    double hopMs = 20.0;
    int melBins = 40;
    double fMinHz = 20.0;
    double fMaxHz = 7600.0;
    int mfccCount = 20; // used when kind == Mfcc
    double logFloor = 1e-12;

    static const std::vector<ParamSpec> &declared();
    // Throws tkd::Error("features.<name>", what is wrong) for any out-of-range value, including
    // combinations (f_min_hz < f_max_hz <= Nyquist, mfcc_count <= mel_bins, hop_ms <= window_ms,
    // every mel filter covering at least one FFT bin).
    void validate() const;

    // Generic access by declared name (config files, GUI forms). Unknown names and non-whole
    // values for integer parameters throw tkd::Error("features.<name>", ...); ranges are left
    // to validate().
    double value(const std::string &name) const;
    void setValue(const std::string &name, double value);
    // "logmel" | "mfcc"; anything else throws tkd::Error("features.kind", ...).
    static Kind kindFromName(const std::string &name);

    int windowSamples() const; // 640 at the defaults
    int hopSamples() const; // 320
    int fftSize() const; // = windowSamples() (640-point real DFT)
    int featureDim() const; // melBins for LogMel, mfccCount for Mfcc
    int64_t numFrames(int64_t samples) const; // 0 if shorter than one window; 49 for 16000
    std::string kindName() const; // "logmel" | "mfcc"
    // Stable text of every parameter: part of feature-cache keys.
    std::string canonicalString() const;
};

} // namespace tkd
