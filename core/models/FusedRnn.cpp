#include "core/models/FusedRnn.h"

#include <ATen/Dispatch.h>

#include <atomic>
#include <string>

namespace tkd {

namespace {

using torch::Tensor;
using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::atomic<bool> g_moduleRnn { false };

enum class Cell { Lstm, Gru };

int64_t gatesOf(Cell cell)
{
    return cell == Cell::Lstm ? 4 : 3;
}

// Time index of processing step s: the reverse direction reads the sequence backwards.
int64_t timeOf(int64_t s, int64_t steps, bool reverse)
{
    return reverse ? steps - 1 - s : s;
}

// State before time t in processing order (hPrev / cPrev of every step, [T, B, H]): the
// neighbour's output, or zeros where the sequence starts.
Tensor previousStates(const Tensor &states, bool reverse)
{
    const int64_t steps = states.size(0);
    auto prev = torch::zeros_like(states);
    if (steps > 1) {
        if (reverse)
            prev.narrow(0, 0, steps - 1).copy_(states.narrow(0, 1, steps - 1));
        else
            prev.narrow(0, 1, steps - 1).copy_(states.narrow(0, 0, steps - 1));
    }
    return prev;
}

// ---- LSTM (PyTorch gate order i, f, g, o; act holds the activated gates) ----------------------

template <typename T>
void lstmStateStep(const T *act, const T *cPrev, T *c, int64_t batch, int64_t h)
{
    for (int64_t b = 0; b < batch; ++b) {
        const T *i = act + b * 4 * h, *f = i + h, *g = i + 2 * h;
        const T *cp = cPrev + b * h;
        T *cb = c + b * h;
        for (int64_t j = 0; j < h; ++j)
            cb[j] = f[j] * cp[j] + i[j] * g[j];
    }
}

template <typename T>
void lstmOutputStep(const T *act, const T *tanhC, T *out, int64_t batch, int64_t h)
{
    for (int64_t b = 0; b < batch; ++b) {
        const T *o = act + b * 4 * h + 3 * h, *tc = tanhC + b * h;
        T *hb = out + b * h;
        for (int64_t j = 0; j < h; ++j)
            hb[j] = o[j] * tc[j];
    }
}

// d(pre-activation gates) of one step from dh (= dOut + the recurrent gradient) and dc (carried
// from the next step in processing order, updated in place to the one for cPrev).
template <typename T>
void lstmBackwardStep(const T *act, const T *tanhC, const T *cPrev, const T *dOut, const T *dhRec,
    T *dc, T *dA, int64_t batch, int64_t h)
{
    for (int64_t b = 0; b < batch; ++b) {
        const T *i = act + b * 4 * h, *f = i + h, *g = i + 2 * h, *o = i + 3 * h;
        const T *tc = tanhC + b * h, *cp = cPrev + b * h, *dO = dOut + b * h, *dR = dhRec + b * h;
        T *dcb = dc + b * h;
        T *dai = dA + b * 4 * h, *daf = dai + h, *dag = dai + 2 * h, *dao = dai + 3 * h;
        for (int64_t j = 0; j < h; ++j) {
            const T dh = dO[j] + dR[j];
            const T dcj = dcb[j] + dh * o[j] * (T(1) - tc[j] * tc[j]);
            dao[j] = dh * tc[j] * o[j] * (T(1) - o[j]);
            dai[j] = dcj * g[j] * i[j] * (T(1) - i[j]);
            dag[j] = dcj * i[j] * (T(1) - g[j] * g[j]);
            daf[j] = dcj * cp[j] * f[j] * (T(1) - f[j]);
            dcb[j] = dcj * f[j];
        }
    }
}

// ---- GRU (PyTorch gate order r, z, n; n = tanh(x W_in + b_in + r * (h W_hn + b_hn))) -----------

template <typename T>
void gruGateInputStep(const T *gi, const T *gh, T *act, T *ghn, int64_t batch, int64_t h)
{
    for (int64_t b = 0; b < batch; ++b) {
        const T *gib = gi + b * 3 * h, *ghb = gh + b * 3 * h;
        T *ab = act + b * 3 * h;
        for (int64_t j = 0; j < 2 * h; ++j)
            ab[j] = gib[j] + ghb[j];
        for (int64_t j = 0; j < h; ++j)
            ghn[b * h + j] = ghb[2 * h + j];
    }
}

template <typename T>
void gruCandidateStep(const T *gi, const T *ghn, T *act, int64_t batch, int64_t h)
{
    for (int64_t b = 0; b < batch; ++b) {
        const T *gin = gi + b * 3 * h + 2 * h, *r = act + b * 3 * h, *gn = ghn + b * h;
        T *n = act + b * 3 * h + 2 * h;
        for (int64_t j = 0; j < h; ++j)
            n[j] = gin[j] + r[j] * gn[j];
    }
}

template <typename T>
void gruOutputStep(const T *act, const T *hPrev, T *out, int64_t batch, int64_t h)
{
    for (int64_t b = 0; b < batch; ++b) {
        const T *z = act + b * 3 * h + h, *n = z + h, *hp = hPrev + b * h;
        T *hb = out + b * h;
        for (int64_t j = 0; j < h; ++j)
            hb[j] = n[j] + z[j] * (hp[j] - n[j]);
    }
}

// dGi / dGh of one step; dhDirect receives the part of dh_prev that skips the matmul (dh * z).
template <typename T>
void gruBackwardStep(const T *act, const T *ghn, const T *hPrev, const T *dOut, const T *dhRec,
    T *dGi, T *dGh, T *dhDirect, int64_t batch, int64_t h)
{
    for (int64_t b = 0; b < batch; ++b) {
        const T *r = act + b * 3 * h, *z = r + h, *n = r + 2 * h;
        const T *gn = ghn + b * h, *hp = hPrev + b * h, *dO = dOut + b * h, *dR = dhRec + b * h;
        T *gi = dGi + b * 3 * h, *gh = dGh + b * 3 * h, *dd = dhDirect + b * h;
        for (int64_t j = 0; j < h; ++j) {
            const T dh = dO[j] + dR[j];
            const T dan = dh * (T(1) - z[j]) * (T(1) - n[j] * n[j]);
            const T dar = dan * gn[j] * r[j] * (T(1) - r[j]);
            const T daz = dh * (hp[j] - n[j]) * z[j] * (T(1) - z[j]);
            gi[j] = gh[j] = dar;
            gi[h + j] = gh[h + j] = daz;
            gi[2 * h + j] = dan;
            gh[2 * h + j] = dan * r[j];
            dd[j] = dh * z[j];
        }
    }
}

template <typename T> T *ptr(const Tensor &t)
{
    return t.data_ptr<T>();
}

// One layer, one direction, as one autograd node. x: [T, B, I] time-major -> [T, B, H].
class RnnDirection : public torch::autograd::Function<RnnDirection>
{
public:
    static variable_list forward(AutogradContext *ctx, Tensor x, Tensor wIh, Tensor wHh, Tensor bIh,
        Tensor bHh, bool reverse, bool lstm)
    {
        const Cell cell = lstm ? Cell::Lstm : Cell::Gru;
        const int64_t steps = x.size(0), batch = x.size(1), h = wHh.size(1);
        const int64_t g = gatesOf(cell) * h;
        const auto opts = x.options();
        const auto xFlat = x.reshape({ steps * batch, x.size(2) });
        // Input projections of every step in one matmul (the LSTM's biases both fold in here; the
        // GRU's recurrent bias stays inside r * (...)).
        const auto inBias = cell == Cell::Lstm ? bIh + bHh : bIh;
        const auto gi = torch::addmm(inBias, xFlat, wIh.t()).view({ steps, batch, g });
        const auto whhT = wHh.t();
        auto act = torch::empty({ steps, batch, g }, opts);
        auto out = torch::empty({ steps, batch, h }, opts);
        auto aux = torch::empty({ steps, batch, h }, opts); // LSTM: tanh(c); GRU: h W_hn + b_hn
        auto cells = cell == Cell::Lstm ? torch::empty({ steps, batch, h }, opts) : Tensor();
        auto gh = torch::empty({ batch, g }, opts);
        const auto zeros = torch::zeros({ batch, h }, opts);

        AT_DISPATCH_FLOATING_TYPES(x.scalar_type(), "RnnDirection.forward", [&] {
            for (int64_t s = 0; s < steps; ++s) {
                const int64_t t = timeOf(s, steps, reverse);
                const Tensor hPrev = s == 0 ? zeros : out[timeOf(s - 1, steps, reverse)];
                auto a = act[t];
                if (cell == Cell::Lstm) {
                    const Tensor cPrev = s == 0 ? zeros : cells[timeOf(s - 1, steps, reverse)];
                    torch::addmm_out(a, gi[t], hPrev, whhT);
                    a.narrow(1, 0, 2 * h).sigmoid_();
                    a.narrow(1, 2 * h, h).tanh_();
                    a.narrow(1, 3 * h, h).sigmoid_();
                    lstmStateStep(
                        ptr<scalar_t>(a), ptr<scalar_t>(cPrev), ptr<scalar_t>(cells[t]), batch, h);
                    auto tanhC = aux[t];
                    torch::tanh_out(tanhC, cells[t]);
                    lstmOutputStep(
                        ptr<scalar_t>(a), ptr<scalar_t>(tanhC), ptr<scalar_t>(out[t]), batch, h);
                } else {
                    torch::addmm_out(gh, bHh, hPrev, whhT);
                    gruGateInputStep(ptr<scalar_t>(gi[t]), ptr<scalar_t>(gh), ptr<scalar_t>(a),
                        ptr<scalar_t>(aux[t]), batch, h);
                    a.narrow(1, 0, 2 * h).sigmoid_();
                    gruCandidateStep(
                        ptr<scalar_t>(gi[t]), ptr<scalar_t>(aux[t]), ptr<scalar_t>(a), batch, h);
                    a.narrow(1, 2 * h, h).tanh_();
                    gruOutputStep(
                        ptr<scalar_t>(a), ptr<scalar_t>(hPrev), ptr<scalar_t>(out[t]), batch, h);
                }
            }
        });
        ctx->save_for_backward({ xFlat, wIh, wHh, act, aux, out, cells });
        ctx->saved_data["reverse"] = reverse;
        ctx->saved_data["lstm"] = lstm;
        return { out };
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto &xFlat = saved[0], &wIh = saved[1], &wHh = saved[2], &act = saved[3],
                   &aux = saved[4], &out = saved[5], &cells = saved[6];
        const bool reverse = ctx->saved_data["reverse"].toBool();
        const Cell cell = ctx->saved_data["lstm"].toBool() ? Cell::Lstm : Cell::Gru;
        const int64_t steps = out.size(0), batch = out.size(1), h = out.size(2);
        const int64_t g = gatesOf(cell) * h;
        const auto opts = out.options();
        const auto dOut = grads[0].defined() ? grads[0].contiguous() : torch::zeros_like(out);

        const auto hPrevAll = previousStates(out, reverse);
        const auto cPrevAll = cell == Cell::Lstm ? previousStates(cells, reverse) : Tensor();
        auto dA = torch::empty({ steps, batch, g }, opts); // d input-side pre-activations
        auto dGh = cell == Cell::Gru ? torch::empty({ steps, batch, g }, opts) : dA;
        auto dhRec = torch::zeros({ batch, h }, opts); // dh arriving through the recurrence
        auto dc = torch::zeros({ batch, h }, opts);
        auto dhDirect = torch::empty({ batch, h }, opts);

        AT_DISPATCH_FLOATING_TYPES(out.scalar_type(), "RnnDirection.backward", [&] {
            for (int64_t s = steps - 1; s >= 0; --s) {
                const int64_t t = timeOf(s, steps, reverse);
                if (cell == Cell::Lstm) {
                    lstmBackwardStep(ptr<scalar_t>(act[t]), ptr<scalar_t>(aux[t]),
                        ptr<scalar_t>(cPrevAll[t]), ptr<scalar_t>(dOut[t]), ptr<scalar_t>(dhRec),
                        ptr<scalar_t>(dc), ptr<scalar_t>(dA[t]), batch, h);
                    torch::mm_out(dhRec, dA[t], wHh);
                } else {
                    gruBackwardStep(ptr<scalar_t>(act[t]), ptr<scalar_t>(aux[t]),
                        ptr<scalar_t>(hPrevAll[t]), ptr<scalar_t>(dOut[t]), ptr<scalar_t>(dhRec),
                        ptr<scalar_t>(dA[t]), ptr<scalar_t>(dGh[t]), ptr<scalar_t>(dhDirect), batch,
                        h);
                    torch::addmm_out(dhRec, dhDirect, dGh[t], wHh);
                }
            }
        });
        // Input and weight gradients over all steps at once.
        const auto dAFlat = dA.view({ steps * batch, g });
        const auto dGhFlat = dGh.view({ steps * batch, g });
        const auto dX = torch::mm(dAFlat, wIh).view({ steps, batch, xFlat.size(1) });
        const auto dWih = torch::mm(dAFlat.t(), xFlat);
        const auto dWhh = torch::mm(dGhFlat.t(), hPrevAll.view({ steps * batch, h }));
        const auto dBih = dAFlat.sum(0);
        // Two parameters must not share one gradient tensor (AccumulateGrad may adopt it as .grad).
        const auto dBhh = cell == Cell::Lstm ? dBih.clone() : dGhFlat.sum(0);
        return { dX, dWih, dWhh, dBih, dBhh, Tensor(), Tensor() };
    }
};

Tensor fusedSequence(
    torch::nn::Module &rnn, const Tensor &x, int64_t layers, bool bidirectional, Cell cell)
{
    const auto params = rnn.named_parameters(false);
    auto layerInput = x.transpose(0, 1).contiguous(); // [T, B, F]
    for (int64_t layer = 0; layer < layers; ++layer) {
        std::vector<Tensor> directions;
        for (int direction = 0; direction < (bidirectional ? 2 : 1); ++direction) {
            const std::string suffix
                = std::to_string(layer) + (direction == 1 ? std::string("_reverse") : "");
            directions.push_back(RnnDirection::apply(layerInput, params["weight_ih_l" + suffix],
                params["weight_hh_l" + suffix], params["bias_ih_l" + suffix],
                params["bias_hh_l" + suffix], direction == 1, cell == Cell::Lstm)[0]);
        }
        layerInput = directions.size() == 1 ? directions[0] : torch::cat(directions, 2);
    }
    return layerInput.transpose(0, 1); // [B, T, D * H]
}

bool fusedCovers(const Tensor &x, bool batchFirst, bool bias, double dropout, int64_t layers)
{
    return !g_moduleRnn && batchFirst && bias && (dropout == 0.0 || layers == 1) && x.dim() == 3
        && x.size(1) > 0 && x.device().is_cpu()
        && (x.scalar_type() == torch::kFloat || x.scalar_type() == torch::kDouble);
}

} // namespace

void useModuleRnn(bool on)
{
    g_moduleRnn = on;
}

bool recordsGradient(const torch::nn::Module &module, std::initializer_list<torch::Tensor> inputs)
{
    if (!torch::GradMode::is_enabled())
        return false;
    for (const auto &t : inputs)
        if (t.requires_grad())
            return true;
    for (const auto &p : module.parameters())
        if (p.requires_grad())
            return true;
    return false;
}

torch::Tensor rnnOutputs(torch::nn::LSTMImpl &rnn, const torch::Tensor &x)
{
    const auto &o = rnn.options;
    if (o.proj_size() == 0 && fusedCovers(x, o.batch_first(), o.bias(), o.dropout(), o.num_layers())
        && x.size(2) == o.input_size() && recordsGradient(rnn, { x }))
        return fusedSequence(rnn, x, o.num_layers(), o.bidirectional(), Cell::Lstm);
    return std::get<0>(rnn.forward(x));
}

torch::Tensor rnnOutputs(torch::nn::GRUImpl &rnn, const torch::Tensor &x)
{
    const auto &o = rnn.options;
    if (fusedCovers(x, o.batch_first(), o.bias(), o.dropout(), o.num_layers())
        && x.size(2) == o.input_size() && recordsGradient(rnn, { x }))
        return fusedSequence(rnn, x, o.num_layers(), o.bidirectional(), Cell::Gru);
    return std::get<0>(rnn.forward(x));
}

} // namespace tkd
