#include "core/features/FeatureExtractor.h"

#include "core/util/Error.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace tkd {

namespace {

constexpr double kPi = 3.14159265358979323846;

std::string shapeText(const torch::Tensor &t)
{
    std::ostringstream os;
    os << t.sizes();
    return os.str();
}

double hzToHtkMel(double hz)
{
    return 2595.0 * std::log10(1.0 + hz / 700.0);
}

// The constant buffers are built with the same float32 tensor operations, in the same order, as
// torchaudio builds its own, so that features match a Python training pipeline as closely as
// float32 allows (measured on the fixture: the log-mel error against torchaudio fell from
// ~1.5e-5 with a double-precision construction to <= 5e-7, and 0 on two of three signals).

// torchaudio.functional.melscale_fbanks(n_freqs, f_min, f_max, n_mels, sr, norm=None,
// mel_scale="htk"): triangles between points equally spaced on the HTK mel scale
// (2595 log10(1 + f/700)), peak 1, no area normalisation. [n_freqs, n_mels]
torch::Tensor htkMelFilterbank(const FeatureConfig &c)
{
    const int64_t nFreqs = c.fftSize() / 2 + 1;
    const int64_t nMels = c.melBins;
    const auto allFreqs = torch::linspace(0, c.sampleRate / 2, nFreqs, torch::kFloat);
    const auto melPts
        = torch::linspace(hzToHtkMel(c.fMinHz), hzToHtkMel(c.fMaxHz), nMels + 2, torch::kFloat);
    const auto fPts = (torch::pow(10.0, melPts / 2595.0) - 1.0) * 700.0;
    const auto fDiff = fPts.narrow(0, 1, nMels + 1) - fPts.narrow(0, 0, nMels + 1);
    const auto slopes = fPts.unsqueeze(0) - allFreqs.unsqueeze(1); // [n_freqs, n_mels + 2]
    const auto down = (slopes.narrow(1, 0, nMels) * -1.0) / fDiff.narrow(0, 0, nMels);
    const auto up = slopes.narrow(1, 2, nMels) / fDiff.narrow(0, 1, nMels);
    return torch::maximum(torch::zeros({ 1 }), torch::minimum(down, up)).contiguous();
}

// torchaudio.functional.create_dct(n_mfcc, n_mels, norm="ortho"): orthonormal DCT-II,
// cos(pi / N (n + 1/2) k) * sqrt(2 / N), row k = 0 scaled by 1/sqrt(2); returned as
// [n_mels, n_mfcc] so that mfcc = logmel.matmul(dct).
torch::Tensor orthoDct(int64_t nMfcc, int64_t nMels)
{
    const auto n = torch::arange(double(nMels), torch::kFloat);
    const auto k = torch::arange(double(nMfcc), torch::kFloat).unsqueeze(1);
    auto dct = torch::cos((n + 0.5) * (kPi / double(nMels)) * k); // [n_mfcc, n_mels]
    dct[0] *= 1.0 / std::sqrt(2.0);
    dct *= std::sqrt(2.0 / double(nMels));
    return dct.t().contiguous();
}

// rows [M, K] x weights [K, N] in fixed tiles of kTileRows rows, for non-CPU devices. BLAS picks
// different kernels (and so different summation orders) for different M, so every product is
// issued with the same shape. `rows` must already have a multiple of kTileRows rows.
torch::Tensor tiledMatmul(const torch::Tensor &rows, const torch::Tensor &weights)
{
    const int64_t tiles = rows.size(0) / FeatureExtractor::kTileRows;
    const auto out = torch::bmm(rows.view({ tiles, FeatureExtractor::kTileRows, rows.size(1) }),
        weights.expand({ tiles, weights.size(0), weights.size(1) }));
    return out.view({ tiles * FeatureExtractor::kTileRows, weights.size(1) });
}

// rows [M, K] x weights [K, N] on the CPU, one row at a time, in a fixed order: out[n] sums
// rows[k] * weights[k][n] for k ascending. Tiling BLAS calls was not enough: with OpenBLAS'
// Haswell kernels (OPENBLAS_CORETYPE=Haswell, as CI sets it) a row's sums still depended on its
// position inside the tile, so streaming and batch differed in the last bit. The inner loop runs
// over n, whose lanes are independent, so vectorising it changes no rounding (and the x86-64
// baseline build has no FMA to contract the multiply-add into). `span[k]` is the [first, last)
// n where weights[k] is non-zero: a mel row touches at most two filters, which makes this
// cheaper than the dense product.
torch::Tensor rowProduct(const torch::Tensor &rows, const torch::Tensor &weights,
    const std::vector<std::pair<int64_t, int64_t>> &span)
{
    const auto x = rows.contiguous();
    const auto w = weights.contiguous();
    const int64_t m = x.size(0);
    const int64_t k = x.size(1);
    const int64_t n = w.size(1);
    auto out = torch::zeros({ m, n }, x.options());
    const float *src = x.data_ptr<float>();
    const float *wt = w.data_ptr<float>();
    float *dst = out.data_ptr<float>();
    at::parallel_for(0, m, 64, [&](int64_t begin, int64_t end) {
        for (int64_t r = begin; r < end; ++r) {
            const float *xr = src + r * k;
            float *o = dst + r * n;
            for (int64_t j = 0; j < k; ++j) {
                const float xj = xr[j];
                const float *wj = wt + j * n;
                for (int64_t c = span[size_t(j)].first; c < span[size_t(j)].second; ++c)
                    o[c] += xj * wj[c];
            }
        }
    });
    return out;
}

// Per row of a [K, N] matrix, the [first, last) columns holding non-zero entries.
std::vector<std::pair<int64_t, int64_t>> nonZeroSpans(const torch::Tensor &weights)
{
    const auto w = weights.contiguous();
    const int64_t n = w.size(1);
    const float *p = w.data_ptr<float>();
    std::vector<std::pair<int64_t, int64_t>> spans;
    spans.reserve(size_t(w.size(0)));
    for (int64_t j = 0; j < w.size(0); ++j) {
        int64_t first = n, last = 0;
        for (int64_t c = 0; c < n; ++c)
            if (p[j * n + c] != 0.0f) {
                first = std::min(first, c);
                last = c + 1;
            }
        spans.emplace_back(first, std::max(first, last));
    }
    return spans;
}

// |X| of a [M, F] complex spectrum as a [padded, F] float block whose rows past M are zero (the
// tile padding). Always sqrt(re * re + im * im) in single precision, one IEEE operation at a
// time: ATen's complex abs uses that formula in its vectorised body but hypot() in the scalar
// tail, and which elements land in the tail depends on M, which would break streaming == batch.
torch::Tensor paddedMagnitude(const torch::Tensor &spectrum, int64_t padded)
{
    const int64_t m = spectrum.size(0);
    const int64_t f = spectrum.size(1);
    if (spectrum.is_cpu() && spectrum.is_contiguous()) {
        // One pass over the interleaved (re, im) pairs instead of four tensor passes.
        auto out = torch::empty({ padded, f }, spectrum.options().dtype(torch::kFloat));
        const auto *src = reinterpret_cast<const float *>(spectrum.data_ptr<c10::complex<float>>());
        float *dst = out.data_ptr<float>();
        at::parallel_for(0, m * f, 32768, [&](int64_t begin, int64_t end) {
            for (int64_t i = begin; i < end; ++i) {
                const float re = src[2 * i];
                const float im = src[2 * i + 1];
                // Separate multiply and add: the default x86-64 build has no FMA to contract them
                // into, so every element rounds the same way wherever it falls in the loop.
                const float power = re * re + im * im;
                dst[i] = std::sqrt(power);
            }
        });
        std::fill(dst + m * f, dst + padded * f, 0.0f);
        return out;
    }
    const auto squares = torch::view_as_real(spectrum).square();
    auto magnitude = (squares.select(-1, 0) + squares.select(-1, 1)).sqrt_();
    if (padded != m)
        magnitude = torch::cat({ magnitude, magnitude.new_zeros({ padded - m, f }) });
    return magnitude;
}

} // namespace

