// Att-RNN and MHAtt-RNN as ONNX: the shared convolutional front (ReLU then batch norm, so the
// norm stays an affine Mul + Add), the bidirectional RNN as ONNX's LSTM / GRU op, the middle-frame
// attention, the dense head.
#include "core/export/OnnxStudentGraphs.h"
#include "core/export/OnnxTensors.h"
#include "core/models/AttRnn.h"

namespace tkd::onnxexport {

namespace {

std::string convReluBn(OnnxGraphBuilder &b, const std::string &hint, const std::string &x,
    torch::nn::Conv2d &c, torch::nn::BatchNorm2d &bn)
{
    const int64_t k = c->weight.size(2);
    const std::string y
        = b.relu(conv(b, hint, x, c->weight, c->bias, { 1, 1 }, { k / 2, 0, k / 2, 0 }));
    const auto [scale, shift] = batchNormAffine(
        bn->running_mean, bn->running_var, bn->weight, bn->bias, bn->options.eps());
    return b.add(b.mul(y, weight(b, hint + ".bn_scale", scale.view({ -1, 1, 1 }))),
        weight(b, hint + ".bn_shift", shift.view({ -1, 1, 1 })));
}

// The conv front over [B, T, F] -> time-major [T, B, F].
std::string front(OnnxGraphBuilder &b, AttRnnImpl *net, const std::string &features)
{
    AttRnnLayers &l = net->layers;
    std::string x = b.unsqueeze(features, { 1 }); // [B, 1, T, F]
    x = convReluBn(b, "conv1", x, l.conv1, l.bn1);
    x = convReluBn(b, "conv2", x, l.conv2, l.bn2); // [B, 1, T, F]
    return b.transpose(b.squeeze(x, { 1 }), { 1, 0, 2 });
}

std::string head(OnnxGraphBuilder &b, AttRnnImpl *net, const std::string &timeMajor, int64_t frames,
    int64_t heads)
{
    AttRnnLayers &l = net->layers;
    const std::string sequence = b.transpose(timeMajor, { 1, 0, 2 }); // [B, T, D]
    const int64_t d = net->attention->options.dim();
    const std::string pooled
        = middleFrameAttention(b, "attention", sequence, frames, net->attention->query, heads, d);
    const std::string y = b.relu(linear(b, "dense1", pooled, l.dense1));
    return linear(b, "classifier", linear(b, "dense2", y, l.dense2), l.classifier);
}

// Att-RNN (one head, BiLSTM or BiGRU) and MHAtt-RNN (the same network with four heads).
std::string buildAttRnn(OnnxGraphBuilder &b, const StudentModel &model, const GraphInput &in)
{
    auto *net = dynamic_cast<AttRnnImpl *>(model.module().get());
    const std::string x = front(b, net, in.features);
    const RecurrentOutputs rnn
        = net->lstm ? lstmLayers(b, "lstm", x, net->lstm) : gruLayers(b, "gru", x, net->gru);
    return head(b, net, rnn.sequence, in.frames, net->options.heads());
}

} // namespace

StudentGraph attRnnGraph()
{
    return { "Att-RNN / MHAtt-RNN",
        [](const StudentModel &m) {
            return dynamic_cast<AttRnnImpl *>(m.module().get()) != nullptr;
        },
        buildAttRnn };
}

} // namespace tkd::onnxexport
