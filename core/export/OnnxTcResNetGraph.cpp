// TC-ResNet8 / 14 (any width) as ONNX: 1-D convolutions with batch norm folded into them.
#include "core/export/OnnxStudentGraphs.h"
#include "core/export/OnnxTensors.h"
#include "core/models/TcResNet.h"

namespace tkd::onnxexport {

namespace {

// Conv (no bias) followed by eval-mode BN, as one Conv with bias.
std::string convBn(OnnxGraphBuilder &b, const std::string &hint, const std::string &x,
    torch::nn::Conv1d &c, torch::nn::BatchNorm1d &bn, int64_t stride, int64_t pad)
{
    const auto [scale, shift] = batchNormAffine(
        bn->running_mean, bn->running_var, bn->weight, bn->bias, bn->options.eps());
    const auto w = c->weight.detach() * scale.view({ -1, 1, 1 });
    return conv(b, hint, x, w, shift, { stride }, { pad, pad });
}

std::string build(OnnxGraphBuilder &b, const StudentModel &model, const GraphInput &in)
{
    auto *net = dynamic_cast<TcResNetImpl *>(model.module().get());
    // [B, T, F] -> [B, F, T]: frequency bins are the channels.
    std::string x = b.transpose(in.features, { 0, 2, 1 });
    x = conv(b, "conv0", x, net->conv0->weight, {}, { 1 }, { 1, 1 });
    int index = 0;
    for (const auto &m : net->blocks->children()) {
        auto *block = m->as<TcResNetBlockImpl>();
        const std::string h = "block" + std::to_string(index++);
        const int64_t k = block->options.kernel_size();
        std::string y
            = b.relu(convBn(b, h + ".conv1", x, block->conv1, block->bn1, block->stride(), k / 2));
        y = convBn(b, h + ".conv2", y, block->conv2, block->bn2, 1, k / 2);
        const std::string shortcut = block->downsamples()
            ? b.relu(convBn(b, h + ".shortcut", x, block->shortcutConv, block->shortcutBn, 2, 0))
            : x;
        x = b.relu(b.add(y, shortcut));
    }
    const std::string pooled
        = b.op("ReduceMean", { x }, 1, "pool").attr("axes", std::vector<int64_t> { 2 });
    const std::string logits = conv(b, "classifier", pooled, net->classifier->weight,
        net->classifier->bias, { 1 }, { 0, 0 }); // [B, classes, 1]
    return b.op("Flatten", { logits }).attr("axis", int64_t(1));
}

} // namespace

StudentGraph tcResNetGraph()
{
    return { "TC-ResNet",
        [](const StudentModel &m) {
            return dynamic_cast<TcResNetImpl *>(m.module().get()) != nullptr;
        },
        build };
}

} // namespace tkd::onnxexport
