#pragma once

#include "core/data/RoomChannel.h"
#include "core/distill/HeadFusion.h"
#include "core/distill/KdTarget.h"
#include "core/experiment/OptimiserKind.h"
#include "core/experiment/TrainingChoices.h"
#include "core/features/FeatureConfig.h"
#include "core/models/TeacherKind.h"
#include "core/util/Error.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

struct NoisyConfig;
struct RolloutOptions;
struct DatasetSource;
struct BuiltinCorpusConfig;

// One problem found in an experiment: the full key path ("train.lr", "kd.lambdas[2]"), what is
// wrong, and where it came from when the config was read from text (line is 1-based, 0 when
// unknown).
struct ConfigIssue
{
    std::string key;
    std::string message;
    std::string source; // file name (or the sourceName given to fromYaml); empty for check()
    int line = 0;

    // "file.yaml:12: train.lr: must be > 0" (the parts that are known).
    std::string toString() const;
};

// Thrown by ExperimentConfig::load/fromYaml/validate. A tkd::Error whose subject is the first
// problem's location ("file.yaml:12: train.lr") and whose reason is its message; issues() holds
// every problem, so front ends can show them all at once.
class ConfigError : public Error
{
public:
    // Keeps at most kMaxIssues issues, the last one then counting the rest.
    explicit ConfigError(std::vector<ConfigIssue> issues);
    static constexpr size_t kMaxIssues = 100;
    const std::vector<ConfigIssue> &issues() const { return m_issues; }

private:
    std::vector<ConfigIssue> m_issues;
};

// What the GUI needs to build a form for one key, and what toYaml() writes as its comment.
struct ConfigKeySpec
{
    enum class Type {
        String,
        Choice,
        Int,
        Seed,
        Double,
        Bool,
        DoublePair,
        DoubleList,
        IntList,
        SeedList,
        StringList,
        ChoiceList
    };
    std::string key; // full path: "train.lr", "features.window_ms"
    Type type = Type::String;
    std::string help; // one line; the comment in the YAML file
    std::vector<std::string> choices; // Choice / ChoiceList
    double minValue = 0.0; // numeric bounds (inclusive) where hasRange
    double maxValue = 0.0;
    bool hasRange = false;
};

// One experiment = one YAML file (DESIGN.md rule 6): the GUI edits it, the CLI replays it, and
// every run stores the resolved copy. A plain struct with defaults; the key names below are the
// YAML keys (resources/experiments/default.yaml documents each one, and is exactly
// ExperimentConfig().toYaml()).
struct ExperimentConfig
{
    std::string name = "noisy-keywords";
    uint64_t seed = 1; // teacher initialisation and fine-tuning order; students use grid.seeds

