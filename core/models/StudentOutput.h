#pragma once

#include <torch/torch.h>

namespace tkd {

// What every student's forward() returns (paper notes sections 3 and 7).
struct StudentOutput
{
    torch::Tensor logits; // [batch, classes]
    torch::Tensor context; // c': the last time-resolved latent, [batch, T', D]
    torch::Tensor nativeAttention; // [batch, heads, T'] softmax over time (Att-RNN: 1 head,
                                   // MHAtt-RNN: 4); undefined for students without one
};

} // namespace tkd
