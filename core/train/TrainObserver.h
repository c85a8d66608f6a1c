#pragma once

#include <cstdint>
#include <map>
#include <string>

namespace tkd {

// One optimiser step of a stage, as the curves want it.
struct StepReport
{
    std::string stage; // "teacher", "student tc-resnet8 lambda=0.25 L=8 seed=1"
    int64_t step = 0; // 1-based, counted over the whole stage
    int64_t epoch = 0; // 1-based
    double task = 0.0;
    double kd = 0.0; // KL(a_T || a_S), unweighted (0 without a teacher)
    double logitKd = 0.0; // unweighted (0 when off)
    double total = 0.0; // task + lambda * kd + w * logitKd
    double lr = 0.0;
};

// End of one epoch: mean training losses and the validation metrics ("accuracy", "map",
// "loss", "localisation", ...).
struct EpochReport
{
    std::string stage;
    int64_t epoch = 0;
    int64_t step = 0;
    std::map<std::string, double> trainLosses; // task, kd, logit_kd, total
    std::map<std::string, double> validation;
    double lr = 0.0;
    bool best = false; // this epoch's weights became the best-on-validation checkpoint
};

// Where the pipeline is: a stage starting, moving on, or finishing.
struct StageReport
{
    std::string stage;
    std::string message;
    int64_t done = 0; // units of work (steps, clips) done in this stage
    int64_t total = 0;
    double elapsedSec = 0.0;
    double etaSec = -1.0; // -1: unknown
    bool finished = false;
};

// How core training reports (DESIGN.md rule 1): plain virtual callbacks, called on the training
// thread. The studio adapts them into queued Qt signals, the CLI into a progress bar, and
// EventLogObserver writes the same events to the run's events.jsonl. Default: ignore.
class TrainObserver
{
public:
    enum class Level { Info, Warning, Error };

    virtual ~TrainObserver() = default;
    virtual void onStep(const StepReport &) { }
    virtual void onEpoch(const EpochReport &) { }
    virtual void onStage(const StageReport &) { }
    virtual void onMessage(Level, const std::string &) { }
    // A checkpoint written (best or last) for `stage`.
    virtual void onCheckpoint(
        const std::string & /*stage*/, const std::string & /*path*/, bool /*best*/)
    { }
};

} // namespace tkd