FeatureExtractor::FeatureExtractor(const FeatureConfig &config)
    : m_config(config)
{
    m_config.validate();
    // Periodic Hann, torch.hann_window's default (the DFT-even window torchaudio's Spectrogram
    // uses).
    m_window = torch::hann_window(m_config.windowSamples(), torch::kFloat);
    m_melFilterbank = htkMelFilterbank(m_config);
    m_melSpans = nonZeroSpans(m_melFilterbank);
    if (m_config.kind == FeatureConfig::Kind::Mfcc) {
        m_dct = orthoDct(m_config.mfccCount, m_config.melBins);
        m_dctSpans = nonZeroSpans(m_dct);
    }
}

torch::Tensor FeatureExtractor::compute(const std::vector<float> &wave) const
{
    if (wave.empty())
        return compute(torch::zeros({ 0 }, torch::kFloat));
    const auto view = torch::from_blob(
        const_cast<float *>(wave.data()), { int64_t(wave.size()) }, torch::kFloat);
    return compute(view); // every path below copies before returning, so the view may die
}

torch::Tensor FeatureExtractor::compute(const torch::Tensor &wave) const
{
    if (!wave.defined())
        throw Error("features.input", "no waveform given (undefined tensor)");
    if (!wave.is_floating_point())
        throw Error("features.input",
            std::string("expected float32 samples, got ")
                + std::string(c10::toString(wave.scalar_type())));
    if (wave.dim() != 1 && wave.dim() != 2)
        throw Error("features.input",
            "expected a waveform [N] or a batch [B, N], got shape " + shapeText(wave));

    const bool single = wave.dim() == 1;
    const auto batch = (single ? wave.unsqueeze(0) : wave).to(torch::kFloat);
    const int64_t b = batch.size(0);
    const int64_t frames = m_config.numFrames(batch.size(1));
    const int64_t dim = m_config.featureDim();

    torch::Tensor out;
    if (frames == 0 || b == 0) {
        out = torch::zeros({ b, frames, dim }, batch.options());
    } else {
        // [B, T, win] overlapping views times the window: one pass that also makes the frames
        // contiguous. The same multiply as computeFrames() does, so the same bits.
        const auto windowed = batch.unfold(1, m_config.windowSamples(), m_config.hopSamples())
            * m_window.to(batch.device());
        out = featuresOfWindowed(windowed.reshape({ b * frames, m_config.windowSamples() }))
                  .view({ b, frames, dim });
    }
    return single ? out.squeeze(0) : out;
}

