#pragma once

// Starting copies of tkd itself (grid workers, data-parallel ranks): posix_spawn, so nothing of
// this process (threads, torch's pools) is copied into a half-initialised child.

#include <string>
#include <sys/types.h>
#include <vector>

namespace tkd::cli {

// The running tkd executable (/proc/self/exe).
std::string selfExe();

struct SpawnOptions
{
    std::vector<std::string> env; // "NAME=value" set on top of this process's environment
    int outputFd = -1; // stdout and stderr go here (-1: inherited)
    bool ownProcessGroup = false; // keep the terminal's Ctrl-C away: the parent forwards it
};

// Throws tkd::Error naming argv[0] when the process cannot be started.
pid_t spawnProcess(const std::vector<std::string> &argv, const SpawnOptions &options = {});

// "exited with status 3", "was killed by signal 9 (Killed)"; and the exit code it stands for.
std::string describeExit(int waitStatus);
int exitCodeOf(int waitStatus);

} // namespace tkd::cli
