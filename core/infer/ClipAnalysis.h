#pragma once

#include "core/data/Dataset.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/experiment/PipelineResult.h"
#include "core/util/Progress.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <limits>
#include <memory>
#include <string>
#include <vector>

namespace tkd {

// A log-mel spectrogram, row-major [frames][bins]; frame f covers [f * hopSec, f * hopSec +
// windowSec).
struct ClipSpectrogram
{
    std::vector<float> values;
    int64_t frames = 0;
    int64_t bins = 0;
    double hopSec = 0.02;
    double windowSec = 0.04;
};

// One attention curve over a clip: the teacher's rollout (or the oracle window), a student's
// attention branch or its native attention.
struct ClipAttentionCurve
{
    std::string model; // "teacher" or the student's name ("tc-resnet8")
    std::string kind; // oracle | rollout | branch | native | none (a student without attention)
    std::string teacherKind; // teacher only: tiny | base | imported | oracle ...
    double lambda = -1.0; // students: the KD weight of the checkpoint
    uint64_t seed = 0;
    std::vector<double> weights; // a distribution over the frames (sums to 1)
    std::vector<double> timesSec; // frame centres
    double score
        = std::numeric_limits<double>::quiet_NaN(); // localisation: mass in the keyword window
    std::string prediction; // the model's class; empty when it has no head
    double confidence = -1.0; // softmax probability of the prediction
};

// Everything about one clip of a run's noisy dataset: audio, spectrogram, keyword window, and
// the teacher's and every student's attention with localisation scores (the paper's Fig. 2).
struct ClipAnalysisResult
{
    double lengthSec = 0.0;
    Split split = Split::Test;
    int64_t index = 0;
    std::string title; // "test #3 · yes (speaker, white noise, SNR 5.0 dB)"
    std::vector<std::string> labels;
    std::string word;
    std::string speaker;
    std::string noise;
    double snrDb = 0.0;
    std::vector<float> samples; // 16 kHz mono
    int sampleRate = 16000;
    double clipSec = 0.0;
    double onsetSec = -1.0; // keyword window; < 0: none (silence)
    double offsetSec = -1.0;
    ClipSpectrogram spectrogram;
    double baseline = std::numeric_limits<double>::quiet_NaN(); // uniform attention's score
    std::vector<ClipAttentionCurve> curves; // teacher first
    // The teacher's attention of the rollout query row per layer and head, row-major
    // [layers * heads][teacherTimesSec.size()]; empty for the oracle.
    int64_t layers = 0;
    int64_t heads = 0;
    std::vector<double> teacherTimesSec;
    std::vector<float> layerRows;

    // Everything but the audio and the per-layer rows (`tkd analyse --json`).
    nlohmann::json toJson() const;
};

// A clip of the run's noisy dataset as a row of a clip list, with the prediction of the run's
// best student (and the teacher's confidence) for held-out clips.
struct ClipPrediction
{
    Split split = Split::Train;
    int64_t index = 0;
    std::string word;
    std::string speaker;
    std::vector<std::string> labels;
    double clipSec = 0.0;
    double onsetSec = -1.0;
    double offsetSec = -1.0;
    std::string prediction; // empty: not predicted (training split, or no student)
    double studentConfidence = -1.0;
    double teacherConfidence = -1.0;
};

// Clip analysis over a finished (or partly finished) run folder, for the studio and `tkd
// analyse` alike: reads config.yaml and metrics.json, rebuilds the noisy dataset it trained on
// (item i of a split is a pure function of the config), and runs its teacher and students.
// Loaded models are kept, so looking at clip after clip costs one forward pass per model. Heavy
// (LibTorch, audio synthesis): never call it on a GUI thread. Not thread-safe.
class ClipAnalysis
{
public:
    // Throws tkd::Error naming the file when config.yaml or metrics.json is missing or malformed.
    explicit ClipAnalysis(const std::string &runDir);
    ~ClipAnalysis();
    ClipAnalysis(const ClipAnalysis &) = delete;
    ClipAnalysis &operator=(const ClipAnalysis &) = delete;

    const std::string &runDir() const;
    const ExperimentConfig &config() const;
    const PipelineResult &result() const;
    std::vector<double> lengths() const; // clip lengths with results, ascending

    // Clip `index` of `split` at length L. withModels = false: audio and spectrogram only.
    // Students: those of length L trained with `seed` (0: the run's first seed).
    ClipAnalysisResult analyse(
        double lengthSec, Split split, int64_t index, uint64_t seed = 0, bool withModels = true);

    // Every clip of the dataset at length L; validation and test clips with the prediction of the
    // best student of that length (highest test score) and, for a spectral teacher, the teacher's
    // confidence. Features come from the feature cache the run filled. `note`: which student
    // predicted (or why none did).
    std::vector<ClipPrediction> predictions(
        double lengthSec, const Progress &progress = {}, std::string *note = nullptr);

    // A clip file (or a segment of it: segmentSec > 0) with its log-mel spectrogram at the
    // default front end, no models: what the dataset browser shows. Throws tkd::Error naming the
    // file.
    static ClipAnalysisResult audioFile(
        const std::string &path, double startSec = 0.0, double segmentSec = 0.0);

private:
    struct Impl;
    std::unique_ptr<Impl> d;
};

} // namespace tkd
