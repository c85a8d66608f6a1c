#pragma once

#include "core/models/AttRnnLayers.h"
#include "core/models/MiddleFrameAttention.h"
#include "core/models/StudentNetwork.h"

namespace tkd {

// MHAtt-RNN (Rybakov et al. 2020; paper notes section 7): Att-RNN's front (conv 10 (5x1) + BN,
// conv 1 (5x1) + BN) -> 2 x BiGRU 128 -> four heads, each its own dense(256) query from the middle
// frame attending over the full 256-d sequence -> concat 1024 -> dropout 0.2 -> dense 64 ReLU ->
// dense 32 -> linear. 743K parameters for 20 MFCC and 12 classes.
// Context c': the second BiGRU's output sequence [B, T, 256]; native attention: 4 heads.
struct MhAttRnnOptions
{
    MhAttRnnOptions(int64_t numClasses, int64_t inputFeatures = 20)
        : num_classes_(numClasses)
        , input_features_(inputFeatures)
    { }
    TORCH_ARG(int64_t, num_classes);
    TORCH_ARG(int64_t, input_features);
    TORCH_ARG(int64_t, heads) = 4;
    TORCH_ARG(int64_t, rnn_units) = 128;
    TORCH_ARG(int64_t, rnn_layers) = 2;
    TORCH_ARG(int64_t, conv_channels) = 10;
    TORCH_ARG(int64_t, conv_kernel) = 5;
    TORCH_ARG(double, dropout) = 0.2;
    TORCH_ARG(int64_t, dense1) = 64;
    TORCH_ARG(int64_t, dense2) = 32;
};

class MhAttRnnImpl : public torch::nn::Cloneable<MhAttRnnImpl>, public StudentNetwork
{
public:
    explicit MhAttRnnImpl(const MhAttRnnOptions &options);
    void reset() override;

    StudentOutput forward(const torch::Tensor &features) override;
    int64_t featureDim() const override { return options.input_features(); }
    int64_t numClasses() const override { return options.num_classes(); }
    int64_t contextDim() const override { return 2 * options.rnn_units(); }
    int64_t contextLength(int64_t frames) const override { return frames; }
    int64_t nativeHeads() const override { return options.heads(); }
    int64_t macs(int64_t frames) const override;

    MhAttRnnOptions options;
    AttRnnLayers layers; // conv front end and dense head, shared with Att-RNN
    torch::nn::GRU gru { nullptr };
    MiddleFrameAttention attention { nullptr };
};

TORCH_MODULE(MhAttRnn);

} // namespace tkd
