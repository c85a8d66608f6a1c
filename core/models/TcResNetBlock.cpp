#include "core/models/TcResNetBlock.h"

#include "core/models/ModelStats.h"

namespace tkd {

namespace nn = torch::nn;

TcResNetBlockImpl::TcResNetBlockImpl(const TcResNetBlockOptions &options_)
    : options(options_)
{
    reset();
}

void TcResNetBlockImpl::reset()
{
    const int64_t k = options.kernel_size();
    const int64_t cin = options.in_channels();
    const int64_t cout = options.out_channels();
    conv1 = register_module("conv1",
        nn::Conv1d(nn::Conv1dOptions(cin, cout, k).stride(stride()).padding(k / 2).bias(false)));
    bn1 = register_module("bn1", nn::BatchNorm1d(cout));
    conv2 = register_module(
        "conv2", nn::Conv1d(nn::Conv1dOptions(cout, cout, k).padding(k / 2).bias(false)));
    bn2 = register_module("bn2", nn::BatchNorm1d(cout));
    if (downsamples()) {
        shortcutConv = register_module(
            "shortcut_conv", nn::Conv1d(nn::Conv1dOptions(cin, cout, 1).stride(2).bias(false)));
        shortcutBn = register_module("shortcut_bn", nn::BatchNorm1d(cout));
    }
}

torch::Tensor TcResNetBlockImpl::forward(const torch::Tensor &x)
{
    auto y = torch::relu(bn1->forward(conv1->forward(x)));
    y = bn2->forward(conv2->forward(y));
    auto shortcut = downsamples() ? torch::relu(shortcutBn->forward(shortcutConv->forward(x))) : x;
    return torch::relu(y + shortcut);
}

int64_t TcResNetBlockImpl::outLength(int64_t inLength) const
{
    const int64_t k = options.kernel_size();
    return ModelStats::convOutLength(inLength, k, stride(), k / 2);
}

int64_t TcResNetBlockImpl::macs(int64_t inLength) const
{
    const int64_t k = options.kernel_size();
    const int64_t out = outLength(inLength);
    const int64_t cin = options.in_channels();
    const int64_t cout = options.out_channels();
    int64_t total
        = ModelStats::convMacs(out, cin, cout, k) + ModelStats::convMacs(out, cout, cout, k);
    if (downsamples())
        total += ModelStats::convMacs(out, cin, cout, 1);
    return total;
}

} // namespace tkd
