#include "core/models/AttRnn.h"

#include "core/models/FusedRnn.h"
#include "core/models/ModelStats.h"

namespace tkd {

namespace nn = torch::nn;

AttRnnImpl::AttRnnImpl(const AttRnnOptions &options_)
    : options(options_)
{
    reset();
}

void AttRnnImpl::reset()
{
    const int64_t k = options.conv_kernel();
    const int64_t c = options.conv_channels();
    const int64_t f = options.input_features();
    const int64_t u = options.rnn_units();
    layers.registerFront(*this, c, k);
    // Stacked bidirectional layers as one module: identical to separate BiRNNs fed with the
    // previous layer's concatenated directions, and LibTorch's fused loop is faster.
    if (options.cell() == AttRnnOptions::Cell::Lstm)
        lstm = register_module("lstm",
            nn::LSTM(nn::LSTMOptions(f, u)
                         .num_layers(options.rnn_layers())
                         .bidirectional(true)
                         .batch_first(true)));
    else
        gru = register_module("gru",
            nn::GRU(nn::GRUOptions(f, u)
                        .num_layers(options.rnn_layers())
                        .bidirectional(true)
                        .batch_first(true)));
    attention = register_module(
        "attention", MiddleFrameAttention(MiddleFrameAttentionOptions(2 * u, options.heads())));
    layers.registerHead(*this, options.heads() * 2 * u, options.dense1(), options.dense2(),
        options.num_classes(), options.dropout());
}

StudentOutput AttRnnImpl::forward(const torch::Tensor &features)
{
    checkStudentInput(
        options.heads() > 1 ? "MHAtt-RNN" : "Att-RNN", features, featureDim(), minFrames());
    const torch::Tensor x = layers.front(features); // [B, T, F]
    StudentOutput out;
    out.context = lstm ? rnnOutputs(*lstm, x) : rnnOutputs(*gru, x); // [B, T, 2U]
    auto [pooled, weights] = attention->forward(out.context);
    out.nativeAttention = weights; // [B, heads, T]
    out.logits = layers.head(pooled);
    return out;
}

int64_t AttRnnImpl::macs(int64_t frames) const
{
    const int64_t k = options.conv_kernel();
    const int64_t c = options.conv_channels();
    const int64_t f = options.input_features();
    const int64_t u = options.rnn_units();
    int64_t total = AttRnnLayers::frontMacs(frames, f, c, k);
    for (int64_t layer = 0; layer < options.rnn_layers(); ++layer) {
        const int64_t in = layer == 0 ? f : 2 * u;
        const int64_t perDirection = options.cell() == AttRnnOptions::Cell::Lstm
            ? ModelStats::lstmMacs(frames, in, u)
            : ModelStats::gruMacs(frames, in, u);
        total += 2 * perDirection;
    }
    const int64_t d = 2 * u, h = options.heads();
    total += ModelStats::linearMacs(1, d, h * d) + ModelStats::attentionMacs(frames, d, h);
    return total
        + AttRnnLayers::headMacs(h * d, options.dense1(), options.dense2(), options.num_classes());
}

} // namespace tkd
