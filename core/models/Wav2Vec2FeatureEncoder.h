#pragma once

#include "core/models/Wav2Vec2Config.h"

#include <torch/torch.h>

namespace tkd {

// One block of the conv feature encoder: Conv1d -> (GroupNorm | channel LayerNorm | none) -> GELU.
// Kept in this file with the encoder it belongs to (nothing else uses it).
struct Wav2Vec2ConvLayerOptions
{
    Wav2Vec2ConvLayerOptions(int64_t in, int64_t out, int64_t kernel, int64_t stride)
        : in_(in)
        , out_(out)
        , kernel_(kernel)
        , stride_(stride)
    { }
    enum class Norm { None, Group, Layer };
    TORCH_ARG(int64_t, in);
    TORCH_ARG(int64_t, out);
    TORCH_ARG(int64_t, kernel);
    TORCH_ARG(int64_t, stride);
    TORCH_ARG(bool, bias) = false;
    TORCH_ARG(Norm, norm) = Norm::None;
    TORCH_ARG(double, eps) = 1e-5;
};

class Wav2Vec2ConvLayerImpl : public torch::nn::Module
{
public:
    explicit Wav2Vec2ConvLayerImpl(const Wav2Vec2ConvLayerOptions &options);
    void reset();
    // [B, C_in, S] -> [B, C_out, S']
    torch::Tensor forward(const torch::Tensor &x);

    Wav2Vec2ConvLayerOptions options;

private:
    torch::nn::Conv1d m_conv { nullptr };
    torch::nn::GroupNorm m_groupNorm { nullptr };
    torch::nn::LayerNorm m_layerNorm { nullptr };
};
TORCH_MODULE(Wav2Vec2ConvLayer);

// The published raw-waveform feature encoder (HF "feature_extractor"): 7 conv blocks, 320 samples
// per frame at the defaults. Registered names match Hugging Face's, so imported weights map 1:1.
class Wav2Vec2FeatureEncoderImpl : public torch::nn::Module
{
public:
    explicit Wav2Vec2FeatureEncoderImpl(const Wav2Vec2Config &config);
    void reset();
    // [B, samples] -> [B, frames, C_last]
    torch::Tensor forward(const torch::Tensor &waveform);

    Wav2Vec2Config config;

private:
    torch::nn::ModuleList m_layers { nullptr };
};
TORCH_MODULE(Wav2Vec2FeatureEncoder);

// LayerNorm + Linear + dropout from encoder features (or stacked spectral frames) to the
// transformer width (HF "feature_projection").
struct Wav2Vec2FeatureProjectionOptions
{
    Wav2Vec2FeatureProjectionOptions(int64_t in, int64_t out)
        : in_(in)
        , out_(out)
    { }
    TORCH_ARG(int64_t, in);
    TORCH_ARG(int64_t, out);
    TORCH_ARG(double, dropout) = 0.0;
    TORCH_ARG(double, eps) = 1e-5;
};

class Wav2Vec2FeatureProjectionImpl : public torch::nn::Module
{
public:
    explicit Wav2Vec2FeatureProjectionImpl(const Wav2Vec2FeatureProjectionOptions &options);
    void reset();
    torch::Tensor forward(const torch::Tensor &x);

    Wav2Vec2FeatureProjectionOptions options;

private:
    torch::nn::LayerNorm m_norm { nullptr };
    torch::nn::Linear m_projection { nullptr };
};
TORCH_MODULE(Wav2Vec2FeatureProjection);

// The spectral front end's optional conv stack (Wav2Vec2Config::spectralConvChannels): LayerNorm
// over each stacked frame's bins (level-invariant), then `layers` x (Conv1d, same padding, GELU).
// [B, T, in] -> [B, T, channels].
struct SpectralConvStackOptions
{
    SpectralConvStackOptions(int64_t in, int64_t channels)
        : in_(in)
        , channels_(channels)
    { }
    TORCH_ARG(int64_t, in);
    TORCH_ARG(int64_t, channels);
    TORCH_ARG(int64_t, kernel) = 5;
    TORCH_ARG(int64_t, layers) = 2;
    TORCH_ARG(double, eps) = 1e-5;
};

class SpectralConvStackImpl : public torch::nn::Module
{
public:
    explicit SpectralConvStackImpl(const SpectralConvStackOptions &options);
    void reset();
    torch::Tensor forward(const torch::Tensor &x);

    SpectralConvStackOptions options;

private:
    torch::nn::LayerNorm m_norm { nullptr };
    torch::nn::ModuleList m_convs { nullptr };
};
TORCH_MODULE(SpectralConvStack);

} // namespace tkd
