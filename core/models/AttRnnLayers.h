#pragma once

#include <torch/torch.h>

#include <cstdint>

namespace tkd {

// What Att-RNN and MHAtt-RNN share (de Andrade et al. 2018; Rybakov et al. 2020): the
// convolutional front end - conv (k x 1) + ReLU + BN to C channels, conv (k x 1) back to one
// channel + ReLU + BN - and the dense head after attention pooling - dropout, dense + ReLU,
// dense, classifier. Registered on the owning network under the names both always used (conv1,
// bn1, conv2, bn2; dropout, dense1, dense2, classifier), so their checkpoints keep loading.
struct AttRnnLayers
{
    torch::nn::Conv2d conv1 { nullptr }, conv2 { nullptr };
    torch::nn::BatchNorm2d bn1 { nullptr }, bn2 { nullptr };
    torch::nn::Dropout dropout { nullptr };
    torch::nn::Linear dense1 { nullptr }, dense2 { nullptr }, classifier { nullptr };

    // Register the front first and the head after the recurrent layers and the attention: the
    // networks' registration (and parameter) order.
    void registerFront(torch::nn::Module &owner, int64_t channels, int64_t kernel);
    void registerHead(torch::nn::Module &owner, int64_t pooledDim, int64_t dense1Units,
        int64_t dense2Units, int64_t classes, double dropoutRate);

    // [B, T, F] features -> [B, T, F] for the recurrent layers.
    torch::Tensor front(const torch::Tensor &features);
    // [B, D] attention-pooled context -> [B, classes] logits.
    torch::Tensor head(const torch::Tensor &pooled);

    static int64_t frontMacs(int64_t frames, int64_t features, int64_t channels, int64_t kernel);
    static int64_t headMacs(
        int64_t pooledDim, int64_t dense1Units, int64_t dense2Units, int64_t classes);
};

} // namespace tkd
