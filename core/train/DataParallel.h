#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tkd {

class Distributed;

// Data parallelism for one model over a Distributed world, the way DDP does it without its
// Python: the same weights everywhere (broadcast from rank 0), each rank a contiguous slice of
// every global batch, gradients summed in flat buckets after backward.
// train.batch_size is the global batch: rank r of W takes rows [n r / W, n (r+1) / W) of a batch
// of n, and weights its gradient by its share of the rows, so the summed gradient is the global
// batch's mean gradient whatever W is (exactly for models without dropout / batch norm).
// A world of one (or no Distributed) does nothing at all: today's training, bit for bit.
class DataParallel
{
public:
    // `parameters`: what the optimiser steps, in a fixed order (the same on every rank).
    DataParallel(
        Distributed *dist, std::vector<torch::Tensor> parameters, int64_t bucketBytes = 25 << 20);

    bool active() const;
    int rank() const;
    int worldSize() const;

    // This rank's rows of a global batch's indices (all of them in a world of one).
    torch::Tensor shard(const torch::Tensor &globalIndices) const;
    // This rank's share of a global batch of n rows.
    double share(int64_t localRows, int64_t globalRows) const
    {
        return globalRows > 0 ? double(localRows) / double(globalRows) : 0.0;
    }

    // Rank 0's values into `tensors` on every rank (parameters, buffers), in place.
    void broadcastFromMain(const std::vector<torch::Tensor> &tensors, const char *what);
    // After backward: every parameter's gradient becomes sum over ranks of share_r * grad_r.
    // A parameter without a gradient on this rank (no rows, unused) counts as zeros.
    void reduceGradients(double share);

    // Fault injection for the tests: TKD_CRASH_RANK_STEP=R:S makes rank R raise SIGKILL right
    // after optimiser step S (as TKD_CRASH_AT does on rank 0's event lines).
    void afterStep(int64_t step) const;

    int64_t bucketCount() const { return int64_t(m_buckets.size()); }
    int64_t bytesPerStep() const; // gradient bytes each rank all-reduces per step

private:
    Distributed *m_dist;
    std::vector<torch::Tensor> m_params;
    std::vector<std::vector<size_t>> m_buckets; // parameter indices, each bucket one dtype
    int64_t m_crashStep = -1; // TKD_CRASH_RANK_STEP for this rank
};

} // namespace tkd
