#pragma once

#include "core/distill/AttentionBranch.h"
#include "core/features/FeatureNorm.h"
#include "core/models/StudentModel.h"
#include "core/models/Wav2Vec2Model.h"

#include <string>

namespace tkd {

// Loading what training wrote: a model is rebuilt from its checkpoint's own description
// (student name, classes and features; teacher kind and sizes), so no experiment file is needed.
// Used by training (resume, evaluate a given teacher), the streaming classifier, clip analysis
// and export alike. Throws tkd::Error naming the file when it cannot be read.
class TrainedModels
{
public:
    // A student in eval mode; with `branch`, also its training-time attention branch (left null
    // when the checkpoint has none, e.g. an exported student); with `norm`, its standardisation.
    static StudentModel loadStudent(const std::string &checkpointPath,
        AttentionBranch *branch = nullptr, FeatureNorm *norm = nullptr);
    // A teacher (tiny, base, xlsr-300m or imported), frozen and in eval mode.
    static Wav2Vec2Model loadTeacher(const std::string &checkpointPath);
};

} // namespace tkd
