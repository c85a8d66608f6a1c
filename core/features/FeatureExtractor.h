#pragma once

#include "core/features/FeatureConfig.h"

#include <torch/torch.h>

#include <utility>
#include <vector>

namespace tkd {

// Batch front end: waveform -> log-mel or MFCC frames, torchaudio-compatible (see FeatureConfig.h).
// Window: periodic Hann (torch.hann_window's default), as long as the FFT, no centring or padding.
// Device-agnostic: the constant buffers follow the input's device. Thread-safe (const, no state).
// No autograd: outputs never carry gradient history.
class FeatureExtractor
{
public:
    // Validates the config (throws tkd::Error("features.<key>", ...)).
    explicit FeatureExtractor(const FeatureConfig &config);

    const FeatureConfig &config() const { return m_config; }

    // [N] -> [T, C] or [B, N] -> [B, T, C], T = config().numFrames(N), C = config().featureDim().
    // float32 expected (other floating types are converted); anything else throws
    // tkd::Error("features.input", ...). Fewer than one window of samples gives T = 0.
    torch::Tensor compute(const torch::Tensor &wave) const;
    torch::Tensor compute(const std::vector<float> &wave) const;

    // The per-frame maths shared by batch and streaming: [M, windowSamples] raw (unwindowed)
    // frames -> [M, C]. Each row's result depends only on that row, bit for bit, whatever M is
    // (see the .cpp), which is what lets StreamingFeatureExtractor reproduce batch output exactly.
    torch::Tensor computeFrames(const torch::Tensor &frames) const;

    // Constant buffers (CPU, float32), for inspection and tests.
    const torch::Tensor &window() const { return m_window; } // [windowSamples]
    const torch::Tensor &melFilterbank() const { return m_melFilterbank; } // [fftSize/2+1, melBins]
    const torch::Tensor &dctMatrix() const { return m_dct; } // [melBins, mfccCount]

    // Frames per matrix-multiply tile on non-CPU devices; see computeFrames().
    static constexpr int64_t kTileRows = 64;

private:
    // [M, windowSamples] frames already multiplied by the window -> [M, C].
    torch::Tensor featuresOfWindowed(const torch::Tensor &windowed) const;

    FeatureConfig m_config;
    torch::Tensor m_window;
    torch::Tensor m_melFilterbank;
    torch::Tensor m_dct; // undefined for log-mel
    // Non-zero column spans of each row of the two matrices (see rowProduct in the .cpp).
    std::vector<std::pair<int64_t, int64_t>> m_melSpans;
    std::vector<std::pair<int64_t, int64_t>> m_dctSpans;
};

} // namespace tkd
