#include "core/train/ExperimentConfig.h"

#include "core/data/BuiltinCorpus.h"
#include "core/data/DatasetSource.h"
#include "core/data/NoisyDataset.h"
#include "core/distill/AttentionRollout.h"
#include "core/models/StudentRegistry.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <set>
#include <variant>

namespace tkd {

// ---------------------------------------------------------------------------------------------
// Issues and errors

std::string ConfigIssue::toString() const
{
    std::string s;
    if (!source.empty())
        s += source + (line > 0 ? ":" + std::to_string(line) : std::string()) + ": ";
    else if (line > 0)
        s += "line " + std::to_string(line) + ": ";
    if (!key.empty())
        s += key + ": ";
    return s + message;
}

namespace {

std::string issueSubject(const ConfigIssue &issue)
{
    std::string s = issue.source;
    if (issue.line > 0)
        s += (s.empty() ? "line " : ":") + std::to_string(issue.line);
    if (!issue.key.empty())
        s += (s.empty() ? "" : ": ") + issue.key;
    return s.empty() ? std::string("experiment") : s;
}

std::string issueReason(const std::vector<ConfigIssue> &issues)
{
    if (issues.empty())
        return "invalid experiment";
    std::string r = issues.front().message;
    if (issues.size() > 1)
        r += " (and " + std::to_string(issues.size() - 1) + " more problem" +
             (issues.size() > 2 ? "s" : "") + ")";
    return r;
}

} // namespace

ConfigError::ConfigError(std::vector<ConfigIssue> issues)
    : Error(issues.empty() ? std::string("experiment") : issueSubject(issues.front()), issueReason(issues)),
      m_issues(std::move(issues))
{
}

// ---------------------------------------------------------------------------------------------
// Equality

bool ExperimentConfig::Corpus::operator==(const Corpus &o) const
{
    return speakers == o.speakers && seed == o.seed;
}
bool ExperimentConfig::Noisy::operator==(const Noisy &o) const
{
    return lengthSec == o.lengthSec && snrDbMin == o.snrDbMin && snrDbMax == o.snrDbMax &&
           noise == o.noise && noiseDir == o.noiseDir && babbleGainDb == o.babbleGainDb &&
           babbleWords == o.babbleWords && seed == o.seed;
}
bool ExperimentConfig::Data::operator==(const Data &o) const
{
    return source == o.source && path == o.path && task == o.task && corpus == o.corpus &&
           noisy == o.noisy;
}
bool ExperimentConfig::Rollout::operator==(const Rollout &o) const
{
    return headFusion == o.headFusion && residual == o.residual && layers == o.layers;
}
bool ExperimentConfig::Teacher::operator==(const Teacher &o) const
{
    return kind == o.kind && weights == o.weights && fineTune == o.fineTune && epochs == o.epochs &&
           lr == o.lr && batchSize == o.batchSize && freshNoiseEachEpoch == o.freshNoiseEachEpoch &&
           rollout == o.rollout;
}
bool ExperimentConfig::LogitKd::operator==(const LogitKd &o) const
{
    return weight == o.weight && temperature == o.temperature;
}
bool ExperimentConfig::Kd::operator==(const Kd &o) const
{
    return lambdas == o.lambdas && target == o.target && logitKd == o.logitKd;
}
bool ExperimentConfig::Grid::operator==(const Grid &o) const
{
    return lengthsSec == o.lengthsSec && seeds == o.seeds;
}
bool ExperimentConfig::Train::operator==(const Train &o) const
{
    return optimizer == o.optimizer && lr == o.lr && momentum == o.momentum &&
           weightDecay == o.weightDecay && schedule == o.schedule && warmupEpochs == o.warmupEpochs &&
           epochs == o.epochs && batchSize == o.batchSize &&
           earlyStoppingPatience == o.earlyStoppingPatience && numThreads == o.numThreads &&
           device == o.device;
}
bool ExperimentConfig::Output::operator==(const Output &o) const
{
    return runsDir == o.runsDir;
}

bool ExperimentConfig::operator==(const ExperimentConfig &o) const
{
    // FeatureConfig has no operator==: its canonical text lists every parameter exactly, and
    // the kind separately because mfcc_count is left out of it for log-mel.
    return name == o.name && seed == o.seed && data == o.data &&
           features.kind == o.features.kind && features.mfccCount == o.features.mfccCount &&
           features.canonicalString() == o.features.canonicalString() && teacher == o.teacher &&
           students == o.students && kd == o.kd && grid == o.grid && train == o.train &&
           output == o.output;
}

// ---------------------------------------------------------------------------------------------
// The schema: one row per key, with typed accessors, drives parsing, checking and writing.

namespace {

using Type = ConfigKeySpec::Type;
using Value = std::variant<std::string, int64_t, double, bool, std::vector<std::string>,
                           std::vector<double>, std::vector<int64_t>>;

struct Field
{
    ConfigKeySpec spec;
    std::function<Value(const ExperimentConfig &)> get;
    std::function<void(ExperimentConfig &, const Value &)> set;
};

// Shortest text that reads back to the same double.
std::string exactText(double v)
{
    if (std::isnan(v))
        return ".nan";
    if (std::isinf(v))
        return v > 0 ? ".inf" : "-.inf";
    char buf[64];
    // Plain decimals where people write them (0.001, 7600, 40); exponents only for the very
    // small or large (3e-05, 1e-12).
    if (v == 0.0 || (std::fabs(v) >= 1e-4 && std::fabs(v) < 1e15)) {
        for (int decimals = 0; decimals <= 20; ++decimals) {
            std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
            if (std::strtod(buf, nullptr) == v)
                return buf;
        }
    }
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v)
            break;
    }
    return buf;
}

// Comment lines wrapped to about 100 columns.
std::string commentLines(const std::string &indent, const std::string &text)
{
    std::string out, line = indent + "#";
    size_t pos = 0;
    while (pos < text.size()) {
        size_t end = text.find(' ', pos);
        if (end == std::string::npos)
            end = text.size();
        const std::string word = text.substr(pos, end - pos);
        if (line.size() + 1 + word.size() > 100 && line.size() > indent.size() + 1) {
            out += line + "\n";
            line = indent + "#";
        }
        line += " " + word;
        pos = end + 1;
    }
    return out + line + "\n";
}

template <class Ref>
Field stringField(ConfigKeySpec spec, Ref ref)
{
    return {std::move(spec),
            [ref](const ExperimentConfig &c) { return Value(ref(const_cast<ExperimentConfig &>(c))); },
            [ref](ExperimentConfig &c, const Value &v) { ref(c) = std::get<std::string>(v); }};
}

