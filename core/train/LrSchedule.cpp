#include "core/train/LrSchedule.h"

#include "core/util/Error.h"

#include <algorithm>
#include <cmath>

namespace tkd {

namespace {
constexpr double kPi = 3.14159265358979323846;

double cosineBetween(double from, double to, double t) // t in [0, 1]
{
    return to + 0.5 * (from - to) * (1.0 + std::cos(kPi * t));
}
} // namespace

LrSchedule::LrSchedule(LrScheduleOptions options)
    : m_options(std::move(options))
{
    const auto &o = m_options;
    if (!(o.baseLr > 0.0) || !std::isfinite(o.baseLr))
        throw Error("train.lr", "must be a positive number");
    if (o.totalSteps < 1)
        throw Error("train.epochs", "the schedule needs at least one step");
    if (o.warmupSteps < 0)
        throw Error("train.warmup_epochs", "must be >= 0");
    if (o.minLr < 0.0 || o.minLr > o.baseLr)
        throw Error("train.schedule", "the cosine floor must lie in [0, lr]");
    if (!(o.stepGamma > 0.0) || o.stepGamma > 1.0)
        throw Error("train.schedule", "the step decay factor must lie in (0, 1]");
    for (double m : o.stepMilestones)
        if (!(m > 0.0 && m < 1.0))
            throw Error("train.schedule", "step milestones are fractions in (0, 1)");
    if (!(o.oneCycleStart > 0.0 && o.oneCycleStart < 1.0) || !(o.oneCycleDiv >= 1.0)
        || !(o.oneCycleFinalDiv >= 1.0))
        throw Error("train.schedule", "bad one-cycle shape");
}

double LrSchedule::lrAt(int64_t step) const
{
    const auto &o = m_options;
    step = std::clamp<int64_t>(step, 0, o.totalSteps - 1);
    if (o.kind == LrScheduleOptions::Kind::OneCycle) {
        const double rise = std::max(1.0, std::floor(o.oneCycleStart * double(o.totalSteps)));
        const double start = o.baseLr / o.oneCycleDiv, end = o.baseLr / o.oneCycleFinalDiv;
        if (double(step) < rise)
            return cosineBetween(start, o.baseLr, double(step) / rise);
        const double fall = std::max(1.0, double(o.totalSteps) - rise - 1.0);
        return cosineBetween(o.baseLr, end, std::min(1.0, (double(step) - rise) / fall));
    }
    const int64_t warm = std::min(o.warmupSteps, o.totalSteps - 1);
    if (step < warm)
        return o.baseLr * double(step + 1) / double(warm);
    const int64_t span = o.totalSteps - warm;
    const double t = span > 1 ? double(step - warm) / double(span - 1) : 0.0; // [0, 1]
    switch (o.kind) {
    case LrScheduleOptions::Kind::Constant:
        return o.baseLr;
    case LrScheduleOptions::Kind::Cosine:
        return cosineBetween(o.baseLr, o.minLr, t);
    case LrScheduleOptions::Kind::Step: {
        double lr = o.baseLr;
        for (double m : o.stepMilestones)
            if (t >= m)
                lr *= o.stepGamma;
        return lr;
    }
    case LrScheduleOptions::Kind::OneCycle:
        break;
    }
    return o.baseLr;
}

} // namespace tkd
