#pragma once

#include "core/checkpoint/TrainedModels.h"
#include "core/data/NoisyDataset.h"
#include "core/data/PreparedData.h"
#include "core/distill/AttentionRollout.h"
#include "core/distill/Localisation.h"
#include "core/distill/TeacherAttentionCache.h"
#include "core/experiment/TrainingChoices.h"
#include "core/features/FeatureConfig.h"
#include "core/models/TeacherKind.h"
#include "core/models/Wav2Vec2Model.h"
#include "core/train/Metrics.h"

#include <torch/torch.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace tkd {

class Distributed;
class FeatureCache;
class TrainControl;
class TrainObserver;

struct TeacherTrainOptions
{
    // pretrained (a teacher checkpoint, by default the shipped one: used as is when its classes are
    // the dataset's, else adapted) | tiny, small (spectral, from scratch) | base |
    // xlsr-300m (raw waveform, from scratch) | imported (Hugging Face weights, fine-tuned) |
    // oracle (the keyword's true window, no model: an upper bound / ablation)
    TeacherKind kind = TeacherKind::Tiny;
    std::string weights; // imported: folder or .safetensors; pretrained: a teacher checkpoint
                         // ("" = the shipped teacher, resources/teachers/)
    // imported: head (all else frozen) | all (conv encoder frozen). pretrained: what adapting
    // trains when the classes differ (head: a new head alone; all: everything, even when they
    // match).
    TeacherFineTune fineTune = TeacherFineTune::Head;
    // pretrained + fine_tune head: at most this many training clips of each class go through the
    // frozen teacher for the linear probe (0: all). The probe is 128 x classes weights; the
    // forward pass over the clips is what costs.
    int64_t probeClipsPerClass = 0;
    int epochs = 20;
    double lr = 1e-3;
    int batchSize = 32;
    double weightDecay = 0.01; // AdamW
    // Weight of the attention-focus term added to the task loss: the normalised entropy of the
    // rollout row over frames 2..T plus the row's mass left on frame 1 itself. It asks for a
    // concentrated rollout and reads no keyword window, so the fair rules hold; where the mass
    // goes is left to the task loss. 0: off.
    double attentionFocus = 0.0;
    // Fresh noise every epoch: epoch e > 0 trains on NoisyDataset(seed') over the same keyword
    // clips, so the teacher sees many more noisy clips than the students' fixed set.
    bool freshNoiseEachEpoch = true;
    int64_t spectralSubsampling
        = 1; // tiny: stack k log-mel frames (k = 2 halves an 8 s clip's cost)
    // Spectral kinds: architecture fields over the preset (hidden, layers, heads, ffn, pos_kernel,
    // pos_groups, sconv_channels, sconv_kernel, sconv_layers, subsampling); a recipe's
    // `architecture`.
    std::map<std::string, int64_t> architecture;
    uint64_t seed = 1;
    torch::Device device = torch::kCPU;
    RolloutOptions rollout;
    FeatureConfig features; // the experiment's front end; the tiny teacher uses its log-mel form
    std::string stage = "teacher";
    std::string checkpointDir; // best.safetensors; empty: none
    std::string configHash;
    int threads = 2; // workers building noisy clips
    int64_t evalBatchSize = 32;
    // A data-parallel job (null or a world of one: this process alone). Every rank calls run():
    // batchSize is the global batch, each rank forwards its share of it and makes its share of
    // the fresh noise, gradients are averaged, and only rank 0 writes the checkpoint. Only the
    // trained path (trainsInLoop()) is parallel; the others run on every rank alike.
    Distributed *dist = nullptr;
    // Score the rollout against the keyword windows at each validation. The windows serve ONLY this
    // score (never the loss, the data or the choice of the best epoch: that is validation
    // accuracy), which tst_teacherpretrain checks by training with and without it.
    bool scoreLocalisation = true;
    double minAccuracy = 0.75; // below: "probably weaker than the students"
    double minLocalisationRatio
        = 1.5; // rollout mass in the window / uniform's below: "poorly localised"
};