template <class Ref>
Field intField(ConfigKeySpec spec, Ref ref)
{
    return {std::move(spec),
            [ref](const ExperimentConfig &c) {
                return Value(int64_t(ref(const_cast<ExperimentConfig &>(c))));
            },
            [ref](ExperimentConfig &c, const Value &v) {
                using T = std::decay_t<decltype(ref(c))>;
                ref(c) = T(std::get<int64_t>(v));
            }};
}

template <class Ref>
Field doubleField(ConfigKeySpec spec, Ref ref)
{
    return {std::move(spec),
            [ref](const ExperimentConfig &c) { return Value(ref(const_cast<ExperimentConfig &>(c))); },
            [ref](ExperimentConfig &c, const Value &v) { ref(c) = std::get<double>(v); }};
}

template <class Ref>
Field boolField(ConfigKeySpec spec, Ref ref)
{
    return {std::move(spec),
            [ref](const ExperimentConfig &c) { return Value(ref(const_cast<ExperimentConfig &>(c))); },
            [ref](ExperimentConfig &c, const Value &v) { ref(c) = std::get<bool>(v); }};
}

template <class Ref>
Field listField(ConfigKeySpec spec, Ref ref)
{
    return {std::move(spec),
            [ref](const ExperimentConfig &c) { return Value(ref(const_cast<ExperimentConfig &>(c))); },
            [ref](ExperimentConfig &c, const Value &v) {
                using T = std::decay_t<decltype(ref(c))>;
                ref(c) = std::get<T>(v);
            }};
}

template <class Ref>
Field seedListField(ConfigKeySpec spec, Ref ref)
{
    return {std::move(spec),
            [ref](const ExperimentConfig &c) {
                std::vector<int64_t> out;
                for (uint64_t s : ref(const_cast<ExperimentConfig &>(c)))
                    out.push_back(int64_t(s));
                return Value(out);
            },
            [ref](ExperimentConfig &c, const Value &v) {
                auto &dst = ref(c);
                dst.clear();
                for (int64_t s : std::get<std::vector<int64_t>>(v))
                    dst.push_back(uint64_t(s));
            }};
}

ConfigKeySpec spec(std::string key, Type type, std::string help, std::vector<std::string> choices = {})
{
    ConfigKeySpec s;
    s.key = std::move(key);
    s.type = type;
    s.help = std::move(help);
    s.choices = std::move(choices);
    return s;
}

ConfigKeySpec ranged(std::string key, Type type, double lo, double hi, std::string help)
{
    ConfigKeySpec s = spec(std::move(key), type, std::move(help));
    s.minValue = lo;
    s.maxValue = hi;
    s.hasRange = true;
    return s;
}

constexpr double kMaxSeed = 9007199254740992.0; // 2^53: exact in doubles, JSON and the GUI's spin boxes

