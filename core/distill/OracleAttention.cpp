#include "core/distill/OracleAttention.h"

#include "core/util/Error.h"

#include <algorithm>
#include <cmath>
#include <sstream>

namespace tkd {

namespace {

std::string secText(double s)
{
    std::ostringstream o;
    o << s << " s";
    return o.str();
}

} // namespace

void FrameTiming::validate() const
{
    if (!(windowSec > 0.0) || !std::isfinite(windowSec))
        throw Error("features.window_ms", "must be positive");
    if (!(hopSec > 0.0) || !std::isfinite(hopSec))
        throw Error("features.hop_ms", "must be positive");
}

int64_t FrameTiming::inputFrames(double clipSec) const
{
    validate();
    if (!(clipSec >= windowSec - 1e-9))
        return 0;
    // The epsilon absorbs decimal seconds that are not exact in binary (8.0 - 0.04 over 0.02).
    return int64_t(std::floor((clipSec - windowSec) / hopSec + 1e-6)) + 1;
}

double FrameTiming::studentFrameSpanSec(double clipSec, int64_t studentLength) const
{
    const double perStudent = double(inputFrames(clipSec)) / double(studentLength);
    return perStudent * hopSec + windowSec - hopSec;
}

std::vector<double> FrameTiming::frameOverlapSec(
    double onsetSec, double offsetSec, double clipSec, int64_t studentLength) const
{
    if (studentLength <= 0)
        throw Error("student length", "must be positive, got " + std::to_string(studentLength));
    const int64_t t = inputFrames(clipSec);
    if (t <= 0)
        throw Error("clip length",
            secText(clipSec) + " is shorter than one " + secText(windowSec) + " analysis window");
    const double lo = std::max(onsetSec, 0.0);
    const double hi = std::min(offsetSec, clipSec);
    const double perStudent = double(t) / double(studentLength);
    std::vector<double> overlap(size_t(studentLength), 0.0);
    for (int64_t g = 0; g < studentLength; ++g) {
        const double start = double(g) * perStudent * hopSec;
        const double end = double(g + 1) * perStudent * hopSec + windowSec - hopSec;
        overlap[size_t(g)] = std::max(0.0, std::min(end, hi) - std::max(start, lo));
    }
    return overlap;
}

OracleAttention::OracleAttention(FrameTiming timing)
    : m_timing(timing)
{
    m_timing.validate();
}

torch::Tensor OracleAttention::target(
    const KeywordWindow &window, double clipSec, int64_t studentLength) const
{
    if (!(clipSec > 0.0) || !std::isfinite(clipSec))
        throw Error("clip length", "must be positive, got " + secText(clipSec));
    if (studentLength <= 0)
        throw Error("student length", "must be positive, got " + std::to_string(studentLength));
    if (!window.present())
        return torch::full({ studentLength }, 1.0 / double(studentLength), torch::kFloat32);
    if (!std::isfinite(window.onsetSec) || !std::isfinite(window.offsetSec)
        || window.offsetSec <= window.onsetSec)
        throw Error("keyword window",
            "offset " + secText(window.offsetSec) + " must come after onset "
                + secText(window.onsetSec));
    if (window.onsetSec >= clipSec)
        throw Error("keyword window",
            "onset " + secText(window.onsetSec) + " lies outside the " + secText(clipSec)
                + " clip");
    const std::vector<double> overlap
        = m_timing.frameOverlapSec(window.onsetSec, window.offsetSec, clipSec, studentLength);
    double total = 0.0;
    for (double o : overlap)
        total += o;
    if (!(total > 0.0))
        throw Error("keyword window",
            "[" + secText(window.onsetSec) + ", " + secText(window.offsetSec)
                + "] overlaps no analysis frame of the clip");
    torch::Tensor out = torch::empty({ studentLength }, torch::kFloat32);
    auto acc = out.accessor<float, 1>();
    for (int64_t g = 0; g < studentLength; ++g)
        acc[g] = float(overlap[size_t(g)] / total);
    return out;
}

torch::Tensor OracleAttention::batch(
    const std::vector<KeywordWindow> &windows, double clipSec, int64_t studentLength) const
{
    if (windows.empty())
        return torch::empty({ 0, std::max<int64_t>(studentLength, 0) }, torch::kFloat32);
    std::vector<torch::Tensor> rows;
    rows.reserve(windows.size());
    for (const KeywordWindow &w : windows)
        rows.push_back(target(w, clipSec, studentLength));
    return torch::stack(rows);
}

} // namespace tkd
