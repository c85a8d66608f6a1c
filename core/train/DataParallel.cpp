#include "core/train/DataParallel.h"

#include "core/dist/Distributed.h"
#include "core/util/Error.h"

#include <csignal>
#include <cstdlib>
#include <string>

namespace tkd {

DataParallel::DataParallel(
    Distributed *dist, std::vector<torch::Tensor> parameters, int64_t bucketBytes)
    : m_dist(dist)
    , m_params(std::move(parameters))
{
    if (!active())
        return;
    if (const char *c = std::getenv("TKD_CRASH_RANK_STEP"); c && *c) {
        const std::string spec(c);
        const auto colon = spec.find(':');
        if (colon == std::string::npos)
            throw Error("TKD_CRASH_RANK_STEP", "'" + spec + "' is not RANK:STEP");
        if (std::stoi(spec.substr(0, colon)) == rank())
            m_crashStep = std::stoll(spec.substr(colon + 1));
    }
    // Buckets in reverse registration order (roughly the order backward finishes them), cut at
    // bucketBytes or where the dtype changes: each one is one flat all-reduce.
    int64_t bytes = 0;
    for (size_t k = m_params.size(); k-- > 0;) {
        const torch::Tensor &p = m_params[k];
        const int64_t b = p.numel() * int64_t(p.element_size());
        if (m_buckets.empty() || bytes + b > bucketBytes
            || m_params[m_buckets.back().front()].scalar_type() != p.scalar_type()) {
            m_buckets.emplace_back();
            bytes = 0;
        }
        m_buckets.back().push_back(k);
        bytes += b;
    }
}

bool DataParallel::active() const
{
    return m_dist && m_dist->active();
}
int DataParallel::rank() const
{
    return active() ? m_dist->rank() : 0;
}
int DataParallel::worldSize() const
{
    return active() ? m_dist->worldSize() : 1;
}

torch::Tensor DataParallel::shard(const torch::Tensor &globalIndices) const
{
    if (!active())
        return globalIndices;
    const int64_t n = globalIndices.size(0), w = worldSize(), r = rank();
    const int64_t begin = n * r / w, end = n * (r + 1) / w;
    return globalIndices.narrow(0, begin, end - begin);
}

void DataParallel::broadcastFromMain(const std::vector<torch::Tensor> &tensors, const char *what)
{
    if (!active())
        return;
    torch::NoGradGuard noGrad;
    // Through contiguous copies: a parameter may be a strided view.
    std::vector<torch::Tensor> flat;
    for (const auto &t : tensors)
        if (t.defined())
            flat.push_back(t.detach().contiguous().clone());
    m_dist->broadcast(flat, 0, what);
    size_t k = 0;
    for (const auto &t : tensors)
        if (t.defined())
            t.detach().copy_(flat[k++]);
}

void DataParallel::reduceGradients(double share)
{
    if (!active())
        return;
    torch::NoGradGuard noGrad;
    for (const auto &bucket : m_buckets) {
        std::vector<torch::Tensor> parts;
        parts.reserve(bucket.size());
        for (size_t k : bucket) {
            const torch::Tensor &p = m_params[k];
            parts.push_back(p.grad().defined() ? p.grad().reshape({ -1 }) * share
                                               : torch::zeros({ p.numel() }, p.options()));
        }
        std::vector<torch::Tensor> flat { torch::cat(parts) };
        m_dist->allReduceSum(flat, "all-reduce of the gradients");
        int64_t at = 0;
        for (size_t k : bucket) {
            torch::Tensor p = m_params[k];
            const torch::Tensor g = flat[0].narrow(0, at, p.numel()).view(p.sizes());
            at += p.numel();
            if (p.grad().defined())
                p.mutable_grad().copy_(g);
            else
                p.mutable_grad() = g.clone();
        }
    }
}

void DataParallel::afterStep(int64_t step) const
{
    if (step == m_crashStep)
        std::raise(SIGKILL);
}

int64_t DataParallel::bytesPerStep() const
{
    int64_t b = 0;
    for (const auto &bucket : m_buckets)
        for (size_t k : bucket)
            b += m_params[k].numel() * int64_t(m_params[k].element_size());
    return b;
}

} // namespace tkd
