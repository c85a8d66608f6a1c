#include "core/models/Crnn.h"

#include "core/models/FusedRnn.h"
#include "core/models/ModelStats.h"

namespace tkd {

namespace nn = torch::nn;

CrnnImpl::CrnnImpl(const CrnnOptions &options_)
    : options(options_)
{
    reset();
}

void CrnnImpl::reset()
{
    TORCH_CHECK(
        options.input_features() >= 5, "CRNN needs at least 5 input features (two valid convs)");
    const int64_t c = options.conv_channels();
    conv1 = register_module("conv1", nn::Conv2d(nn::Conv2dOptions(1, c, { 3, 3 })));
    conv2 = register_module("conv2", nn::Conv2d(nn::Conv2dOptions(c, c, { 5, 3 })));
    gru = register_module("gru",
        nn::GRU(nn::GRUOptions(c * convFrequencies(), options.gru_units()).batch_first(true)));
    dropout = register_module("dropout", nn::Dropout(options.dropout()));
    dense1 = register_module("dense1", nn::Linear(options.gru_units(), options.dense1()));
    dense2 = register_module("dense2", nn::Linear(options.dense1(), options.dense2()));
    classifier = register_module("classifier", nn::Linear(options.dense2(), options.num_classes()));
}

StudentOutput CrnnImpl::forward(const torch::Tensor &features)
{
    checkStudentInput("CRNN", features, featureDim(), minFrames());
    auto x = torch::relu(conv1->forward(features.unsqueeze(1))); // [B, C, T-2, F-2]
    x = torch::relu(conv2->forward(x)); // [B, C, T-6, F-4]
    // [B, C, T', F'] -> [B, T', F' * C], channels fastest like the reference's reshape.
    x = x.permute({ 0, 2, 3, 1 }).reshape({ x.size(0), x.size(2), -1 });
    StudentOutput out;
    out.context = rnnOutputs(*gru, x); // [B, T-6, 256]
    auto y = dropout->forward(out.context.select(1, out.context.size(1) - 1));
    y = torch::relu(dense2->forward(dense1->forward(y)));
    out.logits = classifier->forward(y);
    return out;
}

int64_t CrnnImpl::contextLength(int64_t frames) const
{
    return std::max<int64_t>(0, frames - 6);
}

int64_t CrnnImpl::macs(int64_t frames) const
{
    const int64_t c = options.conv_channels();
    const int64_t f = options.input_features();
    const int64_t t1 = frames - 2, t2 = frames - 6;
    if (t2 <= 0)
        return 0;
    return ModelStats::convMacs(t1 * (f - 2), 1, c, 9)
        + ModelStats::convMacs(t2 * (f - 4), c, c, 15)
        + ModelStats::gruMacs(t2, c * convFrequencies(), options.gru_units())
        + ModelStats::linearMacs(1, options.gru_units(), options.dense1())
        + ModelStats::linearMacs(1, options.dense1(), options.dense2())
        + ModelStats::linearMacs(1, options.dense2(), options.num_classes());
}

} // namespace tkd
