#include "core/export/OnnxQuantizer.h"

#include "core/export/OnnxGraphBuilder.h"
#include "core/export/OnnxInterpreter.h"
#include "core/util/Error.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <cmath>
#include <set>

namespace tkd {

namespace {

void collectInputs(const onnx::GraphProto &g, std::map<std::string, int> &uses)
{
    for (const auto &n : g.node()) {
        for (const auto &i : n.input())
            ++uses[i];
        for (const auto &a : n.attribute())
            if (a.has_g())
                collectInputs(a.g(), uses);
    }
}

torch::Tensor initializerTensor(const onnx::TensorProto &t)
{
    std::vector<int64_t> dims(t.dims().begin(), t.dims().end());
    auto out = torch::empty(dims, torch::kFloat);
    std::memcpy(out.data_ptr(), t.raw_data().data(), t.raw_data().size());
    return out;
}

std::string bytesOf(const torch::Tensor &t)
{
    const auto c = t.contiguous();
    return std::string(
        static_cast<const char *>(c.data_ptr()), size_t(c.numel()) * c.element_size());
}

int64_t attrInt(const onnx::NodeProto &n, const std::string &name, int64_t fallback)
{
    for (const auto &a : n.attribute())
        if (a.name() == name)
            return a.i();
    return fallback;
}

struct Range
{
    float lo = 0.0f, hi = 0.0f;
};

} // namespace

std::string quantizeOnnxInt8(
    const std::string &floatModel, const torch::Tensor &calibration, OnnxQuantizeReport *report)
{
    OnnxQuantizeReport rep;
    onnx::ModelProto m;
    if (!m.ParseFromString(floatModel))
        throw Error("int8", "the float model is not an ONNX model");
    onnx::GraphProto *g = m.mutable_graph();
    std::map<std::string, const onnx::TensorProto *> inits;
    for (const auto &t : g->initializer())
        if (t.data_type() == onnx::TensorProto::FLOAT)
            inits[t.name()] = &t;
    std::map<std::string, int> uses;
    collectInputs(*g, uses);

    // Which nodes get int8 weights: a float initializer weight used by this node alone.
    auto isTarget = [&](const onnx::NodeProto &n) {
        if (n.op_type() != "Conv" && n.op_type() != "Gemm" && n.op_type() != "MatMul")
            return false;
        if (n.input_size() < 2 || !inits.count(n.input(1)) || uses[n.input(1)] != 1)
            return false;
        if (n.op_type() == "Gemm" && attrInt(n, "transB", 0) != 1)
            return false;
        return inits.at(n.input(1))->dims_size() >= 2;
    };

    // Calibration: min/max of every target's input over the clips.
    std::map<std::string, Range> ranges;
    std::set<std::string> wanted;
    for (const auto &n : g->node())
        if (isTarget(n))
            wanted.insert(n.input(0));
    OnnxInterpreter interpreter(floatModel);
    if (!interpreter.supported()) {
        rep.note = "activations stay float: the graph has " + interpreter.unsupportedOp()
            + " (weights of its Conv / Gemm / MatMul are int8)";
    } else if (!calibration.defined() || calibration.size(0) == 0) {
        rep.note = "activations stay float: no calibration clips";
    } else {
        const std::string inputName = g->input(0).name();
        auto observe = [&](const std::string &name, const torch::Tensor &v) {
            if (!wanted.count(name))
                return;
            const float lo = v.min().item<float>(), hi = v.max().item<float>();
            auto it = ranges.find(name);
            if (it == ranges.end())
                ranges[name] = { lo, hi };
            else
                it->second = { std::min(it->second.lo, lo), std::max(it->second.hi, hi) };
        };
        auto observeInput = [&](const torch::Tensor &x) { observe(inputName, x); };
        for (int64_t s = 0; s < calibration.size(0); s += 64) {
            const auto batch
                = calibration.narrow(0, s, std::min<int64_t>(64, calibration.size(0) - s))
                      .contiguous();
            observeInput(batch);
            interpreter.run({ { inputName, batch } }, observe);
        }
        rep.activationsQuantized = true;
        rep.calibrationClips = calibration.size(0);
    }

    // Rewrite: the new node list, with Q/DQ nodes in front of each target.
    onnx::GraphProto rebuilt = *g;
    rebuilt.clear_node();
    // Short names and no node names for what is added: on a 66K-parameter model the names of
    // ~100 new values are a visible share of the file.
    OnnxGraphBuilder b(&rebuilt, "q");
    int64_t target = 0;
    std::map<std::string, std::string> dequantizedInput; // activation -> its DQ output
    std::map<std::string, float> inputScale;
    std::set<std::string> dropInits;
    for (const auto &n0 : g->node()) {
        if (!isTarget(n0)) {
            *rebuilt.add_node() = n0;
            continue;
        }
        onnx::NodeProto n = n0;
        const std::string wName = n.input(1);
        const torch::Tensor w = initializerTensor(*inits.at(wName));
        const int64_t axis = n.op_type() == "MatMul" ? w.dim() - 1 : 0; // output channels
        const int64_t channels = w.size(axis);
        const auto wc = w.transpose(0, axis).reshape({ channels, -1 });
        auto wScale = (wc.abs().amax(1) / 127.0f).clamp_min(1e-12f); // [C]
        std::vector<int64_t> bshape(size_t(w.dim()), 1);
        bshape[size_t(axis)] = channels;
        const auto wq
            = torch::clamp(torch::round(w / wScale.view(bshape)), -127, 127).to(torch::kChar);
        const std::string id = std::to_string(target++);
        const std::string wq8 = b.raw("w" + id, onnx::TensorProto::INT8,
            std::vector<int64_t>(w.sizes().begin(), w.sizes().end()), bytesOf(wq));
        const std::string ws
            = b.floats("ws" + id, { channels }, wScale.contiguous().data_ptr<float>());
        // Zero points left out: 0 (symmetric), and the int8 type is the weight's own.
        const std::string wdq
            = b.op("DequantizeLinear", { wq8, ws }, 1, "wd" + id).attr("axis", axis);
        n.set_input(1, wdq);
        dropInits.insert(wName);

        const std::string x = n.input(0);
        const auto r = ranges.find(x);
        if (rep.activationsQuantized && r != ranges.end()) {
            if (!dequantizedInput.count(x)) {
                const float lo = std::min(0.0f, r->second.lo), hi = std::max(0.0f, r->second.hi);
                const float scale = std::max((hi - lo) / 255.0f, 1e-8f);
                const auto zp = uint8_t(std::clamp<long>(std::lround(-lo / scale), 0, 255));
                const std::string s = b.scalar("xs" + id, scale);
                const std::string z
                    = b.raw("xz" + id, onnx::TensorProto::UINT8, {}, std::string(1, char(zp)));
                const std::string q = b.op("QuantizeLinear", { x, s, z }, 1, "xq" + id);
                dequantizedInput[x] = b.op("DequantizeLinear", { q, s, z }, 1, "xd" + id);
                inputScale[x] = scale;
            }
            n.set_input(0, dequantizedInput[x]);
            // Bias as int32 at (input scale x weight scale), as QDQ runtimes fuse it.
            if (n.input_size() > 2 && inits.count(n.input(2)) && uses[n.input(2)] == 1) {
                const std::string bName = n.input(2);
                const torch::Tensor bias = initializerTensor(*inits.at(bName));
                const auto bScale = (wScale * inputScale[x]).clamp_min(1e-12f);
                const auto bq = torch::round(bias / bScale)
                                    .clamp(-2147483647.0, 2147483647.0)
                                    .to(torch::kInt);
                const std::string bq32
                    = b.raw("b" + id, onnx::TensorProto::INT32, { channels }, bytesOf(bq));
                const std::string bs
                    = b.floats("bs" + id, { channels }, bScale.contiguous().data_ptr<float>());
                n.set_input(2,
                    b.op("DequantizeLinear", { bq32, bs }, 1, "bd" + id).attr("axis", int64_t(0)));
                dropInits.insert(bName);
            }
        }
        *rebuilt.add_node() = n;
        ++rep.quantizedNodes;
    }
    for (auto &n : *rebuilt.mutable_node())
        if (n.name().rfind("q", 0) == 0
            && (n.op_type() == "QuantizeLinear" || n.op_type() == "DequantizeLinear"))
            n.clear_name();
    // Drop the float weights that were replaced.
    onnx::GraphProto out = rebuilt;
    out.clear_initializer();
    for (const auto &t : rebuilt.initializer())
        if (!dropInits.count(t.name()))
            *out.add_initializer() = t;
    *g = out;
    auto *meta = m.add_metadata_props();
    meta->set_key("tkd.quantization");
    meta->set_value(std::string("int8 QDQ: per-channel symmetric int8 weights")
        + (rep.activationsQuantized ? ", uint8 activations calibrated (min/max) on "
                    + std::to_string(rep.calibrationClips) + " training clips"
                                    : "; " + rep.note));
    try {
        onnx::checker::check_model(m);
        onnx::shape_inference::InferShapes(
            m, onnx::OpSchemaRegistry::Instance(), onnx::ShapeInferenceOptions(true, 1, false));
    } catch (const std::exception &e) {
        throw Error("int8 ONNX graph", std::string("fails the ONNX checker: ") + e.what());
    }
    std::string bytes;
    m.SerializeToString(&bytes);
    if (report)
        *report = rep;
    return bytes;
}

} // namespace tkd
