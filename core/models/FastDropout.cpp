#include "core/models/FastDropout.h"

#include <ATen/Parallel.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdint>
#include <limits>

namespace tkd {

namespace {

uint64_t splitmix64(uint64_t z)
{
    z += 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

std::atomic<bool> g_torchDropout { false };

} // namespace

void useTorchDropout(bool on)
{
    g_torchDropout = on;
}

torch::Tensor fastDropout(const torch::Tensor &x, double p, bool training)
{
    if (!training || p <= 0.0)
        return x;
    if (p >= 1.0)
        return x * 0.0;
    if (!x.device().is_cpu() || g_torchDropout)
        return torch::dropout(x, p, training); // the mask is written on the host

    const auto keepBelow = uint32_t(std::lround((1.0 - p) * 65536.0)); // of 16 random bits
    const float scale = float(65536.0 / double(keepBelow));
    const auto seed = uint64_t(torch::randint(
        std::numeric_limits<int64_t>::max(), { 1 }, torch::TensorOptions().dtype(torch::kLong))
                                   .item<int64_t>());
    torch::Tensor mask = torch::empty(x.sizes(), x.options().dtype(torch::kFloat));
    float *m = mask.data_ptr<float>();
    const int64_t n = mask.numel(), words = (n + 3) / 4;
    at::parallel_for(0, words, 16384, [&](int64_t begin, int64_t end) {
        for (int64_t w = begin; w < end; ++w) {
            uint64_t bits = splitmix64(seed + uint64_t(w));
            const int64_t first = w * 4, last = std::min(first + 4, n);
            for (int64_t i = first; i < last; ++i, bits >>= 16)
                m[i] = (bits & 0xffffu) < keepBelow ? scale : 0.0f;
        }
    });
    return x * mask.to(x.dtype());
}

} // namespace tkd
