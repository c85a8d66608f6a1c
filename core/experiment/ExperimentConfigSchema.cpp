#include "core/experiment/ExperimentConfigSchema.h"

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
// The schema: one row per key, with typed accessors, drives parsing, checking and writing.

namespace configschema {

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

template <class Ref> Field stringField(ConfigKeySpec spec, Ref ref)
{
    return { std::move(spec),
        [ref](const ExperimentConfig &c) { return Value(ref(const_cast<ExperimentConfig &>(c))); },
        [ref](ExperimentConfig &c, const Value &v) { ref(c) = std::get<std::string>(v); } };
}

// An enum with one name table: the choices are the table's names.
template <class Ref, class Name, class FromName>
Field enumField(
    ConfigKeySpec spec, std::vector<std::string> names, Ref ref, Name name, FromName fromName)
{
    spec.choices = std::move(names);
    return { std::move(spec),
        [ref, name](const ExperimentConfig &c) {
            return Value(std::string(name(ref(const_cast<ExperimentConfig &>(c)))));
        },
        [ref, fromName](
            ExperimentConfig &c, const Value &v) { ref(c) = fromName(std::get<std::string>(v)); } };
}

// Students with attention of their own, from the registry: "att-rnn, att-rnn-gru, mhatt-rnn".
std::string nativeStudents()
{
    std::string out;
    for (const StudentSpec &s : StudentRegistry::specs())
        if (s.nativeHeads > 0)
            out += (out.empty() ? "" : ", ") + s.name;
    return out;
}

template <class Ref> Field intField(ConfigKeySpec spec, Ref ref)
{
    return { std::move(spec),
        [ref](const ExperimentConfig &c) {
            return Value(int64_t(ref(const_cast<ExperimentConfig &>(c))));
        },
        [ref](ExperimentConfig &c, const Value &v) {
            using T = std::decay_t<decltype(ref(c))>;
            ref(c) = T(std::get<int64_t>(v));
        } };
}

template <class Ref> Field doubleField(ConfigKeySpec spec, Ref ref)
{
    return { std::move(spec),
        [ref](const ExperimentConfig &c) { return Value(ref(const_cast<ExperimentConfig &>(c))); },
        [ref](ExperimentConfig &c, const Value &v) { ref(c) = std::get<double>(v); } };
}

// A [lo, hi] range held as double[2].
template <class Ref> Field pairField(ConfigKeySpec spec, Ref ref)
{
    return { std::move(spec),
        [ref](const ExperimentConfig &c) {
            const double *p = ref(const_cast<ExperimentConfig &>(c));
            return Value(std::vector<double> { p[0], p[1] });
        },
        [ref](ExperimentConfig &c, const Value &v) {
            const auto &p = std::get<std::vector<double>>(v);
            ref(c)[0] = p.at(0);
            ref(c)[1] = p.at(1);
        } };
}

template <class Ref> Field boolField(ConfigKeySpec spec, Ref ref)
{
    return { std::move(spec),
        [ref](const ExperimentConfig &c) { return Value(ref(const_cast<ExperimentConfig &>(c))); },
        [ref](ExperimentConfig &c, const Value &v) { ref(c) = std::get<bool>(v); } };
}

template <class Ref> Field listField(ConfigKeySpec spec, Ref ref)
{
    return { std::move(spec),
        [ref](const ExperimentConfig &c) { return Value(ref(const_cast<ExperimentConfig &>(c))); },
        [ref](ExperimentConfig &c, const Value &v) {
            using T = std::decay_t<decltype(ref(c))>;
            ref(c) = std::get<T>(v);
        } };
}

template <class Ref> Field seedListField(ConfigKeySpec spec, Ref ref)
{
    return { std::move(spec),
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
        } };
}

ConfigKeySpec spec(
    std::string key, Type type, std::string help, std::vector<std::string> choices = {})
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

constexpr double kMaxSeed
    = 9007199254740992.0; // 2^53: exact in doubles, JSON and the GUI's spin boxes

