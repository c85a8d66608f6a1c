#include "ChildProcess.h"

#include "core/util/Error.h"

#include <cstring>
#include <filesystem>
#include <map>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

namespace tkd::cli {

std::string selfExe()
{
    std::error_code ec;
    const auto p = std::filesystem::read_symlink("/proc/self/exe", ec);
    if (ec)
        throw tkd::Error("/proc/self/exe", "cannot find the tkd executable: " + ec.message());
    return p.string();
}

pid_t spawnProcess(const std::vector<std::string> &argv, const SpawnOptions &options)
{
    // The environment: ours, with the given variables replaced or added.
    std::map<std::string, std::string> vars;
    for (char **e = environ; *e; ++e) {
        const std::string kv(*e);
        vars[kv.substr(0, kv.find('='))] = kv;
    }
    for (const std::string &kv : options.env)
        vars[kv.substr(0, kv.find('='))] = kv;
    std::vector<char *> envp;
    for (auto &[name, kv] : vars)
        envp.push_back(kv.data());
    envp.push_back(nullptr);
    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);

    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    if (options.outputFd >= 0) {
        posix_spawn_file_actions_adddup2(&fa, options.outputFd, STDOUT_FILENO);
        posix_spawn_file_actions_adddup2(&fa, options.outputFd, STDERR_FILENO);
    }
    posix_spawnattr_t attr;
    posix_spawnattr_init(&attr);
    if (options.ownProcessGroup) {
        posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP);
        posix_spawnattr_setpgroup(&attr, 0);
    }
    pid_t pid = -1;
    const int rc = posix_spawn(&pid, argv[0].c_str(), &fa, &attr, args.data(), envp.data());
    posix_spawn_file_actions_destroy(&fa);
    posix_spawnattr_destroy(&attr);
    if (rc != 0)
        throw tkd::Error(argv[0], std::string("could not start a worker: ") + std::strerror(rc));
    return pid;
}

std::string describeExit(int st)
{
    if (WIFSIGNALED(st))
        return "was killed by signal " + std::to_string(WTERMSIG(st)) + " ("
            + strsignal(WTERMSIG(st)) + ")";
    return "exited with status " + std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : -1);
}

int exitCodeOf(int st)
{
    return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
}

} // namespace tkd::cli
