#include "core/models/Wav2Vec2FeatureEncoder.h"

#include "core/models/FastDropout.h"

namespace tkd {

Wav2Vec2ConvLayerImpl::Wav2Vec2ConvLayerImpl(const Wav2Vec2ConvLayerOptions &options_)
    : options(options_)
{
    reset();
}

void Wav2Vec2ConvLayerImpl::reset()
{
    m_conv = register_module("conv",
        torch::nn::Conv1d(torch::nn::Conv1dOptions(options.in(), options.out(), options.kernel())
                              .stride(options.stride())
                              .bias(options.bias())));
    // HF names both norms "layer_norm"; its eps is torch's default, not config.layer_norm_eps.
    if (options.norm() == Wav2Vec2ConvLayerOptions::Norm::Group)
        m_groupNorm = register_module("layer_norm",
            torch::nn::GroupNorm(
                torch::nn::GroupNormOptions(options.out(), options.out()).eps(options.eps())));
    else if (options.norm() == Wav2Vec2ConvLayerOptions::Norm::Layer)
        m_layerNorm = register_module("layer_norm",
            torch::nn::LayerNorm(
                torch::nn::LayerNormOptions({ options.out() }).eps(options.eps())));
}

torch::Tensor Wav2Vec2ConvLayerImpl::forward(const torch::Tensor &input)
{
    torch::Tensor x = m_conv->forward(input);
    if (m_groupNorm)
        x = m_groupNorm->forward(x);
    else if (m_layerNorm)
        x = m_layerNorm->forward(x.transpose(1, 2)).transpose(1, 2); // normalise over channels
    return torch::gelu(x);
}

Wav2Vec2FeatureEncoderImpl::Wav2Vec2FeatureEncoderImpl(const Wav2Vec2Config &config_)
    : config(config_)
{
    reset();
}

void Wav2Vec2FeatureEncoderImpl::reset()
{
    config.validate();
    m_layers = torch::nn::ModuleList();
    int64_t in = 1;
    for (size_t i = 0; i < config.convDim().size(); ++i) {
        using Norm = Wav2Vec2ConvLayerOptions::Norm;
        Norm norm = Norm::None;
        if (config.featureNorm() == Wav2Vec2Config::FeatureNorm::Layer)
            norm = Norm::Layer;
        else if (i == 0)
            norm = Norm::Group;
        m_layers->push_back(Wav2Vec2ConvLayer(Wav2Vec2ConvLayerOptions(
            in, config.convDim()[i], config.convKernel()[i], config.convStride()[i])
                                                  .bias(config.convBias())
                                                  .norm(norm)));
        in = config.convDim()[i];
    }
    register_module("conv_layers", m_layers);
    for (auto &p : named_parameters())
        if (p.key().find("conv.weight") != std::string::npos)
            torch::nn::init::kaiming_normal_(p.value());
}

torch::Tensor Wav2Vec2FeatureEncoderImpl::forward(const torch::Tensor &waveform)
{
    torch::Tensor x = waveform.unsqueeze(1); // [B, 1, S]
    for (auto &layer : *m_layers)
        x = layer->as<Wav2Vec2ConvLayer>()->forward(x);
    return x.transpose(1, 2); // [B, frames, C]
}

Wav2Vec2FeatureProjectionImpl::Wav2Vec2FeatureProjectionImpl(
    const Wav2Vec2FeatureProjectionOptions &options_)
    : options(options_)
{
    reset();
}

void Wav2Vec2FeatureProjectionImpl::reset()
{
    m_norm = register_module("layer_norm",
        torch::nn::LayerNorm(torch::nn::LayerNormOptions({ options.in() }).eps(options.eps())));
    m_projection = register_module("projection", torch::nn::Linear(options.in(), options.out()));
}

torch::Tensor Wav2Vec2FeatureProjectionImpl::forward(const torch::Tensor &x)
{
    return fastDropout(m_projection->forward(m_norm->forward(x)), options.dropout(), is_training());
}

SpectralConvStackImpl::SpectralConvStackImpl(const SpectralConvStackOptions &options_)
    : options(options_)
{
    reset();
}

void SpectralConvStackImpl::reset()
{
    m_norm = register_module("norm",
        torch::nn::LayerNorm(torch::nn::LayerNormOptions({ options.in() }).eps(options.eps())));
    m_convs = register_module("convs", torch::nn::ModuleList());
    int64_t in = options.in();
    for (int64_t l = 0; l < options.layers(); ++l) {
        m_convs->push_back(
            torch::nn::Conv1d(torch::nn::Conv1dOptions(in, options.channels(), options.kernel())
                                  .padding(options.kernel() / 2)));
        in = options.channels();
    }
}

torch::Tensor SpectralConvStackImpl::forward(const torch::Tensor &x)
{
    torch::Tensor h = m_norm->forward(x).transpose(1, 2); // [B, C, T] for the convs
    for (const auto &conv : *m_convs)
        h = torch::gelu(conv->as<torch::nn::Conv1d>()->forward(h));
    return h.transpose(1, 2).contiguous();
}

} // namespace tkd