struct TeacherEvaluation
{
    ClassificationMetrics metrics; // empty (count 0) for the oracle
    double loss = 0.0;
    LocalisationScore localisation; // rollout row 0 (or the oracle) against the keyword window
    double localisationRatio() const { return localisation.mean() / localisation.meanBaseline(); }
    // accuracy, map, loss, localisation, localisation_baseline
    std::map<std::string, double> summary() const;
};

struct TeacherResult
{
    std::string kind;
    bool oracle = false;
    Wav2Vec2Model model { nullptr }; // best-on-validation weights, eval mode (null for the oracle)
    std::string weightsHash; // TeacherAttentionCache::weightsHash ("oracle" for the oracle)
    TeacherEvaluation validation;
    TeacherEvaluation test;
    std::vector<std::string> warnings; // "weaker than students", "poorly localised"
    std::string checkpoint;
    int epochsRun = 0;
    double seconds = 0.0;
};

// The teacher stage: trains the tiny spectral wav2vec 2.0 from scratch (fresh noise each epoch),
// trains a raw-waveform preset from scratch, or fine-tunes imported weights (head only, or
// everything but the conv feature encoder); keeps the best-on-validation weights; scores
// validation accuracy AND rollout localisation and warns before any student trains. The oracle
// kind trains nothing: its a_T is the keyword's true window.
class TeacherTrainer
{
public:
    // data: the students' fixed noisy dataset (the teacher is validated and cached on it).
    TeacherTrainer(const NoisyDataset &data, const FeatureCache &cache, TeacherTrainOptions options,
        TrainObserver *observer = nullptr, const TrainControl *control = nullptr);
    ~TeacherTrainer();

    const TeacherTrainOptions &options() const { return m_options; }
    bool isOracle() const { return m_options.kind == TeacherKind::Oracle; }
    // The teacher reads log-mel frames (tiny, small, or a pretrained spectral checkpoint).
    bool isSpectral() const;
    // pretrained: used as shipped, without any training (its classes are the dataset's).
    bool usesPretrainedAsIs() const;
    // run() trains the model by gradient steps (from scratch, or fine-tuning all of a pretrained
    // or imported teacher), the path that runs data-parallel; not the oracle, the pretrained
    // teacher as is, or a new head on a frozen pretrained teacher.
    bool trainsInLoop() const;
    // Makes (or loads from the feature cache) the log-mel of every split a spectral teacher
    // trains and validates on, so that other ranks then read them from the cache.
    void prepareInputs();
    // Trains data-parallel over `dist` (TeacherTrainOptions::dist) from the next run() on.
    void setDistributed(Distributed *dist) { m_options.dist = dist; }

    // The pretrained teacher shipped with TKD Studio (tkd::findResource).
    static const char *shippedTeacherName(); // "teachers/kws12-small.safetensors"
    static std::string shippedTeacherPath();

    // Throws tkd::Error for bad options/data, tkd::Cancelled when cancelled.
    TeacherResult run();
    // Re-evaluates a loaded teacher (no training), e.g. from a previous run's checkpoint.
    TeacherResult evaluateOnly(Wav2Vec2Model model);

    // The teacher's input for items of the fixed dataset, for the TeacherAttentionCache.
    TeacherAttentionCache::Source cacheSource(Split split);
    // The log-mel front end of the spectral teacher.
    FeatureConfig spectralFeatures() const;
    // The model this configuration trains (random init / imported weights).
    Wav2Vec2Model buildModel() const;

