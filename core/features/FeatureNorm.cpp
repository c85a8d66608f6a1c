#include "core/features/FeatureNorm.h"

namespace tkd {

FeatureNorm FeatureNorm::fromTraining(const torch::Tensor &features, torch::Device device)
{
    FeatureNorm n;
    const torch::Tensor flat = features.reshape({ -1, features.size(-1) }).to(torch::kDouble);
    n.mean = flat.mean(0).to(device, torch::kFloat);
    n.std = flat.std(0).clamp_min(1e-6).to(device, torch::kFloat);
    return n;
}

torch::Tensor FeatureNorm::apply(const torch::Tensor &x) const
{
    return mean.defined() ? (x - mean.to(x.device())) / std.to(x.device()) : x;
}

} // namespace tkd
