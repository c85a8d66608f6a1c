#pragma once

#include <torch/torch.h>

namespace tkd {

// The attention of Att-RNN and MHAtt-RNN: each head's query is a dense projection of the middle
// frame (index T / 2 of the actual input, so it follows the clip length), scores are dot
// products with every frame, softmax over time, and the head's output is the weighted sum.
struct MiddleFrameAttentionOptions
{
    MiddleFrameAttentionOptions(int64_t dim, int64_t heads = 1)
        : dim_(dim)
        , heads_(heads)
    { }
    TORCH_ARG(int64_t, dim);
    TORCH_ARG(int64_t, heads);
};

class MiddleFrameAttentionImpl : public torch::nn::Cloneable<MiddleFrameAttentionImpl>
{
public:
    explicit MiddleFrameAttentionImpl(const MiddleFrameAttentionOptions &options);
    void reset() override;

    // sequence: [B, T, D] -> (pooled [B, heads * D] heads concatenated, weights [B, heads, T]).
    std::tuple<torch::Tensor, torch::Tensor> forward(const torch::Tensor &sequence);

    MiddleFrameAttentionOptions options;
    // All heads' query projections as one [heads * D, D] dense layer: the same parameters as
    // `heads` separate Dense(D) layers, one matmul instead of several.
    torch::nn::Linear query { nullptr };
};

TORCH_MODULE(MiddleFrameAttention);

} // namespace tkd
