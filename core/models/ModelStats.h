#pragma once

#include <cstdint>
#include <memory>

namespace torch::nn {
class Module;
}

namespace tkd {

// Analytic cost model for the students: multiply-accumulates of the weight layers (convolutions,
// linears, recurrent steps x T, attention dot products). Element-wise work (activations, BN,
// gate non-linearities) is left out, as is usual for keyword-spotting MAC tables: BN folds into
// the preceding conv at deployment and the rest is negligible next to the matrix products.
class ModelStats
{
public:
    // Output length of a 1-D convolution/pooling along one axis (PyTorch's formula).
    static int64_t convOutLength(
        int64_t in, int64_t kernel, int64_t stride = 1, int64_t padding = 0, int64_t dilation = 1);
    // One conv layer producing `outPositions` output positions (product of all output axes).
    static int64_t convMacs(
        int64_t outPositions, int64_t inChannels, int64_t outChannels, int64_t kernelElements);
    static int64_t linearMacs(int64_t rows, int64_t in, int64_t out);
    // One direction of an LSTM over `steps` frames (4 gates over input and recurrent state).
    // projection > 0: the recurrent state is the projected output (LSTM-P) and the projection
    // itself is counted; peepholes add three diagonal multiplies per unit.
    static int64_t lstmMacs(
        int64_t steps, int64_t in, int64_t hidden, int64_t projection = 0, bool peepholes = false);
    // One direction of a GRU over `steps` frames (3 gates over input and recurrent state).
    static int64_t gruMacs(int64_t steps, int64_t in, int64_t hidden);
    // Dot-product attention with `heads` queries over `steps` frames of width `dim`:
    // scores plus the weighted sum.
    static int64_t attentionMacs(int64_t steps, int64_t dim, int64_t heads);

    // Trainable parameters (what the papers count); buffers such as BN running stats excluded.
    static int64_t parameterCount(const torch::nn::Module &module);
};

} // namespace tkd
