#include "core/checkpoint/TrainedModels.h"

#include "core/checkpoint/Checkpoint.h"
#include "core/models/StudentRegistry.h"
#include "core/models/TeacherKind.h"
#include "core/models/Wav2Vec2Pretrained.h"
#include "core/util/Error.h"

namespace tkd {

namespace {

// The spectral architecture fields a teacher checkpoint records (keys "arch.<name>").
struct ArchField
{
    const char *key;
    int64_t &(*ref)(Wav2Vec2Config &);
};

const std::vector<ArchField> &archFields()
{
    using C = Wav2Vec2Config;
    static const std::vector<ArchField> f = {
        { "hidden", [](C &c) -> int64_t & { return c.hiddenSize(); } },
        { "layers", [](C &c) -> int64_t & { return c.numLayers(); } },
        { "heads", [](C &c) -> int64_t & { return c.numHeads(); } },
        { "ffn", [](C &c) -> int64_t & { return c.intermediateSize(); } },
        { "pos_kernel", [](C &c) -> int64_t & { return c.posConvKernel(); } },
        { "pos_groups", [](C &c) -> int64_t & { return c.posConvGroups(); } },
        { "sconv_channels", [](C &c) -> int64_t & { return c.spectralConvChannels(); } },
        { "sconv_kernel", [](C &c) -> int64_t & { return c.spectralConvKernel(); } },
        { "sconv_layers", [](C &c) -> int64_t & { return c.spectralConvLayers(); } },
        { "subsampling", [](C &c) -> int64_t & { return c.spectralSubsampling(); } },
    };
    return f;
}

// Class names are stored one per line (names never contain a newline).
std::vector<std::string> splitLines(const std::string &joined)
{
    std::vector<std::string> out;
    size_t start = 0;
    while (!joined.empty()) {
        const size_t nl = joined.find('\n', start);
        out.push_back(
            joined.substr(start, nl == std::string::npos ? std::string::npos : nl - start));
        if (nl == std::string::npos)
            break;
        start = nl + 1;
    }
    return out;
}

} // namespace

std::vector<std::string> TrainedModels::teacherArchitectureKeys()
{
    std::vector<std::string> keys;
    for (const auto &f : archFields())
        keys.push_back(f.key);
    return keys;
}

void TrainedModels::setTeacherArchitecture(
    Wav2Vec2Config &config, const std::string &key, int64_t value)
{
    for (const auto &f : archFields())
        if (key == f.key) {
            f.ref(config) = value;
            return;
        }
    throw Error("architecture." + key, "is not a teacher architecture field");
}

void TrainedModels::saveTeacher(const std::string &path, const Wav2Vec2Model &model,
    const std::string &kind, const std::vector<std::string> &classes, const FeatureConfig &features,
    const std::map<std::string, double> &values, const std::map<std::string, std::string> &texts)
{
    Checkpoint ck;
    ck.step = values.count("step") ? int64_t(values.at("step")) : 0;
    ck.epoch = values.count("epoch") ? int64_t(values.at("epoch")) : 0;
    ck.configHash = texts.count("config_hash") ? texts.at("config_hash") : std::string();
    ck.setModule(*model, "model");
    ck.setText("teacher_kind", kind);
    ck.setText("weights", texts.count("weights") ? texts.at("weights") : std::string());
    Wav2Vec2Config cfg = model->config;
    ck.setInt("labels", cfg.numLabels());
    ck.setInt("bins", cfg.spectralBins());
    ck.setInt("subsampling", cfg.spectralSubsampling());
    for (const auto &f : archFields())
        ck.setInt(std::string("arch.") + f.key, f.ref(cfg));
    std::string joined;
    for (size_t i = 0; i < classes.size(); ++i)
        joined += (i ? "\n" : "") + classes[i];
    ck.setText("classes", joined);
    for (const ParamSpec &p : FeatureConfig::declared())
        ck.setValue("features." + p.name, features.value(p.name));
    for (const auto &[k, v] : values)
        if (k != "step" && k != "epoch")
            ck.setValue(k, v);
    for (const auto &[k, v] : texts)
        if (k != "weights" && k != "config_hash")
            ck.setText(k, v);
    ck.save(path);
}

TeacherCheckpointInfo TrainedModels::teacherInfo(const std::string &path)
{
    const Checkpoint ck = Checkpoint::load(path);
    TeacherCheckpointInfo info;
    info.kind = ck.text("teacher_kind");
    if (ck.hasValue("subsampling"))
        info.subsampling = ck.intValue("subsampling");
    if (ck.metadata().count("text.classes"))
        info.classes = splitLines(ck.text("classes"));
    info.hasFeatures = ck.hasValue("features.window_ms");
    if (info.hasFeatures)
        for (const ParamSpec &p : FeatureConfig::declared())
            if (ck.hasValue("features." + p.name))
                info.features.setValue(p.name, ck.value("features." + p.name));
    info.features.kind = FeatureConfig::Kind::LogMel;
    return info;
}

StudentModel TrainedModels::loadStudent(const std::string &path, AttentionBranch *branch,
    FeatureNorm *norm, std::vector<std::string> *classNames)
{
    const Checkpoint ck = Checkpoint::load(path);
    if (classNames)
        *classNames = ck.metadata().count("text.class_names") ? splitLines(ck.text("class_names"))
                                                              : std::vector<std::string>();
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
    } else if (isSpectralTeacher(kind)) {
        Wav2Vec2Config cfg = kind == TeacherKind::Tiny
            ? Wav2Vec2Config::tiny(labels, ck.intValue("bins"))
            : Wav2Vec2Config::small(labels, ck.intValue("bins"));
        cfg.spectralSubsampling(ck.intValue("subsampling"));
        for (const auto &f : archFields()) // absent in checkpoints older than the fields
            if (ck.hasValue(std::string("arch.") + f.key))
                f.ref(cfg) = ck.intValue(std::string("arch.") + f.key);
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
