#pragma once

#include "core/models/LstmPCell.h"
#include "core/models/StudentNetwork.h"

namespace tkd {

// LSTM-P (paper notes section 7): one LSTM of 500 units with peepholes and a projection to 200;
// the last output -> dropout 0.3 -> linear. About 546K parameters for 20 MFCC and 12 classes.
// Context c': the whole projected output sequence [B, T, 200].
struct LstmPOptions
{
    LstmPOptions(int64_t numClasses, int64_t inputFeatures = 20)
        : num_classes_(numClasses)
        , input_features_(inputFeatures)
    { }
    TORCH_ARG(int64_t, num_classes);
    TORCH_ARG(int64_t, input_features);
    TORCH_ARG(int64_t, hidden_size) = 500;
    TORCH_ARG(int64_t, proj_size) = 200;
    TORCH_ARG(double, dropout) = 0.3;
};

class LstmPImpl : public torch::nn::Cloneable<LstmPImpl>, public StudentNetwork
{
public:
    explicit LstmPImpl(const LstmPOptions &options);
    void reset() override;

    StudentOutput forward(const torch::Tensor &features) override;
    int64_t featureDim() const override { return options.input_features(); }
    int64_t numClasses() const override { return options.num_classes(); }
    int64_t contextDim() const override { return options.proj_size(); }
    int64_t contextLength(int64_t frames) const override { return frames; }
    int64_t macs(int64_t frames) const override;

    LstmPOptions options;
    LstmPCell lstm { nullptr };
    torch::nn::Dropout dropout { nullptr };
    torch::nn::Linear classifier { nullptr };
};

TORCH_MODULE(LstmP);

} // namespace tkd
