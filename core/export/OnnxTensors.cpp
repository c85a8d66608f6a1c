#include "core/export/OnnxTensors.h"

namespace tkd::onnxexport {

std::string weight(OnnxGraphBuilder &b, const std::string &hint, const torch::Tensor &t)
{
    const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous();
    return b.floats(
        hint, std::vector<int64_t>(c.sizes().begin(), c.sizes().end()), c.data_ptr<float>());
}

std::string conv(OnnxGraphBuilder &b, const std::string &hint, const std::string &x,
    const torch::Tensor &w, const torch::Tensor &bias, const std::vector<int64_t> &strides,
    const std::vector<int64_t> &pads)
{
    std::vector<std::string> inputs { x, weight(b, hint + ".weight", w) };
    if (bias.defined())
        inputs.push_back(weight(b, hint + ".bias", bias));
    std::vector<int64_t> kernel(w.sizes().begin() + 2, w.sizes().end());
    return b.op("Conv", inputs, 1, hint)
        .attr("kernel_shape", kernel)
        .attr("strides", strides)
        .attr("pads", pads);
}

std::pair<torch::Tensor, torch::Tensor> batchNormAffine(const torch::Tensor &runningMean,
    const torch::Tensor &runningVar, const torch::Tensor &gamma, const torch::Tensor &beta,
    double eps)
{
    const auto scale = gamma.detach() / torch::sqrt(runningVar.detach() + eps);
    return { scale, beta.detach() - runningMean.detach() * scale };
}

std::string linear(
    OnnxGraphBuilder &b, const std::string &hint, const std::string &x, torch::nn::Linear &layer)
{
    std::vector<std::string> inputs { x, weight(b, hint + ".weight", layer->weight) };
    if (layer->bias.defined())
        inputs.push_back(weight(b, hint + ".bias", layer->bias));
    return b.op("Gemm", inputs, 1, hint).attr("transB", int64_t(1));
}

namespace {

// Reorders the gate blocks of a [gates * H, ...] tensor (dim 0) into `order`.
torch::Tensor reorderGates(const torch::Tensor &t, const std::vector<int64_t> &order)
{
    const auto chunks = t.detach().chunk(int64_t(order.size()), 0);
    std::vector<torch::Tensor> out;
    for (int64_t i : order)
        out.push_back(chunks[size_t(i)]);
    return torch::cat(out, 0);
}

template <class Rnn>
RecurrentOutputs rnnLayers(OnnxGraphBuilder &b, const std::string &hint, const std::string &x,
    Rnn &rnn, const std::string &opType, const std::vector<int64_t> &order)
{
    const auto &o = rnn->options;
    const int64_t layers = o.num_layers();
    const bool bidirectional = o.bidirectional();
    const int64_t dirs = bidirectional ? 2 : 1;
    const int64_t h = o.hidden_size();
    const auto params = rnn->named_parameters();
    std::string input = x;
    RecurrentOutputs out;
    for (int64_t l = 0; l < layers; ++l) {
        std::vector<torch::Tensor> w, r, bias;
        for (int64_t d = 0; d < dirs; ++d) {
            const std::string suffix = "_l" + std::to_string(l) + (d == 1 ? "_reverse" : "");
            w.push_back(reorderGates(params["weight_ih" + suffix], order));
            r.push_back(reorderGates(params["weight_hh" + suffix], order));
            bias.push_back(torch::cat({ reorderGates(params["bias_ih" + suffix], order),
                reorderGates(params["bias_hh" + suffix], order) }));
        }
        const std::string layerHint = hint + ".l" + std::to_string(l);
        auto node = b.op(opType,
            { input, weight(b, layerHint + ".W", torch::stack(w)),
                weight(b, layerHint + ".R", torch::stack(r)),
                weight(b, layerHint + ".B", torch::stack(bias)) },
            2, layerHint);
        node.attr("hidden_size", h)
            .attr("direction", std::string(bidirectional ? "bidirectional" : "forward"));
        if (opType == "GRU")
            node.attr("linear_before_reset", int64_t(1));
        // Y: [T, dirs, B, H] -> [T, B, dirs * H] (directions concatenated, as PyTorch does).
        const std::string y
            = b.reshape(b.transpose(node.out(0), { 0, 2, 1, 3 }), { 0, 0, dirs * h });
        input = y;
        // Y_h: [dirs, B, H]; the forward direction's final state.
        out.lastHidden = b.reshape(b.op("Slice",
                                       { node.out(1), b.int64s("starts", { 0 }),
                                           b.int64s("ends", { 1 }), b.int64s("axes", { 0 }) }),
            { -1, h });
    }
    out.sequence = input;
    return out;
}

} // namespace

RecurrentOutputs gruLayers(
    OnnxGraphBuilder &b, const std::string &hint, const std::string &x, torch::nn::GRU &gru)
{
    // PyTorch r, z, n -> ONNX z, r, h.
    return rnnLayers(b, hint, x, gru, "GRU", { 1, 0, 2 });
}

RecurrentOutputs lstmLayers(
    OnnxGraphBuilder &b, const std::string &hint, const std::string &x, torch::nn::LSTM &lstm)
{
    // PyTorch i, f, g, o -> ONNX i, o, f, c.
    return rnnLayers(b, hint, x, lstm, "LSTM", { 0, 3, 1, 2 });
}

} // namespace tkd::onnxexport
