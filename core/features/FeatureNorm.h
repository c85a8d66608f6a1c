#pragma once

#include <torch/torch.h>

namespace tkd {

// Per-coefficient feature standardisation, estimated on the training split and stored with
// every trained student, so inference standardises exactly as training did.
struct FeatureNorm
{
    torch::Tensor mean; // [C]; undefined: identity
    torch::Tensor std; // [C]
    static FeatureNorm fromTraining(const torch::Tensor &features, torch::Device device);
    torch::Tensor apply(const torch::Tensor &x) const;
};

} // namespace tkd
