#pragma once

// What a run did: metrics.json of a run folder, written by the training pipeline and read by
// the CLI (tkd eval, tkd grid --table), clip analysis and the studio.

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tkd {

// One student training run of the grid.
struct CellResult
{
    std::string student;
    double lambda = 0.0;
    double lengthSec = 0.0;
    uint64_t seed = 1;
    std::string status; // completed | early-stopped | cancelled | failed
    std::string message; // why it failed
    std::map<std::string, double> validation; // best epoch
    std::map<std::string, double> test; // accuracy, map, loss, localisation_*
    int64_t bestEpoch = 0;
    int64_t epochsRun = 0;
    double trainSecondsPerEpoch = 0.0;
    double wallSeconds = 0.0; // the whole cell: training, validation and the test evaluation
    std::string checkpoint; // best.safetensors
    std::string runDir; // run folder that holds it (filled when several runs are combined)

    // Trained to the end or stopped early: its checkpoint and test metrics are usable.
    bool usable() const { return status == "completed" || status == "early-stopped"; }
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
    // The leave-one-voice-family-out set every student is also scored on (its accuracy is the
    // cells' test["unseen_voices_accuracy"]): "flite: 57 speakers, 684 clips"; empty when none.
    std::string unseenVoices;
    std::vector<CellResult> cells;
};

struct PipelineResult
{
    // How the run ended, as metrics.json records it. "running" is written while it trains, so a
    // run killed part-way (kill -9, power loss) reads as such, never as a finished table.
    enum class Status { Running, Finished, Incomplete, Cancelled, Failed };
    static const char *statusName(Status s);

    std::string runDir;
    bool cancelled = false;
    Status status = Status::Finished; // old metrics.json without "status": finished (or cancelled)
    std::vector<LengthResult> lengths;

    // Cells that trained nothing usable ("failed"), each with why.
    std::vector<const CellResult *> failedCells() const;
    // Finished with every cell usable. A run that failed cells, was cancelled, died or is still
    // running is not.
    bool complete() const { return status == Status::Finished && failedCells().empty(); }
    // One line per failed cell ("tc-resnet8-L2-lambda0.25-seed1: why"), empty when none.
    std::string failureSummary() const;
    // The "[...]" mark that tables show beside a run that is not complete ("" when it is);
    // `stillRunning` tells a live run from one that was killed.
    std::string incompleteMark(bool stillRunning) const;

    nlohmann::json toJson() const;
    static PipelineResult fromJson(const nlohmann::json &j);
    // <runDir>/metrics.json; runDir set to the folder given (it may have moved since). Throws
    // tkd::Error naming the file when it is missing or not a result.
    static PipelineResult read(const std::string &runDir);
    // A small results table: teacher and every student cell, test accuracy (or mAP) and
    // localisation (branch / native) against the uniform baseline.
    std::string table() const;
    // metrics[key], NaN when it is not there (a metric a model does not have).
    static double metric(const std::map<std::string, double> &metrics, const std::string &key);
    // The folder name of a student cell: "tc-resnet8-L2-lambda0.25-seed1".
    static std::string cellName(
        const std::string &student, double lengthSec, double lambda, uint64_t seed);
};

} // namespace tkd
