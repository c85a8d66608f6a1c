#pragma once

#include <string>
#include <vector>

namespace tkd::cli {

// `tkd train --nproc N`: N copies of this command on this machine as the ranks of one
// data-parallel job (torchrun's environment: MASTER_ADDR=127.0.0.1, a free MASTER_PORT, RANK,
// WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE), each with `threadsPerRank` torch threads. Rank 0
// keeps the terminal; the others' lines come out on stderr as "[rank K] ...". Ctrl-C / SIGTERM
// go to every rank (they checkpoint and stop together). When a rank dies, the launcher says which
// and how, gives the others TKD_DIST_TIMEOUT to fail on their own, then stops them.
// Returns the exit status: rank 0's when all ended normally, else the first failed rank's.
int launchLocalRanks(int nproc, int threadsPerRank, const std::vector<std::string> &args);

} // namespace tkd::cli
