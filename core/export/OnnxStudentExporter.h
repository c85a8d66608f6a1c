#pragma once

#include "core/features/FeatureConfig.h"
#include "core/models/StudentModel.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tkd {

struct OnnxExportOptions
{
    int opset = 17; // 13..17 (what Debian's ONNX 1.12 checker knows)
    int64_t frames = 49; // input frames (a 1 s window at 49 frames/s); nominal when dynamic
    bool dynamicTime = false; // time axis symbolic ("frames"); else fixed at `frames`
    // Standardisation (x - mean) / std folded in front of the graph, per feature; undefined: none.
    torch::Tensor featureMean, featureStd;
    FeatureConfig features; // the front end the model expects (recorded as metadata)
    double windowSec = 1.0; // the window it was trained on
    std::vector<std::string> classes; // logit order; empty: "class N"
    std::map<std::string, std::string> metadata; // more key/value pairs (provenance)
};

struct OnnxExportSummary
{
    std::string family;
    int opset = 0;
    int64_t nodes = 0; // top-level graph nodes
    int64_t initializerBytes = 0;
    std::string inputName = "features"; // [batch, frames, features], float, raw (unstandardised)
    std::string outputName = "logits"; // [batch, classes]
    std::string probabilitiesName = "probabilities"; // softmax of the logits
};

// Writes a trained student as an ONNX model with Debian's ONNX library: the inference graph only
// (no training-time attention branch; dropout as identity; batch norm in eval form), the feature
// standardisation as its first ops, and the front end, standardisation, classes and window as
// metadata_props ("tkd.*"). Every model passes onnx::checker and shape inference before it is
// returned. Throws tkd::Error naming the student or the file on failure.
class OnnxStudentExporter
{
public:
    // Whether a graph builder exists for this student (every registry student has one).
    static bool supports(const StudentModel &model);
    // The serialized, checked ModelProto.
    static std::string serialize(const StudentModel &model, const OnnxExportOptions &options,
        OnnxExportSummary *summary = nullptr);
    // serialize() into `path` (written atomically).
    static OnnxExportSummary write(
        const StudentModel &model, const OnnxExportOptions &options, const std::string &path);

    // Checks an existing model file with onnx::checker (throws tkd::Error with its message).
    static void check(const std::string &path);
    // The model's metadata_props.
    static std::map<std::string, std::string> metadata(const std::string &path);
};

} // namespace tkd
