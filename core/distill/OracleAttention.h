#pragma once

#include "core/data/KeywordWindow.h"

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tkd {

// The frame-to-time mapping shared by the oracle and the localisation score. Input frame f of
// the front end covers [f * hop, f * hop + window) seconds; a student of length T' over T input
// frames is mapped proportionally: student frame g covers the fractional input frames
// [g T / T', (g + 1) T / T'], i.e. [g T/T' * hop, (g + 1) T/T' * hop + window - hop) seconds.
// With T' = T this is exactly the input frame.
struct FrameTiming
{
    double windowSec = 0.040;
    double hopSec = 0.020;

    // Throws tkd::Error("features.window_ms" / "features.hop_ms", ...) when not positive.
    void validate() const;
    // Front-end frames in a clip: floor((L - window) / hop) + 1, 0 when shorter than a window
    // (49 for 1 s, 399 for 8 s at the defaults).
    int64_t inputFrames(double clipSec) const;
    // Seconds of overlap between each of the `studentLength` frames and [onset, offset];
    // the window is clipped to [0, clipSec]. Throws tkd::Error for a clip too short for one
    // frame or a non-positive student length.
    std::vector<double> frameOverlapSec(
        double onsetSec, double offsetSec, double clipSec, int64_t studentLength) const;
    // Duration of one student frame's span in seconds.
    double studentFrameSpanSec(double clipSec, int64_t studentLength) const;
};

// Oracle temporal attention (calibration notes): the keyword's true window as a_T, an upper
// bound for what a teacher's rollout can give. Mass is spread over the student frames that
// overlap the window in proportion to the overlap (so frames fully inside share it uniformly);
// a clip without a keyword gets uniform attention over all frames.
class OracleAttention
{
public:
    explicit OracleAttention(FrameTiming timing = {});

    const FrameTiming &timing() const { return m_timing; }

    // [studentLength] float32 distribution. Throws tkd::Error("keyword window", ...) when the
    // window is reversed, lies outside the clip, or overlaps no frame.
    torch::Tensor target(const KeywordWindow &window, double clipSec, int64_t studentLength) const;
    // [B, studentLength] for a batch of clips of the same length.
    torch::Tensor batch(
        const std::vector<KeywordWindow> &windows, double clipSec, int64_t studentLength) const;

private:
    FrameTiming m_timing;
};

} // namespace tkd
