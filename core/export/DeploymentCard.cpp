#include "core/export/DeploymentCard.h"

#include <nlohmann/json.hpp>

#include <cstdio>

namespace tkd {

namespace {

std::string fmt(const char *f, double v)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string bytesText(int64_t b)
{
    if (b < 0)
        return "-";
    return std::to_string(b) + " (" + fmt("%.1f", double(b) / 1024.0) + " KiB)";
}

std::string orDash(double v, const char *f, const std::string &unit = {})
{
    return v < 0 ? std::string("-") : fmt(f, v) + unit;
}

} // namespace

std::string DeploymentCard::markdown() const
{
    std::string s;
    s += "### Deployment card: " + student + (cell.empty() ? "" : " (" + cell + ")") + "\n\n";
    s += "| | float32 | int8 (QDQ) |\n|---|---|---|\n";
    s += "| file | " + (floatFile.empty() ? "-" : floatFile) + " | "
        + (int8File.empty() ? "-" : int8File) + " |\n";
    s += "| bytes | " + bytesText(floatBytes) + " | " + bytesText(int8Bytes) + " |\n";
    s += "| latency per " + fmt("%.2f", windowSec) + " s window, 1 core (ONNX Runtime) | "
        + orDash(floatLatencyMs, "%.3f", " ms") + " | " + orDash(int8LatencyMs, "%.3f", " ms")
        + " |\n";
    s += "| test accuracy | " + orDash(floatAccuracy * 100.0, "%.2f", " %") + " | "
        + orDash(int8Accuracy * 100.0, "%.2f", " %") + " |\n\n";
    s += "- family: " + family + ", " + std::to_string(parameters) + " parameters, "
        + std::to_string(classes) + " classes\n";
    s += "- compute: " + fmt("%.2f", double(macsPerWindow) / 1e6) + " M MACs per window; "
        + fmt("%.1f", macsPerSecond / 1e6) + " M MACs per second of audio streaming at a "
        + fmt("%.0f", hopSec * 1000.0) + " ms hop\n";
    s += "- LibTorch latency per window (1 thread): " + orDash(libtorchLatencyMs, "%.3f", " ms")
        + "\n";
    s += "- ONNX Runtime vs LibTorch: max |logit difference| "
        + orDash(maxAbsDiffVsLibTorch, "%.2g") + "\n";
    s += "- input: `features` [batch, "
        + (dynamicTime ? std::string("frames") : std::to_string(frames)) + ", "
        + std::to_string(featureDim)
        + "] float32, raw front-end frames (standardisation is in the graph); "
        + "outputs `logits`, `probabilities` [batch, " + std::to_string(classes) + "]; opset "
        + std::to_string(opset) + "\n";
    s += "- front end: " + frontEnd + "\n";
    if (faPerHour >= 0)
        s += "- streaming (" + fmt("%.2f", streamHours) + " h synthetic stream, threshold "
            + fmt("%.2f", threshold) + "): " + fmt("%.2f", faPerHour)
            + " false accepts per hour, miss rate " + fmt("%.1f", missRate * 100.0) + " %\n";
    else
        s += "- streaming: not measured yet (`tkd eval RUN --stream`)\n";
    return s;
}

std::string DeploymentCard::json() const
{
    nlohmann::json j = { { "student", student }, { "family", family }, { "cell", cell },
        { "parameters", parameters }, { "classes", classes }, { "front_end", frontEnd },
        { "front_end_canonical", frontEndCanonical }, { "feature_dim", featureDim },
        { "window_seconds", windowSec }, { "frames", frames }, { "dynamic_time", dynamicTime },
        { "opset", opset }, { "macs_per_window", macsPerWindow },
        { "macs_per_second", macsPerSecond }, { "hop_seconds", hopSec },
        { "float_file", floatFile }, { "int8_file", int8File }, { "float_bytes", floatBytes },
        { "int8_bytes", int8Bytes }, { "max_abs_diff_vs_libtorch", maxAbsDiffVsLibTorch },
        { "float_latency_ms", floatLatencyMs }, { "int8_latency_ms", int8LatencyMs },
        { "libtorch_latency_ms", libtorchLatencyMs }, { "float_accuracy", floatAccuracy },
        { "int8_accuracy", int8Accuracy }, { "fa_per_hour", faPerHour }, { "miss_rate", missRate },
        { "threshold", threshold }, { "stream_hours", streamHours } };
    return j.dump(2);
}

} // namespace tkd