const std::vector<Field> &fields()
{
    static const std::vector<Field> table = [] {
        using C = ExperimentConfig;
        std::vector<Field> f;
        f.push_back(stringField(spec("name", Type::String,
                                     "experiment name: part of every run folder name"),
                                [](C &c) -> auto & { return c.name; }));
        f.push_back(intField(ranged("seed", Type::Seed, 0, kMaxSeed,
                                    "seed of the teacher's initialisation and fine-tuning order "
                                    "(students use grid.seeds)"),
                             [](C &c) -> auto & { return c.seed; }));

        f.push_back(stringField(spec("data.source", Type::Choice,
                                     "where clips come from: builtin (synthetic espeak-ng corpus), "
                                     "speech-commands (v2 folder), fsd50k, or folder (one folder per class)",
                                     {"builtin", "speech-commands", "fsd50k", "folder"}),
                                [](C &c) -> auto & { return c.data.source; }));
        f.push_back(stringField(spec("data.path", Type::String,
                                     "dataset folder; for builtin, where generated corpora are kept "
                                     "(empty: the cache folder)"),
                                [](C &c) -> auto & { return c.data.path; }));
        f.push_back(intField(spec("data.task", Type::Int,
                                  "keyword label set: 12 (10 words + unknown + silence) or 35 (all words)"),
                             [](C &c) -> auto & { return c.data.task; }));
        f.push_back(intField(ranged("data.corpus.speakers", Type::Int, 1, 100000,
                                    "builtin only: synthetic speakers (split by speaker into train/validation/test)"),
                             [](C &c) -> auto & { return c.data.corpus.speakers; }));
        f.push_back(intField(ranged("data.corpus.seed", Type::Seed, 0, kMaxSeed,
                                    "builtin only: seed of the speakers' voices"),
                             [](C &c) -> auto & { return c.data.corpus.seed; }));

        f.push_back(doubleField(spec("data.noisy.length_sec", Type::Double,
                                     "total clip length L in seconds (the keyword sits at a random offset "
                                     "inside it); grid.lengths_sec overrides it for sweeps"),
                                [](C &c) -> auto & { return c.data.noisy.lengthSec; }));
        f.push_back({spec("data.noisy.snr_db", Type::DoublePair,
                          "[lo, hi]: background SNR in dB, drawn uniformly per clip"),
                     [](const C &c) { return Value(std::vector<double>{c.data.noisy.snrDbMin, c.data.noisy.snrDbMax}); },
                     [](C &c, const Value &v) {
                         const auto &p = std::get<std::vector<double>>(v);
                         c.data.noisy.snrDbMin = p.at(0);
                         c.data.noisy.snrDbMax = p.at(1);
                     }});
        f.push_back(listField(spec("data.noisy.noise", Type::ChoiceList,
                                   "background kinds, one drawn per clip: white, pink, brown, babble, "
                                   "folder (files from noise_dir)",
                                   {"white", "pink", "brown", "babble", "folder"}),
                              [](C &c) -> auto & { return c.data.noisy.noise; }));
        f.push_back(stringField(spec("data.noisy.noise_dir", Type::String,
                                     "folder of noise recordings for 'folder' noise (empty: the dataset's "
                                     "own, e.g. Speech Commands' _background_noise_)"),
                                [](C &c) -> auto & { return c.data.noisy.noiseDir; }));
        f.push_back(doubleField(spec("data.noisy.babble_gain_db", Type::Double,
                                     "level of each overlaid babble word relative to the keyword (dB)"),
                                [](C &c) -> auto & { return c.data.noisy.babbleGainDb; }));
        f.push_back(intField(spec("data.noisy.babble_words", Type::Int,
                                  "other words overlaid on every clip as babble (0: none)"),
                             [](C &c) -> auto & { return c.data.noisy.babbleWords; }));
        f.push_back(intField(ranged("data.noisy.seed", Type::Seed, 0, kMaxSeed,
                                    "seed of placement, SNR and noise: clip i is a pure function of it"),
                             [](C &c) -> auto & { return c.data.noisy.seed; }));

        // The front end's keys and ranges come from its own declared table (DESIGN.md rule 5).
        f.push_back({spec("features.kind", Type::Choice, "student front end: mfcc or logmel",
                          {"mfcc", "logmel"}),
                     [](const C &c) { return Value(c.features.kindName()); },
                     [](C &c, const Value &v) {
                         c.features.kind = FeatureConfig::kindFromName(std::get<std::string>(v));
                     }});
        for (const ParamSpec &p : FeatureConfig::declared()) {
            ConfigKeySpec s = ranged("features." + p.name, p.integer ? Type::Int : Type::Double,
                                     p.minValue, p.maxValue, p.help);
            const std::string name = p.name;
            if (p.integer)
                f.push_back({s, [name](const C &c) { return Value(int64_t(c.features.value(name))); },
                             [name](C &c, const Value &v) {
                                 c.features.setValue(name, double(std::get<int64_t>(v)));
                             }});
            else
                f.push_back({s, [name](const C &c) { return Value(c.features.value(name)); },
                             [name](C &c, const Value &v) {
                                 c.features.setValue(name, std::get<double>(v));
                             }});
        }

        f.push_back(stringField(spec("teacher.kind", Type::Choice,
                                     "pretrained (the teacher shipped in resources/teachers/, or the teacher checkpoint "
                                     "in teacher.weights; adapted only when its classes differ), tiny or small "
                                     "(log-mel wav2vec 2.0 trained from scratch), base, xlsr-300m, imported (Hugging Face "
                                     "weights in teacher.weights), or oracle (the keyword's true window: an upper bound "
                                     "/ ablation, not a teacher)",
                                     {"pretrained", "tiny", "small", "base", "xlsr-300m", "imported", "oracle"}),
                                [](C &c) -> auto & { return c.teacher.kind; }));
        f.push_back(stringField(spec("teacher.weights", Type::String,
                                     "imported: a Hugging Face folder or .safetensors file (required); pretrained: a "
                                     "teacher checkpoint (empty: the shipped teacher)"),
                                [](C &c) -> auto & { return c.teacher.weights; }));
        f.push_back(stringField(spec("teacher.fine_tune", Type::Choice,
                                     "head: train the classifier only (encoder frozen); all: every layer (pretrained: "
                                     "all fine-tunes even when the classes match)",
                                     {"head", "all"}),
                                [](C &c) -> auto & { return c.teacher.fineTune; }));
        f.push_back(intField(ranged("teacher.epochs", Type::Int, 0, 100000,
                                    "teacher training / fine-tuning epochs (0: use the weights as they are; "
                                    "pretrained with the same classes: not used)"),
                             [](C &c) -> auto & { return c.teacher.epochs; }));
        f.push_back(doubleField(ranged("teacher.lr", Type::Double, 1e-9, 10.0, "teacher learning rate"),
                                [](C &c) -> auto & { return c.teacher.lr; }));
        f.push_back(intField(ranged("teacher.batch_size", Type::Int, 1, 65536, "teacher batch size"),
                             [](C &c) -> auto & { return c.teacher.batchSize; }));
        f.push_back(boolField(spec("teacher.fresh_noise_each_epoch", Type::Bool,
                                   "draw new noise, offsets and SNRs every epoch (true) or reuse epoch 0's"),
                              [](C &c) -> auto & { return c.teacher.freshNoiseEachEpoch; }));
        f.push_back(stringField(spec("teacher.rollout.head_fusion", Type::Choice,
                                     "how each layer's heads are combined before rollout",
                                     {"mean", "max", "min"}),
                                [](C &c) -> auto & { return c.teacher.rollout.headFusion; }));
        f.push_back(doubleField(ranged("teacher.rollout.residual", Type::Double, 0.0, 1.0,
                                       "r in A' = (1 - r) A + r I (0.5: the standard recipe)"),
                                [](C &c) -> auto & { return c.teacher.rollout.residual; }));
        f.push_back(listField(spec("teacher.rollout.layers", Type::IntList,
                                   "layers rolled out, negative counting from the end ([]: all layers)"),
                              [](C &c) -> auto & { return c.teacher.rollout.layers; }));

        f.push_back(listField(spec("students", Type::StringList,
                                   "students to train: lstm-p, tc-resnet8, tc-resnet8-1.5, tc-resnet14, "
                                   "tc-resnet14-1.5, crnn, att-rnn, att-rnn-gru, mhatt-rnn"),
                              [](C &c) -> auto & { return c.students; }));

        f.push_back(listField(ranged("kd.lambdas", Type::DoubleList, 0.0, 1000.0,
                                     "temporal KD weights swept (0: the vanilla student)"),
                              [](C &c) -> auto & { return c.kd.lambdas; }));
        f.push_back(stringField(spec("kd.target", Type::Choice,
                                     "branch: the training-only attention branch on c'; native: the "
                                     "student's own attention (att-rnn, att-rnn-gru, mhatt-rnn only)",
                                     {"branch", "native"}),
                                [](C &c) -> auto & { return c.kd.target; }));
        f.push_back(doubleField(ranged("kd.logit_kd.weight", Type::Double, 0.0, 1000.0,
                                       "weight of classic logit distillation, a baseline (0: off)"),
                                [](C &c) -> auto & { return c.kd.logitKd.weight; }));
        f.push_back(doubleField(ranged("kd.logit_kd.temperature", Type::Double, 0.01, 100.0,
                                       "softmax temperature of logit distillation"),
                                [](C &c) -> auto & { return c.kd.logitKd.temperature; }));

        f.push_back(listField(spec("grid.lengths_sec", Type::DoubleList,
                                   "clip lengths L swept ([]: just data.noisy.length_sec)"),
                              [](C &c) -> auto & { return c.grid.lengthsSec; }));
        f.push_back(seedListField(ranged("grid.seeds", Type::SeedList, 0, kMaxSeed,
                                         "student seeds: every cell is trained once per seed ([]: just seed)"),
                                  [](C &c) -> auto & { return c.grid.seeds; }));

        f.push_back(stringField(spec("train.optimizer", Type::Choice, "adam or sgd", {"adam", "sgd"}),
                                [](C &c) -> auto & { return c.train.optimizer; }));
        f.push_back(doubleField(ranged("train.lr", Type::Double, 1e-9, 10.0, "peak learning rate"),
                                [](C &c) -> auto & { return c.train.lr; }));
        f.push_back(doubleField(ranged("train.momentum", Type::Double, 0.0, 0.999,
                                       "SGD momentum (adam: unused)"),
                                [](C &c) -> auto & { return c.train.momentum; }));
        f.push_back(doubleField(ranged("train.weight_decay", Type::Double, 0.0, 1.0, "L2 weight decay"),
                                [](C &c) -> auto & { return c.train.weightDecay; }));
        f.push_back(stringField(spec("train.schedule", Type::Choice,
                                     "learning-rate schedule after warm-up: constant, cosine, onecycle or "
                                     "step (x0.1 at 1/2 and 3/4 of the training after warm-up)",
                                     {"constant", "cosine", "onecycle", "step"}),
                                [](C &c) -> auto & { return c.train.schedule; }));
        f.push_back(intField(ranged("train.warmup_epochs", Type::Int, 0, 100000,
                                    "linear warm-up epochs (fewer than train.epochs)"),
                             [](C &c) -> auto & { return c.train.warmupEpochs; }));
        f.push_back(intField(ranged("train.epochs", Type::Int, 1, 100000, "student training epochs"),
                             [](C &c) -> auto & { return c.train.epochs; }));
        f.push_back(intField(ranged("train.batch_size", Type::Int, 1, 65536, "student batch size"),
                             [](C &c) -> auto & { return c.train.batchSize; }));
        f.push_back(intField(ranged("train.early_stopping_patience", Type::Int, 0, 100000,
                                    "stop after this many epochs without a better validation score (0: off)"),
                             [](C &c) -> auto & { return c.train.earlyStoppingPatience; }));
        f.push_back(intField(ranged("train.num_threads", Type::Int, 0, 1024,
                                    "CPU threads for LibTorch (0: all cores)"),
                             [](C &c) -> auto & { return c.train.numThreads; }));
        f.push_back(stringField(spec("train.device", Type::Choice, "cpu or cuda", {"cpu", "cuda"}),
                                [](C &c) -> auto & { return c.train.device; }));

        f.push_back(stringField(spec("output.runs_dir", Type::String,
                                     "folder that receives one sub-folder per run (relative paths: from "
                                     "the working directory)"),
                                [](C &c) -> auto & { return c.output.runsDir; }));
        return f;
    }();
    return table;
}

