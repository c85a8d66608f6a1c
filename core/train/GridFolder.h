#pragma once

#include <string>
#include <vector>

namespace tkd {

// The run folders a `tkd grid` folder stands for: the runs its grid.json lists (a table written
// earlier), the folder itself (its teachers), and the runs its shard-K.log files announce
// (`tkd grid --jobs N` workers, `tkd grid --slurm` array tasks). Reading the logs too gathers a
// grid whose shards finished after its table was written, or that has no table yet (a Slurm
// grid), without the process that started them.
struct GridFolderRuns
{
    std::vector<std::string> runs; // run folders with results (metrics.json), each once
    std::vector<std::string> started; // every shard's run folder that exists, results or not
    std::vector<std::string> pending; // "shard-K.log: ..." for shards with no results yet
};

// One shard of a `tkd grid --jobs N` folder: K, its shard-K.log and the run folder the log
// announced, resolved beside the grid folder ("" when the worker never started one).
struct GridShard
{
    int index = 0;
    std::string log;
    std::string runDir;
};
// The folder's shards by K (none for a grid that ran in one process).
std::vector<GridShard> gridShards(const std::string &dir);

// Whether dir is a grid folder: it holds grid.json, shard logs or slurm.json (tkd grid --slurm).
bool isGridFolder(const std::string &dir);

// Throws tkd::Error naming grid.json when it is not a grid table.
GridFolderRuns gridFolderRuns(const std::string &dir);

// The run folder a `tkd train` log announced ("run folder DIR"), or "" when none yet.
std::string announcedRunFolder(const std::string &logPath);

} // namespace tkd
