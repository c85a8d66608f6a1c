#include "core/models/Wav2Vec2Config.h"

#include "core/io/HfConfig.h"
#include "core/util/Error.h"

#include <sstream>

namespace tkd {

namespace {

std::string joinInts(const std::vector<int64_t> &v)
{
    std::string s;
    for (size_t i = 0; i < v.size(); ++i)
        s += (i ? "," : "") + std::to_string(v[i]);
    return s;
}

} // namespace

Wav2Vec2Config Wav2Vec2Config::tiny(int64_t numLabels, int64_t melBins)
{
    // The calibration probe's shape (3 pre-LN layers, d 96, 4 heads) over log-mel frames; the
    // positional conv spans 32 frames (0.65 s at 49 frames/s), enough for a 1 s keyword.
    Wav2Vec2Config c;
    c.name("tiny")
        .frontEnd(FrontEnd::Spectral)
        .spectralBins(melBins)
        .spectralSubsampling(1)
        .hiddenSize(96)
        .numLayers(3)
        .numHeads(4)
        .intermediateSize(384)
        .posConvKernel(32)
        .posConvGroups(8)
        .stableLayerNorm(true)
        .hiddenDropout(0.1)
        .attentionDropout(0.1)
        .activationDropout(0.0)
        .featProjDropout(0.1)
        .numLabels(numLabels);
    return c;
}

Wav2Vec2Config Wav2Vec2Config::small(int64_t numLabels, int64_t melBins)
{
    // tiny widened and deepened (d 128, 4 layers) over 2x-stacked log-mel frames (25 frames/s):
    // the shipped teacher. A conv stack in front (spectralConvChannels) is offered, but in the
    // pretraining probe it stayed at the class prior for an epoch where this shape reached 59%.
    Wav2Vec2Config c = tiny(numLabels, melBins);
    c.name("small")
        .spectralSubsampling(2)
        .hiddenSize(128)
        .numLayers(4)
        .numHeads(4)
        .intermediateSize(256)
        .posConvKernel(16)
        .posConvGroups(8);
    return c;
}

Wav2Vec2Config Wav2Vec2Config::base(int64_t numLabels)
{
    Wav2Vec2Config c; // the defaults are wav2vec 2.0 base
    c.name("base").numLabels(numLabels);
    return c;
}

Wav2Vec2Config Wav2Vec2Config::xlsr300m(int64_t numLabels)
{
    Wav2Vec2Config c;
    c.name("xlsr-300m")
        .convBias(true)
        .featureNorm(FeatureNorm::Layer)
        .hiddenSize(1024)
        .numLayers(24)
        .numHeads(16)
        .intermediateSize(4096)
        .stableLayerNorm(true)
        .numLabels(numLabels);
    return c;
}

std::vector<std::string> Wav2Vec2Config::presetNames()
{
    return { "tiny", "base", "xlsr-300m" };
}

Wav2Vec2Config Wav2Vec2Config::preset(const std::string &name, int64_t numLabels)
{
    if (name == "tiny")
        return tiny(numLabels);
    if (name == "base")
        return base(numLabels);
    if (name == "xlsr-300m" || name == "xlsr")
        return xlsr300m(numLabels);
    throw Error(
        "teacher.model", "unknown teacher \"" + name + "\" (expected tiny, base or xlsr-300m)");
}

Wav2Vec2Config Wav2Vec2Config::fromHf(const io::HfConfig &hf)
{
    Wav2Vec2Config c;
    c.name("imported")
        .frontEnd(FrontEnd::RawWaveform)
        .convDim(hf.convDim)
        .convKernel(hf.convKernel)
        .convStride(hf.convStride)
        .convBias(hf.convBias)
        .featureNorm(hf.featExtractNorm == "layer" ? FeatureNorm::Layer : FeatureNorm::Group)
        .hiddenSize(hf.hiddenSize)
        .numLayers(hf.numHiddenLayers)
        .numHeads(hf.numAttentionHeads)
        .intermediateSize(hf.intermediateSize)
        .posConvKernel(hf.numConvPosEmbeddings)
        .posConvGroups(hf.numConvPosEmbeddingGroups)
        .stableLayerNorm(hf.doStableLayerNorm)
        .layerNormEps(hf.layerNormEps)
        .hiddenDropout(hf.hiddenDropout)
        .attentionDropout(hf.attentionDropout)
        .activationDropout(hf.activationDropout)
        .featProjDropout(hf.featProjDropout)
        .numLabels(hf.numLabels)
        .labels(hf.labels);
    return c;
}

void Wav2Vec2Config::validate() const
{
    auto positive = [](const char *key, int64_t v) {
        if (v <= 0)
            throw Error(
                std::string("teacher.") + key, "must be positive, got " + std::to_string(v));
    };
    positive("hidden_size", hiddenSize_);
    positive("num_layers", numLayers_);
    positive("num_heads", numHeads_);
    positive("intermediate_size", intermediateSize_);
    positive("pos_conv_kernel", posConvKernel_);
    positive("pos_conv_groups", posConvGroups_);
    if (hiddenSize_ % numHeads_ != 0)
        throw Error("teacher.num_heads",
            std::to_string(numHeads_) + " does not divide hidden_size "
                + std::to_string(hiddenSize_));
    if (hiddenSize_ % posConvGroups_ != 0)
        throw Error("teacher.pos_conv_groups",
            std::to_string(posConvGroups_) + " does not divide hidden_size "
                + std::to_string(hiddenSize_));
    if (numLabels_ < 0)
        throw Error("teacher.num_labels", "must be >= 0, got " + std::to_string(numLabels_));
    if (!labels_.empty() && int64_t(labels_.size()) != numLabels_)
        throw Error("teacher.labels",
            std::to_string(labels_.size()) + " names for " + std::to_string(numLabels_)
                + " labels");
    if (!(layerNormEps_ > 0.0))
        throw Error("teacher.layer_norm_eps", "must be positive");
    for (auto [key, p] : { std::pair { "hidden_dropout", hiddenDropout_ },
             std::pair { "attention_dropout", attentionDropout_ },
             std::pair { "activation_dropout", activationDropout_ },
             std::pair { "feat_proj_dropout", featProjDropout_ } })
        if (!(p >= 0.0 && p < 1.0))
            throw Error(
                std::string("teacher.") + key, "must be in [0, 1), got " + std::to_string(p));
    if (frontEnd_ == FrontEnd::Spectral) {
        positive("spectral_bins", spectralBins_);
        positive("spectral_subsampling", spectralSubsampling_);
        if (spectralConvChannels_ < 0)
            throw Error("teacher.spectral_conv_channels", "must be >= 0");
        if (spectralConvChannels_ > 0) {
            positive("spectral_conv_layers", spectralConvLayers_);
            positive("spectral_conv_kernel", spectralConvKernel_);
            if (spectralConvKernel_ % 2 == 0)
                throw Error("teacher.spectral_conv_kernel",
                    "must be odd (same padding keeps the frame count)");
        }
    } else {
        if (convDim_.empty())
            throw Error("teacher.conv_dim", "needs at least one conv layer");
        if (convKernel_.size() != convDim_.size() || convStride_.size() != convDim_.size())
            throw Error("teacher.conv_dim", "conv_dim, conv_kernel and conv_stride lengths differ");
        for (size_t i = 0; i < convDim_.size(); ++i) {
            positive("conv_dim", convDim_[i]);
            positive("conv_kernel", convKernel_[i]);
            positive("conv_stride", convStride_[i]);
        }
    }
}

int64_t Wav2Vec2Config::numFrames(int64_t inputLength) const
{
    if (frontEnd_ == FrontEnd::Spectral)
        return inputLength > 0 ? inputLength / spectralSubsampling_ : 0;
    int64_t n = inputLength;
    for (size_t i = 0; i < convKernel_.size(); ++i) {
        if (n < convKernel_[i])
            return 0;
        n = (n - convKernel_[i]) / convStride_[i] + 1;
    }
    return n;
}

double Wav2Vec2Config::frameWindowSec(double melWindowSec, double melHopSec) const
{
    if (frontEnd_ == FrontEnd::Spectral)
        return melWindowSec + double(spectralSubsampling_ - 1) * melHopSec;
    int64_t field = 1, jump = 1; // receptive field and stride in samples, layer by layer
    for (size_t i = 0; i < convKernel_.size(); ++i) {
        field += (convKernel_[i] - 1) * jump;
        jump *= convStride_[i];
    }
    return double(field) / 16000.0;
}

double Wav2Vec2Config::frameHopSec(double melHopSec) const
{
    if (frontEnd_ == FrontEnd::Spectral)
        return double(spectralSubsampling_) * melHopSec;
    int64_t jump = 1;
    for (int64_t s : convStride_)
        jump *= s;
    return double(jump) / 16000.0;
}

int64_t Wav2Vec2Config::projectionInputSize() const
{
    if (frontEnd_ == FrontEnd::Spectral)
        return spectralConvChannels_ > 0 ? spectralConvChannels_
                                         : spectralBins_ * spectralSubsampling_;
    return convDim_.back();
}

std::vector<std::pair<std::string, std::vector<int64_t>>> Wav2Vec2Config::expectedParameters() const
{
    // Must list exactly what the modules register, in registration order (checked by a test).
    std::vector<std::pair<std::string, std::vector<int64_t>>> p;
    const int64_t h = hiddenSize_;
    if (frontEnd_ == FrontEnd::RawWaveform) {
        int64_t in = 1;
        for (size_t i = 0; i < convDim_.size(); ++i) {
            const std::string pre = "feature_extractor.conv_layers." + std::to_string(i) + ".";
            p.push_back({ pre + "conv.weight", { convDim_[i], in, convKernel_[i] } });
            if (convBias_)
                p.push_back({ pre + "conv.bias", { convDim_[i] } });
            if (featureNorm_ == FeatureNorm::Layer || i == 0) {
                p.push_back({ pre + "layer_norm.weight", { convDim_[i] } });
                p.push_back({ pre + "layer_norm.bias", { convDim_[i] } });
            }
            in = convDim_[i];
        }
    }
    if (frontEnd_ == FrontEnd::Spectral && spectralConvChannels_ > 0) {
        const int64_t stacked = spectralBins_ * spectralSubsampling_;
        p.push_back({ "spectral_conv.norm.weight", { stacked } });
        p.push_back({ "spectral_conv.norm.bias", { stacked } });
        int64_t in = stacked;
        for (int64_t l = 0; l < spectralConvLayers_; ++l) {
            const std::string pre = "spectral_conv.convs." + std::to_string(l) + ".";
            p.push_back({ pre + "weight", { spectralConvChannels_, in, spectralConvKernel_ } });
            p.push_back({ pre + "bias", { spectralConvChannels_ } });
            in = spectralConvChannels_;
        }
    }
    const int64_t pin = projectionInputSize();
    p.push_back({ "feature_projection.layer_norm.weight", { pin } });
    p.push_back({ "feature_projection.layer_norm.bias", { pin } });
    p.push_back({ "feature_projection.projection.weight", { h, pin } });
    p.push_back({ "feature_projection.projection.bias", { h } });
    p.push_back({ "encoder.pos_conv_embed.conv.weight_g", { 1, 1, posConvKernel_ } });
    p.push_back(
        { "encoder.pos_conv_embed.conv.weight_v", { h, h / posConvGroups_, posConvKernel_ } });
    p.push_back({ "encoder.pos_conv_embed.conv.bias", { h } });
    p.push_back({ "encoder.layer_norm.weight", { h } });
    p.push_back({ "encoder.layer_norm.bias", { h } });
    for (int64_t l = 0; l < numLayers_; ++l) {
        const std::string pre = "encoder.layers." + std::to_string(l) + ".";
        for (const char *proj : { "k_proj", "v_proj", "q_proj", "out_proj" }) {
            p.push_back({ pre + "attention." + proj + ".weight", { h, h } });
            p.push_back({ pre + "attention." + proj + ".bias", { h } });
        }
        p.push_back({ pre + "layer_norm.weight", { h } });
        p.push_back({ pre + "layer_norm.bias", { h } });
        p.push_back({ pre + "feed_forward.intermediate_dense.weight", { intermediateSize_, h } });
        p.push_back({ pre + "feed_forward.intermediate_dense.bias", { intermediateSize_ } });
        p.push_back({ pre + "feed_forward.output_dense.weight", { h, intermediateSize_ } });
        p.push_back({ pre + "feed_forward.output_dense.bias", { h } });
        p.push_back({ pre + "final_layer_norm.weight", { h } });
        p.push_back({ pre + "final_layer_norm.bias", { h } });
    }
    if (numLabels_ > 0) {
        p.push_back({ "head.weight", { numLabels_, h } });
        p.push_back({ "head.bias", { numLabels_ } });
    }
    return p;
}

int64_t Wav2Vec2Config::parameterCount() const
{
    int64_t total = 0;
    for (const auto &[name, shape] : expectedParameters()) {
        int64_t n = 1;
        for (int64_t d : shape)
            n *= d;
        total += n;
    }
    return total;
}

std::string Wav2Vec2Config::summary() const
{
    std::ostringstream s;
    s << "wav2vec 2.0 \"" << name_ << "\": ";
    if (frontEnd_ == FrontEnd::Spectral) {
        s << "spectral front end (" << spectralBins_ << " bins";
        if (spectralSubsampling_ > 1)
            s << ", " << spectralSubsampling_ << "x frame stacking";
        if (spectralConvChannels_ > 0)
            s << ", " << spectralConvLayers_ << " conv layers x " << spectralConvChannels_
              << " ch, kernel " << spectralConvKernel_;
        s << ")";
    } else {
        int64_t stride = 1;
        for (int64_t st : convStride_)
            stride *= st;
        s << convDim_.size() << "-layer conv encoder (" << joinInts(convDim_) << " ch; kernels "
          << joinInts(convKernel_) << "; strides " << joinInts(convStride_) << " = " << stride
          << " samples/frame; " << (featureNorm_ == FeatureNorm::Group ? "group" : "layer")
          << " norm; conv bias " << (convBias_ ? "on" : "off") << ")";
    }
    s << "; transformer " << numLayers_ << " x (d " << hiddenSize_ << ", " << numHeads_
      << " heads, FFN " << intermediateSize_ << "), " << (stableLayerNorm_ ? "pre-LN" : "post-LN")
      << "; positional conv kernel " << posConvKernel_ << " / " << posConvGroups_ << " groups; ";
    if (numLabels_ > 0)
        s << "head: " << numLabels_ << " labels on frame 1";
    else
        s << "no classification head";
    return s.str();
}

std::string Wav2Vec2Config::canonicalString() const
{
    std::ostringstream s;
    s << "wav2vec2;front=" << (frontEnd_ == FrontEnd::Spectral ? "spectral" : "raw");
    if (frontEnd_ == FrontEnd::Spectral) {
        s << ";bins=" << spectralBins_ << ";sub=" << spectralSubsampling_;
        if (spectralConvChannels_
            > 0) // absent for the plain front end: older cache keys stay valid
            s << ";sconv=" << spectralConvLayers_ << "x" << spectralConvChannels_ << "k"
              << spectralConvKernel_;
    } else
        s << ";conv_dim=" << joinInts(convDim_) << ";conv_kernel=" << joinInts(convKernel_)
          << ";conv_stride=" << joinInts(convStride_) << ";conv_bias=" << convBias_
          << ";norm=" << (featureNorm_ == FeatureNorm::Group ? "group" : "layer");
    s << ";hidden=" << hiddenSize_ << ";layers=" << numLayers_ << ";heads=" << numHeads_
      << ";ffn=" << intermediateSize_ << ";pos=" << posConvKernel_ << "/" << posConvGroups_
      << ";stable=" << stableLayerNorm_ << ";eps=" << layerNormEps_ << ";labels=" << numLabels_;
    return s.str();
}

} // namespace tkd
