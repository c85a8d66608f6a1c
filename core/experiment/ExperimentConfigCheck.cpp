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
#include <type_traits>
#include <variant>

namespace tkd {

using namespace configschema;

namespace {

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
        issues.push_back({ key, e.reason(), {}, 0 });
    }
}

std::string mapNoiseKey(const std::string &subject)
{
    static const std::map<std::string, std::string> keys = {
        { "noise.length_sec", "data.noisy.length_sec" }, { "noise.snr_db", "data.noisy.snr_db" },
        { "noise.kinds", "data.noisy.noise" }, { "noise.folder", "data.noisy.noise_dir" },
        { "noise.babble_gain_db", "data.noisy.babble_gain_db" },
        { "noise.babble_words", "data.noisy.babble_words" }, { "noise.seed", "data.noisy.seed" }
    };
    auto it = keys.find(subject);
    if (it != keys.end())
        return it->second;
    for (const RoomChannelConfig::Param &p : RoomChannelConfig::declared())
        if (subject == std::string("noise.") + p.name)
            return std::string("data.noisy.") + p.name;
    return "data.noisy";
}

std::string mapRolloutKey(const std::string &subject)
{
    if (subject == "rollout.head_fusion")
        return "teacher.rollout.head_fusion";
    if (subject == "rollout.residual_weight")
        return "teacher.rollout.residual";
    if (subject == "rollout.layers" || subject == "rollout.first_layer"
        || subject == "rollout.last_layer")
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
        for (const char *key : { "speakers", "seed", "flite_share", "speed", "pitch_semitones",
                 "vtl", "unseen_voices" })
            if (rest == key)
                return "data.corpus." + rest;
        return "data.corpus";
    }
    return "data";
}

// Indices of entries equal to an earlier one, in O(n log n): a list of 600k lambdas took
// minutes with the pairwise scan. NaN equals nothing, as before (it is reported as not finite).
template <class T> std::vector<size_t> duplicates(const std::vector<T> &v)
{
    std::vector<size_t> out;
    std::set<T> seen;
    for (size_t i = 0; i < v.size(); ++i) {
        if constexpr (std::is_floating_point_v<T>)
            if (std::isnan(v[i]))
                continue;
        if (!seen.insert(v[i]).second)
            out.push_back(i);
    }
    return out;
}

// Each check files its findings through `add` (key, message) or `probe` (a component validator).
struct Checker
{
    const ExperimentConfig &c;
    std::vector<ConfigIssue> &issues;

    void add(const std::string &key, const std::string &message)
    {
        issues.push_back({ key, message, {}, 0 });
    }

    // Generic, from the schema: choices, ranges, finiteness, duplicates in lists.
    void schemaRows()
    {
        for (const Field &f : fields())
            schemaRow(f.spec, f.get(c));
    }
    void schemaRow(const ConfigKeySpec &s, const Value &v);
    void name();
    void data();
    void features();
    void teacherStudentsKd();
    void trainAndOutput();
};

