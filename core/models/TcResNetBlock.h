#pragma once

#include <torch/torch.h>

namespace tkd {

// One TC-ResNet residual block over [B, C, T] (Choi et al. 2019): 9x1 conv (stride 2 when the
// channel count changes), BN, ReLU, 9x1 conv, BN, plus a shortcut that is the identity, or a
// 1x1 stride-2 conv + BN + ReLU when the channels change; ReLU after the sum. No conv biases.
// "Same" padding, so a block halves T as ceil(T / 2) for any length.
struct TcResNetBlockOptions
{
    TcResNetBlockOptions(int64_t inChannels, int64_t outChannels)
        : in_channels_(inChannels)
        , out_channels_(outChannels)
    { }
    TORCH_ARG(int64_t, in_channels);
    TORCH_ARG(int64_t, out_channels);
    TORCH_ARG(int64_t, kernel_size) = 9;
};

class TcResNetBlockImpl : public torch::nn::Cloneable<TcResNetBlockImpl>
{
public:
    explicit TcResNetBlockImpl(const TcResNetBlockOptions &options);
    void reset() override;
    torch::Tensor forward(const torch::Tensor &x);

    bool downsamples() const { return options.in_channels() != options.out_channels(); }
    int64_t stride() const { return downsamples() ? 2 : 1; }
    int64_t outLength(int64_t inLength) const;
    int64_t macs(int64_t inLength) const;

    TcResNetBlockOptions options;
    torch::nn::Conv1d conv1 { nullptr }, conv2 { nullptr }, shortcutConv { nullptr };
    torch::nn::BatchNorm1d bn1 { nullptr }, bn2 { nullptr }, shortcutBn { nullptr };
};

TORCH_MODULE(TcResNetBlock);

} // namespace tkd
