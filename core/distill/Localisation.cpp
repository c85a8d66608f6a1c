#include "core/distill/Localisation.h"

#include "core/util/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tkd {

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

void checkWindow(const KeywordWindow &w, double clipSec, size_t index)
{
    const std::string subject = "keyword window " + std::to_string(index);
    if (!std::isfinite(w.onsetSec) || !std::isfinite(w.offsetSec) || w.offsetSec <= w.onsetSec)
        throw Error(subject, "offset must come after onset");
    if (w.onsetSec >= clipSec)
        throw Error(subject, "onset lies outside the clip");
}

} // namespace

double LocalisationScore::mean() const
{
    return scoredClips > 0 ? scoreSum / double(scoredClips) : kNaN;
}

double LocalisationScore::meanBaseline() const
{
    return scoredClips > 0 ? baselineSum / double(scoredClips) : kNaN;
}

void LocalisationScore::merge(const LocalisationScore &other)
{
    perClip.insert(perClip.end(), other.perClip.begin(), other.perClip.end());
    baseline.insert(baseline.end(), other.baseline.begin(), other.baseline.end());
    scoredClips += other.scoredClips;
    scoreSum += other.scoreSum;
    baselineSum += other.baselineSum;
}

Localisation::Localisation(FrameTiming timing)
    : m_timing(timing)
{
    m_timing.validate();
}

double Localisation::uniformBaseline(const KeywordWindow &window, double clipSec)
{
    if (!window.present() || !(clipSec > 0.0))
        return kNaN;
    const double lo = std::max(window.onsetSec, 0.0);
    const double hi = std::min(window.offsetSec, clipSec);
    return std::max(0.0, hi - lo) / clipSec;
}

std::vector<double> Localisation::frameInsideFraction(
    const KeywordWindow &window, double clipSec, int64_t studentLength) const
{
    std::vector<double> frac
        = m_timing.frameOverlapSec(window.onsetSec, window.offsetSec, clipSec, studentLength);
    const double span = m_timing.studentFrameSpanSec(clipSec, studentLength);
    for (double &f : frac)
        f = std::min(1.0, f / span);
    return frac;
}

LocalisationScore Localisation::score(
    const torch::Tensor &attention, const std::vector<KeywordWindow> &windows, double clipSec) const
{
    if (!attention.defined() || (attention.dim() != 1 && attention.dim() != 2)
        || attention.size(-1) == 0)
        throw Error("attention", "expected [batch, T'] or [T'] weights");
    if (!(clipSec > 0.0) || !std::isfinite(clipSec))
        throw Error("clip length", "must be positive");
    const torch::Tensor a = (attention.dim() == 1 ? attention.unsqueeze(0) : attention)
                                .detach()
                                .to(torch::kCPU, torch::kFloat64)
                                .contiguous();
    if (size_t(a.size(0)) != windows.size())
        throw Error("keyword windows",
            "got " + std::to_string(windows.size()) + " for " + std::to_string(a.size(0))
                + " attention rows");
    if ((a < 0).any().item<bool>() || !torch::isfinite(a).all().item<bool>())
        throw Error("attention", "weights must be finite and non-negative");
    const int64_t t = a.size(1);
    auto acc = a.accessor<double, 2>();

    LocalisationScore out;
    for (size_t i = 0; i < windows.size(); ++i) {
        const KeywordWindow &w = windows[i];
        if (!w.present()) {
            out.perClip.push_back(kNaN);
            out.baseline.push_back(kNaN);
            continue;
        }
        checkWindow(w, clipSec, i);
        const std::vector<double> inside = frameInsideFraction(w, clipSec, t);
        double mass = 0.0, insideMass = 0.0;
        for (int64_t g = 0; g < t; ++g) {
            mass += acc[int64_t(i)][g];
            insideMass += acc[int64_t(i)][g] * inside[size_t(g)];
        }
        if (!(mass > 0.0))
            throw Error("attention", "row " + std::to_string(i) + " has no mass");
        const double share = insideMass / mass;
        const double base = uniformBaseline(w, clipSec);
        out.perClip.push_back(share);
        out.baseline.push_back(base);
        out.scoreSum += share;
        out.baselineSum += base;
        ++out.scoredClips;
    }
    return out;
}

} // namespace tkd
