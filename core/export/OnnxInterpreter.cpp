#include "core/export/OnnxInterpreter.h"

#include "core/util/Error.h"

#include <onnx/onnx_pb.h>

#include <algorithm>
#include <cstring>
#include <set>

namespace tkd {

namespace {

const std::set<std::string> &supportedOps()
{
    static const std::set<std::string> ops { "Identity", "Add", "Sub", "Mul", "Div", "Relu",
        "Sigmoid", "Tanh", "Softmax", "Transpose", "Conv", "ReduceMean", "Flatten", "Gemm",
        "MatMul", "Reshape", "Unsqueeze", "Squeeze", "QuantizeLinear", "DequantizeLinear" };
    return ops;
}

torch::Tensor fromProto(const onnx::TensorProto &t)
{
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    torch::ScalarType type;
    switch (t.data_type()) {
    case onnx::TensorProto::FLOAT:
        type = torch::kFloat;
        break;
    case onnx::TensorProto::INT64:
        type = torch::kLong;
        break;
    case onnx::TensorProto::INT32:
        type = torch::kInt;
        break;
    case onnx::TensorProto::INT8:
        type = torch::kChar;
        break;
    case onnx::TensorProto::UINT8:
        type = torch::kByte;
        break;
    default:
        throw Error(
            "onnx interpreter", "initializer '" + t.name() + "' has an unsupported element type");
    }
    if (!t.raw_data().empty()) {
        auto out = torch::empty(dims, torch::TensorOptions().dtype(type));
        std::memcpy(out.data_ptr(), t.raw_data().data(), t.raw_data().size());
        return out;
    }
    if (type == torch::kLong) {
        std::vector<int64_t> v(t.int64_data().begin(), t.int64_data().end());
        return torch::tensor(v, torch::kLong).view(dims);
    }
    if (type == torch::kFloat) {
        std::vector<float> v(t.float_data().begin(), t.float_data().end());
        return torch::tensor(v, torch::kFloat).view(dims);
    }
    std::vector<int32_t> v(t.int32_data().begin(), t.int32_data().end());
    return torch::tensor(v, torch::kInt).to(type).view(dims);
}

int64_t attrInt(const onnx::NodeProto &n, const std::string &name, int64_t fallback)
{
    for (const auto &a : n.attribute())
        if (a.name() == name)
            return a.i();
    return fallback;
}

std::vector<int64_t> attrInts(const onnx::NodeProto &n, const std::string &name)
{
    for (const auto &a : n.attribute())
        if (a.name() == name)
            return std::vector<int64_t>(a.ints().begin(), a.ints().end());
    return {};
}

std::vector<int64_t> longs(const torch::Tensor &t)
{
    const auto c = t.to(torch::kLong).contiguous().view(-1);
    return std::vector<int64_t>(c.data_ptr<int64_t>(), c.data_ptr<int64_t>() + c.numel());
}

// Broadcast a per-axis [C] vector against x along `axis`.
torch::Tensor alongAxis(const torch::Tensor &v, const torch::Tensor &x, int64_t axis)
{
    if (v.dim() == 0 || v.numel() == 1)
        return v.reshape({});
    std::vector<int64_t> shape(size_t(x.dim()), 1);
    shape[size_t(axis < 0 ? axis + x.dim() : axis)] = v.numel();
    return v.view(shape);
}

} // namespace

struct OnnxInterpreter::Impl
{
    onnx::ModelProto model;
    std::map<std::string, torch::Tensor> constants;
};

OnnxInterpreter::OnnxInterpreter(const std::string &modelBytes)
    : d(std::make_unique<Impl>())
{
    if (!d->model.ParseFromString(modelBytes))
        throw Error("onnx interpreter", "not an ONNX model");
    for (const auto &t : d->model.graph().initializer())
        d->constants[t.name()] = fromProto(t);
}

OnnxInterpreter::~OnnxInterpreter() = default;

std::string OnnxInterpreter::unsupportedOp() const
{
    std::set<std::string> missing;
    for (const auto &n : d->model.graph().node())
        if (!supportedOps().count(n.op_type()))
            missing.insert(n.op_type());
    std::string out;
    for (const auto &op : missing)
        out += (out.empty() ? "" : ", ") + op;
    return out;
}

std::map<std::string, torch::Tensor> OnnxInterpreter::run(
    const std::map<std::string, torch::Tensor> &inputs, const Observer &observe) const
{
    if (const std::string op = unsupportedOp(); !op.empty())
        throw Error("onnx interpreter",
            "op " + op + " is not supported (only the convolutional graphs are)");
    torch::NoGradGuard noGrad;
    std::map<std::string, torch::Tensor> v = d->constants;
    for (const auto &[k, t] : inputs)
        v[k] = t;
    auto in = [&v](const onnx::NodeProto &n, int i) -> torch::Tensor {
        if (i >= n.input_size() || n.input(i).empty())
            return {};
        const auto it = v.find(n.input(i));
        if (it == v.end())
            throw Error("onnx interpreter", "value '" + n.input(i) + "' is undefined");
        return it->second;
    };
    for (const auto &n : d->model.graph().node()) {
        const std::string &op = n.op_type();
        torch::Tensor y;
        if (op == "Identity")
            y = in(n, 0);
        else if (op == "Add")
            y = in(n, 0) + in(n, 1);
        else if (op == "Sub")
            y = in(n, 0) - in(n, 1);
        else if (op == "Mul")
            y = in(n, 0) * in(n, 1);
        else if (op == "Div")
            y = in(n, 0) / in(n, 1);
        else if (op == "Relu")
            y = torch::relu(in(n, 0));
        else if (op == "Sigmoid")
            y = torch::sigmoid(in(n, 0));
        else if (op == "Tanh")
            y = torch::tanh(in(n, 0));
        else if (op == "Softmax")
            y = torch::softmax(in(n, 0), attrInt(n, "axis", -1));
        else if (op == "Transpose")
            y = in(n, 0).permute(attrInts(n, "perm")).contiguous();
        else if (op == "Conv") {
            const auto x = in(n, 0), w = in(n, 1), b = in(n, 2);
            const auto strides = attrInts(n, "strides");
            const auto pads = attrInts(n, "pads");
            const size_t k = size_t(w.dim() - 2);
            std::vector<int64_t> padding(k, 0);
            for (size_t i = 0; i < k && pads.size() == 2 * k; ++i) {
                if (pads[i] != pads[i + k])
                    throw Error("onnx interpreter", "asymmetric Conv padding is not supported");
                padding[i] = pads[i];
            }
            const std::vector<int64_t> stride
                = strides.empty() ? std::vector<int64_t>(k, 1) : strides;
            y = k == 1 ? torch::conv1d(x, w, b, stride, padding)
                       : torch::conv2d(x, w, b, stride, padding);
        } else if (op == "ReduceMean")
            y = in(n, 0).mean(attrInts(n, "axes"), attrInt(n, "keepdims", 1) != 0);
        else if (op == "Flatten") {
            const auto x = in(n, 0);
            const int64_t axis = attrInt(n, "axis", 1);
            int64_t outer = 1;
            for (int64_t i = 0; i < axis; ++i)
                outer *= x.size(i);
            y = x.reshape({ outer, -1 });
        } else if (op == "Gemm") {
            const auto a = attrInt(n, "transA", 0) ? in(n, 0).t() : in(n, 0);
            const auto b = attrInt(n, "transB", 0) ? in(n, 1).t() : in(n, 1);
            y = torch::matmul(a, b);
            if (const auto c = in(n, 2); c.defined())
                y = y + c;
        } else if (op == "MatMul")
            y = torch::matmul(in(n, 0), in(n, 1));
        else if (op == "Reshape") {
            const auto x = in(n, 0);
            auto shape = longs(in(n, 1));
            for (size_t i = 0; i < shape.size(); ++i)
                if (shape[i] == 0)
                    shape[i] = x.size(int64_t(i));
            y = x.reshape(shape);
        } else if (op == "Unsqueeze") {
            y = in(n, 0);
            auto axes = longs(in(n, 1));
            std::sort(axes.begin(), axes.end());
            for (int64_t a : axes)
                y = y.unsqueeze(a);
        } else if (op == "Squeeze") {
            y = in(n, 0);
            auto axes = longs(in(n, 1));
            std::sort(axes.rbegin(), axes.rend());
            for (int64_t a : axes)
                y = y.squeeze(a);
        } else if (op == "QuantizeLinear") {
            const auto x = in(n, 0);
            const auto zp = in(n, 2);
            const int64_t axis = attrInt(n, "axis", 1);
            const auto scale = alongAxis(in(n, 1), x, axis);
            const auto z = alongAxis(zp, x, axis).to(torch::kFloat);
            const bool isUnsigned = zp.scalar_type() == torch::kByte;
            // Round half to even, like ONNX (torch::round does).
            y = torch::clamp(
                torch::round(x / scale) + z, isUnsigned ? 0 : -128, isUnsigned ? 255 : 127)
                    .to(zp.scalar_type());
        } else if (op == "DequantizeLinear") {
            const auto x = in(n, 0);
            const int64_t axis = attrInt(n, "axis", 1);
            const auto scale = alongAxis(in(n, 1), x, axis);
            const auto zp = in(n, 2);
            const auto z
                = zp.defined() ? alongAxis(zp, x, axis).to(torch::kFloat) : torch::zeros({});
            y = (x.to(torch::kFloat) - z) * scale;
        }
        v[n.output(0)] = y;
        if (observe && y.scalar_type() == torch::kFloat)
            observe(n.output(0), y);
    }
    std::map<std::string, torch::Tensor> out;
    for (const auto &o : d->model.graph().output())
        out[o.name()] = v.at(o.name());
    return out;
}

} // namespace tkd
