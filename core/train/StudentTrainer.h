#pragma once

#include "core/data/PreparedData.h"
#include "core/distill/AttentionBranch.h"
#include "core/distill/KdTarget.h"
#include "core/distill/Localisation.h"
#include "core/experiment/OptimiserKind.h"
#include "core/experiment/TrainingChoices.h"
#include "core/features/FeatureNorm.h"
#include "core/models/StudentModel.h"
#include "core/train/Metrics.h"

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace tkd {

class Distributed;
class TrainControl;
class TrainObserver;

// One student training run: a cell of the grid (student x lambda x L x seed).
struct StudentTrainOptions
{
    std::string student = "tc-resnet8";
    double lambda = 0.0; // kd.lambdas: weight of KL(a_T || a_S)
    KdTarget kdTarget = KdTarget::Branch; // branch: the training-only AttentionBranch; native: the
                                          // student's own attention (mean over heads)
    double logitKdWeight = 0.0; // kd.logit_kd (a baseline, not the method)
    double temperature = 2.0;
    OptimiserKind optimizer = OptimiserKind::Adam; // adam | sgd (with momentum)
    double lr = 1e-3;
    double momentum = 0.9;
    double weightDecay = 0.0;
    ScheduleKind schedule = ScheduleKind::Cosine;
    int warmupEpochs = 1;
    int epochs = 30;
    int batchSize = 64;
    int earlyStoppingPatience = 0; // epochs without a better validation score; 0: off
    int earlyStoppingMinEpochs = 0; // early stopping never ends a run before this epoch
    double gradClipNorm = 0.0; // max global gradient norm (after the ranks' average); 0: off
    uint64_t seed = 1; // initialisation, dropout and batch order
    torch::Device device = torch::kCPU;
    std::string stage = "student"; // name in reports and events
    std::string checkpointDir; // last.safetensors + best.safetensors; empty: no files
    std::string configHash;
    bool resume = false; // continue from checkpointDir/last.safetensors if present
    int64_t evalBatchSize = 256;
    // Data-parallel ranks (null or a world of one: this process alone). batchSize stays the
    // global batch; only rank 0 writes checkpoints. See DataParallel.
    Distributed *dist = nullptr;

    bool usesTeacherAttention() const { return lambda > 0.0; }
    bool usesTeacherLogits() const { return logitKdWeight > 0.0; }
};

// The student's inputs: the fixed dataset's splits and, for KD, what the frozen teacher said
// about every training clip (from the TeacherAttentionCache or the oracle).
struct StudentData
{
    const PreparedSplit *train = nullptr;
    const PreparedSplit *validation = nullptr;
    const PreparedSplit *test = nullptr;
    const PreparedSplit *unseenVoices = nullptr; // optional: also scored with the best weights
    torch::Tensor teacherAttention; // [N_train, T_teacher] rows (resampled to T' once, here)
    torch::Tensor teacherLogits; // [N_train, C]
};

struct StudentEvaluation
{
    ClassificationMetrics metrics;
    double loss = 0.0; // task loss
    LocalisationScore branch; // the attention branch's a_S (empty when it was not trained)
    LocalisationScore native; // the student's own attention (empty when it has none)
    // accuracy, map, loss, localisation_branch, localisation_native, localisation_baseline
    std::map<std::string, double> summary() const;
};

struct StudentResult
{
    enum class Status { Completed, EarlyStopped, Cancelled };
    Status status = Status::Completed;
    int64_t epochsRun = 0;
    int64_t steps = 0;
    int64_t bestEpoch = 0;
    double bestValidationScore = -1.0; // accuracy (single-label) or mAP (multi-label)
    StudentEvaluation validation; // of the best epoch
    StudentEvaluation test; // of the best-on-validation weights (the paper's protocol)
    std::optional<StudentEvaluation> unseenVoices; // the same weights on StudentData::unseenVoices
    std::string bestCheckpoint;
    std::string lastCheckpoint;
    double trainSecondsPerEpoch = 0.0; // optimisation only, validation excluded
    std::vector<double> epochLosses; // mean total training loss per epoch
    StudentModel model; // best weights
    FeatureNorm norm; // what the model's input was standardised with
    AttentionBranch branch { nullptr }; // trained branch (null when lambda = 0 or native)
};

const char *studentStatusName(StudentResult::Status s); // "completed", "early-stopped", "cancelled"

// The student stage (paper notes sections 3-4): loss = task + lambda * KL(a_T || a_S) through
// TemporalKdLoss, with a_S from an AttentionBranch kept outside the student, optional logit KD,
// Adam or SGD, a learning-rate schedule, weight decay, early stopping and a best-on-validation
// checkpoint, then test metrics of the best weights. Batches are slices of cached tensors in a
// seeded order, so a run is deterministic given the seed (and thread count), and a_T costs an
// index_select per batch.
class StudentTrainer
{
public:
    StudentTrainer(StudentTrainOptions options, TrainObserver *observer = nullptr,
        const TrainControl *control = nullptr);

    const StudentTrainOptions &options() const { return m_options; }

    // Throws tkd::Error for bad options or data, and when the loss stops being finite (naming
    // the step and the last good checkpoint, which is left untouched).
    StudentResult train(const StudentData &data);

    // Metrics of a split: logits, task loss, and localisation of the branch and native
    // attention against the keyword windows. `branch` may be null.
    static StudentEvaluation evaluate(const StudentModel &model, const AttentionBranch &branch,
        const PreparedSplit &split, torch::Device device, int64_t batchSize = 256,
        const FeatureNorm &norm = {});

private:
    void report(const std::string &text, int level) const;

    StudentTrainOptions m_options;
    TrainObserver *m_observer;
    const TrainControl *m_control;
};

} // namespace tkd
