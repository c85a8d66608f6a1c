#include "core/train/Batcher.h"

#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <numeric>

namespace tkd {

Batcher::Batcher(int64_t count, int64_t batchSize, uint64_t seed, bool shuffle)
    : m_count(count)
    , m_batchSize(batchSize)
    , m_seed(seed)
    , m_shuffle(shuffle)
{
    if (batchSize < 1)
        throw Error("train.batch_size", "must be at least 1, got " + std::to_string(batchSize));
    if (count < 1)
        throw Error("dataset", "the training split is empty");
}

std::vector<int64_t> Batcher::order(int64_t epoch) const
{
    std::vector<int64_t> idx(static_cast<size_t>(m_count));
    std::iota(idx.begin(), idx.end(), int64_t(0));
    if (!m_shuffle)
        return idx;
    // A fixed tag keeps this stream apart from other users of the same seed.
    Rng rng({ 0x62617463686572ull /* "batcher" */, m_seed, uint64_t(epoch) });
    for (int64_t i = m_count - 1; i > 0; --i) {
        const int64_t j = int64_t(rng.below(uint64_t(i + 1)));
        std::swap(idx[size_t(i)], idx[size_t(j)]);
    }
    return idx;
}

std::vector<torch::Tensor> Batcher::batches(int64_t epoch) const
{
    const std::vector<int64_t> idx = order(epoch);
    std::vector<torch::Tensor> out;
    out.reserve(size_t(batchesPerEpoch()));
    for (int64_t start = 0; start < m_count; start += m_batchSize) {
        const int64_t n = std::min(m_batchSize, m_count - start);
        out.push_back(
            torch::from_blob(const_cast<int64_t *>(idx.data()) + start, { n }, torch::kInt64)
                .clone());
    }
    return out;
}

torch::Tensor Batcher::gather(const torch::Tensor &data, const torch::Tensor &indices)
{
    if (!data.defined())
        return {};
    return data.index_select(0, indices.to(data.device()));
}

} // namespace tkd