const std::map<std::string, std::string> &sectionHelp()
{
    static const std::map<std::string, std::string> help = {
        {"data", "The dataset and how each long noisy clip is built around a keyword."},
        {"data.corpus", "The built-in synthetic corpus (data.source: builtin)."},
        {"data.noisy", "Noisy construction: each 1 s keyword placed inside L seconds of background."},
        {"features", "Student front end (40 ms window, 20 ms hop = 49 frames/s, the teacher's rate)."},
        {"teacher", "The wav2vec 2.0 teacher, fine-tuned on the task then frozen."},
        {"teacher.rollout", "Attention rollout: row 0 of the rolled-out attention is the teacher's a_T."},
        {"kd", "Temporal knowledge distillation: loss = task + lambda * KL(a_T || a_S)."},
        {"kd.logit_kd", "Classic logit distillation, offered as a baseline (not part of the method)."},
        {"grid", "The sweep: students x kd.lambdas x lengths_sec x seeds."},
        {"train", "Student training."},
        {"output", "Where runs are written."},
    };
    return help;
}

const Field *findField(const std::string &key)
{
    for (const Field &f : fields())
        if (f.spec.key == key)
            return &f;
    return nullptr;
}

bool isSection(const std::string &path)
{
    for (const Field &f : fields())
        if (f.spec.key.compare(0, path.size() + 1, path + ".") == 0)
            return true;
    return false;
}

std::string typeName(Type t)
{
    switch (t) {
    case Type::String:
    case Type::Choice: return "a string";
    case Type::Int: return "a whole number";
    case Type::Seed: return "a seed (a whole number >= 0)";
    case Type::Double: return "a number";
    case Type::Bool: return "true or false";
    case Type::DoublePair: return "a pair [lo, hi] of numbers";
    case Type::DoubleList: return "a list of numbers";
    case Type::IntList: return "a list of whole numbers";
    case Type::SeedList: return "a list of seeds";
    case Type::StringList:
    case Type::ChoiceList: return "a list of strings";
    }
    return "a value";
}

// ---------------------------------------------------------------------------------------------
// Reading YAML

struct Reader
{
    std::string source;
    std::vector<ConfigIssue> &issues;
    std::map<std::string, int> lines; // key path -> 1-based line

    void issue(const std::string &key, const std::string &message, const YAML::Node &at)
    {
        const YAML::Mark m = at.Mark();
        issues.push_back({key, message, source, m.is_null() ? 0 : m.line + 1});
    }

    static std::string describe(const YAML::Node &n)
    {
        if (n.IsMap())
            return "a map";
        if (n.IsSequence())
            return "a list";
        if (n.IsNull())
            return "nothing";
        return (n.Tag() == "!" ? "the string \"" : "'") + n.Scalar() + (n.Tag() == "!" ? "\"" : "'");
    }

    // Scalars: quoted numbers ("0.1") are strings, not numbers, so they are rejected.
    bool readInt(const std::string &key, const YAML::Node &n, bool seed, int64_t &out)
    {
        if (n.IsScalar() && n.Tag() != "!") {
            const std::string &s = n.Scalar();
            errno = 0;
            char *end = nullptr;
            const long long v = std::strtoll(s.c_str(), &end, 10);
            if (!s.empty() && end && *end == '\0' && errno == 0) {
                if (seed && v < 0) {
                    issue(key, "a seed must be >= 0, got " + s, n);
                    return false;
                }
                if (!seed && (v > INT_MAX || v < INT_MIN)) {
                    issue(key, s + " is too large", n);
                    return false;
                }
                out = v;
                return true;
            }
        }
        issue(key, "expected " + typeName(seed ? Type::Seed : Type::Int) + ", got " + describe(n), n);
        return false;
    }

    bool readDouble(const std::string &key, const YAML::Node &n, double &out)
    {
        if (n.IsScalar() && n.Tag() != "!") {
            const std::string &s = n.Scalar();
            if (s == ".inf" || s == "+.inf" || s == "-.inf" || s == ".nan") {
                out = s == ".nan" ? NAN : (s[0] == '-' ? -INFINITY : INFINITY);
                return true;
            }
            char *end = nullptr;
            const double v = std::strtod(s.c_str(), &end);
            if (!s.empty() && end && *end == '\0' && s != "inf" && s != "nan") {
                out = v;
                return true;
            }
        }
        issue(key, "expected " + typeName(Type::Double) + ", got " + describe(n), n);
        return false;
    }

