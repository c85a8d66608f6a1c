#pragma once

#include "core/models/StudentNetwork.h"
#include "core/models/TcResNetBlock.h"

#include <vector>

namespace tkd {

// TC-ResNet (paper notes section 7): the MFCC bins are the channels of 1-D temporal convolutions.
// conv0 3x1 -> residual blocks -> global average pool -> dropout 0.5 -> 1x1 conv classifier.
// TC-ResNet8 has blocks [24, 32, 48] after a 16-channel conv0, TC-ResNet14 [24, 24, 32, 32, 48,
// 48]; every channel change halves time, so c' (the last block's output) is about T/8 long.
struct TcResNetOptions
{
    TcResNetOptions(int64_t numClasses, int64_t inputFeatures = 40)
        : num_classes_(numClasses)
        , input_features_(inputFeatures)
    { }
    // Base channels (before k): conv0 first, then one entry per block.
    std::vector<int64_t> channels() const;

    TORCH_ARG(int64_t, num_classes);
    TORCH_ARG(int64_t, input_features);
    // 8 or 14 (the published depths), selecting the channel plan.
    TORCH_ARG(int64_t, depth) = 8;
    // Width multiplier k: every channel count is round(k * base).
    TORCH_ARG(double, width_multiplier) = 1.0;
    TORCH_ARG(double, dropout) = 0.5;
    // The reference classifier is a bias-free 1x1 conv like every other conv.
    TORCH_ARG(bool, classifier_bias) = false;
};

class TcResNetImpl : public torch::nn::Cloneable<TcResNetImpl>, public StudentNetwork
{
public:
    explicit TcResNetImpl(const TcResNetOptions &options);
    void reset() override;

    StudentOutput forward(const torch::Tensor &features) override;
    int64_t featureDim() const override { return options.input_features(); }
    int64_t numClasses() const override { return options.num_classes(); }
    int64_t contextDim() const override;
    int64_t contextLength(int64_t frames) const override;
    int64_t macs(int64_t frames) const override;

    TcResNetOptions options;
    torch::nn::Conv1d conv0 { nullptr };
    torch::nn::Sequential blocks { nullptr };
    torch::nn::Dropout dropout { nullptr };
    torch::nn::Conv1d classifier { nullptr };

private:
    std::vector<int64_t> scaledChannels() const;
};

TORCH_MODULE(TcResNet);

} // namespace tkd
