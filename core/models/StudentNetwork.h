#pragma once

#include "core/models/StudentOutput.h"

#include <cstdint>
#include <string>

namespace tkd {

// What every student module offers besides being a torch::nn::Module, so the registry's
// StudentModel holder can drive any of them alike. Each XxxImpl inherits it next to
// torch::nn::Cloneable<XxxImpl>.
class StudentNetwork
{
public:
    virtual ~StudentNetwork() = default;

    // features: [batch, frames, featureDim()] (MFCC or log-mel frames, 49 per second).
    virtual StudentOutput forward(const torch::Tensor &features) = 0;

    virtual int64_t featureDim() const = 0;
    virtual int64_t numClasses() const = 0;
    // Width D of the context c' and its length T' for an input of `frames` frames.
    virtual int64_t contextDim() const = 0;
    virtual int64_t contextLength(int64_t frames) const = 0;
    // Fewest input frames the architecture accepts (valid convolutions need some).
    virtual int64_t minFrames() const { return 1; }
    // Heads of the model's own attention over time (0: it has none).
    virtual int64_t nativeHeads() const { return 0; }
    // Multiply-accumulates of one forward pass of one clip of `frames` frames (see ModelStats).
    virtual int64_t macs(int64_t frames) const = 0;
};

// Checks a student's input and throws tkd::Error("<model> input", what is wrong) otherwise.
void checkStudentInput(
    const std::string &model, const torch::Tensor &features, int64_t featureDim, int64_t minFrames);

} // namespace tkd
