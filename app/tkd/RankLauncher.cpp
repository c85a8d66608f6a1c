#include "RankLauncher.h"

#include "ChildProcess.h"
#include "Cli.h"

#include "core/dist/Distributed.h"
#include "core/util/Error.h"
#include "core/util/FreePort.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <iostream>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace tkd::cli {

namespace {

struct Rank
{
    pid_t pid = -1;
    int fd = -1; // the read end of its output pipe (ranks > 0)
    std::string pending; // a partial line
    int status = -1; // wait status once ended
    bool ended = false;
};

// Prefixes every complete line of rank k's output; at the end, the rest too.
void relay(Rank &r, int k, bool flush)
{
    char buf[4096];
    for (;;) {
        const ssize_t n = r.fd >= 0 ? ::read(r.fd, buf, sizeof buf) : 0;
        if (n > 0)
            r.pending.append(buf, size_t(n));
        if (n <= 0 && (n == 0 || errno != EINTR)) {
            if (n == 0 && r.fd >= 0) {
                ::close(r.fd);
                r.fd = -1;
            }
            break;
        }
    }
    size_t at;
    while ((at = r.pending.find_first_of("\n\r")) != std::string::npos) {
        const std::string line = r.pending.substr(0, at);
        r.pending.erase(0, at + 1);
        if (!line.empty())
            std::cerr << "[rank " << k << "] " << line << "\n";
    }
    if (flush && !r.pending.empty()) {
        std::cerr << "[rank " << k << "] " << r.pending << "\n";
        r.pending.clear();
    }
}

// 3 is `tkd train`'s "finished, some cells failed": a normal end of the job, passed on.
bool failed(int waitStatus)
{
    const int code = exitCodeOf(waitStatus);
    return code != 0 && code != 3;
}

} // namespace

int launchLocalRanks(int nproc, int threadsPerRank, const std::vector<std::string> &args)
{
    const std::string port = std::to_string(freeLoopbackPort());
    std::vector<std::string> argv = args;
    argv[0] = selfExe();
    std::vector<Rank> ranks(static_cast<size_t>(nproc));
    for (int k = 0; k < nproc; ++k) {
        SpawnOptions so;
        so.env = { "MASTER_ADDR=127.0.0.1", "MASTER_PORT=" + port,
            "WORLD_SIZE=" + std::to_string(nproc), "RANK=" + std::to_string(k),
            "LOCAL_RANK=" + std::to_string(k), "LOCAL_WORLD_SIZE=" + std::to_string(nproc),
            "TKD_THREADS=" + std::to_string(threadsPerRank) };
        so.ownProcessGroup = true; // Ctrl-C reaches the launcher, which forwards it once
        int pipeFds[2] = { -1, -1 };
        if (k > 0) {
            if (::pipe2(pipeFds, O_CLOEXEC) != 0)
                throw Error("--nproc", std::string("cannot make a pipe: ") + std::strerror(errno));
            so.outputFd = pipeFds[1];
        }
        ranks[size_t(k)].pid = spawnProcess(argv, so);
        if (k > 0) {
            ::close(pipeFds[1]);
            ::fcntl(pipeFds[0], F_SETFL, ::fcntl(pipeFds[0], F_GETFL) | O_NONBLOCK);
            ranks[size_t(k)].fd = pipeFds[0];
        }
    }
    std::cerr << "tkd: " << nproc << " ranks on 127.0.0.1:" << port << ", " << threadsPerRank
              << " thread" << (threadsPerRank == 1 ? "" : "s") << " each\n";

    InterruptGuard interrupt;
    bool forwarded = false;
    int firstFailed = -1;
    std::chrono::steady_clock::time_point failedAt;
    const auto grace = Distributed::defaultTimeout() + std::chrono::seconds(5);
    bool terminated = false, killed = false;
    for (int running = nproc; running > 0;) {
        std::vector<pollfd> fds;
        for (const Rank &r : ranks)
            if (r.fd >= 0)
                fds.push_back({ r.fd, POLLIN, 0 });
        ::poll(fds.data(), fds.size(), 200);
        for (int k = 0; k < nproc; ++k) {
            Rank &r = ranks[size_t(k)];
            relay(r, k, false);
            int st = 0;
            if (!r.ended && ::waitpid(r.pid, &st, WNOHANG) == r.pid) {
                r.ended = true;
                r.status = st;
                --running;
                if (failed(st) && !InterruptGuard::interrupted()) {
                    std::cerr << "tkd: rank " << k << " (pid " << r.pid << ") " << describeExit(st)
                              << (firstFailed < 0 ? "; the other ranks stop too\n" : "\n");
                    if (firstFailed < 0) {
                        firstFailed = k;
                        failedAt = std::chrono::steady_clock::now();
                    }
                }
            }
        }
        if (InterruptGuard::interrupted() && !forwarded) {
            for (const Rank &r : ranks)
                if (!r.ended)
                    ::kill(r.pid, SIGINT);
            forwarded = true;
        }
        // A rank failed: the others normally fail at their next collective; past the grace
        // period they are stopped, and killed 10 s later.
        const auto since = std::chrono::steady_clock::now() - failedAt;
        if (firstFailed >= 0 && running > 0 && since > grace && !terminated) {
            for (const Rank &r : ranks)
                if (!r.ended)
                    ::kill(r.pid, SIGTERM);
            terminated = true;
        }
        if (terminated && !killed && since > grace + std::chrono::seconds(10)) {
            for (const Rank &r : ranks)
                if (!r.ended)
                    ::kill(r.pid, SIGKILL);
            killed = true;
        }
    }
    for (int k = 0; k < nproc; ++k) {
        while (ranks[size_t(k)].fd >= 0)
            relay(ranks[size_t(k)], k, false);
        relay(ranks[size_t(k)], k, true);
    }
    if (InterruptGuard::interrupted())
        throw Cancelled();
    if (firstFailed >= 0) {
        // The cause: a rank killed by a signal rather than one that failed because of it (both
        // can be seen in the same sweep).
        for (int k = 0; k < nproc; ++k)
            if (WIFSIGNALED(ranks[size_t(k)].status)
                && !WIFSIGNALED(ranks[size_t(firstFailed)].status))
                firstFailed = k;
        throw Error("--nproc",
            "rank " + std::to_string(firstFailed) + " of " + std::to_string(nproc) + " "
                + describeExit(ranks[size_t(firstFailed)].status));
    }
    return exitCodeOf(ranks[0].status);
}

} // namespace tkd::cli
