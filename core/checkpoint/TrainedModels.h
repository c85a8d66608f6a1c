#pragma once

#include "core/distill/AttentionBranch.h"
#include "core/features/FeatureNorm.h"
#include "core/models/StudentModel.h"
#include "core/models/Wav2Vec2Model.h"

#include "core/features/FeatureConfig.h"

#include <map>
#include <string>
#include <vector>

namespace tkd {

// What a teacher checkpoint says about itself besides its weights.
struct TeacherCheckpointInfo
{
    std::string kind; // teacher_kind: tiny, small, base, xlsr-300m, imported
    std::vector<std::string> classes; // empty for checkpoints written before they were stored
    int64_t subsampling = 1; // spectral teachers: stacked log-mel frames
    bool hasFeatures = false; // the log-mel front end it was trained with (else: unknown)
    FeatureConfig features;
};

// Loading what training wrote: a model is rebuilt from its checkpoint's own description
// (student name, classes and features; teacher kind and sizes), so no experiment file is needed.
// Used by training (resume, evaluate a given teacher), the streaming classifier, clip analysis
// and export alike. Throws tkd::Error naming the file when it cannot be read.
class TrainedModels
{
public:
    // A student in eval mode; with `branch`, also its training-time attention branch (left null
    // when the checkpoint has none, e.g. an exported student); with `norm`, its standardisation;
    // with `classNames`, the class names the checkpoint stores (an adapted student does: its
    // classes are no dataset's), else an empty list.
    static StudentModel loadStudent(const std::string &checkpointPath,
        AttentionBranch *branch = nullptr, FeatureNorm *norm = nullptr,
        std::vector<std::string> *classNames = nullptr);
    // A teacher (tiny, small, base, xlsr-300m or imported), frozen and in eval mode.
    static Wav2Vec2Model loadTeacher(const std::string &checkpointPath);
    static TeacherCheckpointInfo teacherInfo(const std::string &checkpointPath);
    // Writes a teacher checkpoint (weights, kind, architecture, classes, front end, and the given
    // values and texts) atomically: the one format loadTeacher and teacherInfo read.
    static void saveTeacher(const std::string &path, const Wav2Vec2Model &model,
        const std::string &kind, const std::vector<std::string> &classes,
        const FeatureConfig &features, const std::map<std::string, double> &values,
        const std::map<std::string, std::string> &texts);
    // The spectral architecture fields a checkpoint records and a recipe may set ("hidden",
    // "layers", ..., plus "subsampling").
    static std::vector<std::string> teacherArchitectureKeys();
    // Sets the named architecture field of a spectral config (a teacherArchitectureKeys() name);
    // tkd::Error for an unknown one.
    static void setTeacherArchitecture(
        Wav2Vec2Config &config, const std::string &key, int64_t value);
};

} // namespace tkd