    bool readBool(const std::string &key, const YAML::Node &n, bool &out)
    {
        if (n.IsScalar() && n.Tag() != "!") {
            std::string s = n.Scalar();
            std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
            if (s == "true" || s == "yes" || s == "on") {
                out = true;
                return true;
            }
            if (s == "false" || s == "no" || s == "off") {
                out = false;
                return true;
            }
        }
        issue(key, "expected true or false, got " + describe(n), n);
        return false;
    }

    bool readString(const std::string &key, const YAML::Node &n, std::string &out)
    {
        if (n.IsScalar()) {
            out = n.Scalar();
            return true;
        }
        issue(key, "expected " + typeName(Type::String) + ", got " + describe(n), n);
        return false;
    }

    bool readValue(const Field &field, const YAML::Node &n, Value &out)
    {
        const std::string &key = field.spec.key;
        const Type t = field.spec.type;
        switch (t) {
        case Type::String:
        case Type::Choice: {
            std::string s;
            if (!readString(key, n, s))
                return false;
            out = s;
            return true;
        }
        case Type::Int:
        case Type::Seed: {
            int64_t v = 0;
            if (!readInt(key, n, t == Type::Seed, v))
                return false;
            out = v;
            return true;
        }
        case Type::Double: {
            double v = 0;
            if (!readDouble(key, n, v))
                return false;
            out = v;
            return true;
        }
        case Type::Bool: {
            bool v = false;
            if (!readBool(key, n, v))
                return false;
            out = v;
            return true;
        }
        default: break;
        }
        if (!n.IsSequence()) {
            issue(key, "expected " + typeName(t) + ", got " + describe(n), n);
            return false;
        }
        bool ok = true;
        if (t == Type::DoublePair || t == Type::DoubleList) {
            std::vector<double> v;
            for (size_t i = 0; i < n.size(); ++i) {
                const std::string k = key + "[" + std::to_string(i) + "]";
                lines[k] = n[i].Mark().line + 1;
                double d = 0;
                ok = readDouble(k, n[i], d) && ok;
                v.push_back(d);
            }
            if (t == Type::DoublePair && n.size() != 2) {
                issue(key, "expected a pair [lo, hi], got " + std::to_string(n.size()) + " values", n);
                return false;
            }
            out = v;
        } else if (t == Type::IntList || t == Type::SeedList) {
            std::vector<int64_t> v;
            for (size_t i = 0; i < n.size(); ++i) {
                const std::string k = key + "[" + std::to_string(i) + "]";
                lines[k] = n[i].Mark().line + 1;
                int64_t x = 0;
                ok = readInt(k, n[i], t == Type::SeedList, x) && ok;
                v.push_back(x);
            }
            out = v;
        } else {
            std::vector<std::string> v;
            for (size_t i = 0; i < n.size(); ++i) {
                const std::string k = key + "[" + std::to_string(i) + "]";
                lines[k] = n[i].Mark().line + 1;
                std::string s;
                ok = readString(k, n[i], s) && ok;
                v.push_back(s);
            }
            out = v;
        }
        return ok;
    }

    void walk(const YAML::Node &map, const std::string &prefix, ExperimentConfig &config)
    {
        std::set<std::string> seen;
        for (auto it = map.begin(); it != map.end(); ++it) {
            const YAML::Node keyNode = it->first;
            const YAML::Node value = it->second;
            if (!keyNode.IsScalar()) {
                issue(prefix.empty() ? std::string("experiment") : prefix,
                      "keys must be plain names, got " + describe(keyNode), keyNode);
                continue;
            }
            const std::string path = prefix.empty() ? keyNode.Scalar() : prefix + "." + keyNode.Scalar();
            lines[path] = keyNode.Mark().line + 1;
            if (!seen.insert(keyNode.Scalar()).second) {
                issue(path, "appears twice", keyNode);
                continue;
            }
            if (const Field *field = findField(path)) {
                Value v;
                if (value.IsNull()) {
                    // "lr:" with nothing after it: an unfinished edit, never a silent default.
                    issue(path, "has no value (expected " + typeName(field->spec.type) + ")", keyNode);
                } else if (readValue(*field, value, v)) {
                    try {
                        field->set(config, v);
                    } catch (const Error &e) {
                        // The setter's own validation (features.kind, integer features).
                        issue(path, e.reason(), value);
                    }
                }
            } else if (isSection(path)) {
                if (value.IsMap())
                    walk(value, path, config);
                else if (!value.IsNull()) // an empty section keeps its defaults
                    issue(path, "expected a section of keys, got " + describe(value), value);
            } else {
                std::vector<std::string> known;
                for (const Field &f : fields()) {
                    const std::string &k = f.spec.key;
                    if (!prefix.empty() && k.compare(0, prefix.size() + 1, prefix + ".") != 0)
                        continue;
                    std::string rest = prefix.empty() ? k : k.substr(prefix.size() + 1);
                    rest = rest.substr(0, rest.find('.'));
                    if (std::find(known.begin(), known.end(), rest) == known.end())
                        known.push_back(rest);
                }
                std::string list;
                for (const auto &k : known)
                    list += (list.empty() ? "" : ", ") + k;
                issue(path, "unknown key (expected one of: " + list + ")", keyNode);
            }
        }
    }

    // The line of a key, or of the closest enclosing key that has one.
    int lineOf(std::string key) const
    {
        while (!key.empty()) {
            auto it = lines.find(key);
            if (it != lines.end())
                return it->second;
            const size_t cut = key.find_last_of(".[");
            if (cut == std::string::npos)
                break;
            key.resize(cut);
        }
        return 0;
    }
};

// ---------------------------------------------------------------------------------------------
// Writing YAML

bool plainSafe(const std::string &s)
{
    static const std::set<std::string> reserved = {"true", "false", "yes", "no", "on", "off", "y",
                                                   "n", "null"};
    if (s.empty() || !(s[0] >= 'a' && s[0] <= 'z') || reserved.count(s))
        return false;
    return std::all_of(s.begin(), s.end(), [](char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.';
    });
}

std::string quoted(const std::string &s)
{
    if (plainSafe(s))
        return s;
    std::string out = "\"";
    for (unsigned char c : s) {
        switch (c) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\n': out += "\\n"; break;
        case '\t': out += "\\t"; break;
        case '\r': out += "\\r"; break;
        default:
            if (c < 0x20 || c == 0x7f) {
                char buf[8];
                std::snprintf(buf, sizeof buf, "\\x%02x", c);
                out += buf;
            } else {
                out += char(c);
            }
        }
    }
    return out + "\"";
}

