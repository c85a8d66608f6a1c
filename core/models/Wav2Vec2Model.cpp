#include "core/models/Wav2Vec2Model.h"

#include "core/util/Error.h"

#include <sstream>

namespace tkd {

namespace {

std::string shapeText(const torch::Tensor &t)
{
    std::ostringstream s;
    s << t.sizes();
    return s.str();
}

} // namespace

Wav2Vec2ModelImpl::Wav2Vec2ModelImpl(const Wav2Vec2Config &config_)
    : config(config_)
{
    reset();
}

void Wav2Vec2ModelImpl::reset()
{
    config.validate();
    if (config.frontEnd() == Wav2Vec2Config::FrontEnd::RawWaveform)
        m_featureEncoder = register_module("feature_extractor", Wav2Vec2FeatureEncoder(config));
    else if (config.spectralConvChannels() > 0)
        m_spectralConv = register_module("spectral_conv",
            SpectralConvStack(SpectralConvStackOptions(
                config.spectralBins() * config.spectralSubsampling(), config.spectralConvChannels())
                                  .kernel(config.spectralConvKernel())
                                  .layers(config.spectralConvLayers())
                                  .eps(config.layerNormEps())));
    m_projection = register_module("feature_projection",
        Wav2Vec2FeatureProjection(
            Wav2Vec2FeatureProjectionOptions(config.projectionInputSize(), config.hiddenSize())
                .dropout(config.featProjDropout())
                .eps(config.layerNormEps())));
    m_encoder = register_module("encoder", Wav2Vec2Encoder(config));
    if (config.numLabels() > 0) {
        m_head
            = register_module("head", torch::nn::Linear(config.hiddenSize(), config.numLabels()));
        torch::NoGradGuard noGrad;
        m_head->weight.normal_(0.0, 0.02);
        m_head->bias.zero_();
    }
}

void Wav2Vec2ModelImpl::resetHead(int64_t numLabels)
{
    if (numLabels < 1)
        throw Error("teacher.num_labels", "a head needs at least one label");
    config.numLabels(numLabels).labels({});
    torch::nn::Linear head(config.hiddenSize(), numLabels);
    {
        torch::NoGradGuard noGrad;
        head->weight.normal_(0.0, 0.02);
        head->bias.zero_();
    }
    m_head = m_head ? replace_module("head", head) : register_module("head", head);
}

Wav2Vec2Output Wav2Vec2ModelImpl::forward(
    const torch::Tensor &inputIn, const torch::Tensor &lengthsIn)
{
    const bool raw = config.frontEnd() == Wav2Vec2Config::FrontEnd::RawWaveform;
    torch::Tensor input = inputIn;
    if (!input.defined())
        throw Error("teacher input", "no input tensor");
    if (raw && input.dim() == 1)
        input = input.unsqueeze(0);
    if (!raw && input.dim() == 2)
        input = input.unsqueeze(0);
    if (raw && input.dim() != 2)
        throw Error(
            "teacher input", "expected a waveform [batch, samples], got " + shapeText(inputIn));
    if (!raw && (input.dim() != 3 || input.size(2) != config.spectralBins()))
        throw Error("teacher input",
            "expected spectral frames [batch, frames, " + std::to_string(config.spectralBins())
                + "], got " + shapeText(inputIn));
    if (!input.is_floating_point())
        throw Error("teacher input", "expected a floating-point tensor");
    const int64_t batch = input.size(0);
    const int64_t inputLength = input.size(1);
    const int64_t frames = config.numFrames(inputLength);
    if (frames <= 0)
        throw Error("teacher input",
            "too short: " + std::to_string(inputLength) + (raw ? " samples" : " frames")
                + " give no output frame");

    // Valid output frames per item (from input lengths, through the same arithmetic).
    torch::Tensor frameLengths;
    torch::Tensor keyPadding;
    if (lengthsIn.defined()) {
        if (lengthsIn.dim() != 1 || lengthsIn.size(0) != batch || lengthsIn.is_floating_point())
            throw Error("teacher lengths",
                "expected [" + std::to_string(batch) + "] integers, got " + shapeText(lengthsIn));
        torch::Tensor l = lengthsIn.to(torch::kCPU, torch::kLong).contiguous();
        std::vector<int64_t> fl(static_cast<size_t>(batch), 0);
        for (int64_t i = 0; i < batch; ++i) {
            const int64_t li = l[i].item<int64_t>();
            if (li < 1 || li > inputLength)
                throw Error("teacher lengths",
                    "item " + std::to_string(i) + " has length " + std::to_string(li)
                        + ", outside [1, " + std::to_string(inputLength) + "]");
            fl[size_t(i)] = config.numFrames(li);
            if (fl[size_t(i)] < 1)
                throw Error("teacher lengths",
                    "item " + std::to_string(i) + " (" + std::to_string(li)
                        + ") is too short for one output frame");
        }
        frameLengths = torch::tensor(fl, torch::kLong);
        torch::Tensor positions = torch::arange(frames, torch::kLong).unsqueeze(0);
        torch::Tensor pad = positions >= frameLengths.unsqueeze(1);
        if (pad.any().item<bool>())
            keyPadding = pad.to(input.device());
        frameLengths = frameLengths.to(input.device());
    } else {
        frameLengths = torch::full(
            { batch }, frames, torch::TensorOptions(torch::kLong).device(input.device()));
    }

    torch::Tensor features;
    if (raw) {
        features = m_featureEncoder->forward(input);
    } else {
        const int64_t k = config.spectralSubsampling();
        // Stack k consecutive frames into one vector; a trailing remainder (< k frames) is dropped.
        features
            = input.narrow(1, 0, frames * k).reshape({ batch, frames, k * config.spectralBins() });
        if (m_spectralConv)
            features = m_spectralConv->forward(features);
    }
    torch::Tensor x = m_projection->forward(features);
    Wav2Vec2EncoderOutput enc = m_encoder->forward(x, keyPadding);

    Wav2Vec2Output out;
    out.hiddenStates = std::move(enc.hiddenStates);
    out.attentions = std::move(enc.attentions);
    out.lastHiddenState = out.hiddenStates.back();
    out.frameLengths = frameLengths;
    if (m_head)
        out.logits = m_head->forward(out.lastHiddenState.select(1, 0)); // c_1: frame 1, no pooling
    return out;
}

} // namespace tkd
