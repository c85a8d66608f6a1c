#include "core/models/MhAttRnn.h"

#include "core/models/ModelStats.h"

namespace tkd {

namespace nn = torch::nn;

MhAttRnnImpl::MhAttRnnImpl(const MhAttRnnOptions &options_)
    : options(options_)
{
    reset();
}

void MhAttRnnImpl::reset()
{
    const int64_t k = options.conv_kernel();
    const int64_t c = options.conv_channels();
    const int64_t u = options.rnn_units();
    const int64_t d = 2 * u;
    conv1 = register_module(
        "conv1", nn::Conv2d(nn::Conv2dOptions(1, c, { k, 1 }).padding({ k / 2, 0 })));
    bn1 = register_module("bn1", nn::BatchNorm2d(c));
    conv2 = register_module(
        "conv2", nn::Conv2d(nn::Conv2dOptions(c, 1, { k, 1 }).padding({ k / 2, 0 })));
    bn2 = register_module("bn2", nn::BatchNorm2d(1));
    gru = register_module("gru",
        nn::GRU(nn::GRUOptions(options.input_features(), u)
                    .num_layers(options.rnn_layers())
                    .bidirectional(true)
                    .batch_first(true)));
    attention = register_module(
        "attention", MiddleFrameAttention(MiddleFrameAttentionOptions(d, options.heads())));
    dropout = register_module("dropout", nn::Dropout(options.dropout()));
    dense1 = register_module("dense1", nn::Linear(options.heads() * d, options.dense1()));
    dense2 = register_module("dense2", nn::Linear(options.dense1(), options.dense2()));
    classifier = register_module("classifier", nn::Linear(options.dense2(), options.num_classes()));
}

StudentOutput MhAttRnnImpl::forward(const torch::Tensor &features)
{
    checkStudentInput("MHAtt-RNN", features, featureDim(), minFrames());
    auto x = bn1->forward(torch::relu(conv1->forward(features.unsqueeze(1))));
    x = bn2->forward(torch::relu(conv2->forward(x))).squeeze(1); // [B, T, F]
    StudentOutput out;
    out.context = std::get<0>(gru->forward(x)); // [B, T, 256]
    auto [pooled, weights] = attention->forward(out.context);
    out.nativeAttention = weights; // [B, heads, T]
    auto y = torch::relu(dense1->forward(dropout->forward(pooled)));
    out.logits = classifier->forward(dense2->forward(y));
    return out;
}

int64_t MhAttRnnImpl::macs(int64_t frames) const
{
    const int64_t k = options.conv_kernel();
    const int64_t c = options.conv_channels();
    const int64_t f = options.input_features();
    const int64_t u = options.rnn_units();
    const int64_t d = 2 * u;
    const int64_t h = options.heads();
    int64_t total
        = ModelStats::convMacs(frames * f, 1, c, k) + ModelStats::convMacs(frames * f, c, 1, k);
    for (int64_t layer = 0; layer < options.rnn_layers(); ++layer)
        total += 2 * ModelStats::gruMacs(frames, layer == 0 ? f : d, u);
    total += ModelStats::linearMacs(1, d, h * d) + ModelStats::attentionMacs(frames, d, h);
    return total + ModelStats::linearMacs(1, h * d, options.dense1())
        + ModelStats::linearMacs(1, options.dense1(), options.dense2())
        + ModelStats::linearMacs(1, options.dense2(), options.num_classes());
}

} // namespace tkd
