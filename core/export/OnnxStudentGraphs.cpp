#include "core/export/OnnxStudentGraphs.h"

#include "core/export/OnnxTensors.h"

namespace tkd::onnxexport {

const std::vector<StudentGraph> &studentGraphs()
{
    static const std::vector<StudentGraph> all
        = { lstmPGraph(), tcResNetGraph(), crnnGraph(), attRnnGraph() };
    return all;
}

const StudentGraph *findStudentGraph(const StudentModel &model)
{
    for (const auto &g : studentGraphs())
        if (g.accepts(model))
            return &g;
    return nullptr;
}

std::string middleFrameAttention(OnnxGraphBuilder &b, const std::string &hint,
    const std::string &sequence, int64_t frames, torch::nn::Linear &query, int64_t heads,
    int64_t dim)
{
    std::string index;
    if (frames > 0) {
        index = b.int64s(hint + ".middle_index", { frames / 2 }, /*scalarShape=*/true);
    } else {
        // T / 2 of the actual input: Shape -> [1] -> integer division.
        const std::string t
            = b.op("Gather", { b.op("Shape", { sequence }), b.int64s("time_axis", { 1 }, true) })
                  .attr("axis", int64_t(0));
        index = b.div(t, b.int64s("two", { 2 }, true));
    }
    const std::string middle
        = b.op("Gather", { sequence, index }, 1, hint + ".middle").attr("axis", int64_t(1));
    const std::string q
        = b.reshape(linear(b, hint + ".query", middle, query), { 0, heads, dim }); // [B, h, D]
    const std::string scores = b.matMul(q, b.transpose(sequence, { 0, 2, 1 })); // [B, h, T]
    const std::string weights
        = b.op("Softmax", { scores }, 1, hint + ".weights").attr("axis", int64_t(2));
    return b.reshape(b.matMul(weights, sequence), { 0, heads * dim }); // [B, h * D]
}

} // namespace tkd::onnxexport
