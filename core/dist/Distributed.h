#pragma once

#include "core/dist/Rendezvous.h"
#include "core/util/Error.h"

#include <torch/torch.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

namespace tkd {

// A collective or rendezvous that failed: the job cannot go on (a peer died or timed out), so
// unlike a diverged cell it must stop the whole run on every rank.
class DistributedError : public Error
{
public:
    using Error::Error;
};

// This process's place in a data-parallel job over torch.distributed (c10d): a TCPStore hosted
// by rank 0 and a ProcessGroupGloo over it (the CPU backend; see docs/distributed.md for NCCL).
// A world of one joins nothing and costs nothing: every collective returns at once.
// Every wait has a timeout (TKD_DIST_TIMEOUT seconds, default 300), and a collective that fails
// (a peer died, timed out or failed) throws tkd::Error naming this rank and, when a peer said
// why it stopped, that rank and its message.
class Distributed
{
public:
    // World of one: no process group.
    Distributed();
    ~Distributed();
    Distributed(const Distributed &) = delete;
    Distributed &operator=(const Distributed &) = delete;

    // Joins the job `r` describes (a world of one joins nothing). Throws tkd::Error when the
    // store or the group cannot be reached in time, or when this build has no Gloo.
    static std::shared_ptr<Distributed> join(const Rendezvous &r);
    static std::chrono::milliseconds defaultTimeout(); // TKD_DIST_TIMEOUT or 300 s

    int rank() const { return m_rank; }
    int worldSize() const { return m_worldSize; }
    bool active() const { return m_worldSize > 1; }
    bool isMain() const { return m_rank == 0; }

    // In place over every rank: sum, tensor by tensor (contiguous; CPU through Gloo). `what`
    // names the step for messages.
    void allReduceSum(std::vector<torch::Tensor> &tensors, const char *what);
    // In place: every rank gets root's values (tensors of equal shapes on all ranks).
    void broadcast(std::vector<torch::Tensor> &tensors, int root, const char *what);
    // True on every rank when `flag` is true on any (one tiny all-reduce).
    bool any(bool flag, const char *what);

    // Small values through the store (run folder, stage results). fetch waits up to `timeout`
    // for another rank to publish `key`; it fails at once when rank 0 (the store's host) died.
    void publish(const std::string &key, const std::string &value);
    std::string fetch(const std::string &key, std::chrono::milliseconds timeout);

    // Tells the others why this rank stops (read by their failing collectives' messages).
    void announceFailure(const std::string &message) noexcept;

    // Bytes that went through allReduceSum since the start (per rank): for the benchmark.
    int64_t bytesAllReduced() const { return m_bytesAllReduced; }

private:
    struct Impl;
    [[noreturn]] void fail(const char *what, const std::exception &e);

    int m_rank = 0;
    int m_worldSize = 1;
    int64_t m_bytesAllReduced = 0;
    std::unique_ptr<Impl> m_impl;
};

} // namespace tkd
