#pragma once

#include "core/features/FeatureConfig.h"

#include <memory>
#include <string>
#include <vector>

namespace tkd {

// One trained student of a run folder, as the live view and `tkd live` list them.
struct LiveCell
{
    std::string name; // "tc-resnet8-L2-lambda0.25-seed1"
    std::string checkpoint; // <run>/students/<name>/best.safetensors (or last.safetensors)
    std::string student; // "tc-resnet8"
    double lengthSec = 0.0; // the clip length it was trained at (from the name; 0 when unknown)
    double lambda = -1.0; // -1 when unknown
    double testAccuracy = -1.0; // from metrics.json; -1 when unknown
};

// Everything the streaming classifier needs to know about a model before loading its weights.
struct LiveModelInfo
{
    std::string runDir;
    LiveCell cell;
    std::vector<std::string> classes; // class names in logit order
    FeatureConfig features; // the student's front end (the run's config.yaml)
    double windowSec = 1.0; // the length the student was trained at
    std::string teacherKind; // tiny | base | xlsr-300m | imported | oracle
    std::string teacherCheckpoint; // empty when there is no teacher model (oracle, missing)
    std::string teacherNote; // why there is no teacher attention, when there is none
};

// Lists the trained students of a run folder (cells with a best or last checkpoint), sorted by
// name. Throws tkd::Error(dir, ...) when it is not a run folder or has no trained student.
std::vector<LiveCell> listLiveCells(const std::string &runDir);

// Resolves --model: a run folder (its best student by test accuracy, else the first by name),
// a cell folder <run>/students/<cell>, or a checkpoint file inside one. Reads config.yaml and
// metrics.json; loads no weights. Throws tkd::Error naming the path and what is missing.
LiveModelInfo resolveLiveModel(const std::string &path);

// The demo student shipped in resources/students/ (a run folder pruned to its one student), which
// the Live view and `tkd live` use when no run is chosen; empty when it is not installed.
std::string shippedDemoStudent();

// The class names of a run's task, in logit order (keyword tasks: the fixed lists; folder sets:
// the sorted folder names). Falls back to "class N" when the source cannot tell.
std::vector<std::string> runClassNames(const std::string &runDir, int64_t numClasses);

// A loaded student (with its feature standardisation and attention branch) and, optionally,
// the run's teacher. Immutable after load; shared by one streaming classifier at a time (the
// modules are not re-entrant), so each worker loads its own.
class LiveModel
{
public:
    struct Impl;

    // Throws tkd::Error naming the checkpoint when it cannot be read. loadTeacher = false skips
    // the teacher (teacherNote says so).
    static std::shared_ptr<LiveModel> load(const LiveModelInfo &info, bool loadTeacher = true);
    static std::shared_ptr<LiveModel> load(const std::string &path, bool loadTeacher = true)
    {
        return load(resolveLiveModel(path), loadTeacher);
    }
    // From modules already in memory (benchmarks, tests): impl.info.classes must name every class.
    static std::shared_ptr<LiveModel> fromImpl(std::unique_ptr<Impl> impl);
    ~LiveModel();

    const LiveModelInfo &info() const;
    bool hasTeacher() const;
    // "branch" (the training-time attention branch), "native" (the student's own attention,
    // mean over heads) or "" when the student has neither.
    std::string studentAttentionSource() const;
    int64_t numClasses() const;
    int64_t parameterCount() const;

    Impl &impl() { return *m_impl; }

private:
    LiveModel();
    std::unique_ptr<Impl> m_impl;
};

} // namespace tkd
