#pragma once

#include "core/models/AttRnnLayers.h"
#include "core/models/MiddleFrameAttention.h"
#include "core/models/StudentNetwork.h"

namespace tkd {

// Att-RNN (de Andrade et al. 2018; paper notes section 7): conv 10 (5x1, ReLU) + BN -> conv 1
// (5x1, ReLU) + BN over [time, frequency] ("same" padding) -> 2 x bidirectional LSTM 64 (or
// BiGRU 128, the streaming-KWS variant) -> middle-frame query attention -> dropout -> dense 64
// ReLU -> dense 32 -> linear. About 200K parameters with BiLSTM 64, 80 log-mel, 12 classes.
// Context c': the second BiRNN's output sequence [B, T, 2 * units]; native attention: 1 head.
struct AttRnnOptions
{
    enum class Cell { Lstm, Gru };

    AttRnnOptions(int64_t numClasses, int64_t inputFeatures = 80)
        : num_classes_(numClasses)
        , input_features_(inputFeatures)
    { }
    TORCH_ARG(int64_t, num_classes);
    TORCH_ARG(int64_t, input_features);
    TORCH_ARG(Cell, cell) = Cell::Lstm;
    // Attention heads, each its own query from the middle frame; MHAtt-RNN is this network with
    // BiGRU 128, four heads and dropout 0.2 (Rybakov et al. 2020).
    TORCH_ARG(int64_t, heads) = 1;
    TORCH_ARG(int64_t, rnn_units) = 64;
    TORCH_ARG(int64_t, rnn_layers) = 2;
    TORCH_ARG(int64_t, conv_channels) = 10;
    TORCH_ARG(int64_t, conv_kernel) = 5;
    TORCH_ARG(double, dropout) = 0.1;
    TORCH_ARG(int64_t, dense1) = 64;
    TORCH_ARG(int64_t, dense2) = 32;
};

class AttRnnImpl : public torch::nn::Cloneable<AttRnnImpl>, public StudentNetwork
{
public:
    explicit AttRnnImpl(const AttRnnOptions &options);
    void reset() override;

    StudentOutput forward(const torch::Tensor &features) override;
    int64_t featureDim() const override { return options.input_features(); }
    int64_t numClasses() const override { return options.num_classes(); }
    int64_t contextDim() const override { return 2 * options.rnn_units(); }
    int64_t contextLength(int64_t frames) const override { return frames; }
    int64_t nativeHeads() const override { return options.heads(); }
    int64_t macs(int64_t frames) const override;

    AttRnnOptions options;
    AttRnnLayers layers; // conv front end and dense head
    torch::nn::LSTM lstm { nullptr }; // registered when cell == Lstm
    torch::nn::GRU gru { nullptr }; // registered when cell == Gru
    MiddleFrameAttention attention { nullptr };
};

TORCH_MODULE(AttRnn);

} // namespace tkd
