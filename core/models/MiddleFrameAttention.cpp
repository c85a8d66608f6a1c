#include "core/models/MiddleFrameAttention.h"

namespace tkd {

MiddleFrameAttentionImpl::MiddleFrameAttentionImpl(const MiddleFrameAttentionOptions &options_)
    : options(options_)
{
    reset();
}

void MiddleFrameAttentionImpl::reset()
{
    TORCH_CHECK(
        options.dim() > 0 && options.heads() > 0, "attention dim and heads must be positive");
    query = register_module(
        "query", torch::nn::Linear(options.dim(), options.heads() * options.dim()));
}

std::tuple<torch::Tensor, torch::Tensor> MiddleFrameAttentionImpl::forward(
    const torch::Tensor &sequence)
{
    const int64_t batch = sequence.size(0);
    const int64_t steps = sequence.size(1);
    const int64_t d = options.dim();
    const int64_t h = options.heads();
    auto middle = sequence.select(1, steps / 2); // [B, D]
    auto q = query->forward(middle).view({ batch, h, d }); // [B, h, D]
    auto scores = torch::bmm(q, sequence.transpose(1, 2)); // [B, h, T]
    auto weights = torch::softmax(scores, 2);
    auto pooled = torch::bmm(weights, sequence).reshape({ batch, h * d }); // [B, h * D]
    return { pooled, weights };
}

} // namespace tkd
