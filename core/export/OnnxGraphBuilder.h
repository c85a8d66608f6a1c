#pragma once

// Private to core/export: includes the ONNX protobuf headers, which nothing above core/export
// needs to see.
#include <onnx/onnx_pb.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tkd {

// One node being added to a graph: set its attributes, read its output names.
class OnnxNode
{
public:
    explicit OnnxNode(onnx::NodeProto *node)
        : m_node(node)
    { }
    OnnxNode &attr(const std::string &name, int64_t value);
    OnnxNode &attr(const std::string &name, float value);
    OnnxNode &attr(const std::string &name, const std::vector<int64_t> &values);
    OnnxNode &attr(const std::string &name, const std::string &value);
    OnnxNode &attr(const std::string &name, const onnx::GraphProto &graph);
    OnnxNode &attrTensor(const std::string &name, const onnx::TensorProto &value);
    std::string out(int i = 0) const { return m_node->output(i); }
    operator std::string() const { return out(0); } // NOLINT: a node reads as its first output

private:
    onnx::NodeProto *m_node;
};

// Appends nodes and initializers to an onnx::GraphProto with unique, readable names. Values are
// plain float/int64 buffers (no torch here); see OnnxTensors.h for torch tensors. A builder over
// a subgraph (a Scan body) may name the outer graph's values: ONNX resolves them by scope.
class OnnxGraphBuilder
{
public:
    explicit OnnxGraphBuilder(onnx::GraphProto *graph, std::string prefix = {});

    onnx::GraphProto &graph() { return *m_graph; }
    // "conv0" -> "<prefix>conv0", then "<prefix>conv0_1", ... (a subgraph's builder takes its own
    // prefix, so its names never shadow the outer graph's).
    std::string uniqueName(const std::string &hint);

    // Graph inputs and outputs: a negative dim is symbolic and takes the matching dimNames entry.
    void addInput(const std::string &name, const std::vector<int64_t> &dims,
        const std::vector<std::string> &dimNames = {}, int elemType = onnx::TensorProto::FLOAT);
    void addOutput(const std::string &name, const std::vector<int64_t> &dims,
        const std::vector<std::string> &dimNames = {}, int elemType = onnx::TensorProto::FLOAT);

    // Initializers (constants); return their unique names.
    std::string floats(
        const std::string &hint, const std::vector<int64_t> &dims, const float *data);
    std::string floats(
        const std::string &hint, const std::vector<int64_t> &dims, const std::vector<float> &data)
    {
        return floats(hint, dims, data.data());
    }
    std::string scalar(const std::string &hint, float value) { return floats(hint, {}, &value); }
    // 1-D int64 (dims = {n}); scalarShape: a 0-d scalar (one value).
    std::string int64s(
        const std::string &hint, const std::vector<int64_t> &values, bool scalarShape = false);
    // Any typed raw initializer (int8 / uint8 weights of a quantised graph).
    std::string raw(const std::string &hint, int elemType, const std::vector<int64_t> &dims,
        const std::string &bytes);

    // A node of `type` over `inputs` with `outputs` fresh outputs named after `hint` (or the type).
    OnnxNode op(const std::string &type, const std::vector<std::string> &inputs, int outputs = 1,
        const std::string &hint = {});

    // The same with the given output names (graph outputs).
    OnnxNode opTo(const std::string &type, const std::vector<std::string> &inputs,
        const std::vector<std::string> &outputs);

    // Shorthands for the common ones.
    std::string add(const std::string &a, const std::string &b) { return op("Add", { a, b }); }
    std::string sub(const std::string &a, const std::string &b) { return op("Sub", { a, b }); }
    std::string mul(const std::string &a, const std::string &b) { return op("Mul", { a, b }); }
    std::string div(const std::string &a, const std::string &b) { return op("Div", { a, b }); }
    std::string matMul(const std::string &a, const std::string &b)
    {
        return op("MatMul", { a, b });
    }
    std::string relu(const std::string &x) { return op("Relu", { x }); }
    std::string sigmoid(const std::string &x) { return op("Sigmoid", { x }); }
    std::string tanh(const std::string &x) { return op("Tanh", { x }); }
    std::string transpose(const std::string &x, const std::vector<int64_t> &perm)
    {
        return op("Transpose", { x }).attr("perm", perm);
    }
    // Reshape to a constant shape (0 copies that input dim, -1 infers one).
    std::string reshape(const std::string &x, const std::vector<int64_t> &shape)
    {
        return op("Reshape", { x, int64s("shape", shape) });
    }
    std::string unsqueeze(const std::string &x, const std::vector<int64_t> &axes)
    {
        return op("Unsqueeze", { x, int64s("axes", axes) });
    }
    std::string squeeze(const std::string &x, const std::vector<int64_t> &axes)
    {
        return op("Squeeze", { x, int64s("axes", axes) });
    }

private:
    onnx::GraphProto *m_graph;
    std::string m_prefix;
    std::map<std::string, int> m_used;
};

} // namespace tkd
