#pragma once

#include <torch/torch.h>

namespace tkd {

// Inverted dropout with a counter-based mask: element i is kept when 16 bits of
// splitmix64(seed + i / 4) clear the threshold, so the mask is the same for any thread count and
// is made in parallel. Debian's LibTorch (no MKL) draws torch::dropout's mask one element at a
// time from the locked CPU generator: on the teacher's attention probabilities ([B, H, T, T],
// 5 M elements per layer at 8 s) that was about a tenth of a training step. The seed is one
// draw from LibTorch's default generator, so torch::manual_seed still fixes the run.
// p is resolved to 1/65536: 0.1 keeps 58982/65536 = 0.899994 of the elements.
torch::Tensor fastDropout(const torch::Tensor &x, double p, bool training);

// Benchmarks only: route fastDropout to torch::dropout again (the kernel the teacher trained
// with before), so bench_teacher_train can time that runtime in the same run. Process-wide.
void useTorchDropout(bool on);

} // namespace tkd
