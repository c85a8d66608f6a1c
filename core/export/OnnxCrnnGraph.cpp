// CRNN as ONNX: two valid 2-D convolutions, the GRU as ONNX's GRU op, the dense head.
#include "core/export/OnnxStudentGraphs.h"
#include "core/export/OnnxTensors.h"
#include "core/models/Crnn.h"

namespace tkd::onnxexport {

namespace {

std::string build(OnnxGraphBuilder &b, const StudentModel &model, const GraphInput &in)
{
    auto *net = dynamic_cast<CrnnImpl *>(model.module().get());
    std::string x = b.unsqueeze(in.features, { 1 }); // [B, 1, T, F]
    x = b.relu(conv(b, "conv1", x, net->conv1->weight, net->conv1->bias, { 1, 1 }, { 0, 0, 0, 0 }));
    x = b.relu(conv(b, "conv2", x, net->conv2->weight, net->conv2->bias, { 1, 1 }, { 0, 0, 0, 0 }));
    // [B, C, T', F'] -> [B, T', F' * C] (channels fastest) -> time-major [T', B, F' * C].
    x = b.reshape(b.transpose(x, { 0, 2, 3, 1 }), { 0, 0, -1 });
    x = b.transpose(x, { 1, 0, 2 });
    const RecurrentOutputs rnn = gruLayers(b, "gru", x, net->gru);
    std::string y = linear(b, "dense1", rnn.lastHidden, net->dense1);
    y = b.relu(linear(b, "dense2", y, net->dense2));
    return linear(b, "classifier", y, net->classifier);
}

} // namespace

StudentGraph crnnGraph()
{
    return { "CRNN",
        [](const StudentModel &m) { return dynamic_cast<CrnnImpl *>(m.module().get()) != nullptr; },
        build };
}

} // namespace tkd::onnxexport