void Checker::schemaRow(const ConfigKeySpec &s, const Value &v)
{
    auto inRange = [&](double x) { return !s.hasRange || (x >= s.minValue && x <= s.maxValue); };
    switch (s.type) {
    case Type::Choice:
        if (std::find(s.choices.begin(), s.choices.end(), std::get<std::string>(v))
            == s.choices.end()) {
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
    default:
        break;
    }
}

void Checker::name()
{
    // name: it becomes part of a folder name.
    if (c.name.empty())
        add("name", "must not be empty");
    else if (c.name.size() > 80)
        add("name", "is longer than 80 characters");
    else if (std::any_of(c.name.begin(), c.name.end(),
                 [](unsigned char c) { return c < 0x20 || c == '/' || c == 0x7f; }))
        add("name", "must not contain '/' or control characters");
}

void Checker::data()
{
    // data: the dataset and corpus validators, then the noisy construction field by field (its
    // ranges live in NoisyConfig::validate; each probe changes one field of a valid default).
    const bool knownSource = std::find(findField("data.source")->spec.choices.begin(),
                                 findField("data.source")->spec.choices.end(), c.data.source)
        != findField("data.source")->spec.choices.end();
    using Kind = DatasetSource::Kind;
    const Kind kind = knownSource ? DatasetSource::kindFromName(c.data.source) : Kind::Builtin;
    if (knownSource && DatasetSource::isKeywordTask(kind)) {
        if (c.data.task != 12 && c.data.task != 35)
            add("data.task", "must be 12 or 35, got " + std::to_string(c.data.task));
    }
    if (knownSource && kind != Kind::Builtin && c.data.path.empty())
        add("data.path", "a " + c.data.source + " dataset needs its folder");
    if (knownSource)
        probe(
            issues, [&] { c.datasetSource().validate(); }, mapDataKey);
    probe(
        issues, [&] { c.corpusConfig().validate(); }, mapDataKey);

    std::vector<NoiseKind> kinds;
    bool kindsOk = !c.data.noisy.noise.empty();
    if (c.data.noisy.noise.empty())
        add("data.noisy.noise", "needs at least one noise kind");
    for (const std::string &k : c.data.noisy.noise) {
        try {
            kinds.push_back(noiseKindFromName(k));
        } catch (const Error &) {
            kindsOk = false; // reported above with its index
        }
    }
    // Each noisy field alone on a valid default, so every bad one is reported under its key.
    auto probeNoisy = [&](const std::function<void(NoisyConfig &)> &set) {
        NoisyConfig n;
        set(n);
        probe(
            issues, [&] { n.validate(); }, mapNoiseKey);
    };
    probeNoisy([&](NoisyConfig &n) { n.lengthSec = c.data.noisy.lengthSec; });
    probeNoisy([&](NoisyConfig &n) {
        n.snrDbMin = c.data.noisy.snrDbMin;
        n.snrDbMax = c.data.noisy.snrDbMax;
    });
    probeNoisy([&](NoisyConfig &n) { n.babbleGainDb = c.data.noisy.babbleGainDb; });
    probeNoisy([&](NoisyConfig &n) { n.babbleWords = c.data.noisy.babbleWords; });
    const bool noisyReported = std::any_of(issues.begin(), issues.end(),
        [](const ConfigIssue &i) { return i.key.rfind("data.noisy", 0) == 0; });
    if (kindsOk && !noisyReported)
        probe(
            issues, [&] { c.noisyConfig(c.data.noisy.lengthSec).validate(); }, mapNoiseKey);
    for (size_t i = 0; i < c.grid.lengthsSec.size(); ++i) {
        NoisyConfig n;
        n.lengthSec = c.grid.lengthsSec[i];
        const std::string key = "grid.lengths_sec[" + std::to_string(i) + "]";
        probe(
            issues, [&] { n.validate(); }, [&](const std::string &) { return key; });
    }
}

void Checker::features()
{
    // features: ranges came from the declared table above; the combinations from validate().
    bool featuresInRange = true;
    for (const ConfigIssue &i : issues)
        if (i.key.rfind("features.", 0) == 0)
            featuresInRange = false;
    if (featuresInRange)
        probe(
            issues, [&] { c.features.validate(); },
            [](const std::string &s) {
                return s.rfind("features.", 0) == 0 ? s : std::string("features");
            });
}

void Checker::teacherStudentsKd()
{
    // teacher
    if (c.teacher.kind == TeacherKind::Imported && c.teacher.weights.empty())
        add("teacher.weights",
            "an imported teacher needs its weights (a folder or .safetensors file)");
    probe(
        issues, [&] { c.rolloutOptions().validate(); }, mapRolloutKey);

    // students
    if (c.students.empty())
        add("students", "needs at least one student");
    bool anyWithoutNative = false;
    std::string withoutNative;
    for (size_t i = 0; i < c.students.size(); ++i) {
        if (!StudentRegistry::contains(c.students[i])) {
            add("students[" + std::to_string(i) + "]",
                "unknown student '" + c.students[i] + "' (known: " + StudentRegistry::namesText()
                    + ")");
        } else if (StudentRegistry::spec(c.students[i]).nativeHeads == 0) {
            anyWithoutNative = true;
            withoutNative += (withoutNative.empty() ? "" : ", ") + c.students[i];
        }
    }

    // kd
    if (c.kd.lambdas.empty())
        add("kd.lambdas", "needs at least one value (0 alone trains the vanilla students)");
    if (c.kd.target == KdTarget::Native && anyWithoutNative)
        add("kd.target",
            "'native' needs students with their own attention; " + withoutNative
                + " have none (use 'branch')");
}

void Checker::trainAndOutput()
{
    // train
    if (c.train.warmupEpochs > 0 && c.train.warmupEpochs >= c.train.epochs)
        add("train.warmup_epochs",
            std::to_string(c.train.warmupEpochs)
                + " warm-up epochs leave no training after them (train.epochs is "
                + std::to_string(c.train.epochs) + ")");
    if (c.output.runsDir.empty())
        add("output.runs_dir", "must not be empty");
}

} // namespace

std::vector<ConfigIssue> ExperimentConfig::check() const
{
    std::vector<ConfigIssue> issues;
    Checker checker { *this, issues };
    checker.schemaRows();
    checker.name();
    checker.data();
    checker.features();
    checker.teacherStudentsKd();
    checker.trainAndOutput();
    return issues;
}

void ExperimentConfig::validate() const
{
    std::vector<ConfigIssue> issues = check();
    if (!issues.empty())
        throw ConfigError(std::move(issues));
}

} // namespace tkd
