#include "core/checkpoint/TrainedModels.h"

#include "core/checkpoint/Checkpoint.h"
#include "core/models/StudentRegistry.h"
#include "core/models/TeacherKind.h"
#include "core/models/Wav2Vec2Pretrained.h"
#include "core/util/Error.h"

namespace tkd {

StudentModel TrainedModels::loadStudent(
    const std::string &path, AttentionBranch *branch, FeatureNorm *norm)
{
    const Checkpoint ck = Checkpoint::load(path);
    if (norm && ck.hasTensor("feature_mean")) {
        norm->mean = ck.tensor("feature_mean");
        norm->std = ck.tensor("feature_std");
    }
    const std::string name = ck.text("student");
    StudentModel model
        = StudentRegistry::create(name, ck.intValue("classes"), ck.intValue("features"));
    ck.loadModule(*model.module(), "model");
    if (branch) {
        *branch = AttentionBranch { nullptr };
        if (ck.hasTensor("branch.query")) {
            *branch = AttentionBranch(AttentionBranchOptions(model.contextDim()));
            ck.loadModule(**branch, "branch");
        }
    }
    model.eval();
    return model;
}

Wav2Vec2Model TrainedModels::loadTeacher(const std::string &path)
{
    const Checkpoint ck = Checkpoint::load(path);
    const std::string kindName = ck.text("teacher_kind");
    TeacherKind kind = TeacherKind::Oracle;
    try {
        kind = teacherKindFromName(kindName);
    } catch (const Error &) {
        throw Error(path, "is not a teacher checkpoint (teacher_kind '" + kindName + "')");
    }
    const int64_t labels = ck.intValue("labels");
    Wav2Vec2Model model { nullptr };
    if (kind == TeacherKind::Imported) {
        model = Wav2Vec2Pretrained::load(ck.text("weights"), labels);
    } else if (kind == TeacherKind::Tiny) {
        Wav2Vec2Config cfg = Wav2Vec2Config::tiny(labels, ck.intValue("bins"));
        cfg.spectralSubsampling(ck.intValue("subsampling"));
        model = Wav2Vec2Model(cfg);
    } else if (kind == TeacherKind::Base || kind == TeacherKind::Xlsr300m) {
        model = Wav2Vec2Model(Wav2Vec2Config::preset(kindName, labels));
    } else {
        throw Error(path, "is not a teacher checkpoint (teacher_kind '" + kindName + "')");
    }
    ck.loadModule(*model, "model");
    for (auto &p : model->parameters())
        p.set_requires_grad(false);
    model->eval();
    return model;
}

} // namespace tkd
