#pragma once

#include "core/train/TeacherRecipe.h"

#include <map>
#include <string>
#include <vector>

namespace tkd {

class Distributed;
class TrainControl;
class TrainObserver;
struct TeacherTrainOptions;

// What `tkd teacher pretrain` leaves in its output folder:
//   recipe.yaml              the recipe as run (its hash is in the teacher's provenance)
//   events.jsonl             every step, epoch and stage (the studio's Training view follows it)
//   stage-<k>/best.safetensors, stage-<k>/done.json   one per finished stage (resume skips them)
//   teacher.safetensors      the final teacher, with provenance and its figures per length
//   report.json              accuracy and rollout localisation on the recipe's own held-out
//                            speakers at every evaluate length, and the wall time of each stage
struct TeacherPretrainResult
{
    struct LengthFigures
    {
        double lengthSec = 0.0;
        double accuracy = 0.0; // test split of the recipe's corpus (its own unseen speakers)
        double localisation = 0.0; // rollout row 0 mass inside the keyword window
        double uniform = 0.0; // the same for uniform attention
    };
    std::string teacherPath;
    std::vector<LengthFigures> figures;
    std::vector<double> stageSeconds;
    std::vector<bool> stageResumed; // a finished stage found on disk and skipped
    double seconds = 0.0;
};

class TeacherPretrainer
{
public:
    TeacherPretrainer(TeacherRecipe recipe, std::string outDir, TrainObserver *observer = nullptr,
        const TrainControl *control = nullptr);
    // Throws tkd::Error (bad recipe, unwritable folder), tkd::Cancelled (the finished stages stay).
    // In a data-parallel job every rank calls it: rank 0 writes everything and returns the
    // result, the others train their share of each stage and return an empty result.
    TeacherPretrainResult run();
    // Trains every stage data-parallel over `dist` (null or a world of one: this process alone).
    void setDistributed(Distributed *dist) { m_dist = dist; }
    // Accuracy and localisation of any teacher checkpoint on the recipe's held-out speakers.
    std::vector<TeacherPretrainResult::LengthFigures> evaluate(const std::string &teacherPath);

private:
    std::string stageDir(size_t k) const;
    // Stage k's teacher options; `previous`: the stage before's best weights ("" for stage 1).
    TeacherTrainOptions stageOptions(size_t k, const std::string &previous) const;
    // A rank other than 0: its share of every stage rank 0 trains, told through the store.
    TeacherPretrainResult runFollower();
    std::string corpusDir() const;

    TeacherRecipe m_recipe;
    std::string m_outDir;
    TrainObserver *m_observer;
    const TrainControl *m_control;
    Distributed *m_dist = nullptr;
};

} // namespace tkd