    struct Corpus
    {
        int speakers = 400;
        uint64_t seed = 1;
        // Voice randomisation (BuiltinCorpusConfig; neutral: the espeak-only corpus).
        double fliteShare = 0.0;
        double speed[2] = { 1.0, 1.0 };
        double pitchSemitones[2] = { 0.0, 0.0 };
        double vtl[2] = { 1.0, 1.0 };
        // Speakers of the voice family the corpus leaves out (flite when fliteShare is 0,
        // espeak-ng when it is 1) that every student is also scored on: leave-one-family-out.
        int unseenVoices = 0;
        bool operator==(const Corpus &o) const;
    };
    struct Noisy
    {
        double lengthSec = 4.0;
        double snrDbMin = 0.0;
        double snrDbMax = 10.0;
        // "babble" (a bed of overlapping words at the drawn SNR) is offered but not a default: at
        // 0-10 dB its words include other keywords, and TC-ResNet8 fell from 70% to 38% at 2 s with
        // it.
        std::vector<std::string> noise = { "white", "pink", "brown" };
        std::string noiseDir;
        double babbleGainDb = -10.0;
        int babbleWords = 2;
        uint64_t seed = 1;
        RoomChannelConfig roomChannel; // room, channel, gain (neutral by default)
        bool operator==(const Noisy &o) const;
    };
    struct Data
    {
        std::string source = "builtin"; // builtin | speech-commands | fsd50k | folder
        std::string path;
        int task = 12;
        Corpus corpus;
        Noisy noisy;
        bool operator==(const Data &o) const;
    };
    struct Rollout
    {
        HeadFusion headFusion = HeadFusion::Mean;
        double residual = 0.5;
        std::vector<int64_t> layers; // empty: all layers
        bool operator==(const Rollout &o) const;
    };
    struct Teacher
    {
        TeacherKind kind = TeacherKind::Pretrained; // the shipped teacher
        std::string weights;
        TeacherFineTune fineTune = TeacherFineTune::Head;
        int probeClipsPerClass = 100; // 0: every training clip feeds the linear probe
        int epochs = 20;
        double lr = 1e-3;
        int batchSize = 32;
        bool freshNoiseEachEpoch = true;
        Rollout rollout;
        bool operator==(const Teacher &o) const;
    };
    struct LogitKd
    {
        double weight = 0.0;
        double temperature = 2.0;
        bool operator==(const LogitKd &o) const;
    };
    struct Kd
    {
        std::vector<double> lambdas = { 0.0, 0.1, 0.25, 0.5 };
        KdTarget target = KdTarget::Branch;
        LogitKd logitKd;
        bool operator==(const Kd &o) const;
    };
    struct Grid
    {
        std::vector<double> lengthsSec = { 2.0, 4.0, 6.0, 8.0 };
        std::vector<uint64_t> seeds = { 1 };
        bool operator==(const Grid &o) const;
    };
    struct Train
    {
        OptimiserKind optimizer = OptimiserKind::Adam;
        double lr = 1e-3;
        double momentum = 0.9;
        double weightDecay = 0.0;
        ScheduleKind schedule = ScheduleKind::Cosine;
        int warmupEpochs = 1;
        int epochs = 30;
        int batchSize = 64;
        int earlyStoppingPatience = 0; // 0: off
        int earlyStoppingMinEpochs = 0; // early stopping never ends a run before this epoch
        double gradClipNorm = 0.0; // 0: off
        int numThreads = 0; // 0: all cores
        std::string device = "cpu"; // cpu | cuda
        bool operator==(const Train &o) const;
    };
    struct Output
    {
        std::string runsDir = "runs";
        bool operator==(const Output &o) const;
    };

    Data data;
    FeatureConfig features;
    Teacher teacher;
    std::vector<std::string> students = { "tc-resnet8", "crnn", "att-rnn" };
    Kd kd;
    Grid grid;
    Train train;
    Output output;

    bool operator==(const ExperimentConfig &o) const;
    bool operator!=(const ExperimentConfig &o) const { return !(*this == o); }

    // Reads and validates a file. Throws ConfigError (a tkd::Error) naming the file, line and full
    // key of every problem: YAML syntax, unknown or duplicated keys, wrong types, bad values.
    static ExperimentConfig load(const std::string &path);
    // Same for text; sourceName is what messages call it (a file name, "<editor>").
    static ExperimentConfig fromYaml(
        const std::string &text, const std::string &sourceName = "<text>");
    // Lenient form for editors: keeps every value that has the right type, puts every problem
    // (including range checks) in `issues` and throws only for a YAML syntax error.
    static ExperimentConfig parse(
        const std::string &text, const std::string &sourceName, std::vector<ConfigIssue> &issues);

    // The resolved config as commented YAML; load(toYaml()) == *this for every valid config.
    std::string toYaml() const;
    // SHA-256 of the resolved YAML without comments: identifies the experiment in run names,
    // checkpoints and provenance.
    std::string hash() const;

    // Every problem at once (value ranges, choices, combinations, the feature, noise, rollout,
    // dataset and corpus validators), in schema order. Empty means valid.
    std::vector<ConfigIssue> check() const;
    // Throws ConfigError if check() finds anything.
    void validate() const;

    // The documented keys, in file order (features.* come from FeatureConfig::declared()).
    static const std::vector<ConfigKeySpec> &schema();

private:
    std::string writeYaml(bool comments) const;

public:
    // The settings of the component validators, with this config's values (for the trainer).
    NoisyConfig noisyConfig(double lengthSec) const; // lengthSec: one of grid.lengths_sec
    RolloutOptions rolloutOptions() const;
    // The one way to open the experiment's data: datasetSource(dir).open(progress). corpusDir,
    // when given, is where the built-in corpus lives instead of data.path.
    DatasetSource datasetSource(const std::string &corpusDir = {}) const;
    BuiltinCorpusConfig corpusConfig() const;
    // grid.seeds, or {seed} when the list is empty; grid.lengths_sec, or {data.noisy.length_sec}.
    std::vector<uint64_t> studentSeeds() const;
    std::vector<double> clipLengths() const;
};

} // namespace tkd
