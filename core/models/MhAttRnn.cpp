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
    layers.registerFront(*this, c, k);
    gru = register_module("gru",
        nn::GRU(nn::GRUOptions(options.input_features(), u)
                    .num_layers(options.rnn_layers())
                    .bidirectional(true)
                    .batch_first(true)));
    attention = register_module(
        "attention", MiddleFrameAttention(MiddleFrameAttentionOptions(d, options.heads())));
    layers.registerHead(*this, options.heads() * d, options.dense1(), options.dense2(),
        options.num_classes(), options.dropout());
}

StudentOutput MhAttRnnImpl::forward(const torch::Tensor &features)
{
    checkStudentInput("MHAtt-RNN", features, featureDim(), minFrames());
    const torch::Tensor x = layers.front(features); // [B, T, F]
    StudentOutput out;
    out.context = std::get<0>(gru->forward(x)); // [B, T, 256]
    auto [pooled, weights] = attention->forward(out.context);
    out.nativeAttention = weights; // [B, heads, T]
    out.logits = layers.head(pooled);
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
    int64_t total = AttRnnLayers::frontMacs(frames, f, c, k);
    for (int64_t layer = 0; layer < options.rnn_layers(); ++layer)
        total += 2 * ModelStats::gruMacs(frames, layer == 0 ? f : d, u);
    total += ModelStats::linearMacs(1, d, h * d) + ModelStats::attentionMacs(frames, d, h);
    return total
        + AttRnnLayers::headMacs(h * d, options.dense1(), options.dense2(), options.num_classes());
}

} // namespace tkd
