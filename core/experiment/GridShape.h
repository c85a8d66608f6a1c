#pragma once

#include "core/experiment/ExperimentConfig.h"

#include <cstddef>

namespace tkd {

// How many student runs an experiment trains: students x seeds x lambdas at each clip length
// (the cells Pipeline trains, and shards as `--shard K/N` over that order), and over every length.
// The one place this product is written down (CLI progress, Slurm arrays, the studio's summary,
// its large-grid confirmation and its progress).
inline size_t studentCellsPerLength(const ExperimentConfig &c)
{
    return c.students.size() * c.studentSeeds().size() * c.kd.lambdas.size();
}

inline size_t studentCellCount(const ExperimentConfig &c)
{
    return studentCellsPerLength(c) * c.clipLengths().size();
}

} // namespace tkd