    // Oracle a_T for a prepared split at `length` frames.
    static torch::Tensor oracleAttention(const PreparedSplit &split, int64_t length);
    static std::string weightsHash(const Wav2Vec2Model &model);
    // The attention-focus term (TeacherTrainOptions::attentionFocus), batch mean, in [0, 2]:
    // the lower, the fewer frames other than frame 1 hold the rollout row's mass and the less
    // of it stays on frame 1 (the rollout's residual keeps at least r^layers there).
    static torch::Tensor attentionFocusLoss(
        const AttentionRollout &rollout, const std::vector<torch::Tensor> &attentions);

private:
    struct Inputs;
    struct Loop;
    struct EpochInputs;
    // The trained path: the optimiser loop over epochs, the best-on-validation weights.
    TeacherResult train(std::chrono::steady_clock::time_point t0);
    // One epoch of optimiser steps: the mean task loss and attention-focus term over its steps.
    std::pair<double, double> trainEpoch(Loop &loop, int64_t epoch);
    TeacherEvaluation evaluate(Wav2Vec2Model &model, Split split);
    // pretrained + fine_tune head: a new head trained on the frozen teacher's frame-1 outputs,
    // computed once per clip (a linear probe: seconds, where fine-tuning would take minutes).
    TeacherResult adaptHead(std::chrono::steady_clock::time_point t0);
    // The end of every trained teacher: scored on the test split, hashed, timed, warned about.
    // (model is a module holder: a shared handle, not a copy of the weights.)
    void finish(TeacherResult &r, Wav2Vec2Model model, std::chrono::steady_clock::time_point t0);
    static torch::Tensor taskLoss(
        const torch::Tensor &logits, const torch::Tensor &targets, bool multiLabel);
    TeacherResult runOracle();
    // The epoch's training inputs; `rows`: the clips this rank reads (empty: all).
    EpochInputs inputsForEpoch(int64_t epoch, const std::vector<int64_t> &rows);
    TeacherResult runPretrainedAsIs(std::chrono::steady_clock::time_point t0);
    std::vector<torch::Tensor> trainableParameters(Wav2Vec2Model &model) const;
    // Writes the best-so-far weights to checkpointDir/best.safetensors; returns the path.
    std::string saveBest(const Wav2Vec2Model &model, const TeacherEvaluation &val, int64_t epoch,
        int64_t step) const;
    // Frame 1's last hidden state for the clips `rows` of a split (empty: all of them).
    torch::Tensor frameOneOutputs(
        Wav2Vec2Model &model, Split split, const std::vector<int64_t> &rows = {});
    // The training clips the linear probe reads: at most probeClipsPerClass of each class,
    // drawn by the seed, in index order.
    std::vector<int64_t> probeRows(const torch::Tensor &targets) const;
    TeacherEvaluation evaluateOracleSplit(Split split);
    const PreparedSplit &spectralSplit(Split split);
    torch::Tensor inputBatch(Split split, int64_t first, int64_t count);
    // The teacher inputs of the clips `rows` of a split (log-mel frames or waveforms).
    torch::Tensor inputRows(Split split, const std::vector<int64_t> &rows);
    EpochInputs freshEpochFeatures(int64_t epoch, const std::vector<int64_t> &rows);
    FrameTiming timing(const Wav2Vec2Model &model) const;
    int64_t spectralSubsamplingInUse() const;
    void warn(TeacherResult &result);
    // Items `indices` of `split`, built on `threads` workers (NoisyDataset::item is pure).
    static std::vector<NoisyItem> buildSelected(
        const NoisyDataset &data, Split split, const std::vector<int64_t> &indices, int threads);
    // The items' samples as one [n, samples] tensor (each item's buffer is freed on the way).
    static torch::Tensor stackSamples(std::vector<NoisyItem> &items);
    void message(const std::string &text, int level) const;

    const NoisyDataset &m_data;
    const FeatureCache &m_cache;
    TeacherTrainOptions m_options;
    TrainObserver *m_observer;
    const TrainControl *m_control;
    std::unique_ptr<PreparedData> m_prepared;
    std::map<Split, PreparedSplit> m_spectral; // log-mel of the fixed dataset (tiny teacher)
    std::string m_pretrainedPath; // pretrained: the checkpoint, resolved
    TeacherCheckpointInfo m_pretrainedInfo;
};

} // namespace tkd
