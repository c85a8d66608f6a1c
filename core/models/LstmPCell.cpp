#include "core/models/LstmPCell.h"

#include "core/models/FusedRnn.h"

#include <ATen/Dispatch.h>

namespace tkd {

LstmPCellImpl::LstmPCellImpl(const LstmPCellOptions &options_)
    : options(options_)
{
    reset();
}

void LstmPCellImpl::reset()
{
    const int64_t h = options.hidden_size();
    const int64_t p = options.proj_size();
    TORCH_CHECK(options.input_size() > 0 && h > 0 && p > 0, "LstmPCell sizes must be positive");
    weight_ih = register_parameter("weight_ih", torch::empty({ 4 * h, options.input_size() }));
    weight_hh = register_parameter("weight_hh", torch::empty({ 4 * h, p }));
    bias = register_parameter("bias", torch::empty({ 4 * h }));
    peephole_i = register_parameter("peephole_i", torch::empty({ h }));
    peephole_f = register_parameter("peephole_f", torch::empty({ h }));
    peephole_o = register_parameter("peephole_o", torch::empty({ h }));
    weight_proj = register_parameter("weight_proj", torch::empty({ p, h }));
    // PyTorch's LSTM initialisation: U(-1/sqrt(H), 1/sqrt(H)) for everything.
    const double bound = 1.0 / std::sqrt(double(h));
    torch::NoGradGuard noGrad;
    for (auto &t : parameters())
        t.uniform_(-bound, bound);
}

torch::Tensor LstmPCellImpl::forward(const torch::Tensor &x)
{
    const int64_t batch = x.size(0);
    auto m0 = torch::zeros({ batch, options.proj_size() }, x.options());
    auto c0 = torch::zeros({ batch, options.hidden_size() }, x.options());
    return std::get<0>(forwardWithState(x, m0, c0));
}

namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

// The gate arithmetic of one backward step in a single pass (it was a dozen tensor operations per
// step, more time than the step's two matmuls). dc carries d(c_t) in and leaves d(c_{t-1}).
template <typename T>
void lstmPBackwardStep(const T *act, const T *tanhC, const T *cPrev, const T *dh, const T *pI,
    const T *pF, const T *pO, T *dc, T *dA, int64_t batch, int64_t h)
{
    for (int64_t b = 0; b < batch; ++b) {
        const T *i = act + b * 4 * h, *f = i + h, *g = i + 2 * h, *o = i + 3 * h;
        const T *tc = tanhC + b * h, *cp = cPrev + b * h, *dhb = dh + b * h;
        T *dcb = dc + b * h;
        T *dai = dA + b * 4 * h, *daf = dai + h, *dag = dai + 2 * h, *dao = dai + 3 * h;
        for (int64_t j = 0; j < h; ++j) {
            const T ao = dhb[j] * tc[j] * o[j] * (T(1) - o[j]);
            const T dcj = dcb[j] + dhb[j] * o[j] * (T(1) - tc[j] * tc[j]) + ao * pO[j];
            const T ai = dcj * g[j] * i[j] * (T(1) - i[j]);
            const T af = dcj * cp[j] * f[j] * (T(1) - f[j]);
            dao[j] = ao;
            dai[j] = ai;
            daf[j] = af;
            dag[j] = dcj * i[j] * (T(1) - g[j] * g[j]);
            dcb[j] = dcj * f[j] + ai * pI[j] + af * pF[j];
        }
    }
}

// The whole LSTM-P sequence as one autograd node (see forwardWithState). Gate order (i, f, g, o).
class LstmPSequence : public torch::autograd::Function<LstmPSequence>
{
public:
    // x: [B, T, F] -> {outputs [B, T, P], last m [B, P], last c [B, H]}.
    static variable_list forward(AutogradContext *ctx, Tensor x, Tensor m0, Tensor c0, Tensor wIh,
        Tensor wHh, Tensor bias, Tensor pI, Tensor pF, Tensor pO, Tensor wProj, double forgetBias)
    {
        const int64_t batch = x.size(0), steps = x.size(1), h = wHh.size(0) / 4;
        auto effectiveBias = bias.clone();
        effectiveBias.narrow(0, h, h).add_(forgetBias);
        const auto xTimeMajor = x.transpose(0, 1).reshape({ steps * batch, x.size(2) });
        const auto inputGates
            = torch::addmm(effectiveBias, xTimeMajor, wIh.t()).view({ steps, batch, 4 * h });
        const auto whhT = wHh.t(), wprojT = wProj.t();
        // Activations kept for the backward pass, time-major.
        auto act
            = torch::empty({ steps, batch, 4 * h }, x.options()); // sigmoid i, f, tanh g, sigmoid o
        auto cells = torch::empty({ steps + 1, batch, h }, x.options()); // c_{-1} .. c_{T-1}
        auto outs
            = torch::empty({ steps + 1, batch, wProj.size(0) }, x.options()); // m_{-1} .. m_{T-1}
        cells[0].copy_(c0);
        outs[0].copy_(m0);
        for (int64_t t = 0; t < steps; ++t) {
            const auto cPrev = cells[t];
            auto a = act[t];
            torch::addmm_out(a, inputGates[t], outs[t], whhT);
            auto i = a.narrow(1, 0, h), f = a.narrow(1, h, h), g = a.narrow(1, 2 * h, h),
                 o = a.narrow(1, 3 * h, h);
            i.addcmul_(cPrev, pI).sigmoid_();
            f.addcmul_(cPrev, pF).sigmoid_();
            g.tanh_();
            auto c = cells[t + 1];
            torch::mul_out(c, f, cPrev).addcmul_(i, g);
            o.addcmul_(c, pO).sigmoid_();
            auto m = outs[t + 1];
            torch::mm_out(m, o * torch::tanh(c), wprojT);
        }
        ctx->save_for_backward({ xTimeMajor, wIh, wHh, pI, pF, pO, wProj, act, cells, outs });
        ctx->saved_data["batch"] = batch;
        ctx->saved_data["steps"] = steps;
        // Copies, not views of the saved buffers, so callers may modify them freely.
        return { outs.narrow(0, 1, steps).transpose(0, 1).contiguous(), outs[steps].clone(),
            cells[steps].clone() };
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto &xTimeMajor = saved[0], &wIh = saved[1], &wHh = saved[2], &pI = saved[3],
                   &pF = saved[4], &pO = saved[5], &wProj = saved[6], &act = saved[7],
                   &cells = saved[8], &outs = saved[9];
        const int64_t batch = ctx->saved_data["batch"].toInt();
        const int64_t steps = ctx->saved_data["steps"].toInt();
        const int64_t h = wHh.size(0) / 4, p = wProj.size(0);
        const auto opts = act.options();

        // Gradient reaching each m_t from outside: the output sequence, plus the last state.
        auto dOut = grads[0].defined() ? grads[0].transpose(0, 1).contiguous()
                                       : torch::zeros({ steps, batch, p }, opts);
        auto dm = grads[1].defined() ? grads[1].clone() : torch::zeros({ batch, p }, opts);
        auto dc = grads[2].defined() ? grads[2].clone() : torch::zeros({ batch, h }, opts);

        auto dGates = torch::empty({ steps, batch, 4 * h }, opts); // d pre-activations
        auto dmTotal = torch::empty({ steps, batch, p }, opts);
        const auto tanhCells = torch::tanh(cells.narrow(0, 1, steps)); // tanh(c_t), every step
        auto dh = torch::empty({ batch, h }, opts);
        dc = dc.contiguous();
        const auto pIc = pI.contiguous(), pFc = pF.contiguous(), pOc = pO.contiguous();
        AT_DISPATCH_FLOATING_TYPES(act.scalar_type(), "LstmPSequence.backward", [&] {
            for (int64_t t = steps - 1; t >= 0; --t) {
                auto dmt = dmTotal[t];
                torch::add_out(dmt, dOut[t], dm);
                torch::mm_out(dh, dmt, wProj); // [B, H]
                lstmPBackwardStep(act[t].data_ptr<scalar_t>(), tanhCells[t].data_ptr<scalar_t>(),
                    cells[t].data_ptr<scalar_t>(), dh.data_ptr<scalar_t>(),
                    pIc.data_ptr<scalar_t>(), pFc.data_ptr<scalar_t>(), pOc.data_ptr<scalar_t>(),
                    dc.data_ptr<scalar_t>(), dGates[t].data_ptr<scalar_t>(), batch, h);
                dm = torch::mm(dGates[t], wHh); // [B, P]
            }
        });
        // Weight gradients over all steps at once.
        const auto dFlat = dGates.view({ steps * batch, 4 * h });
        const auto mPrev = outs.narrow(0, 0, steps).reshape({ steps * batch, p });
        const auto cPrevAll = cells.narrow(0, 0, steps);
        const auto o = act.narrow(2, 3 * h, h);
        const auto hAll = (o * tanhCells).reshape({ steps * batch, h });
        const auto dmFlat = dmTotal.view({ steps * batch, p });

        const auto dX = torch::mm(dFlat, wIh).view({ steps, batch, -1 }).transpose(0, 1);
        const auto dWih = torch::mm(dFlat.t(), xTimeMajor);
        const auto dWhh = torch::mm(dFlat.t(), mPrev);
        const auto dBias = dFlat.sum(0);
        const auto dPi = (dGates.narrow(2, 0, h) * cPrevAll).sum(torch::IntArrayRef { 0, 1 });
        const auto dPf = (dGates.narrow(2, h, h) * cPrevAll).sum(torch::IntArrayRef { 0, 1 });
        const auto dPo = (dGates.narrow(2, 3 * h, h) * cells.narrow(0, 1, steps))
                             .sum(torch::IntArrayRef { 0, 1 });
        const auto dWproj = torch::mm(dmFlat.t(), hAll);
        return { dX, dm, dc, dWih, dWhh, dBias, dPi, dPf, dPo, dWproj, Tensor() };
    }
};

} // namespace

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> LstmPCellImpl::forwardWithState(
    const torch::Tensor &x, const torch::Tensor &m0, const torch::Tensor &c0)
{
    TORCH_CHECK(x.dim() == 3 && x.size(2) == options.input_size(), "LstmPCell expects [batch, T, ",
        options.input_size(), "], got ", x.sizes());
    if (x.size(1) == 0)
        return { torch::empty({ x.size(0), 0, options.proj_size() }, x.options()), m0, c0 };
    // Without autograd (evaluation, streaming) the step loop records nothing and need not keep
    // every step's activations, so it is the cheaper path there (measured: bench_students).
    if (!recordsGradient(*this, { x, m0, c0 }))
        return forwardUnfused(x, m0, c0);
    auto r = LstmPSequence::apply(x, m0, c0, weight_ih, weight_hh, bias, peephole_i, peephole_f,
        peephole_o, weight_proj, options.forget_bias());
    return { r[0], r[1], r[2] };
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> LstmPCellImpl::forwardUnfused(
    const torch::Tensor &x, const torch::Tensor &m0, const torch::Tensor &c0)
{
    TORCH_CHECK(x.dim() == 3 && x.size(2) == options.input_size(), "LstmPCell expects [batch, T, ",
        options.input_size(), "], got ", x.sizes());
    const int64_t batch = x.size(0);
    const int64_t steps = x.size(1);
    const int64_t h = options.hidden_size();

    // The forget bias folds into the bias once, not once per step.
    auto offset = torch::zeros({ 4 * h }, bias.options());
    offset.narrow(0, h, h).fill_(options.forget_bias());
    const auto effectiveBias = bias + offset;
    // Input-to-hidden for every step in one matmul, time-major so each step's slice is
    // contiguous; the loop then does only the recurrent product and the gate arithmetic.
    auto xTimeMajor = x.transpose(0, 1).reshape({ steps * batch, x.size(2) });
    auto inputGates
        = torch::addmm(effectiveBias, xTimeMajor, weight_ih.t()).view({ steps, batch, 4 * h });
    const auto perStep = inputGates.unbind(0);
    const auto whhT = weight_hh.t();
    const auto wprojT = weight_proj.t();

    std::vector<torch::Tensor> outputs;
    outputs.reserve(size_t(steps));
    auto m = m0;
    auto c = c0;
    for (int64_t t = 0; t < steps; ++t) {
        const auto gates = torch::addmm(perStep[size_t(t)], m, whhT).chunk(4, 1);
        const auto i = torch::sigmoid(torch::addcmul(gates[0], c, peephole_i));
        const auto f = torch::sigmoid(torch::addcmul(gates[1], c, peephole_f));
        c = torch::addcmul(f * c, i, torch::tanh(gates[2]));
        const auto o = torch::sigmoid(torch::addcmul(gates[3], c, peephole_o));
        m = torch::mm(o * torch::tanh(c), wprojT);
        outputs.push_back(m);
    }
    if (outputs.empty())
        return { torch::empty({ batch, 0, options.proj_size() }, x.options()), m, c };
    return { torch::stack(outputs, 1), m, c };
}

} // namespace tkd
