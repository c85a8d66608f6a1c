#pragma once

#include "core/models/StudentNetwork.h"

namespace tkd {

// CRNN (paper notes section 7, the streaming-KWS reference): conv 16 (3x3, valid, ReLU) -> conv 16
// (5x3, valid, ReLU) over [time, frequency] -> GRU 256 -> last output -> dropout 0.1 -> dense 128
// (linear) -> dense 256 (ReLU) -> linear. About 468K parameters for 20 MFCC and 12 classes.
// Context c': the GRU output sequence, T - 6 frames long after the two valid convolutions.
struct CrnnOptions
{
    CrnnOptions(int64_t numClasses, int64_t inputFeatures = 20)
        : num_classes_(numClasses)
        , input_features_(inputFeatures)
    { }
    TORCH_ARG(int64_t, num_classes);
    TORCH_ARG(int64_t, input_features);
    TORCH_ARG(int64_t, conv_channels) = 16;
    TORCH_ARG(int64_t, gru_units) = 256;
    TORCH_ARG(double, dropout) = 0.1;
    TORCH_ARG(int64_t, dense1) = 128;
    TORCH_ARG(int64_t, dense2) = 256;
};

class CrnnImpl : public torch::nn::Cloneable<CrnnImpl>, public StudentNetwork
{
public:
    explicit CrnnImpl(const CrnnOptions &options);
    void reset() override;

    StudentOutput forward(const torch::Tensor &features) override;
    int64_t featureDim() const override { return options.input_features(); }
    int64_t numClasses() const override { return options.num_classes(); }
    int64_t contextDim() const override { return options.gru_units(); }
    int64_t contextLength(int64_t frames) const override;
    int64_t minFrames() const override { return 7; }
    int64_t macs(int64_t frames) const override;

    CrnnOptions options;
    torch::nn::Conv2d conv1 { nullptr }, conv2 { nullptr };
    torch::nn::GRU gru { nullptr };
    torch::nn::Dropout dropout { nullptr };
    torch::nn::Linear dense1 { nullptr }, dense2 { nullptr }, classifier { nullptr };

private:
    int64_t convFrequencies() const { return options.input_features() - 4; }
};

TORCH_MODULE(Crnn);

} // namespace tkd
