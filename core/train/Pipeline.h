#pragma once

#include "core/train/ExperimentConfig.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tkd {

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
    int64_t teacherSubsampling = 1;       // tiny teacher frame stacking (2 halves 8 s cost)
    int threads = 2;                      // workers building noisy clips
    std::string featureCacheDir;          // empty: cacheRoot()/features
    std::string teacherCacheDir;          // empty: cacheRoot()/teacher-cache
    std::string corpusDir;                // empty: data.path, else cacheRoot()/builtin-corpus
};

// One student training run of the grid.
struct CellResult
{
    std::string student;
    double lambda = 0.0;
    double lengthSec = 0.0;
    uint64_t seed = 1;
    std::string status;  // completed | early-stopped | cancelled | failed
    std::string message; // why it failed
    std::map<std::string, double> validation; // best epoch
    std::map<std::string, double> test;       // accuracy, map, loss, localisation_*
    int64_t bestEpoch = 0;
    int64_t epochsRun = 0;
    double trainSecondsPerEpoch = 0.0;
    double wallSeconds = 0.0; // the whole cell: training, validation and the test evaluation
    std::string checkpoint; // best.safetensors
    std::string runDir;     // run folder that holds it (filled when several runs are combined)
};

struct LengthResult
{
    double lengthSec = 0.0;
    int64_t trainClips = 0, validationClips = 0, testClips = 0;
    std::string teacherKind;
    std::map<std::string, double> teacherValidation; // accuracy, localisation, ...
    std::map<std::string, double> teacherTest;
    std::vector<std::string> warnings;
    std::string teacherCheckpoint;
    std::string teacherHash;
    std::string dataHash;
    bool cacheHit = false;
    std::string cachePath;
    double teacherSeconds = 0.0;
    std::vector<CellResult> cells;
};

struct PipelineResult
{
    std::string runDir;
    bool cancelled = false;
    std::vector<LengthResult> lengths;

    nlohmann::json toJson() const;
    static PipelineResult fromJson(const nlohmann::json &j);
    // A small results table: teacher and every student cell, test accuracy (or mAP) and
    // localisation (branch / native) against the uniform baseline.
    std::string table() const;
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
    Pipeline(ExperimentConfig config, PipelineOptions options = {}, TrainObserver *observer = nullptr,
             TrainControl *control = nullptr);

    // Throws tkd::Error for bad input, tkd::Cancelled when cancelled (the run folder keeps what
    // was finished). A student that diverges is recorded as failed and the grid goes on.
    PipelineResult run();
    // The run folder of the last run() (also after it threw: a cancelled run keeps its folder).
    const std::string &runDir() const { return m_runDir; }

    static std::string cellName(const std::string &student, double lengthSec, double lambda, uint64_t seed);

private:
    ExperimentConfig m_config;
    PipelineOptions m_options;
    TrainObserver *m_observer;
    TrainControl *m_control;
    std::string m_runDir;
};

} // namespace tkd