torch::Tensor FeatureExtractor::computeFrames(const torch::Tensor &frames) const
{
    const int64_t win = m_config.windowSamples();
    if (!frames.defined() || frames.dim() != 2 || frames.size(1) != win)
        throw Error("features.input",
            "expected frames [M, " + std::to_string(win) + "], got "
                + (frames.defined() ? shapeText(frames) : "nothing"));
    if (frames.size(0) == 0)
        return torch::zeros({ 0, m_config.featureDim() }, frames.options().dtype(torch::kFloat));
    return featuresOfWindowed(frames.to(torch::kFloat) * m_window.to(frames.device()));
}

torch::Tensor FeatureExtractor::featuresOfWindowed(const torch::Tensor &windowed) const
{
    // Features are inputs, never trained through; the magnitude pass reads raw memory anyway.
    const torch::NoGradGuard noGrad;
    const int64_t m = windowed.size(0);
    const auto device = windowed.device();
    const auto spectrum = torch::fft::rfft(windowed, m_config.fftSize(), -1);
    if (device.is_cpu()) {
        auto out = rowProduct(paddedMagnitude(spectrum, m), m_melFilterbank, m_melSpans)
                       .clamp_min_(m_config.logFloor)
                       .log_();
        if (m_config.kind == FeatureConfig::Kind::Mfcc)
            out = rowProduct(out, m_dct, m_dctSpans);
        return out;
    }
    const int64_t padded = (m + kTileRows - 1) / kTileRows * kTileRows;
    const auto magnitude = paddedMagnitude(spectrum, padded);
    auto out
        = tiledMatmul(magnitude, m_melFilterbank.to(device)).clamp_min_(m_config.logFloor).log_();
    if (m_config.kind == FeatureConfig::Kind::Mfcc)
        out = tiledMatmul(out, m_dct.to(device));
    return out.narrow(0, 0, m); // leading rows of a contiguous block: still contiguous
}

} // namespace tkd
