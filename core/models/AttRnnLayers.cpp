#include "core/models/AttRnnLayers.h"

#include "core/models/ModelStats.h"

namespace tkd {

namespace nn = torch::nn;

void AttRnnLayers::registerFront(nn::Module &owner, int64_t c, int64_t k)
{
    conv1 = owner.register_module(
        "conv1", nn::Conv2d(nn::Conv2dOptions(1, c, { k, 1 }).padding({ k / 2, 0 })));
    bn1 = owner.register_module("bn1", nn::BatchNorm2d(c));
    conv2 = owner.register_module(
        "conv2", nn::Conv2d(nn::Conv2dOptions(c, 1, { k, 1 }).padding({ k / 2, 0 })));
    bn2 = owner.register_module("bn2", nn::BatchNorm2d(1));
}

void AttRnnLayers::registerHead(nn::Module &owner, int64_t pooledDim, int64_t dense1Units,
    int64_t dense2Units, int64_t classes, double dropoutRate)
{
    dropout = owner.register_module("dropout", nn::Dropout(dropoutRate));
    dense1 = owner.register_module("dense1", nn::Linear(pooledDim, dense1Units));
    dense2 = owner.register_module("dense2", nn::Linear(dense1Units, dense2Units));
    classifier = owner.register_module("classifier", nn::Linear(dense2Units, classes));
}

torch::Tensor AttRnnLayers::front(const torch::Tensor &features)
{
    auto x = bn1->forward(torch::relu(conv1->forward(features.unsqueeze(1)))); // [B, C, T, F]
    return bn2->forward(torch::relu(conv2->forward(x))).squeeze(1); // [B, T, F]
}

torch::Tensor AttRnnLayers::head(const torch::Tensor &pooled)
{
    auto y = torch::relu(dense1->forward(dropout->forward(pooled)));
    return classifier->forward(dense2->forward(y));
}

int64_t AttRnnLayers::frontMacs(int64_t frames, int64_t features, int64_t channels, int64_t kernel)
{
    return ModelStats::convMacs(frames * features, 1, channels, kernel)
        + ModelStats::convMacs(frames * features, channels, 1, kernel);
}

int64_t AttRnnLayers::headMacs(
    int64_t pooledDim, int64_t dense1Units, int64_t dense2Units, int64_t classes)
{
    return ModelStats::linearMacs(1, pooledDim, dense1Units)
        + ModelStats::linearMacs(1, dense1Units, dense2Units)
        + ModelStats::linearMacs(1, dense2Units, classes);
}

} // namespace tkd
