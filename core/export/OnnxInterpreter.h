#pragma once

#include <torch/torch.h>

#include <functional>
#include <map>
#include <string>

namespace tkd {

// Runs an exported student's ONNX graph with LibTorch ops, node by node: the calibration engine
// of the int8 quantiser (it sees every intermediate tensor) and the product's own evaluator of a
// quantised model (accuracy on the test split without an external runtime). It knows the ops
// the convolutional students' graphs use (and QuantizeLinear / DequantizeLinear); a graph with
// another op (Scan, GRU, LSTM, ...) throws tkd::Error naming it, which supported() tells first.
class OnnxInterpreter
{
public:
    // Throws tkd::Error when the bytes are not an ONNX model.
    explicit OnnxInterpreter(const std::string &modelBytes);
    ~OnnxInterpreter();

    // Empty when every node's op is supported; else the unsupported op types ("GRU, Slice").
    std::string unsupportedOp() const;
    bool supported() const { return unsupportedOp().empty(); }

    // Inputs by name -> every graph output by name. `observe` (optional) sees every float
    // tensor a node produces.
    using Observer = std::function<void(const std::string &name, const torch::Tensor &value)>;
    std::map<std::string, torch::Tensor> run(
        const std::map<std::string, torch::Tensor> &inputs, const Observer &observe = {}) const;

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace tkd
