#include "core/models/TcResNet.h"

#include "core/models/ModelStats.h"

#include <cmath>

namespace tkd {

namespace nn = torch::nn;

std::vector<int64_t> TcResNetOptions::channels() const
{
    if (depth() == 8)
        return { 16, 24, 32, 48 };
    if (depth() == 14)
        return { 16, 24, 24, 32, 32, 48, 48 };
    TORCH_CHECK(false, "TC-ResNet depth must be 8 or 14, got ", depth());
}

TcResNetImpl::TcResNetImpl(const TcResNetOptions &options_)
    : options(options_)
{
    reset();
}

std::vector<int64_t> TcResNetImpl::scaledChannels() const
{
    TORCH_CHECK(options.width_multiplier() > 0.0, "TC-ResNet width multiplier must be positive");
    std::vector<int64_t> out;
    for (int64_t c : options.channels())
        out.push_back(std::max<int64_t>(1, std::llround(double(c) * options.width_multiplier())));
    return out;
}

void TcResNetImpl::reset()
{
    const auto ch = scaledChannels();
    conv0 = register_module("conv0",
        nn::Conv1d(nn::Conv1dOptions(options.input_features(), ch[0], 3).padding(1).bias(false)));
    blocks = nn::Sequential();
    for (size_t i = 1; i < ch.size(); ++i)
        blocks->push_back(TcResNetBlock(TcResNetBlockOptions(ch[i - 1], ch[i])));
    blocks = register_module("blocks", blocks);
    dropout = register_module("dropout", nn::Dropout(options.dropout()));
    classifier = register_module("classifier",
        nn::Conv1d(nn::Conv1dOptions(ch.back(), options.num_classes(), 1)
                       .bias(options.classifier_bias())));
}

StudentOutput TcResNetImpl::forward(const torch::Tensor &features)
{
    checkStudentInput("TC-ResNet", features, featureDim(), minFrames());
    // [B, T, F] -> [B, F, T]: frequency bins become channels.
    auto x = conv0->forward(features.transpose(1, 2));
    x = blocks->forward(x);
    StudentOutput out;
    out.context = x.transpose(1, 2); // [B, T', C]
    auto pooled = x.mean(2, /*keepdim=*/true);
    out.logits = classifier->forward(dropout->forward(pooled)).squeeze(2);
    return out;
}

int64_t TcResNetImpl::contextDim() const
{
    return scaledChannels().back();
}

int64_t TcResNetImpl::contextLength(int64_t frames) const
{
    int64_t t = frames; // conv0 keeps the length
    for (const auto &m : blocks->children())
        t = m->as<TcResNetBlockImpl>()->outLength(t);
    return t;
}

int64_t TcResNetImpl::macs(int64_t frames) const
{
    const auto ch = scaledChannels();
    int64_t total = ModelStats::convMacs(frames, options.input_features(), ch[0], 3);
    int64_t t = frames;
    for (const auto &m : blocks->children()) {
        const auto *block = m->as<TcResNetBlockImpl>();
        total += block->macs(t);
        t = block->outLength(t);
    }
    return total + ModelStats::convMacs(1, ch.back(), options.num_classes(), 1);
}

} // namespace tkd
