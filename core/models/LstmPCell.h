#pragma once

#include <torch/torch.h>

namespace tkd {

// An LSTM layer with peepholes and an output projection (Sak et al. 2014; TensorFlow's LSTMCell
// with use_peepholes and num_proj), unrolled over a sequence. LibTorch's LSTM has proj_size but
// no peepholes, hence this cell. Gate order in the weights is PyTorch's (i, f, g, o).
struct LstmPCellOptions
{
    LstmPCellOptions(int64_t inputSize, int64_t hiddenSize, int64_t projSize)
        : input_size_(inputSize)
        , hidden_size_(hiddenSize)
        , proj_size_(projSize)
    { }
    TORCH_ARG(int64_t, input_size);
    TORCH_ARG(int64_t, hidden_size);
    TORCH_ARG(int64_t, proj_size);
    // Added to the forget gate's pre-activation (TensorFlow's default 1.0): keeps the cell
    // remembering early in training without touching the learnable bias.
    TORCH_ARG(double, forget_bias) = 1.0;
};

class LstmPCellImpl : public torch::nn::Cloneable<LstmPCellImpl>
{
public:
    explicit LstmPCellImpl(const LstmPCellOptions &options);
    void reset() override;

    // x: [batch, T, input] -> projected outputs m: [batch, T, proj].
    torch::Tensor forward(const torch::Tensor &x);
    // Same, from an explicit state (m0: [batch, proj], c0: [batch, hidden]); returns
    // (outputs, last m, last c) so a stream can carry the state on. Runs the whole sequence as
    // one autograd node with a hand-written backward through time: per step only the two
    // recurrent matmuls and the gate arithmetic, and the weight gradients as single large
    // matmuls over all steps instead of T small ones summed by autograd.
    std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> forwardWithState(
        const torch::Tensor &x, const torch::Tensor &m0, const torch::Tensor &c0);
    // The same computation step by step under plain autograd (T x ~14 nodes): what
    // forwardWithState runs when no gradient is needed, and the reference the fused backward is
    // tested against.
    std::tuple<torch::Tensor, torch::Tensor, torch::Tensor> forwardUnfused(
        const torch::Tensor &x, const torch::Tensor &m0, const torch::Tensor &c0);

    LstmPCellOptions options;
    torch::Tensor weight_ih; // [4H, input]
    torch::Tensor weight_hh; // [4H, proj]: the recurrent input is the projected output
    torch::Tensor bias; // [4H]
    torch::Tensor peephole_i; // [H] diagonal: c_{t-1} -> input gate
    torch::Tensor peephole_f; // [H] diagonal: c_{t-1} -> forget gate
    torch::Tensor peephole_o; // [H] diagonal: c_t -> output gate
    torch::Tensor weight_proj; // [proj, H]
};

TORCH_MODULE(LstmPCell);

} // namespace tkd
