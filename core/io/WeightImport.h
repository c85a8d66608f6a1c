#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <utility>
#include <vector>

namespace tkd::io {

// Importing Hugging Face wav2vec 2.0 checkpoints (Wav2Vec2Model, Wav2Vec2ForPreTraining,
// Wav2Vec2ForSequenceClassification, Wav2Vec2ForCTC) onto a model whose parameter names are HF's
// without the "wav2vec2." prefix, plus a "head." linear layer on frame 1.
//
// Planning works from names and shapes only (a safetensors header), so a 1.2 GB file can be
// checked without reading it; applying the plan then needs the tensors. A plan that is not
// complete is never applied: the model is never left half-initialised.

using ShapeList = std::vector<std::pair<std::string, std::vector<int64_t>>>;

struct MappingEntry
{
    enum class Status { Mapped, Composed, Ignored, FreshInit, Unknown, Missing, Misshaped };
    Status status = Status::Mapped;
    std::string source; // key in the file ("" for Missing / FreshInit)
    std::string target; // key in the model ("" for Ignored / Unknown)
    std::vector<int64_t> sourceShape; // as stored
    std::vector<int64_t> targetShape; // as the model expects
    std::string note; // why (ignored / fresh / composed)
};

class MappingReport
{
public:
    std::vector<MappingEntry> entries;
    std::string sourcePath;

    // True when every model parameter gets a value from the file or is a head allowed to start
    // fresh, and the file holds nothing unknown or mis-shaped.
    bool complete() const;
    int count(MappingEntry::Status status) const;
    std::vector<const MappingEntry *> with(MappingEntry::Status status) const;
    // The readable report: counts, verdict, then every unknown / missing / mis-shaped / ignored /
    // fresh / composed key (mapped keys too when verbose).
    std::string text(bool verbose = false) const;

    static const char *statusName(MappingEntry::Status status);
};

struct ImportPlan
{
    MappingReport report;
    std::vector<std::pair<std::string, std::string>> copies; // target <- source
    // HF's sequence-classification head (projector, then classifier; both linear) folded into one
    // linear layer: head = classifier . projector.
    bool composeHead = false;
    std::string headWeight, headBias; // targets
    std::string projectorWeight, projectorBias; // sources
    std::string classifierWeight, classifierBias;
};

// Maps a file's tensors (names + shapes) onto the model's expected parameters. `freshAllowed`
// lists target names that may keep their initial value when the file has nothing for them
// (the classification head).
ImportPlan planHfImport(const ShapeList &source, const ShapeList &expected,
    const std::vector<std::string> &freshAllowed = { "head.weight", "head.bias" });

// Executes a complete plan: target name -> float32 tensor. Throws tkd::Error(subject, report) if
// the plan is incomplete or a planned tensor is absent from `source`.
std::map<std::string, torch::Tensor> applyHfImport(const ImportPlan &plan,
    const std::map<std::string, torch::Tensor> &source, const std::string &subject);

// Finds config.json and the weights from a model folder or one of its files. PyTorch pickles
// (pytorch_model.bin) and sharded checkpoints are refused with advice on converting them.
struct HfModelFiles
{
    std::string folder;
    std::string config; // .../config.json
    std::string weights; // .../model.safetensors (or the .safetensors file given)
};
HfModelFiles locateHfModel(const std::string &path);

} // namespace tkd::io
