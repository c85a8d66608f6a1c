#pragma once

// Private to core/infer: the torch side of LiveModel.
#include "core/distill/AttentionBranch.h"
#include "core/distill/AttentionRollout.h"
#include "core/features/FeatureNorm.h"
#include "core/infer/LiveModel.h"
#include "core/models/StudentModel.h"
#include "core/models/Wav2Vec2Model.h"

namespace tkd {

struct LiveModel::Impl
{
    LiveModelInfo info;
    StudentModel student;
    AttentionBranch branch { nullptr };
    FeatureNorm norm;
    Wav2Vec2Model teacher { nullptr };
    bool teacherSpectral = false; // the tiny teacher reads log-mel frames; the others raw samples
    RolloutOptions rollout;
};

} // namespace tkd
