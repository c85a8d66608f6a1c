// LSTM-P as ONNX. ONNX's LSTM op has peepholes but no output projection, so the cell is written
// out as an ONNX Scan over time whose body is the exact step of LstmPCellImpl::forwardUnfused
// (recurrent matmul, peepholes, forget bias folded into the bias, projection). Scan keeps the
// graph small for any length and lets the time axis stay dynamic.
#include "core/export/OnnxStudentGraphs.h"
#include "core/export/OnnxTensors.h"
#include "core/models/LstmP.h"

namespace tkd::onnxexport {

namespace {

std::string build(OnnxGraphBuilder &b, const StudentModel &model, const GraphInput &in)
{
    auto *net = dynamic_cast<LstmPImpl *>(model.module().get());
    auto &cell = *net->lstm;
    const int64_t h = cell.options.hidden_size();
    const int64_t p = cell.options.proj_size();

    // Input-to-hidden for every step at once: [B, T, F] x [F, 4H] + bias (with the forget bias).
    auto bias = cell.bias.detach().clone();
    bias.narrow(0, h, h).add_(cell.options.forget_bias());
    const std::string gatesIn
        = b.add(b.matMul(in.features, weight(b, "lstm.weight_ih_t", cell.weight_ih.t())),
            weight(b, "lstm.bias", bias)); // [B, T, 4H]

    // Zero initial state [B, P] and [B, H] for the actual batch size.
    const std::string batch = b.op("Slice",
        { b.op("Shape", { in.features }), b.int64s("starts", { 0 }), b.int64s("ends", { 1 }),
            b.int64s("axes", { 0 }) });
    onnx::TensorProto zero;
    zero.set_data_type(onnx::TensorProto::FLOAT);
    zero.add_dims(1);
    zero.add_float_data(0.0f);
    const std::string m0
        = b.op("ConstantOfShape",
               { b.op("Concat", { batch, b.int64s("proj", { p }) }).attr("axis", int64_t(0)) })
              .attrTensor("value", zero);
    const std::string c0
        = b.op("ConstantOfShape",
               { b.op("Concat", { batch, b.int64s("hidden", { h }) }).attr("axis", int64_t(0)) })
              .attrTensor("value", zero);

    // The step, as the Scan body: (m, c, gates_in_t) -> (m', c').
    const std::string whhT = weight(b, "lstm.weight_hh_t", cell.weight_hh.t()); // [P, 4H]
    const std::string wprojT = weight(b, "lstm.weight_proj_t", cell.weight_proj.t()); // [H, P]
    const std::string pI = weight(b, "lstm.peephole_i", cell.peephole_i);
    const std::string pF = weight(b, "lstm.peephole_f", cell.peephole_f);
    const std::string pO = weight(b, "lstm.peephole_o", cell.peephole_o);
    const std::string split = b.int64s("gate_split", { h, h, h, h });

    onnx::GraphProto body;
    body.set_name("lstm_p_step");
    OnnxGraphBuilder s(&body, "step.");
    s.addInput("step.m", { -1, p }, { "batch" });
    s.addInput("step.c", { -1, h }, { "batch" });
    s.addInput("step.x", { -1, 4 * h }, { "batch" });
    const std::string gates = s.add("step.x", s.matMul("step.m", whhT));
    const auto g = s.op("Split", { gates, split }, 4, "gate").attr("axis", int64_t(1));
    const std::string i = s.sigmoid(s.add(g.out(0), s.mul("step.c", pI)));
    const std::string f = s.sigmoid(s.add(g.out(1), s.mul("step.c", pF)));
    const std::string c = s.add(s.mul(f, "step.c"), s.mul(i, s.tanh(g.out(2))));
    const std::string o = s.sigmoid(s.add(g.out(3), s.mul(c, pO)));
    const std::string m = s.matMul(s.mul(o, s.tanh(c)), wprojT);
    const std::string mOut = s.op("Identity", { m }, 1, "m_out");
    const std::string cOut = s.op("Identity", { c }, 1, "c_out");
    s.addOutput(mOut, { -1, p }, { "batch" });
    s.addOutput(cOut, { -1, h }, { "batch" });

    const auto scan = b.op("Scan", { m0, c0, gatesIn }, 2, "lstm")
                          .attr("num_scan_inputs", int64_t(1))
                          .attr("scan_input_axes", std::vector<int64_t> { 1 })
                          .attr("body", body);
    // The last projected output -> (dropout: identity) -> classifier.
    return linear(b, "classifier", scan.out(0), net->classifier);
}

} // namespace

StudentGraph lstmPGraph()
{
    return { "LSTM-P",
        [](const StudentModel &m) {
            return dynamic_cast<LstmPImpl *>(m.module().get()) != nullptr;
        },
        build };
}

} // namespace tkd::onnxexport
