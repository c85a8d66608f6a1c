#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace tkd {

// Mini-batches over cached tensors: a seeded shuffle per epoch (tkd::Rng, so the order is the
// same on every platform and for a resumed run), and gathering rows of the cached tensors by
// index. Nothing is recomputed: features and teacher attention are sliced, never rebuilt.
class Batcher
{
public:
    // Throws tkd::Error("train.batch_size", ...) when batchSize < 1, ("dataset", ...) when count
    // < 1.
    Batcher(int64_t count, int64_t batchSize, uint64_t seed, bool shuffle = true);

    int64_t count() const { return m_count; }
    int64_t batchSize() const { return m_batchSize; }
    int64_t batchesPerEpoch() const { return (m_count + m_batchSize - 1) / m_batchSize; }

    // The item order of epoch `epoch` (0-based): a Fisher-Yates permutation drawn from
    // Rng({seed, epoch}), or 0..count-1 without shuffling.
    std::vector<int64_t> order(int64_t epoch) const;
    // Batch b of that order as an int64 index tensor (the last batch may be smaller).
    std::vector<torch::Tensor> batches(int64_t epoch) const;

    // rows of `data` (any shape [N, ...]) picked by `indices`, on the data's device.
    static torch::Tensor gather(const torch::Tensor &data, const torch::Tensor &indices);

private:
    int64_t m_count;
    int64_t m_batchSize;
    uint64_t m_seed;
    bool m_shuffle;
};

} // namespace tkd
