#include "core/dist/Distributed.h"

#include "core/util/Error.h"

#ifdef USE_C10D_GLOO
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#endif
#ifdef USE_C10D_NCCL
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#endif

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <signal.h>
#include <thread>
#include <unistd.h>

namespace tkd {

namespace {
const std::string kFailedKey = "tkd/failed/";
const std::string kWhoKey = "tkd/who/";

std::string hostName()
{
    char buf[256] = {};
    return gethostname(buf, sizeof buf - 1) == 0 ? buf : "?";
}

// A process on this host that is gone or a zombie (killed, waiting for its parent to reap it).
bool processGone(pid_t pid)
{
    if (kill(pid, 0) != 0)
        return true;
    std::ifstream stat("/proc/" + std::to_string(pid) + "/stat");
    std::string field;
    for (int i = 0; i < 3 && stat >> field; ++i) { }
    return field == "Z" || field == "X";
}
} // namespace

struct Distributed::Impl
{
#ifdef USE_C10D_GLOO
    c10::intrusive_ptr<c10d::Store> store;
    c10::intrusive_ptr<c10d::ProcessGroup> group; // Gloo: CPU tensors, control traffic
    c10::intrusive_ptr<c10d::ProcessGroup> cudaGroup; // NCCL, when built and chosen

    c10d::ProcessGroup &groupFor(const torch::Tensor &t) const
    {
        return t.is_cuda() && cudaGroup ? *cudaGroup : *group;
    }
#endif
    std::chrono::milliseconds timeout { 0 };

