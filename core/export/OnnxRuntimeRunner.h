#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tkd {

// ONNX Runtime as an independent check of an exported model: runs scripts/ort-run.js under node
// with npm's onnxruntime-node (installed by scripts/install-deps.sh into .cache/onnxruntime-node).
// The product never needs it to export; tests, benchmarks and the deployment card's latency do.
class OnnxRuntimeRunner
{
public:
    struct Tensor
    {
        std::vector<int64_t> dims;
        std::vector<float> data;
    };
    struct Result
    {
        std::map<std::string, Tensor> outputs;
        double medianMs = -1.0; // with repeats > 0
    };

    // The script (TKD_ORT_RUN_SCRIPT, else the source tree's scripts/ort-run.js).
    static std::string scriptPath();
    // Empty when node and onnxruntime-node are there; else why not (for skip messages).
    static std::string unavailableReason();
    static bool available() { return unavailableReason().empty(); }

    // Runs `model` once on `inputs` (float32), one intra-op thread unless told; with repeats > 0
    // also times that many runs. Throws tkd::Error with the runtime's message on failure.
    static Result run(const std::string &model, const std::map<std::string, Tensor> &inputs,
        int threads = 1, int repeats = 0);
};

} // namespace tkd