std::string valueText(const Value &v)
{
    struct Visitor
    {
        std::string operator()(const std::string &s) const { return quoted(s); }
        std::string operator()(int64_t i) const { return std::to_string(i); }
        std::string operator()(double d) const { return exactText(d); }
        std::string operator()(bool b) const { return b ? "true" : "false"; }
        std::string operator()(const std::vector<std::string> &l) const
        {
            std::string s;
            for (const auto &x : l)
                s += (s.empty() ? "" : ", ") + quoted(x);
            return "[" + s + "]";
        }
        std::string operator()(const std::vector<double> &l) const
        {
            std::string s;
            for (double x : l)
                s += (s.empty() ? "" : ", ") + exactText(x);
            return "[" + s + "]";
        }
        std::string operator()(const std::vector<int64_t> &l) const
        {
            std::string s;
            for (int64_t x : l)
                s += (s.empty() ? "" : ", ") + std::to_string(x);
            return "[" + s + "]";
        }
    };
    return std::visit(Visitor{}, v);
}

std::vector<std::string> splitKey(const std::string &key)
{
    std::vector<std::string> parts;
    size_t start = 0;
    for (;;) {
        const size_t dot = key.find('.', start);
        parts.push_back(key.substr(start, dot - start));
        if (dot == std::string::npos)
            return parts;
        start = dot + 1;
    }
}

// ---------------------------------------------------------------------------------------------
// Checking

// Runs a component validator and files its error under this file's key for it.
void probe(std::vector<ConfigIssue> &issues, const std::function<void()> &validate,
           const std::function<std::string(const std::string &)> &mapKey)
{
    try {
        validate();
    } catch (const Error &e) {
        const std::string key = mapKey(e.subject());
        for (const ConfigIssue &i : issues)
            if (i.key == key)
                return; // already reported field by field
        issues.push_back({key, e.reason(), {}, 0});
    }
}

std::string mapNoiseKey(const std::string &subject)
{
    static const std::map<std::string, std::string> keys = {
        {"noise.length_sec", "data.noisy.length_sec"}, {"noise.snr_db", "data.noisy.snr_db"},
        {"noise.kinds", "data.noisy.noise"},           {"noise.folder", "data.noisy.noise_dir"},
        {"noise.babble_gain_db", "data.noisy.babble_gain_db"},
        {"noise.babble_words", "data.noisy.babble_words"}, {"noise.seed", "data.noisy.seed"}};
    auto it = keys.find(subject);
    return it != keys.end() ? it->second : std::string("data.noisy");
}

std::string mapRolloutKey(const std::string &subject)
{
    if (subject == "rollout.head_fusion")
        return "teacher.rollout.head_fusion";
    if (subject == "rollout.residual_weight")
        return "teacher.rollout.residual";
    if (subject == "rollout.layers" || subject == "rollout.first_layer" || subject == "rollout.last_layer")
        return "teacher.rollout.layers";
    return "teacher.rollout";
}

std::string mapDataKey(const std::string &subject)
{
    if (subject.rfind("dataset.", 0) == 0) {
        const std::string rest = subject.substr(8);
        if (rest == "kind")
            return "data.source";
        if (rest == "task" || rest == "path")
            return "data." + rest;
        return "data";
    }
    if (subject.rfind("corpus.", 0) == 0) {
        const std::string rest = subject.substr(7);
        return rest == "speakers" || rest == "seed" ? "data.corpus." + rest : std::string("data.corpus");
    }
    return "data";
}

template <class T>
std::vector<size_t> duplicates(const std::vector<T> &v)
{
    std::vector<size_t> out;
    for (size_t i = 0; i < v.size(); ++i)
        for (size_t j = 0; j < i; ++j)
            if (v[j] == v[i]) {
                out.push_back(i);
                break;
            }
    return out;
}

std::string rangeText(const ConfigKeySpec &s)
{
    return "[" + exactText(s.minValue) + ", " + exactText(s.maxValue) + "]";
}

} // namespace

// ---------------------------------------------------------------------------------------------

const std::vector<ConfigKeySpec> &ExperimentConfig::schema()
{
    static const std::vector<ConfigKeySpec> specs = [] {
        std::vector<ConfigKeySpec> s;
        for (const Field &f : fields())
            s.push_back(f.spec);
        return s;
    }();
    return specs;
}

ExperimentConfig ExperimentConfig::parse(const std::string &text, const std::string &sourceName,
                                         std::vector<ConfigIssue> &issues)
{
    ExperimentConfig config;
    std::vector<YAML::Node> docs;
    try {
        docs = YAML::LoadAll(text);
    } catch (const YAML::ParserException &e) {
        throw ConfigError({{"", "YAML syntax error: " + e.msg, sourceName,
                            e.mark.is_null() ? 0 : e.mark.line + 1}});
    } catch (const YAML::Exception &e) {
        throw ConfigError({{"", std::string("cannot read YAML: ") + e.what(), sourceName, 0}});
    }
    const size_t firstIssue = issues.size();
    Reader reader{sourceName, issues, {}};
    if (docs.empty() || docs[0].IsNull()) {
        issues.push_back({"", "holds no settings (expected keys such as name, data, train)", sourceName, 0});
        return config;
    }
    if (docs.size() > 1)
        reader.issue("", "holds " + std::to_string(docs.size()) +
                             " YAML documents; an experiment is exactly one", docs[1]);
    if (!docs[0].IsMap()) {
        reader.issue("", "expected a map of keys (name, data, train, ...), got " +
                             Reader::describe(docs[0]), docs[0]);
        return config;
    }
    reader.walk(docs[0], "", config);

    // Range and combination checks on what was read; keys already reported (a wrong type) are
    // not reported twice, since the default standing in for them says nothing about the file.
    std::set<std::string> reported;
    for (size_t i = firstIssue; i < issues.size(); ++i)
        reported.insert(issues[i].key);
    for (ConfigIssue issue : config.check()) {
        if (reported.count(issue.key))
            continue;
        issue.source = sourceName;
        issue.line = reader.lineOf(issue.key);
        issues.push_back(std::move(issue));
    }
    // File order reads best in an editor or a terminal; issues without a line go last.
    std::stable_sort(issues.begin() + long(firstIssue), issues.end(), [](const ConfigIssue &a, const ConfigIssue &b) {
        return (a.line > 0 ? a.line : INT_MAX) < (b.line > 0 ? b.line : INT_MAX);
    });
    return config;
}

