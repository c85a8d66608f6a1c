#pragma once

#include <torch/torch.h>

namespace tkd {

// The output sequence of LibTorch's nn::LSTM / nn::GRU (batch-first, zero initial state, stacked,
// optionally bidirectional): x [B, T, F] -> [B, T, directions * H], the module's first result.
//
// When a gradient is wanted, each layer and direction runs as one autograd node with a
// hand-written backward through time: per step one recurrent matmul and the gate arithmetic in
// a single pass, and the weight and input gradients as single matmuls over all steps. The
// module's own loop records about ten autograd nodes per step and direction (40 per frame for a
// two-layer BiLSTM), and their bookkeeping, not arithmetic, was most of a recurrent student's
// training step (bench/run_students.sh). Same parameters, same results (tests compare both in
// double). Without autograd, and for options the fused path does not cover (dropout between
// layers, LSTM projections, time-major input, no biases), the module runs as before.
torch::Tensor rnnOutputs(torch::nn::LSTMImpl &rnn, const torch::Tensor &x);
torch::Tensor rnnOutputs(torch::nn::GRUImpl &rnn, const torch::Tensor &x);

// Whether autograd will record a pass of `module` over `inputs`: grad mode is on and an input or a
// parameter requires a gradient. The fused sequence nodes (here and LstmPCell) run only then;
// without it the step loop is cheaper, as it keeps no per-step activations.
bool recordsGradient(const torch::nn::Module &module, std::initializer_list<torch::Tensor> inputs);

// Benchmarks and tests only: make rnnOutputs run the module's own loop even in training, so both
// can be timed in one process. Process-wide.
void useModuleRnn(bool on);

} // namespace tkd
