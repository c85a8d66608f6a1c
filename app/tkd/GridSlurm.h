#pragma once

// tkd grid --slurm: the grid as a Slurm teacher job and a student job array (core/train/SlurmGrid
// writes the scripts); the rest of `tkd grid` is GridCommands.cpp.

#include "core/train/SlurmGrid.h"

#include <string>

struct SlurmGridArgs
{
    tkd::SlurmOptions slurm; // cpusPerTask 0: the config's train.num_threads, else 1
    int tasks = 0; // array tasks (shards); 0: one per student cell of a length
    bool dryRun = false; // print the scripts and sbatch commands, create and submit nothing
};

// Creates the grid folder, writes its two batch scripts and submits them; prints the job ids
// and how to gather the table. Throws tkd::Error for bad options or a failed submission.
int runSlurmGrid(const std::string &configPath, const std::string &teacherRun, int subsampling,
    bool verbose, const SlurmGridArgs &args);
