#pragma once

#include <functional>
#include <string>

namespace tkd {

// Where this process stands in a data-parallel job, read from the environment the way torchrun
// and Slurm set it (no torch here: the CLI and the tests parse it without joining anything).
// - torchrun / `tkd train --nproc N`: RANK, WORLD_SIZE, LOCAL_RANK, MASTER_ADDR, MASTER_PORT.
// - srun: SLURM_PROCID, SLURM_NTASKS, SLURM_LOCALID, the first host of SLURM_STEP_NODELIST /
//   SLURM_JOB_NODELIST / SLURM_NODELIST as the master; the port is MASTER_PORT, else
//   20000 + SLURM_JOB_ID % 10000 (so two jobs sharing a node do not collide). Only inside a job
//   step (SLURM_STEP_ID set): an sbatch script's own shell is one process, not a job.
// WORLD_SIZE wins over Slurm's variables when both are set.
struct Rendezvous
{
    int rank = 0;
    int worldSize = 1;
    int localRank = 0;
    std::string masterAddr = "127.0.0.1";
    int masterPort = 29500;
    std::string source = "single"; // "single", "env" (torchrun-style), "slurm"

    bool distributed() const { return worldSize > 1; }

    using Lookup = std::function<const char *(const char *)>;
    // Throws tkd::Error naming the variable for a bad value (not a number, rank outside the
    // world, a port outside 1..65535, an unreadable node list).
    static Rendezvous fromEnvironment(const Lookup &lookup = {});

    // The first host of a Slurm node list: "node[01-04,07]" -> "node01", "a,b" -> "a",
    // "gpu[3-4]-ib,cpu1" -> "gpu3-ib". Throws tkd::Error(variable, ...) when it cannot be read.
    static std::string firstSlurmHost(const std::string &nodeList, const std::string &variable);
};

} // namespace tkd