const std::vector<Field> &fields()
{
    static const std::vector<Field> table = [] {
        using C = ExperimentConfig;
        std::vector<Field> f;
        f.push_back(stringField(
            spec("name", Type::String, "experiment name: part of every run folder name"),
            [](C & c) -> auto & { return c.name; }));
        f.push_back(intField(
            ranged("seed", Type::Seed, 0, kMaxSeed,
                "seed of the teacher's initialisation and fine-tuning order "
                "(students use grid.seeds)"),
            [](C & c) -> auto & { return c.seed; }));

        f.push_back(stringField(
            spec("data.source", Type::Choice,
                "where clips come from: builtin (synthetic espeak-ng corpus), "
                "speech-commands (v2 folder), fsd50k, or folder (one folder per class)",
                { "builtin", "speech-commands", "fsd50k", "folder" }),
            [](C & c) -> auto & { return c.data.source; }));
        f.push_back(stringField(
            spec("data.path", Type::String,
                "dataset folder; for builtin, where generated corpora are kept "
                "(empty: the cache folder)"),
            [](C & c) -> auto & { return c.data.path; }));
        f.push_back(intField(
            spec("data.task", Type::Int,
                "keyword label set: 12 (10 words + unknown + silence) or 35 (all words)"),
            [](C & c) -> auto & { return c.data.task; }));
        f.push_back(intField(
            ranged("data.corpus.speakers", Type::Int, 1, 100000,
                "builtin only: synthetic speakers (split by speaker into train/validation/test)"),
            [](C & c) -> auto & { return c.data.corpus.speakers; }));
        f.push_back(intField(
            ranged("data.corpus.seed", Type::Seed, 0, kMaxSeed,
                "builtin only: seed of the speakers' voices"),
            [](C & c) -> auto & { return c.data.corpus.seed; }));
        f.push_back(doubleField(
            ranged("data.corpus.flite_share", Type::Double, 0, 1,
                "builtin only: share of speakers voiced by flite (Debian's five US English "
                "voices) instead of espeak-ng (0: espeak-ng only)"),
            [](C & c) -> auto & { return c.data.corpus.fliteShare; }));
        f.push_back(pairField(ranged("data.corpus.speed", Type::DoublePair, 0.5, 2.0,
                                  "builtin only: [lo, hi] speaking-rate factor per speaker"),
            [](C &c) { return c.data.corpus.speed; }));
        f.push_back(pairField(
            ranged("data.corpus.pitch_semitones", Type::DoublePair, -12, 12,
                "builtin only: [lo, hi] F0 shift per flite speaker in semitones (espeak-ng "
                "speakers draw their own pitch and range)"),
            [](C &c) { return c.data.corpus.pitchSemitones; }));
        f.push_back(pairField(
            ranged("data.corpus.vtl", Type::DoublePair, 0.7, 1.4,
                "builtin only: [lo, hi] vocal-tract length factor per speaker: formants scaled "
                "by it at the same duration"),
            [](C &c) { return c.data.corpus.vtl; }));
        f.push_back(intField(
            ranged("data.corpus.unseen_voices", Type::Int, 0, 10000,
                "builtin only: speakers of the voice family the corpus leaves out (flite when "
                "flite_share is 0, espeak-ng when it is 1) that every student is also scored on, "
                "a leave-one-family-out test (0: off)"),
            [](C & c) -> auto & { return c.data.corpus.unseenVoices; }));

        f.push_back(doubleField(
            spec("data.noisy.length_sec", Type::Double,
                "total clip length L in seconds (the keyword sits at a random offset "
                "inside it); grid.lengths_sec overrides it for sweeps"),
            [](C & c) -> auto & { return c.data.noisy.lengthSec; }));
        f.push_back({ spec("data.noisy.snr_db", Type::DoublePair,
                          "[lo, hi]: background SNR in dB, drawn uniformly per clip"),
            [](const C &c) {
                return Value(std::vector<double> { c.data.noisy.snrDbMin, c.data.noisy.snrDbMax });
            },
            [](C &c, const Value &v) {
                const auto &p = std::get<std::vector<double>>(v);
                c.data.noisy.snrDbMin = p.at(0);
                c.data.noisy.snrDbMax = p.at(1);
            } });
        f.push_back(listField(
            spec("data.noisy.noise", Type::ChoiceList,
                "background kinds, one drawn per clip: white, pink, brown, babble, "
                "folder (files from noise_dir)",
                { "white", "pink", "brown", "babble", "folder" }),
            [](C & c) -> auto & { return c.data.noisy.noise; }));
        f.push_back(stringField(
            spec("data.noisy.noise_dir", Type::String,
                "folder of noise recordings for 'folder' noise (empty: the dataset's "
                "own, e.g. Speech Commands' _background_noise_)"),
            [](C & c) -> auto & { return c.data.noisy.noiseDir; }));
        f.push_back(doubleField(
            spec("data.noisy.babble_gain_db", Type::Double,
                "level of each overlaid babble word relative to the keyword (dB)"),
            [](C & c) -> auto & { return c.data.noisy.babbleGainDb; }));
        f.push_back(intField(
            spec("data.noisy.babble_words", Type::Int,
                "other words overlaid on every clip as babble (0: none)"),
            [](C & c) -> auto & { return c.data.noisy.babbleWords; }));
        f.push_back(intField(
            ranged("data.noisy.seed", Type::Seed, 0, kMaxSeed,
                "seed of placement, SNR and noise: clip i is a pure function of it"),
            [](C & c) -> auto & { return c.data.noisy.seed; }));
        // The room and channel keys come from their own declared table (DESIGN.md rule 5).
        for (const RoomChannelConfig::Param &p : RoomChannelConfig::declared()) {
            const ConfigKeySpec s = ranged(std::string("data.noisy.") + p.name,
                p.hi ? Type::DoublePair : Type::Double, p.minValue, p.maxValue, p.help);
            const auto lo = p.lo;
            const auto hi = p.hi;
            if (!hi)
                f.push_back({ s, [lo](const C &c) { return Value(c.data.noisy.roomChannel.*lo); },
                    [lo](C &c, const Value &v) {
                        c.data.noisy.roomChannel.*lo = std::get<double>(v);
                    } });
            else
                f.push_back({ s,
                    [lo, hi](const C &c) {
                        const RoomChannelConfig &r = c.data.noisy.roomChannel;
                        return Value(std::vector<double> { r.*lo, r.*hi });
                    },
                    [lo, hi](C &c, const Value &v) {
                        const auto &p = std::get<std::vector<double>>(v);
                        c.data.noisy.roomChannel.*lo = p.at(0);
                        c.data.noisy.roomChannel.*hi = p.at(1);
                    } });
        }

        // The front end's keys and ranges come from its own declared table (DESIGN.md rule 5).
        f.push_back({ spec("features.kind", Type::Choice, "student front end: mfcc or logmel",
                          { "mfcc", "logmel" }),
            [](const C &c) { return Value(c.features.kindName()); },
            [](C &c, const Value &v) {
                c.features.kind = FeatureConfig::kindFromName(std::get<std::string>(v));
            } });
        for (const ParamSpec &p : FeatureConfig::declared()) {
            ConfigKeySpec s = ranged("features." + p.name, p.integer ? Type::Int : Type::Double,
                p.minValue, p.maxValue, p.help);
            const std::string name = p.name;
            if (p.integer)
                f.push_back(
                    { s, [name](const C &c) { return Value(int64_t(c.features.value(name))); },
                        [name](C &c, const Value &v) {
                            c.features.setValue(name, double(std::get<int64_t>(v)));
                        } });
            else
                f.push_back({ s, [name](const C &c) { return Value(c.features.value(name)); },
                    [name](C &c, const Value &v) {
                        c.features.setValue(name, std::get<double>(v));
                    } });
        }

        f.push_back(enumField(
            spec("teacher.kind", Type::Choice,
                "pretrained (the teacher shipped in resources/teachers/, or the teacher checkpoint "
                "in teacher.weights; adapted only when its classes differ), tiny or small (log-mel "
                "wav2vec 2.0 trained from scratch), base, xlsr-300m, imported (Hugging Face "
                "weights in "
                "teacher.weights), or oracle (the keyword's true window: an upper bound / "
                "ablation, "
                "not a teacher)"),
            teacherKindNames(), [](C & c) -> auto & { return c.teacher.kind; }, teacherKindName,
            teacherKindFromName));
        f.push_back(stringField(
            spec("teacher.weights", Type::String,
                "imported: a Hugging Face folder or .safetensors file (required); pretrained: a "
                "teacher checkpoint (empty: the shipped teacher)"),
            [](C & c) -> auto & { return c.teacher.weights; }));
        f.push_back(enumField(
            spec("teacher.fine_tune", Type::Choice,
                "head: train the classifier only (encoder frozen); all: every layer (pretrained: "
                "all fine-tunes even when the classes match)"),
            teacherFineTuneNames(), [](C & c) -> auto & { return c.teacher.fineTune; },
            teacherFineTuneName, teacherFineTuneFromName));
        f.push_back(intField(
            ranged("teacher.probe_clips_per_class", Type::Int, 0, 1000000,
                "pretrained teacher with new classes, fine_tune head: at most this many training "
                "clips of each class feed the linear probe (0: all of them)"),
            [](C & c) -> auto & { return c.teacher.probeClipsPerClass; }));
        f.push_back(intField(
            ranged("teacher.epochs", Type::Int, 0, 100000,
                "teacher training / fine-tuning epochs (0: use the weights as they are; "
                "pretrained with the same classes: not used)"),
            [](C & c) -> auto & { return c.teacher.epochs; }));
        f.push_back(doubleField(
            ranged("teacher.lr", Type::Double, 1e-9, 10.0, "teacher learning rate"),
            [](C & c) -> auto & { return c.teacher.lr; }));
        f.push_back(intField(
            ranged("teacher.batch_size", Type::Int, 1, 65536, "teacher batch size"),
            [](C & c) -> auto & { return c.teacher.batchSize; }));
        f.push_back(boolField(
            spec("teacher.fresh_noise_each_epoch", Type::Bool,
                "draw new noise, offsets and SNRs every epoch (true) or reuse epoch 0's"),
            [](C & c) -> auto & { return c.teacher.freshNoiseEachEpoch; }));
        f.push_back(enumField(
            spec("teacher.rollout.head_fusion", Type::Choice,
                "how each layer's heads are combined before rollout"),
            headFusionNames(), [](C & c) -> auto & { return c.teacher.rollout.headFusion; },
            headFusionName, headFusionFromName));
        f.push_back(doubleField(
            ranged("teacher.rollout.residual", Type::Double, 0.0, 1.0,
                "r in A' = (1 - r) A + r I (0.5: the standard recipe)"),
            [](C & c) -> auto & { return c.teacher.rollout.residual; }));
        f.push_back(listField(
            spec("teacher.rollout.layers", Type::IntList,
                "layers rolled out, negative counting from the end ([]: all layers)"),
            [](C & c) -> auto & { return c.teacher.rollout.layers; }));

        f.push_back(listField(
            spec(
                "students", Type::StringList, "students to train: " + StudentRegistry::namesText()),
            [](C & c) -> auto & { return c.students; }));

        f.push_back(listField(
            ranged("kd.lambdas", Type::DoubleList, 0.0, 1000.0,
                "temporal KD weights swept (0: the vanilla student)"),
            [](C & c) -> auto & { return c.kd.lambdas; }));
        f.push_back(enumField(
            spec("kd.target", Type::Choice,
                "branch: the training-only attention branch on c'; native: the "
                "student's own attention ("
                    + nativeStudents() + " only)"),
            kdTargetNames(), [](C & c) -> auto & { return c.kd.target; }, kdTargetName,
            kdTargetFromName));
        f.push_back(doubleField(
            ranged("kd.logit_kd.weight", Type::Double, 0.0, 1000.0,
                "weight of classic logit distillation, a baseline (0: off)"),
            [](C & c) -> auto & { return c.kd.logitKd.weight; }));
        f.push_back(doubleField(
            ranged("kd.logit_kd.temperature", Type::Double, 0.01, 100.0,
                "softmax temperature of logit distillation"),
            [](C & c) -> auto & { return c.kd.logitKd.temperature; }));

        f.push_back(listField(
            spec("grid.lengths_sec", Type::DoubleList,
                "clip lengths L swept ([]: just data.noisy.length_sec)"),
            [](C & c) -> auto & { return c.grid.lengthsSec; }));
        f.push_back(seedListField(
            ranged("grid.seeds", Type::SeedList, 0, kMaxSeed,
                "student seeds: every cell is trained once per seed ([]: just seed)"),
            [](C & c) -> auto & { return c.grid.seeds; }));

        f.push_back(enumField(
            spec("train.optimizer", Type::Choice, "adam or sgd"), optimiserNames(),
            [](C & c) -> auto & { return c.train.optimizer; }, optimiserName, optimiserFromName));
        f.push_back(doubleField(
            ranged("train.lr", Type::Double, 1e-9, 10.0, "peak learning rate"),
            [](C & c) -> auto & { return c.train.lr; }));
        f.push_back(doubleField(
            ranged("train.momentum", Type::Double, 0.0, 0.999, "SGD momentum (adam: unused)"),
            [](C & c) -> auto & { return c.train.momentum; }));
        f.push_back(doubleField(
            ranged("train.weight_decay", Type::Double, 0.0, 1.0, "L2 weight decay"),
            [](C & c) -> auto & { return c.train.weightDecay; }));
        f.push_back(enumField(
            spec("train.schedule", Type::Choice,
                "learning-rate schedule after warm-up: constant, cosine, onecycle or "
                "step (x0.1 at 1/2 and 3/4 of the training after warm-up)"),
            scheduleKindNames(), [](C & c) -> auto & { return c.train.schedule; }, scheduleKindName,
            scheduleKindFromName));
        f.push_back(intField(
            ranged("train.warmup_epochs", Type::Int, 0, 100000,
                "linear warm-up epochs (fewer than train.epochs)"),
            [](C & c) -> auto & { return c.train.warmupEpochs; }));
        f.push_back(intField(
            ranged("train.epochs", Type::Int, 1, 100000, "student training epochs"),
            [](C & c) -> auto & { return c.train.epochs; }));
        f.push_back(intField(
            ranged("train.batch_size", Type::Int, 1, 65536, "student batch size"),
            [](C & c) -> auto & { return c.train.batchSize; }));
        f.push_back(intField(
            ranged("train.early_stopping_patience", Type::Int, 0, 100000,
                "stop after this many epochs without a better validation score (0: off)"),
            [](C & c) -> auto & { return c.train.earlyStoppingPatience; }));
        f.push_back(intField(
            ranged("train.early_stopping_min_epochs", Type::Int, 0, 100000,
                "early stopping never ends a run before this epoch (students that sit at chance "
                "for a while, then learn)"),
            [](C & c) -> auto & { return c.train.earlyStoppingMinEpochs; }));
        f.push_back(doubleField(
            ranged("train.grad_clip_norm", Type::Double, 0.0, 1e6,
                "clip the global gradient norm to this before each step (0: off)"),
            [](C & c) -> auto & { return c.train.gradClipNorm; }));
        f.push_back(intField(
            ranged(
                "train.num_threads", Type::Int, 0, 1024, "CPU threads for LibTorch (0: all cores)"),
            [](C & c) -> auto & { return c.train.numThreads; }));
        f.push_back(stringField(
            spec("train.device", Type::Choice, "cpu or cuda", { "cpu", "cuda" }),
            [](C & c) -> auto & { return c.train.device; }));

        f.push_back(stringField(
            spec("output.runs_dir", Type::String,
                "folder that receives one sub-folder per run (relative paths: from "
                "the working directory)"),
            [](C & c) -> auto & { return c.output.runsDir; }));
        return f;
    }();
    return table;
}

