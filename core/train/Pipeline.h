#pragma once

#include "core/experiment/ExperimentConfig.h"
#include "core/experiment/PipelineResult.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tkd {

class Distributed;
class TrainControl;
class TrainObserver;

struct PipelineOptions
{
    std::vector<std::string> commandLine; // for provenance
    // Use this teacher (a TeacherTrainer checkpoint) instead of training one.
    std::string teacherCheckpoint;
    // Use the teachers of this earlier run folder (teacher-L<L>/best.safetensors for each length)
    // instead of training them: how `tkd grid` trains each teacher once for all its shards.
    std::string teacherRunDir;
    // Train only the student cells c with (ordinal of c within its length) % shardCount ==
    // shardIndex: `tkd grid --jobs N` runs N such shards side by side.
    int shardIndex = 0;
    int shardCount = 1;
    enum class Stop { AfterTeacher, AfterCache, AfterStudents };
    Stop stopAfter = Stop::AfterStudents; // `tkd teacher train` / `tkd cache` / `tkd train`
    int64_t teacherSubsampling = 1; // tiny teacher frame stacking (2 halves 8 s cost)
    int threads = 2; // workers building noisy clips
    std::string featureCacheDir; // empty: cacheRoot()/features
    std::string teacherCacheDir; // empty: cacheRoot()/teacher-cache
    std::string corpusDir; // empty: data.path, else cacheRoot()/builtin-corpus
    // Continue this run folder instead of creating one (`tkd train --resume RUN`): its own
    // config.yaml is the experiment (the one given must match it). Finished teachers are loaded,
    // usable cells are kept as they are, and every other cell continues from its
    // last.safetensors, so the result is the one an uninterrupted run gives, bit for bit.
    std::string resumeRunDir;
    // Data-parallel ranks (`tkd train --nproc`, srun): rank 0 runs the teacher and its cache and
    // writes the run folder; every rank trains its share of each student. Null: this process.
    Distributed *dist = nullptr;
    // Torch threads instead of train.num_threads (> 0): local ranks share the cores without
    // changing the experiment (train.num_threads is part of its hash).
    int torchThreads = 0;
};

// The whole experiment behind `tkd train` and `tkd quickstart`: for every clip length, the
// fixed noisy dataset and its cached student features, the teacher stage (train / load /
// oracle), the teacher attention cache, then every student x seed x lambda cell, all written to
// one run directory (config.yaml, provenance.json, events.jsonl, metrics.json,
// teacher-L<L>/best.safetensors, students/<cell>/{best,last}.safetensors).
class Pipeline
{
public:
    // Validates the config (ConfigError naming every bad key).
    Pipeline(ExperimentConfig config, PipelineOptions options = {},
        TrainObserver *observer = nullptr, TrainControl *control = nullptr);

    // Throws tkd::Error for bad input, tkd::Cancelled when cancelled (the run folder keeps what
    // was finished). A student that diverges is recorded as failed and the grid goes on.
    PipelineResult run();
    // The run folder of the last run() (also after it threw: a cancelled run keeps its folder).
    const std::string &runDir() const { return m_runDir; }

private:
    PipelineResult runFollower(TrainControl &control);

    ExperimentConfig m_config;
    PipelineOptions m_options;
    TrainObserver *m_observer;
    TrainControl *m_control;
    std::string m_runDir;
};

} // namespace tkd
