#pragma once

#include "core/experiment/TrainingChoices.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

// Learning rate as a function of the optimiser step (train.schedule, train.warmup_epochs):
//   constant  base lr
//   cosine    half cosine from base lr to minLr over the steps after warmup
//   onecycle  Smith's one-cycle (cosine up from base/25 to base over the first 30%, then down
//             to base/1e4); it has its own ramp, so warmup is not added on top
//   step      base lr, times gamma (0.1) at 50% and again at 75% of the steps after warmup
// warmup: a linear ramp from base/warmupSteps to base over the first warmupSteps steps.
// Pure, so a resumed run gets the same rate for the same step.
struct LrScheduleOptions
{
    using Kind = ScheduleKind;
    Kind kind = Kind::Cosine;
    double baseLr = 1e-3;
    int64_t totalSteps = 1;
    int64_t warmupSteps = 0;
    double minLr = 0.0; // cosine floor
    double stepGamma = 0.1; // step decay factor
    std::vector<double> stepMilestones = { 0.5, 0.75 }; // fractions of the post-warmup steps
    double oneCycleStart = 0.3; // fraction of steps rising
    double oneCycleDiv = 25.0; // initial lr = base / div
    double oneCycleFinalDiv = 1e4; // final lr = base / finalDiv
};

class LrSchedule
{
public:
    // Throws tkd::Error("train.lr" / "train.schedule" / "train.warmup_epochs", ...) for bad
    // options.
    explicit LrSchedule(LrScheduleOptions options);

    const LrScheduleOptions &options() const { return m_options; }
    // Rate for the 0-based step `step` (steps past the end keep the last rate).
    double lrAt(int64_t step) const;

private:
    LrScheduleOptions m_options;
};

} // namespace tkd
