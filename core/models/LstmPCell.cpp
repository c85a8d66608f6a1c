#include "core/models/LstmPCell.h"

namespace tkd {

LstmPCellImpl::LstmPCellImpl(const LstmPCellOptions &options_) : options(options_)
{
    reset();
}

void LstmPCellImpl::reset()
{
    const int64_t h = options.hidden_size();
    const int64_t p = options.proj_size();
    TORCH_CHECK(options.input_size() > 0 && h > 0 && p > 0, "LstmPCell sizes must be positive");
    weight_ih = register_parameter("weight_ih", torch::empty({4 * h, options.input_size()}));
    weight_hh = register_parameter("weight_hh", torch::empty({4 * h, p}));
    bias = register_parameter("bias", torch::empty({4 * h}));
    peephole_i = register_parameter("peephole_i", torch::empty({h}));
    peephole_f = register_parameter("peephole_f", torch::empty({h}));
    peephole_o = register_parameter("peephole_o", torch::empty({h}));
    weight_proj = register_parameter("weight_proj", torch::empty({p, h}));
    // PyTorch's LSTM initialisation: U(-1/sqrt(H), 1/sqrt(H)) for everything.
    const double bound = 1.0 / std::sqrt(double(h));
    torch::NoGradGuard noGrad;
    for (auto &t : parameters())
        t.uniform_(-bound, bound);
}

torch::Tensor LstmPCellImpl::forward(const torch::Tensor &x)
{
    const int64_t batch = x.size(0);
    auto m0 = torch::zeros({batch, options.proj_size()}, x.options());
    auto c0 = torch::zeros({batch, options.hidden_size()}, x.options());
    return std::get<0>(forwardWithState(x, m0, c0));
}

std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>
LstmPCellImpl::forwardWithState(const torch::Tensor &x, const torch::Tensor &m0,
                                const torch::Tensor &c0)
{
    TORCH_CHECK(x.dim() == 3 && x.size(2) == options.input_size(),
                "LstmPCell expects [batch, T, ", options.input_size(), "], got ", x.sizes());
    const int64_t batch = x.size(0);
    const int64_t steps = x.size(1);
    const int64_t h = options.hidden_size();

    // The forget bias folds into the bias once, not once per step.
    auto effectiveBias = bias;
    if (options.forget_bias() != 0.0) {
        auto offset = torch::zeros({4 * h}, bias.options());
        offset.narrow(0, h, h).fill_(options.forget_bias());
        effectiveBias = bias + offset;
    }
    // Input-to-hidden for every step in one matmul, time-major so each step's slice is
    // contiguous; the loop then does only the recurrent product and the gate arithmetic.
    auto xTimeMajor = x.transpose(0, 1).reshape({steps * batch, x.size(2)});
    auto inputGates = torch::addmm(effectiveBias, xTimeMajor, weight_ih.t()).view({steps, batch, 4 * h});
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
        return {torch::empty({batch, 0, options.proj_size()}, x.options()), m, c};
    return {torch::stack(outputs, 1), m, c};
}

} // namespace tkd
