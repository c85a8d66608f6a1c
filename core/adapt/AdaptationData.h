#pragma once

// Private to core/adapt: the clips StudentAdaptation trains and validates on.
#include "core/adapt/StudentAdaptation.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/util/Progress.h"

#include <torch/torch.h>

namespace tkd {

struct AdaptSplit
{
    torch::Tensor features; // [N, T, C] (the source student's front end, not yet standardised)
    torch::Tensor targets; // [N] int64 class index
    torch::Tensor recorded; // [N] bool: built from a user's take (else a built-in rehearsal clip)
    int64_t size() const { return features.defined() ? features.size(0) : 0; }
};

struct AdaptData
{
    std::vector<std::string> classes; // old classes, then the new words
    std::vector<std::string> newWords;
    AdaptSplit train, validation;
    int64_t takes = 0;
    int variantsPerTake = 0;
    bool validationFromTrainingTakes = false; // too few takes to hold any out
    std::string recordingsHash; // SHA-256 over the takes' listing
};

// Builds both splits: the takes (RecordingSet) and built-in corpus clips of the old classes, each
// placed in `config`'s noisy construction at `windowSec`, with random gain, then features.
// Throws tkd::Error naming the recordings folder when it holds no usable take.
AdaptData buildAdaptData(const AdaptOptions &options, const ExperimentConfig &config,
    double windowSec, const std::vector<std::string> &oldClasses, const Progress &progress);

} // namespace tkd
