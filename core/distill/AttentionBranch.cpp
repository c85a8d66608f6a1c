#include "core/distill/AttentionBranch.h"

#include "core/util/Error.h"

#include <cmath>
#include <limits>

namespace tkd {

AttentionBranchImpl::AttentionBranchImpl(AttentionBranchOptions options_)
    : options(std::move(options_))
{
    reset();
}

void AttentionBranchImpl::reset()
{
    if (options.contextDim() <= 0)
        throw Error("attention_branch.context_dim",
            "must be positive, got " + std::to_string(options.contextDim()));
    if (!(options.initStd() >= 0.0))
        throw Error("attention_branch.init_std", "must be non-negative");
    query = register_parameter("query", torch::randn({ options.contextDim() }) * options.initStd());
}

void AttentionBranchImpl::pretty_print(std::ostream &stream) const
{
    stream << "tkd::AttentionBranch(context_dim=" << options.contextDim()
           << ", scaled=" << (options.scaled() ? "true" : "false") << ')';
}

torch::Tensor AttentionBranchImpl::lengthMask(
    const torch::Tensor &lengths, int64_t batch, int64_t maxLength)
{
    if (lengths.dim() != 1 || lengths.size(0) != batch)
        throw Error(
            "lengths", "expected one length per batch item (" + std::to_string(batch) + ")");
    if (lengths.is_floating_point() || lengths.is_complex())
        throw Error("lengths", "expected integer frame counts");
    const torch::Tensor l = lengths.to(torch::kLong).cpu();
    if (batch > 0) {
        const int64_t lo = l.min().item<int64_t>();
        const int64_t hi = l.max().item<int64_t>();
        if (lo < 1 || hi > maxLength)
            throw Error("lengths",
                "every length must be in 1.." + std::to_string(maxLength) + ", got "
                    + std::to_string(lo < 1 ? lo : hi));
    }
    const torch::Tensor frames = torch::arange(maxLength, torch::kLong).unsqueeze(0);
    return (frames < l.unsqueeze(1)).to(lengths.device());
}

torch::Tensor AttentionBranchImpl::scores(
    const torch::Tensor &context, const torch::Tensor &lengths) const
{
    if (!context.defined() || context.dim() != 3 || context.size(2) != options.contextDim()
        || context.size(1) == 0) {
        std::string got = "nothing";
        if (context.defined()) {
            got = "[";
            for (int64_t i = 0; i < context.dim(); ++i)
                got += (i ? ", " : "") + std::to_string(context.size(i));
            got += "]";
        }
        throw Error("student context",
            "expected [batch, T', " + std::to_string(options.contextDim()) + "] with T' > 0, got "
                + got);
    }
    torch::Tensor s = torch::matmul(context, query.to(context.scalar_type())); // [B, T']
    if (options.scaled())
        s = s / std::sqrt(double(options.contextDim()));
    if (lengths.defined()) {
        const torch::Tensor mask = lengthMask(lengths, context.size(0), context.size(1));
        s = s.masked_fill(mask.logical_not(), -std::numeric_limits<double>::infinity());
    }
    return s;
}

torch::Tensor AttentionBranchImpl::forward(
    const torch::Tensor &context, const torch::Tensor &lengths)
{
    return torch::softmax(scores(context, lengths), 1);
}

} // namespace tkd
