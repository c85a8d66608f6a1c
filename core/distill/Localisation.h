#pragma once

#include "core/distill/OracleAttention.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tkd {

// Localisation of one batch: how much of each attention row falls inside the keyword's window.
struct LocalisationScore
{
    std::vector<double> perClip; // share in [0, 1]; NaN for clips without a keyword
    std::vector<double> baseline; // window length / clip length; NaN without a keyword
    int64_t scoredClips = 0; // clips with a keyword
    double scoreSum = 0.0; // over scored clips, so batches can be pooled
    double baselineSum = 0.0;

    double mean() const; // mean share over scored clips (NaN when none)
    double meanBaseline() const; // what uniform attention would score, same clips
    // Pools another batch into this one (for a whole evaluation split).
    void merge(const LocalisationScore &other);
};

// The localisation score behind the attention view and the paper's Fig. 2: the share of
// attention mass inside the keyword's true window, using the oracle's frame-to-time mapping.
// A student frame whose time span lies partly inside the window counts with the fraction of its
// span inside, so the score moves smoothly as the window does. Compare against the uniform
// baseline (window length / clip length): a score above it means the attention found the keyword.
class Localisation
{
public:
    explicit Localisation(FrameTiming timing = {});

    // Weight in [0, 1] per student frame: the fraction of its span inside the window.
    std::vector<double> frameInsideFraction(
        const KeywordWindow &window, double clipSec, int64_t studentLength) const;
    // attention: [B, T'] (or [T'] for one clip), non-negative; each row is normalised by its own
    // sum, so any non-negative weights can be scored. One window per row. Throws tkd::Error on
    // a shape mismatch, negative weights, or a window that is reversed or outside the clip.
    LocalisationScore score(const torch::Tensor &attention,
        const std::vector<KeywordWindow> &windows, double clipSec) const;

    // window length / clip length (window clipped to the clip); NaN without a keyword.
    static double uniformBaseline(const KeywordWindow &window, double clipSec);

private:
    FrameTiming m_timing;
};

} // namespace tkd
