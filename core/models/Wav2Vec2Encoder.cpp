#include "core/models/Wav2Vec2Encoder.h"

#include "core/models/FastDropout.h"

#include <cmath>
#include <limits>

namespace tkd {

// ---- positional conv ----------------------------------------------------------------------------

Wav2Vec2WeightNormConvImpl::Wav2Vec2WeightNormConvImpl(
    const Wav2Vec2PositionalConvOptions &options_)
    : options(options_)
{
    reset();
}

void Wav2Vec2WeightNormConvImpl::reset()
{
    const int64_t d = options.dim(), k = options.kernel(), g = options.groups();
    // fairseq / HF init: normal with std 2 * sqrt(1 / (k * d)), g = ||v|| so weight == v at start.
    torch::Tensor v = torch::randn({ d, d / g, k }) * (2.0 * std::sqrt(1.0 / double(k * d)));
    torch::Tensor gInit = v.pow(2).sum(torch::IntArrayRef { 0, 1 }, true).sqrt();
    weightG = register_parameter("weight_g", gInit);
    weightV = register_parameter("weight_v", v);
    bias = register_parameter("bias", torch::zeros({ d }));
}

torch::Tensor Wav2Vec2WeightNormConvImpl::weight() const
{
    return weightV * (weightG / weightV.pow(2).sum(torch::IntArrayRef { 0, 1 }, true).sqrt());
}

torch::Tensor Wav2Vec2WeightNormConvImpl::forward(const torch::Tensor &x)
{
    return torch::conv1d(x, weight(), bias, /*stride=*/1, /*padding=*/options.kernel() / 2,
        /*dilation=*/1, options.groups());
}

Wav2Vec2PositionalConvImpl::Wav2Vec2PositionalConvImpl(
    const Wav2Vec2PositionalConvOptions &options_)
    : options(options_)
{
    reset();
}

void Wav2Vec2PositionalConvImpl::reset()
{
    m_conv = register_module("conv", Wav2Vec2WeightNormConv(options));
}

torch::Tensor Wav2Vec2PositionalConvImpl::forward(const torch::Tensor &x)
{
    const int64_t t = x.size(1);
    torch::Tensor y = m_conv->forward(x.transpose(1, 2)); // [B, D, T + 1] for an even kernel
    y = y.narrow(2, 0, t);
    return torch::gelu(y).transpose(1, 2);
}

// ---- self-attention -----------------------------------------------------------------------------

Wav2Vec2AttentionImpl::Wav2Vec2AttentionImpl(const Wav2Vec2AttentionOptions &options_)
    : options(options_)
{
    reset();
}

void Wav2Vec2AttentionImpl::reset()
{
    TORCH_CHECK(options.dim() % options.heads() == 0, "attention heads must divide the width");
    const int64_t d = options.dim();
    m_k = register_module("k_proj", torch::nn::Linear(d, d));
    m_v = register_module("v_proj", torch::nn::Linear(d, d));
    m_q = register_module("q_proj", torch::nn::Linear(d, d));
    m_out = register_module("out_proj", torch::nn::Linear(d, d));
}

std::pair<torch::Tensor, torch::Tensor> Wav2Vec2AttentionImpl::forward(
    const torch::Tensor &x, const torch::Tensor &keyPadding)
{
    const int64_t b = x.size(0), t = x.size(1), d = options.dim(), h = options.heads();
    const int64_t hd = d / h;
    const double scaling = 1.0 / std::sqrt(double(hd));
    auto heads = [&](const torch::Tensor &y) { return y.view({ b, t, h, hd }).transpose(1, 2); };
    torch::Tensor q = heads(m_q->forward(x) * scaling); // [B, H, T, hd]
    torch::Tensor k = heads(m_k->forward(x));
    torch::Tensor v = heads(m_v->forward(x));
    torch::Tensor scores = torch::matmul(q, k.transpose(-2, -1)); // [B, H, T, T]
    if (keyPadding.defined())
        scores = scores.masked_fill(
            keyPadding.view({ b, 1, 1, t }), -std::numeric_limits<float>::infinity());
    torch::Tensor probs = torch::softmax(scores, -1);
    torch::Tensor context = torch::matmul(fastDropout(probs, options.dropout(), is_training()), v);
    context = context.transpose(1, 2).reshape({ b, t, d });
    return { m_out->forward(context), probs };
}

// ---- feed forward and layer ---------------------------------------------------------------------

Wav2Vec2FeedForwardImpl::Wav2Vec2FeedForwardImpl(const Wav2Vec2EncoderLayerOptions &options_)
    : options(options_)
{
    reset();
}

void Wav2Vec2FeedForwardImpl::reset()
{
    m_intermediate
        = register_module("intermediate_dense", torch::nn::Linear(options.dim(), options.ffn()));
    m_output = register_module("output_dense", torch::nn::Linear(options.ffn(), options.dim()));
}

torch::Tensor Wav2Vec2FeedForwardImpl::forward(const torch::Tensor &x)
{
    torch::Tensor y = torch::gelu(m_intermediate->forward(x));
    y = fastDropout(y, options.activationDropout(), is_training());
    return fastDropout(m_output->forward(y), options.hiddenDropout(), is_training());
}

Wav2Vec2EncoderLayerImpl::Wav2Vec2EncoderLayerImpl(const Wav2Vec2EncoderLayerOptions &options_)
    : options(options_)
{
    reset();
}

void Wav2Vec2EncoderLayerImpl::reset()
{
    m_attention = register_module("attention",
        Wav2Vec2Attention(Wav2Vec2AttentionOptions(options.dim(), options.heads())
                              .dropout(options.attentionDropout())));
    auto ln = [&] {
        return torch::nn::LayerNorm(
            torch::nn::LayerNormOptions({ options.dim() }).eps(options.eps()));
    };
    m_norm = register_module("layer_norm", ln());
    m_feedForward = register_module("feed_forward", Wav2Vec2FeedForward(options));
    m_finalNorm = register_module("final_layer_norm", ln());
}

std::pair<torch::Tensor, torch::Tensor> Wav2Vec2EncoderLayerImpl::forward(
    const torch::Tensor &x, const torch::Tensor &keyPadding)
{
    const double p = options.hiddenDropout();
    if (options.preLayerNorm()) {
        auto [attn, probs] = m_attention->forward(m_norm->forward(x), keyPadding);
        torch::Tensor y = x + fastDropout(attn, p, is_training());
        y = y + m_feedForward->forward(m_finalNorm->forward(y));
        return { y, probs };
    }
    auto [attn, probs] = m_attention->forward(x, keyPadding);
    torch::Tensor y = m_norm->forward(x + fastDropout(attn, p, is_training()));
    y = m_finalNorm->forward(y + m_feedForward->forward(y));
    return { y, probs };
}

// ---- encoder ------------------------------------------------------------------------------------

Wav2Vec2EncoderImpl::Wav2Vec2EncoderImpl(const Wav2Vec2Config &config_)
    : config(config_)
{
    reset();
}

void Wav2Vec2EncoderImpl::reset()
{
    config.validate();
    const int64_t d = config.hiddenSize();
    m_posConv = register_module("pos_conv_embed",
        Wav2Vec2PositionalConv(
            Wav2Vec2PositionalConvOptions(d, config.posConvKernel(), config.posConvGroups())));
    m_norm = register_module("layer_norm",
        torch::nn::LayerNorm(torch::nn::LayerNormOptions({ d }).eps(config.layerNormEps())));
    m_layers = torch::nn::ModuleList();
    for (int64_t l = 0; l < config.numLayers(); ++l)
        m_layers->push_back(Wav2Vec2EncoderLayer(
            Wav2Vec2EncoderLayerOptions(d, config.numHeads(), config.intermediateSize())
                .preLayerNorm(config.stableLayerNorm())
                .eps(config.layerNormEps())
                .hiddenDropout(config.hiddenDropout())
                .attentionDropout(config.attentionDropout())
                .activationDropout(config.activationDropout())));
    register_module("layers", m_layers);
    // BERT-style init for the transformer's linear layers (trains from scratch more reliably than
    // LibTorch's default); imported weights overwrite it anyway.
    torch::NoGradGuard noGrad;
    for (auto &p : m_layers->named_parameters()) {
        const std::string &name = p.key();
        if (name.find("_norm") != std::string::npos)
            continue;
        if (name.size() >= 6 && name.compare(name.size() - 6, 6, "weight") == 0)
            p.value().normal_(0.0, 0.02);
        else
            p.value().zero_();
    }
}

Wav2Vec2EncoderOutput Wav2Vec2EncoderImpl::forward(
    const torch::Tensor &input, const torch::Tensor &keyPadding)
{
    Wav2Vec2EncoderOutput out;
    torch::Tensor x = input;
    if (keyPadding.defined())
        x = x.masked_fill(
            keyPadding.unsqueeze(-1), 0.0); // padded frames must not leak via the conv
    x = x + m_posConv->forward(x);
    if (!config.stableLayerNorm())
        x = m_norm->forward(x);
    x = fastDropout(x, config.hiddenDropout(), is_training());
    for (auto &layer : *m_layers) {
        out.hiddenStates.push_back(x);
        auto [y, probs] = layer->as<Wav2Vec2EncoderLayer>()->forward(x, keyPadding);
        out.attentions.push_back(probs);
        x = y;
    }
    if (config.stableLayerNorm())
        x = m_norm->forward(x);
    out.hiddenStates.push_back(x);
    return out;
}

} // namespace tkd
