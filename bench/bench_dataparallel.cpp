// tkd-bench-links: tkd_models tkd_train tkd_dist
// What data-parallel training all-reduces per optimiser step, and how long that takes between
// two local ranks over Gloo on 127.0.0.1 (forked here, one torch thread each).
//   bench_dataparallel [--repeats 10] [--max-mb 400]
// One JSON line per model: parameters, gradient bytes per step (what each rank all-reduces:
// float32 gradients of every trained parameter; the students' attention branch adds contextDim
// floats), DataParallel's 25 MiB buckets, and the median wall time of the bucketed all-reduce
// (skipped above --max-mb). The bytes feed docs/distributed.md's scaling model; the times are
// this machine's loopback, not a network.
#include "core/dist/Distributed.h"
#include "core/models/StudentRegistry.h"
#include "core/models/Wav2Vec2Config.h"
#include "core/models/Wav2Vec2Model.h"
#include "core/train/DataParallel.h"
#include "core/util/FreePort.h"

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

// Median ms of `repeats` bucketed all-reduces of `params`' gradients between 2 forked ranks.
double allReduceMs(const std::vector<torch::Tensor> &params, int repeats)
{
    int pipeFds[2];
    if (::pipe(pipeFds) != 0)
        return -1;
    const int port = tkd::freeLoopbackPort();
    std::vector<pid_t> pids;
    for (int k = 0; k < 2; ++k) {
        const pid_t pid = ::fork();
        if (pid != 0) {
            pids.push_back(pid);
            continue;
        }
        tkd::Rendezvous r;
        r.rank = k;
        r.worldSize = 2;
        r.masterPort = port;
        const auto dist = tkd::Distributed::join(r);
        for (const auto &p : params)
            p.mutable_grad() = torch::ones_like(p);
        tkd::DataParallel dp(dist.get(), params);
        std::vector<double> ms;
        for (int i = 0; i < repeats + 1; ++i) {
            std::vector<torch::Tensor> sync { torch::zeros({ 1 }) };
            dist->allReduceSum(sync, "sync");
            const auto t0 = std::chrono::steady_clock::now();
            dp.reduceGradients(0.5);
            if (i > 0) // the first one warms the connections up
                ms.push_back(
                    std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                        .count());
        }
        std::sort(ms.begin(), ms.end());
        const double median = ms[ms.size() / 2];
        if (k == 0 && ::write(pipeFds[1], &median, sizeof median) != sizeof median)
            ::_exit(1);
        ::_exit(0);
    }
    double median = -1;
    if (::read(pipeFds[0], &median, sizeof median) != sizeof median)
        median = -1;
    for (pid_t p : pids)
        ::waitpid(p, nullptr, 0);
    ::close(pipeFds[0]);
    ::close(pipeFds[1]);
    return median;
}

void report(
    const std::string &name, const std::vector<torch::Tensor> &params, int repeats, double maxMb)
{
    int64_t n = 0;
    for (const auto &p : params)
        n += p.numel();
    const double mb = double(n) * 4.0 / 1e6;
    const int64_t buckets = int64_t(std::ceil(double(n) * 4.0 / double(25 << 20)));
    const double ms = mb <= maxMb ? allReduceMs(params, repeats) : -1.0;
    std::printf("{\"model\": \"%s\", \"parameters\": %lld, \"bytes_per_step\": %lld, "
                "\"buckets\": %lld, \"allreduce_ms_2ranks_loopback\": %.3f}\n",
        name.c_str(), (long long)n, (long long)(n * 4), (long long)std::max<int64_t>(1, buckets),
        ms);
    std::fflush(stdout);
}

} // namespace

int main(int argc, char **argv)
{
    int repeats = 10;
    double maxMb = 400;
    for (int i = 1; i + 1 < argc; i += 2) {
        if (!std::strcmp(argv[i], "--repeats"))
            repeats = std::max(1, std::atoi(argv[i + 1]));
        else if (!std::strcmp(argv[i], "--max-mb"))
            maxMb = std::atof(argv[i + 1]);
    }
    torch::set_num_threads(1);
    for (const std::string &s : tkd::StudentRegistry::names())
        report(s, tkd::StudentRegistry::create(s, 12).parameters(), repeats, maxMb);
    for (const std::string &t : tkd::Wav2Vec2Config::presetNames()) {
        tkd::Wav2Vec2Model m(tkd::Wav2Vec2Config::preset(t, 12));
        report("teacher " + t, m->parameters(), repeats, maxMb);
    }
    return 0;
}
