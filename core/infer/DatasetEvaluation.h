#pragma once

#include "core/infer/EvalDataSpec.h"
#include "core/util/Progress.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

struct DatasetEvaluationOptions
{
    EvalDataSpec data;
    // test | validation | train | all | auto. auto: test for the data the run trained on (builtin,
    // or the run's own folder), else all: held-out data has no training clip to leave out.
    std::string split = "auto";
    std::string cell; // one student cell (students/<cell>); empty: every student
    bool teacher = true; // also the run's teacher of each length, where it has a model
    double snrDb = 20.0; // placement of plain clips: pink noise this far below the speech
    int batchSize = 32;
    int threads = 1; // clip decoding and placement
};

// One model's scores on the data: rows of `confusion` are true classes, columns predicted
// ones, both in the run's class order.
struct ModelEvaluation
{
    std::string name; // the cell ("tc-resnet8-L1-lambda0.25-seed1") or "teacher-L1"
    std::string kind; // student | teacher
    std::string student; // registry name; the teacher kind for the teacher
    double lengthSec = 0.0;
    double lambda = -1.0;
    int64_t clips = 0;
    int64_t correct = 0;
    std::vector<std::vector<int64_t>> confusion;

    double accuracy() const { return clips ? double(correct) / double(clips) : 0.0; }
    // Recall of class k: the diagonal over the row's sum; NaN for a class without clips.
    double recall(size_t k) const;
};

struct DatasetEvaluation
{
    std::string runDir;
    std::string data; // as typed: "folder:/data/alsa"
    std::string slug; // the file name under RUN/eval/
    std::string datasetName;
    std::string split; // resolved: test | validation | train | all
    std::string placement; // how a clip was made the length of a model's window, in words
    double snrDb = 0.0;
    std::vector<std::string> classes; // the run's, in logit order
    std::vector<EvalClassMapping> mapping;
    int64_t clips = 0; // scored (per model)
    int64_t skipped = 0; // clips of classes the run does not know (and no "_unknown_")
    std::vector<ModelEvaluation> models;
    std::vector<std::string> notes; // e.g. why a teacher was not scored

    nlohmann::json toJson() const;
    static DatasetEvaluation fromJson(const nlohmann::json &j); // throws tkd::Error("eval", ...)
    // Summary per model, mapping, then each model's per-class recall and confusion matrix.
    std::string table() const;
    // <runDir>/eval/<slug>-<split>.json, written atomically; returns the path. A run folder that
    // cannot be written (the installed demo student, a colleague's read-only run) gets its
    // report in <cache>/eval/<run folder name>/ instead.
    std::string save() const;
};

// Scores a trained run's students (and teachers) on any single-label dataset. Classes are
// matched by name (EvalDataSpec.h); every model sees each clip at its own clip length L: placed
// by placeInWindow, or with "noisy:" built by the run's own noisy construction at L. Reports
// through `progress` and stops with tkd::Cancelled when it is cancelled. Throws tkd::Error naming
// the run folder, the dataset or the option at fault.
DatasetEvaluation evaluateDataset(const std::string &runDir,
    const DatasetEvaluationOptions &options, const Progress &progress = {});

} // namespace tkd
