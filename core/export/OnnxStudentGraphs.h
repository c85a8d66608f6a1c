#pragma once

// Private to core/export: one graph builder per student family, found by the module's type, so
// a student added to the registry without one is reported (and caught by the export test),
// never matched by name.
#include "core/export/OnnxGraphBuilder.h"
#include "core/models/StudentModel.h"

#include <functional>

namespace tkd::onnxexport {

struct GraphInput
{
    std::string features; // [batch, frames, featureDim], already standardised
    int64_t frames = -1; // fixed length, or -1 when time is dynamic
};

struct StudentGraph
{
    std::string family; // for messages ("TC-ResNet")
    // Whether this builder knows the student's module type.
    std::function<bool(const StudentModel &)> accepts;
    // Adds the student's inference graph (no training-only branch, dropout as identity, batch norm
    // in eval form) and returns the logits [batch, classes].
    std::function<std::string(OnnxGraphBuilder &, const StudentModel &, const GraphInput &)> build;
};

StudentGraph lstmPGraph();
StudentGraph tcResNetGraph();
StudentGraph crnnGraph();
StudentGraph attRnnGraph();

const std::vector<StudentGraph> &studentGraphs();
// nullptr when no builder accepts the student.
const StudentGraph *findStudentGraph(const StudentModel &model);

// The middle frame of a [B, T, D] sequence (index T / 2, as MiddleFrameAttention takes it),
// and the attention that follows it: shared by Att-RNN and MHAtt-RNN.
std::string middleFrameAttention(OnnxGraphBuilder &b, const std::string &hint,
    const std::string &sequence, int64_t frames, torch::nn::Linear &query, int64_t heads,
    int64_t dim);

} // namespace tkd::onnxexport