    std::vector<uint8_t> bytes(const std::string &s) const
    {
        return { s.begin(), s.end() };
    }
};

Distributed::Distributed()
    : m_impl(std::make_unique<Impl>())
{ }

Distributed::~Distributed() = default;

std::chrono::milliseconds Distributed::defaultTimeout()
{
    const char *t = std::getenv("TKD_DIST_TIMEOUT");
    if (!t || !*t)
        return std::chrono::seconds(300);
    char *end = nullptr;
    const double s = std::strtod(t, &end);
    if (end == t || *end || !(s > 0.0))
        throw Error(
            "TKD_DIST_TIMEOUT", std::string("'") + t + "' is not a positive number of seconds");
    return std::chrono::milliseconds(int64_t(s * 1000.0));
}

std::shared_ptr<Distributed> Distributed::join(const Rendezvous &r)
{
    auto d = std::make_shared<Distributed>();
    if (!r.distributed())
        return d;
#ifdef USE_C10D_GLOO
    d->m_rank = r.rank;
    d->m_worldSize = r.worldSize;
    Impl &m = *d->m_impl;
    m.timeout = defaultTimeout();
    try {
        c10d::TCPStoreOptions so;
        so.port = uint16_t(r.masterPort);
        so.isServer = r.rank == 0;
        so.numWorkers = r.worldSize;
        so.waitWorkers = false;
        so.timeout = m.timeout;
        m.store = c10::make_intrusive<c10d::TCPStore>(r.masterAddr, so);
    } catch (const std::exception &e) {
        throw Error(r.rank == 0 ? "MASTER_PORT" : "MASTER_ADDR",
            "rank " + std::to_string(r.rank) + " could not " + (r.rank == 0 ? "host" : "reach")
                + " the rendezvous store at " + r.masterAddr + ":" + std::to_string(r.masterPort)
                + ": " + e.what());
    }
    try {
        auto opts = c10d::ProcessGroupGloo::Options::create(m.timeout);
        const bool loopback = r.masterAddr.rfind("127.", 0) == 0 || r.masterAddr == "localhost";
        const char *ifname = std::getenv("GLOO_SOCKET_IFNAME");
        opts->devices.push_back(loopback
                ? c10d::ProcessGroupGloo::createDeviceForHostname("127.0.0.1")
                : ifname && *ifname ? c10d::ProcessGroupGloo::createDeviceForInterface(ifname)
                                    : c10d::ProcessGroupGloo::createDefaultDevice());
        opts->threads = 1; // one collective at a time; the cores belong to the model
        m.group = c10::make_intrusive<c10d::ProcessGroupGloo>(
            c10::make_intrusive<c10d::PrefixStore>("gloo", m.store), r.rank, r.worldSize, opts);
#ifdef USE_C10D_NCCL
        // Compiled in only with -DTKD_WITH_NCCL=ON against a CUDA LibTorch; not tested here.
        // CUDA tensors (the gradients of a model on the GPU) then go through NCCL; CPU ones
        // (control flags, losses, a_T) stay on Gloo. One GPU visible per rank is assumed
        // (srun --gpus-per-task=1, or CUDA_VISIBLE_DEVICES), the model on cuda:0.
        if (const char *b = std::getenv("TKD_DIST_BACKEND"); b && std::string(b) == "nccl") {
            auto nopts = c10d::ProcessGroupNCCL::Options::create();
            nopts->timeout = m.timeout;
            m.cudaGroup = c10::make_intrusive<c10d::ProcessGroupNCCL>(
                c10::make_intrusive<c10d::PrefixStore>("nccl", m.store), r.rank, r.worldSize,
                nopts);
        }
#endif
        m.store->set(
            kWhoKey + std::to_string(r.rank), m.bytes(hostName() + " " + std::to_string(getpid())));
    } catch (const std::exception &e) {
        throw Error("rank " + std::to_string(r.rank),
            "could not join the Gloo process group of " + std::to_string(r.worldSize)
                + " ranks: " + e.what());
    }
    return d;
#else
    throw Error("WORLD_SIZE",
        std::to_string(r.worldSize)
            + " ranks asked for, but this build has no Gloo (install libgloo-dev and rebuild)");
#endif
}

void Distributed::fail(const char *what, const std::exception &e)
{
    std::string why;
#ifdef USE_C10D_GLOO
    // Who stopped: a rank that said why, else a rank whose process is gone (on this host).
    try {
        for (int r = 0; r < m_worldSize && why.empty(); ++r) {
            if (r == m_rank)
                continue;
            const std::string key = kFailedKey + std::to_string(r);
            if (m_impl->store->check({ key })) {
                const auto v = m_impl->store->get(key);
                why = "rank " + std::to_string(r) + " failed: " + std::string(v.begin(), v.end());
            }
        }
        // A killed process closes its sockets before it becomes a zombie: the peer may see the
        // connection drop while the process is still exiting, so look again for up to a second.
        for (int attempt = 0; attempt < 20 && why.empty(); ++attempt) {
            if (attempt > 0)
                std::this_thread::sleep_for(std::chrono::milliseconds(50));
            for (int r = 0; r < m_worldSize && why.empty(); ++r) {
                if (r == m_rank || !m_impl->store->check({ kWhoKey + std::to_string(r) }))
                    continue;
                const auto v = m_impl->store->get(kWhoKey + std::to_string(r));
                const std::string who(v.begin(), v.end());
                const auto sp = who.find(' ');
                if (who.substr(0, sp) == hostName()
                    && processGone(pid_t(std::stol(who.substr(sp + 1)))))
                    why = "rank " + std::to_string(r) + " (pid " + who.substr(sp + 1) + ") died";
            }
        }
    } catch (const std::exception &) {
        why = "rank 0 (the rendezvous store's host) is gone";
    }
#endif
    if (why.empty())
        why = "a peer rank stopped or timed out";
    throw DistributedError(
        "rank " + std::to_string(m_rank), std::string(what) + ": " + why + " (" + e.what() + ")");
}

void Distributed::allReduceSum(std::vector<torch::Tensor> &tensors, const char *what)
{
    if (!active() || tensors.empty())
        return;
    for (const auto &t : tensors)
        m_bytesAllReduced += t.numel() * int64_t(t.element_size());
#ifdef USE_C10D_GLOO
    try {
        // One collective per tensor: a list in one call means one tensor per device to c10d.
        for (auto &t : tensors) {
            std::vector<torch::Tensor> one { t };
            m_impl->groupFor(t).allreduce(one)->wait(m_impl->timeout);
        }
    } catch (const std::exception &e) {
        fail(what, e);
    }
#endif
}

void Distributed::broadcast(std::vector<torch::Tensor> &tensors, int root, const char *what)
{
    if (!active() || tensors.empty())
        return;
#ifdef USE_C10D_GLOO
    try {
        c10d::BroadcastOptions o;
        o.rootRank = root;
        // Gloo broadcasts one tensor list per call, each tensor on its own.
        for (auto &t : tensors) {
            std::vector<torch::Tensor> one { t };
            m_impl->groupFor(t).broadcast(one, o)->wait(m_impl->timeout);
        }
    } catch (const std::exception &e) {
        fail(what, e);
    }
#else
    (void)root;
#endif
}

bool Distributed::any(bool flag, const char *what)
{
    if (!active())
        return flag;
    std::vector<torch::Tensor> t { torch::full({ 1 }, flag ? 1.0f : 0.0f) };
    allReduceSum(t, what);
    m_bytesAllReduced -= 4; // control traffic, not gradients
    return t[0].item<float>() > 0.0f;
}

void Distributed::publish(const std::string &key, const std::string &value)
{
#ifdef USE_C10D_GLOO
    if (active())
        m_impl->store->set("tkd/" + key, m_impl->bytes(value));
#else
    (void)key;
    (void)value;
#endif
}

std::string Distributed::fetch(const std::string &key, std::chrono::milliseconds timeout)
{
#ifdef USE_C10D_GLOO
    if (!active())
        return {};
    try {
        m_impl->store->wait({ "tkd/" + key }, timeout);
        const auto v = m_impl->store->get("tkd/" + key);
        return std::string(v.begin(), v.end());
    } catch (const std::exception &e) {
        fail(("waiting for rank 0's '" + key + "'").c_str(), e);
    }
#else
    (void)key;
    (void)timeout;
    return {};
#endif
}

void Distributed::announceFailure(const std::string &message) noexcept
{
#ifdef USE_C10D_GLOO
    if (!active())
        return;
    try {
        m_impl->store->set(kFailedKey + std::to_string(m_rank), m_impl->bytes(message));
    } catch (...) {
        // The store's host is gone too: nothing to tell.
    }
#else
    (void)message;
#endif
}

} // namespace tkd
