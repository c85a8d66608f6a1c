#pragma once

#include "core/models/Wav2Vec2Config.h"

#include <torch/torch.h>

#include <vector>

// The wav2vec 2.0 transformer. Its small building blocks (positional conv, self-attention, feed
// forward, layer) live in this one header/source pair rather than one file each: they are only
// used here, and every extra torch translation unit costs ~20 s on the shared 2-core builder.
// Registered names match Hugging Face's ("encoder.layers.3.attention.q_proj.weight", ...).

namespace tkd {

// Convolutional relative positional embedding: grouped Conv1d with weight norm over dim 2
// (weight = g * v / ||v||, norms taken over dims 0 and 1, as HF stores weight_g / weight_v),
// "same" padding with the extra frame dropped for an even kernel, then GELU.
struct Wav2Vec2PositionalConvOptions
{
    Wav2Vec2PositionalConvOptions(int64_t dim, int64_t kernel, int64_t groups)
        : dim_(dim)
        , kernel_(kernel)
        , groups_(groups)
    { }
    TORCH_ARG(int64_t, dim);
    TORCH_ARG(int64_t, kernel);
    TORCH_ARG(int64_t, groups);
};

class Wav2Vec2WeightNormConvImpl : public torch::nn::Module
{
public:
    explicit Wav2Vec2WeightNormConvImpl(const Wav2Vec2PositionalConvOptions &options);
    void reset();
    torch::Tensor weight() const; // the effective conv weight g * v / ||v||
    torch::Tensor forward(const torch::Tensor &x);

    Wav2Vec2PositionalConvOptions options;
    torch::Tensor weightG, weightV, bias;
};
TORCH_MODULE(Wav2Vec2WeightNormConv);

class Wav2Vec2PositionalConvImpl : public torch::nn::Module
{
public:
    explicit Wav2Vec2PositionalConvImpl(const Wav2Vec2PositionalConvOptions &options);
    void reset();
    // [B, T, D] -> [B, T, D] (the embedding only; the caller adds it)
    torch::Tensor forward(const torch::Tensor &x);

    Wav2Vec2PositionalConvOptions options;

private:
    Wav2Vec2WeightNormConv m_conv { nullptr };
};
TORCH_MODULE(Wav2Vec2PositionalConv);

struct Wav2Vec2AttentionOptions
{
    Wav2Vec2AttentionOptions(int64_t dim, int64_t heads)
        : dim_(dim)
        , heads_(heads)
    { }
    TORCH_ARG(int64_t, dim);
    TORCH_ARG(int64_t, heads);
    TORCH_ARG(double, dropout) = 0.0;
};

// Multi-head self-attention that also returns its softmax probabilities (before dropout), the
// quantity attention rollout needs.
class Wav2Vec2AttentionImpl : public torch::nn::Module
{
public:
    explicit Wav2Vec2AttentionImpl(const Wav2Vec2AttentionOptions &options);
    void reset();
    // x [B, T, D]; keyPadding [B, T] bool, true = padded (may be undefined).
    // Returns {output [B, T, D], probabilities [B, heads, T, T]}.
    std::pair<torch::Tensor, torch::Tensor> forward(
        const torch::Tensor &x, const torch::Tensor &keyPadding = {});

    Wav2Vec2AttentionOptions options;

private:
    torch::nn::Linear m_k { nullptr }, m_v { nullptr }, m_q { nullptr }, m_out { nullptr };
};
TORCH_MODULE(Wav2Vec2Attention);

struct Wav2Vec2EncoderLayerOptions
{
    Wav2Vec2EncoderLayerOptions(int64_t dim, int64_t heads, int64_t ffn)
        : dim_(dim)
        , heads_(heads)
        , ffn_(ffn)
    { }
    TORCH_ARG(int64_t, dim);
    TORCH_ARG(int64_t, heads);
    TORCH_ARG(int64_t, ffn);
    TORCH_ARG(bool, preLayerNorm) = false; // HF do_stable_layer_norm
    TORCH_ARG(double, eps) = 1e-5;
    TORCH_ARG(double, hiddenDropout) = 0.0;
    TORCH_ARG(double, attentionDropout) = 0.0;
    TORCH_ARG(double, activationDropout) = 0.0;
};

// Feed forward (Linear -> GELU -> dropout -> Linear -> dropout), HF "feed_forward".
class Wav2Vec2FeedForwardImpl : public torch::nn::Module
{
public:
    explicit Wav2Vec2FeedForwardImpl(const Wav2Vec2EncoderLayerOptions &options);
    void reset();
    torch::Tensor forward(const torch::Tensor &x);

    Wav2Vec2EncoderLayerOptions options;

private:
    torch::nn::Linear m_intermediate { nullptr }, m_output { nullptr };
};
TORCH_MODULE(Wav2Vec2FeedForward);

// One transformer layer. Post-LN (base): x = LN(x + attn(x)); x = LN'(x + ffn(x)).
// Pre-LN (large / XLSR): x = x + attn(LN(x)); x = x + ffn(LN'(x)).
class Wav2Vec2EncoderLayerImpl : public torch::nn::Module
{
public:
    explicit Wav2Vec2EncoderLayerImpl(const Wav2Vec2EncoderLayerOptions &options);
    void reset();
    // Returns {hidden [B, T, D], attention probabilities [B, heads, T, T]}.
    std::pair<torch::Tensor, torch::Tensor> forward(
        const torch::Tensor &x, const torch::Tensor &keyPadding = {});

    Wav2Vec2EncoderLayerOptions options;

private:
    Wav2Vec2Attention m_attention { nullptr };
    torch::nn::LayerNorm m_norm { nullptr };
    Wav2Vec2FeedForward m_feedForward { nullptr };
    torch::nn::LayerNorm m_finalNorm { nullptr };
};
TORCH_MODULE(Wav2Vec2EncoderLayer);

struct Wav2Vec2EncoderOutput
{
    // numLayers + 1 entries, Hugging Face's convention: [0] is the input to layer 1 (after the
    // positional embedding, and the LayerNorm in the post-LN variant), [i] the output of layer i;
    // in the pre-LN variant the last entry has the final LayerNorm applied.
    std::vector<torch::Tensor> hiddenStates;
    std::vector<torch::Tensor> attentions; // numLayers x [B, heads, T, T]
};

class Wav2Vec2EncoderImpl : public torch::nn::Module
{
public:
    explicit Wav2Vec2EncoderImpl(const Wav2Vec2Config &config);
    void reset();
    // x [B, T, D] projected features; keyPadding [B, T] bool (true = padded) or undefined.
    Wav2Vec2EncoderOutput forward(const torch::Tensor &x, const torch::Tensor &keyPadding = {});

    Wav2Vec2Config config;

private:
    Wav2Vec2PositionalConv m_posConv { nullptr };
    torch::nn::LayerNorm m_norm { nullptr };
    torch::nn::ModuleList m_layers { nullptr };
};
TORCH_MODULE(Wav2Vec2Encoder);

} // namespace tkd