ExperimentConfig ExperimentConfig::fromYaml(const std::string &text, const std::string &sourceName)
{
    std::vector<ConfigIssue> issues;
    ExperimentConfig config = parse(text, sourceName, issues);
    if (!issues.empty())
        throw ConfigError(std::move(issues));
    return config;
}

ExperimentConfig ExperimentConfig::load(const std::string &path)
{
    return fromYaml(readFile(path), path);
}

std::string ExperimentConfig::toYaml() const
{
    return writeYaml(true);
}

std::string ExperimentConfig::hash() const
{
    // Comments left out, so rewording the documentation never changes a config's identity.
    return Sha256::ofString(writeYaml(false));
}

std::string ExperimentConfig::writeYaml(bool comments) const
{
    std::string out = !comments ? std::string() :
        "# TKD Studio experiment: one file per experiment, edited by the studio and replayed by\n"
        "# `tkd`. Every key is optional; a missing key takes the default. Check a file with\n"
        "# `tkd config check FILE`; `tkd config init` writes this default.\n";
    std::vector<std::string> open; // section path components currently open
    for (const Field &f : fields()) {
        std::vector<std::string> parts = splitKey(f.spec.key);
        const std::string leaf = parts.back();
        parts.pop_back();
        size_t common = 0;
        while (common < open.size() && common < parts.size() && open[common] == parts[common])
            ++common;
        open.resize(common);
        for (size_t i = common; i < parts.size(); ++i) {
            const std::string indent(2 * i, ' ');
            std::string path;
            for (size_t j = 0; j <= i; ++j)
                path += (j ? "." : "") + parts[j];
            if (comments)
                out += "\n";
            auto help = sectionHelp().find(path);
            if (comments && help != sectionHelp().end())
                out += commentLines(indent, help->second);
            out += indent + parts[i] + ":\n";
            open.push_back(parts[i]);
        }
        const std::string indent(2 * parts.size(), ' ');
        if (comments) {
            if (parts.empty())
                out += "\n";
            std::string help = f.spec.help;
            if (f.spec.hasRange && (f.spec.type == Type::Int || f.spec.type == Type::Double))
                help += " " + rangeText(f.spec);
            out += commentLines(indent, help);
        }
        out += indent + leaf + ": " + valueText(f.get(*this)) + "\n";
    }
    return out;
}


