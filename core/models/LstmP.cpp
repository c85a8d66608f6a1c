#include "core/models/LstmP.h"

#include "core/models/ModelStats.h"

namespace tkd {

LstmPImpl::LstmPImpl(const LstmPOptions &options_)
    : options(options_)
{
    reset();
}

void LstmPImpl::reset()
{
    lstm = register_module("lstm",
        LstmPCell(LstmPCellOptions(
            options.input_features(), options.hidden_size(), options.proj_size())));
    dropout = register_module("dropout", torch::nn::Dropout(options.dropout()));
    classifier = register_module(
        "classifier", torch::nn::Linear(options.proj_size(), options.num_classes()));
}

StudentOutput LstmPImpl::forward(const torch::Tensor &features)
{
    checkStudentInput("LSTM-P", features, featureDim(), minFrames());
    StudentOutput out;
    out.context = lstm->forward(features);
    const auto last = out.context.select(1, out.context.size(1) - 1);
    out.logits = classifier->forward(dropout->forward(last));
    return out;
}

int64_t LstmPImpl::macs(int64_t frames) const
{
    return ModelStats::lstmMacs(frames, options.input_features(), options.hidden_size(),
               options.proj_size(), /*peepholes=*/true)
        + ModelStats::linearMacs(1, options.proj_size(), options.num_classes());
}

} // namespace tkd