const std::map<std::string, std::string> &sectionHelp()
{
    static const std::map<std::string, std::string> help = {
        { "data", "The dataset and how each long noisy clip is built around a keyword." },
        { "data.corpus", "The built-in synthetic corpus (data.source: builtin)." },
        { "data.noisy",
            "Noisy construction: each 1 s keyword placed inside L seconds of background." },
        { "features",
            "Student front end (40 ms window, 20 ms hop = 49 frames/s, the teacher's rate)." },
        { "teacher", "The wav2vec 2.0 teacher, fine-tuned on the task then frozen." },
        { "teacher.rollout",
            "Attention rollout: row 0 of the rolled-out attention is the teacher's a_T." },
        { "kd", "Temporal knowledge distillation: loss = task + lambda * KL(a_T || a_S)." },
        { "kd.logit_kd",
            "Classic logit distillation, offered as a baseline (not part of the method)." },
        { "grid", "The sweep: students x kd.lambdas x lengths_sec x seeds." },
        { "train", "Student training." },
        { "output", "Where runs are written." },
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
    case Type::Choice:
        return "a string";
    case Type::Int:
        return "a whole number";
    case Type::Seed:
        return "a seed (a whole number >= 0)";
    case Type::Double:
        return "a number";
    case Type::Bool:
        return "true or false";
    case Type::DoublePair:
        return "a pair [lo, hi] of numbers";
    case Type::DoubleList:
        return "a list of numbers";
    case Type::IntList:
        return "a list of whole numbers";
    case Type::SeedList:
        return "a list of seeds";
    case Type::StringList:
    case Type::ChoiceList:
        return "a list of strings";
    }
    return "a value";
}

std::string rangeText(const ConfigKeySpec &s)
{
    return "[" + exactText(s.minValue) + ", " + exactText(s.maxValue) + "]";
}

} // namespace configschema

using namespace configschema;

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

} // namespace tkd