std::vector<ConfigIssue> ExperimentConfig::check() const
{
    std::vector<ConfigIssue> issues;
    auto add = [&](const std::string &key, const std::string &message) {
        issues.push_back({key, message, {}, 0});
    };

    // Generic: choices, ranges, finiteness, duplicates in lists.
    for (const Field &f : fields()) {
        const ConfigKeySpec &s = f.spec;
        const Value v = f.get(*this);
        auto inRange = [&](double x) { return !s.hasRange || (x >= s.minValue && x <= s.maxValue); };
        switch (s.type) {
        case Type::Choice:
            if (std::find(s.choices.begin(), s.choices.end(), std::get<std::string>(v)) == s.choices.end()) {
                std::string list;
                for (const auto &c : s.choices)
                    list += (list.empty() ? "" : ", ") + c;
                add(s.key, "'" + std::get<std::string>(v) + "' is not one of: " + list);
            }
            break;
        case Type::Int:
        case Type::Seed:
            if (!inRange(double(std::get<int64_t>(v))))
                add(s.key, std::to_string(std::get<int64_t>(v)) + " is outside " + rangeText(s));
            break;
        case Type::Double: {
            const double x = std::get<double>(v);
            if (!std::isfinite(x))
                add(s.key, "must be a finite number, got " + exactText(x));
            else if (!inRange(x))
                add(s.key, exactText(x) + " is outside " + rangeText(s));
            break;
        }
        case Type::DoublePair:
        case Type::DoubleList: {
            const auto &l = std::get<std::vector<double>>(v);
            for (size_t i = 0; i < l.size(); ++i) {
                const std::string k = s.key + "[" + std::to_string(i) + "]";
                if (!std::isfinite(l[i]))
                    add(k, "must be a finite number, got " + exactText(l[i]));
                else if (!inRange(l[i]))
                    add(k, exactText(l[i]) + " is outside " + rangeText(s));
            }
            if (s.type == Type::DoubleList)
                for (size_t i : duplicates(l))
                    add(s.key + "[" + std::to_string(i) + "]", exactText(l[i]) + " is listed twice");
            break;
        }
        case Type::IntList:
        case Type::SeedList: {
            const auto &l = std::get<std::vector<int64_t>>(v);
            for (size_t i = 0; i < l.size(); ++i)
                if (!inRange(double(l[i])))
                    add(s.key + "[" + std::to_string(i) + "]",
                        std::to_string(l[i]) + " is outside " + rangeText(s));
            for (size_t i : duplicates(l))
                add(s.key + "[" + std::to_string(i) + "]", std::to_string(l[i]) + " is listed twice");
            break;
        }
        case Type::StringList:
        case Type::ChoiceList: {
            const auto &l = std::get<std::vector<std::string>>(v);
            if (s.type == Type::ChoiceList)
                for (size_t i = 0; i < l.size(); ++i)
                    if (std::find(s.choices.begin(), s.choices.end(), l[i]) == s.choices.end()) {
                        std::string list;
                        for (const auto &c : s.choices)
                            list += (list.empty() ? "" : ", ") + c;
                        add(s.key + "[" + std::to_string(i) + "]",
                            "'" + l[i] + "' is not one of: " + list);
                    }
            for (size_t i : duplicates(l))
                add(s.key + "[" + std::to_string(i) + "]", "'" + l[i] + "' is listed twice");
            break;
        }
        default: break;
        }
    }

    // name: it becomes part of a folder name.
    if (name.empty())
        add("name", "must not be empty");
    else if (name.size() > 80)
        add("name", "is longer than 80 characters");
    else if (std::any_of(name.begin(), name.end(), [](unsigned char c) { return c < 0x20 || c == '/' || c == 0x7f; }))
        add("name", "must not contain '/' or control characters");

    // data: the dataset and corpus validators, then the noisy construction field by field (its
    // ranges live in NoisyConfig::validate; each probe changes one field of a valid default).
    if (data.source == "builtin" || data.source == "speech-commands") {
        if (data.task != 12 && data.task != 35)
            add("data.task", "must be 12 or 35, got " + std::to_string(data.task));
    }
    if (data.source != "builtin" && data.path.empty())
        add("data.path", "a " + data.source + " dataset needs its folder");
    const bool knownSource = std::find(findField("data.source")->spec.choices.begin(),
                                       findField("data.source")->spec.choices.end(),
                                       data.source) != findField("data.source")->spec.choices.end();
    if (knownSource)
        probe(issues, [&] { datasetSource().validate(); }, mapDataKey);
    probe(issues, [&] { corpusConfig().validate(); }, mapDataKey);

    std::vector<NoiseKind> kinds;
    bool kindsOk = !data.noisy.noise.empty();
    if (data.noisy.noise.empty())
        add("data.noisy.noise", "needs at least one noise kind");
    for (const std::string &k : data.noisy.noise) {
        try {
            kinds.push_back(noiseKindFromName(k));
        } catch (const Error &) {
            kindsOk = false; // reported above with its index
        }
    }
    {
        NoisyConfig n;
        n.lengthSec = data.noisy.lengthSec;
        probe(issues, [&] { n.validate(); }, mapNoiseKey);
    }
    {
        NoisyConfig n;
        n.snrDbMin = data.noisy.snrDbMin;
        n.snrDbMax = data.noisy.snrDbMax;
        probe(issues, [&] { n.validate(); }, mapNoiseKey);
    }
    {
        NoisyConfig n;
        n.babbleGainDb = data.noisy.babbleGainDb;
        probe(issues, [&] { n.validate(); }, mapNoiseKey);
    }
    {
        NoisyConfig n;
        n.babbleWords = data.noisy.babbleWords;
        probe(issues, [&] { n.validate(); }, mapNoiseKey);
    }
    const bool noisyReported = std::any_of(issues.begin(), issues.end(), [](const ConfigIssue &i) {
        return i.key.rfind("data.noisy", 0) == 0;
    });
    if (kindsOk && !noisyReported)
        probe(issues, [&] { noisyConfig(data.noisy.lengthSec).validate(); }, mapNoiseKey);
    for (size_t i = 0; i < grid.lengthsSec.size(); ++i) {
        NoisyConfig n;
        n.lengthSec = grid.lengthsSec[i];
        const std::string key = "grid.lengths_sec[" + std::to_string(i) + "]";
        probe(issues, [&] { n.validate(); }, [&](const std::string &) { return key; });
    }

    // features: ranges came from the declared table above; the combinations from validate().
    bool featuresInRange = true;
    for (const ConfigIssue &i : issues)
        if (i.key.rfind("features.", 0) == 0)
            featuresInRange = false;
    if (featuresInRange)
        probe(issues, [&] { features.validate(); }, [](const std::string &s) {
            return s.rfind("features.", 0) == 0 ? s : std::string("features");
        });

    // teacher
    if (teacher.kind == "imported" && teacher.weights.empty())
        add("teacher.weights", "an imported teacher needs its weights (a folder or .safetensors file)");
    if (std::find(findField("teacher.rollout.head_fusion")->spec.choices.begin(),
                  findField("teacher.rollout.head_fusion")->spec.choices.end(),
                  teacher.rollout.headFusion) !=
        findField("teacher.rollout.head_fusion")->spec.choices.end())
        probe(issues, [&] { rolloutOptions().validate(); }, mapRolloutKey);

    // students
    if (students.empty())
        add("students", "needs at least one student");
    bool anyWithoutNative = false;
    std::string withoutNative;
    for (size_t i = 0; i < students.size(); ++i) {
        if (!StudentRegistry::contains(students[i])) {
            std::string known;
            for (const auto &n : StudentRegistry::names())
                known += (known.empty() ? "" : ", ") + n;
            add("students[" + std::to_string(i) + "]",
                "unknown student '" + students[i] + "' (known: " + known + ")");
        } else if (StudentRegistry::spec(students[i]).family.find("Att") == std::string::npos) {
            anyWithoutNative = true;
            withoutNative += (withoutNative.empty() ? "" : ", ") + students[i];
        }
    }

    // kd
    if (kd.lambdas.empty())
        add("kd.lambdas", "needs at least one value (0 alone trains the vanilla students)");
    if (kd.target == "native" && anyWithoutNative)
        add("kd.target", "'native' needs students with their own attention; " + withoutNative +
                             " have none (use 'branch')");

    // train
    if (train.warmupEpochs > 0 && train.warmupEpochs >= train.epochs)
        add("train.warmup_epochs", std::to_string(train.warmupEpochs) +
                                       " warm-up epochs leave no training after them (train.epochs is " +
                                       std::to_string(train.epochs) + ")");
    if (output.runsDir.empty())
        add("output.runs_dir", "must not be empty");
    return issues;
}

void ExperimentConfig::validate() const
{
    std::vector<ConfigIssue> issues = check();
    if (!issues.empty())
        throw ConfigError(std::move(issues));
}

NoisyConfig ExperimentConfig::noisyConfig(double lengthSec) const
{
    NoisyConfig n;
    n.lengthSec = lengthSec;
    n.snrDbMin = data.noisy.snrDbMin;
    n.snrDbMax = data.noisy.snrDbMax;
    n.kinds.clear();
    for (const std::string &k : data.noisy.noise)
        n.kinds.push_back(noiseKindFromName(k));
    n.noiseFolder = data.noisy.noiseDir;
    n.babbleGainDb = data.noisy.babbleGainDb;
    n.babbleWords = data.noisy.babbleWords;
    n.seed = data.noisy.seed;
    return n;
}

RolloutOptions ExperimentConfig::rolloutOptions() const
{
    RolloutOptions r;
    r.headFusion = headFusionFromName(teacher.rollout.headFusion);
    r.residualWeight = teacher.rollout.residual;
    r.layers = teacher.rollout.layers;
    return r;
}

DatasetSource ExperimentConfig::datasetSource() const
{
    DatasetSource s;
    s.kind = DatasetSource::kindFromName(data.source);
    s.path = data.path;
    s.task = data.task;
    s.corpus = corpusConfig();
    return s;
}

BuiltinCorpusConfig ExperimentConfig::corpusConfig() const
{
    BuiltinCorpusConfig c;
    c.speakers = data.corpus.speakers;
    c.seed = data.corpus.seed;
    return c;
}

std::vector<uint64_t> ExperimentConfig::studentSeeds() const
{
    return grid.seeds.empty() ? std::vector<uint64_t>{seed} : grid.seeds;
}

std::vector<double> ExperimentConfig::clipLengths() const
{
    return grid.lengthsSec.empty() ? std::vector<double>{data.noisy.lengthSec} : grid.lengthsSec;
}

} // namespace tkd
