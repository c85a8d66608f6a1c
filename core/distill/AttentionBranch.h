#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace tkd {

struct AttentionBranchOptions
{
    explicit AttentionBranchOptions(int64_t contextDim)
        : contextDim_(contextDim)
    { }
    // D, the width of the student's context c' [B, T', D].
    TORCH_ARG(int64_t, contextDim);
    // false (the paper's choice): s_t = <c'_t, q>. true: divided by sqrt(D), the transformer
    // convention, which keeps the softmax from saturating when D is large.
    TORCH_ARG(bool, scaled) = false;
    // q starts as N(0, initStd^2) per component; small, so a_S starts near uniform.
    TORCH_ARG(double, initStd) = 0.02;
};

// The training-only attention branch (paper notes section 3): one learnable query q in R^D,
// scores s_t = <c'_t, q>, a_S = softmax over time. It lives outside the student module so the
// exported student is unchanged; the trainer owns it, optimises q with the student, and drops it
// at export.
class AttentionBranchImpl : public torch::nn::Cloneable<AttentionBranchImpl>
{
public:
    explicit AttentionBranchImpl(AttentionBranchOptions options);

    void reset() override;
    void pretty_print(std::ostream &stream) const override;

    // Scores [B, T']. `lengths` (optional, [B] integers, 1..T'): frames at or past an item's
    // length are padding and get -inf, so they receive no attention. Throws tkd::Error for
    // a context of the wrong shape or bad lengths.
    torch::Tensor scores(const torch::Tensor &context, const torch::Tensor &lengths = {}) const;
    // a_S = softmax(scores) over time, [B, T'].
    torch::Tensor forward(const torch::Tensor &context, const torch::Tensor &lengths = {});

    // [B, T'] boolean, true on real frames. Throws tkd::Error("lengths", ...) when a length is
    // outside 1..maxLength or the shape is not [batch].
    static torch::Tensor lengthMask(const torch::Tensor &lengths, int64_t batch, int64_t maxLength);

    AttentionBranchOptions options;
    torch::Tensor query; // q, [D]
};

TORCH_MODULE(AttentionBranch);

} // namespace tkd
