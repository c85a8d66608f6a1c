#include "core/train/TeacherRecipe.h"

#include "core/checkpoint/TrainedModels.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"

#include <yaml-cpp/yaml.h>

#include <cmath>
#include <set>
#include <sstream>

namespace tkd {

namespace {

// Strict reading: every key is known, every value has the right type; errors name file and key.
class Reader
{
public:
    explicit Reader(std::string source)
        : m_source(std::move(source))
    { }

    [[noreturn]] void fail(
        const std::string &key, const std::string &why, const YAML::Node &at) const
    {
        const YAML::Mark m = at.Mark();
        std::string where = m_source + ": " + key;
        if (m.line >= 0)
            where += " (line " + std::to_string(m.line + 1) + ")";
        throw Error(where, why);
    }
    void onlyKeys(
        const std::string &prefix, const YAML::Node &map, const std::set<std::string> &keys) const
    {
        if (!map.IsMap())
            fail(prefix.empty() ? "recipe" : prefix, "must be a mapping", map);
        for (const auto &kv : map) {
            const std::string k = kv.first.as<std::string>();
            if (!keys.count(k))
                fail(prefix.empty() ? k : prefix + "." + k, "is not a recipe key", kv.first);
        }
    }
    template <typename T> T get(const std::string &key, const YAML::Node &n) const
    {
        if (!n.IsScalar())
            fail(key, "must be a single value", n);
        // A quoted "3" (yaml-cpp tags it "!") or an explicit !!str is text, not a number.
        if (n.Tag() == "!" || n.Tag() == "!!str" || n.Tag() == "tag:yaml.org,2002:str")
            if constexpr (!std::is_same_v<T, std::string>)
                fail(key, "must be a number, not the text '" + n.Scalar() + "'", n);
        try {
            const T v = n.as<T>();
            if constexpr (std::is_floating_point_v<T>)
                if (!std::isfinite(v))
                    fail(key, "must be a finite number", n);
            return v;
        } catch (const YAML::Exception &) {
            fail(key, "has the wrong type ('" + n.Scalar() + "')", n);
        }
    }
    template <typename T> std::vector<T> list(const std::string &key, const YAML::Node &n) const
    {
        if (!n.IsSequence())
            fail(key, "must be a list", n);
        std::vector<T> out;
        for (size_t i = 0; i < n.size(); ++i)
            out.push_back(get<T>(key + "[" + std::to_string(i) + "]", n[i]));
        return out;
    }

private:
    std::string m_source;
};

} // namespace

TeacherRecipe::TeacherRecipe()
{
    corpus.speakers = 1200;
    corpus.firstSpeaker = 100000;
    corpus.validationFraction = 0.05;
    corpus.testFraction = 0.05;
    features.kind = FeatureConfig::Kind::LogMel;
}

TeacherRecipe TeacherRecipe::load(const std::string &path)
{
    return fromYaml(readFile(path), path);
}

TeacherRecipe TeacherRecipe::fromYaml(const std::string &text, const std::string &source)
{
    if (text.size() > (1u << 20))
        throw Error(source, "is larger than 1 MB: not a teacher recipe");
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception &e) {
        throw Error(source, std::string("is not valid YAML: ") + e.what());
    }
    const Reader r(source);
    TeacherRecipe t;
    r.onlyKeys("", root,
        { "name", "description", "seed", "corpus", "unknown_per_speaker", "model", "architecture",
            "noise", "features", "batch_size", "weight_decay", "stages", "evaluate_lengths_sec",
            "threads" });
    if (root["name"])
        t.name = r.get<std::string>("name", root["name"]);
    if (root["description"])
        t.description = r.get<std::string>("description", root["description"]);
    if (root["seed"])
        t.seed = r.get<uint64_t>("seed", root["seed"]);
    if (const YAML::Node c = root["corpus"]) {
        r.onlyKeys("corpus", c,
            { "speakers", "seed", "first_speaker", "validation_fraction", "test_fraction" });
        if (c["speakers"])
            t.corpus.speakers = r.get<int>("corpus.speakers", c["speakers"]);
        if (c["seed"])
            t.corpus.seed = r.get<uint64_t>("corpus.seed", c["seed"]);
        if (c["first_speaker"])
            t.corpus.firstSpeaker = r.get<int>("corpus.first_speaker", c["first_speaker"]);
        if (c["validation_fraction"])
            t.corpus.validationFraction
                = r.get<double>("corpus.validation_fraction", c["validation_fraction"]);
        if (c["test_fraction"])
            t.corpus.testFraction = r.get<double>("corpus.test_fraction", c["test_fraction"]);
    }
    if (root["unknown_per_speaker"])
        t.unknownPerSpeaker = r.get<int>("unknown_per_speaker", root["unknown_per_speaker"]);
    if (const YAML::Node m = root["model"]) {
        const std::string name = r.get<std::string>("model", m);
        TeacherKind kind = TeacherKind::Oracle;
        try {
            kind = teacherKindFromName(name);
        } catch (const Error &) { }
        if (!isSpectralTeacher(kind))
            r.fail("model", "must be tiny or small, not '" + name + "'", m);
        t.model = kind;
    }
    if (const YAML::Node a = root["architecture"]) {
        const auto keys = TrainedModels::teacherArchitectureKeys();
        r.onlyKeys("architecture", a, std::set<std::string>(keys.begin(), keys.end()));
        for (const auto &kv : a) {
            const std::string k = kv.first.as<std::string>();
            const int64_t v = r.get<int64_t>("architecture." + k, kv.second);
            if (v < 0 || v > 100000)
                r.fail("architecture." + k, "must be between 0 and 100000", kv.second);
            t.architecture[k] = v;
        }
    }
    if (const YAML::Node n = root["noise"]) {
        r.onlyKeys("noise", n, { "snr_db", "kinds", "babble_words", "babble_gain_db", "seed" });
        if (n["snr_db"]) {
            const auto v = r.list<double>("noise.snr_db", n["snr_db"]);
            if (v.size() != 2)
                r.fail("noise.snr_db", "must be [min, max]", n["snr_db"]);
            t.noise.snrDbMin = v[0];
            t.noise.snrDbMax = v[1];
        }
        if (n["kinds"]) {
            t.noise.kinds.clear();
            for (const auto &k : r.list<std::string>("noise.kinds", n["kinds"]))
                t.noise.kinds.push_back(noiseKindFromName(k));
        }
        if (n["babble_words"])
            t.noise.babbleWords = r.get<int>("noise.babble_words", n["babble_words"]);
        if (n["babble_gain_db"])
            t.noise.babbleGainDb = r.get<double>("noise.babble_gain_db", n["babble_gain_db"]);
        if (n["seed"])
            t.noise.seed = r.get<uint64_t>("noise.seed", n["seed"]);
    }
    if (const YAML::Node f = root["features"]) {
        std::set<std::string> names;
        for (const ParamSpec &p : FeatureConfig::declared())
            names.insert(p.name);
        r.onlyKeys("features", f, names);
        for (const auto &kv : f) {
            const std::string k = kv.first.as<std::string>();
            t.features.setValue(k, r.get<double>("features." + k, kv.second));
        }
    }
    if (root["batch_size"])
        t.batchSize = r.get<int>("batch_size", root["batch_size"]);
    if (root["weight_decay"])
        t.weightDecay = r.get<double>("weight_decay", root["weight_decay"]);
    if (const YAML::Node s = root["stages"]) {
        if (!s.IsSequence())
            r.fail("stages", "must be a list of {length_sec, epochs, lr[, focus]}", s);
        t.stages.clear();
        for (size_t i = 0; i < s.size(); ++i) {
            const std::string key = "stages[" + std::to_string(i) + "]";
            r.onlyKeys(key, s[i], { "length_sec", "epochs", "lr", "focus" });
            Stage st;
            if (s[i]["length_sec"])
                st.lengthSec = r.get<double>(key + ".length_sec", s[i]["length_sec"]);
            if (s[i]["epochs"])
                st.epochs = r.get<int>(key + ".epochs", s[i]["epochs"]);
            if (s[i]["lr"])
                st.lr = r.get<double>(key + ".lr", s[i]["lr"]);
            if (s[i]["focus"])
                st.focus = r.get<double>(key + ".focus", s[i]["focus"]);
            t.stages.push_back(st);
        }
    }
    if (root["evaluate_lengths_sec"])
        t.evaluateLengthsSec = r.list<double>("evaluate_lengths_sec", root["evaluate_lengths_sec"]);
    if (root["threads"])
        t.threads = r.get<int>("threads", root["threads"]);
    try {
        t.validate();
    } catch (const Error &e) {
        throw Error(source + ": " + e.subject(), e.reason());
    }
    return t;
}

void TeacherRecipe::validate() const
{
    if (name.empty() || name.find('/') != std::string::npos)
        throw Error("name", "must be a non-empty file name");
    corpus.validate();
    if (corpus.firstSpeaker < 100000)
        throw Error("corpus.first_speaker",
            "must be >= 100000: experiments use speakers 0..99999, and the teacher must not hear "
            "their "
            "validation or test speakers");
    if (unknownPerSpeaker < 0 || unknownPerSpeaker > 25)
        throw Error("unknown_per_speaker", "must be between 0 and 25");
    if (!isSpectralTeacher(model))
        throw Error(
            "model", std::string("must be tiny or small, not '") + teacherKindName(model) + "'");
    features.validate();
    if (batchSize < 1 || batchSize > 4096)
        throw Error("batch_size", "must be between 1 and 4096");
    if (!(weightDecay >= 0.0 && weightDecay < 1.0))
        throw Error("weight_decay", "must be in [0, 1)");
    if (stages.empty())
        throw Error("stages", "needs at least one stage");
    for (size_t i = 0; i < stages.size(); ++i) {
        const std::string key = "stages[" + std::to_string(i) + "]";
        if (!(stages[i].lengthSec >= 1.0 && stages[i].lengthSec <= 30.0))
            throw Error(key + ".length_sec", "must be between 1 and 30 s");
        if (stages[i].epochs < 1 || stages[i].epochs > 1000)
            throw Error(key + ".epochs", "must be between 1 and 1000");
        if (!(stages[i].lr > 0.0 && stages[i].lr < 1.0))
            throw Error(key + ".lr", "must be in (0, 1)");
        if (!(stages[i].focus >= 0.0 && stages[i].focus <= 10.0))
            throw Error(key + ".focus", "must be between 0 and 10");
    }
    NoisyConfig n = noise;
    for (const Stage &s : stages) {
        n.lengthSec = s.lengthSec;
        n.validate();
    }
    for (double l : evaluateLengthsSec)
        if (!(l >= 1.0 && l <= 30.0))
            throw Error("evaluate_lengths_sec", "lengths must be between 1 and 30 s");
    if (threads < 0 || threads > 256)
        throw Error("threads", "must be between 0 and 256");
}

std::string TeacherRecipe::toYaml() const
{
    std::ostringstream y;
    y << "# A teacher pretraining recipe: tkd teacher pretrain --recipe FILE\n";
    y << "name: " << name << "\n";
    if (!description.empty())
        y << "description: \"" << description << "\"\n";
    y << "seed: " << seed << "\n";
    y << "corpus:\n  speakers: " << corpus.speakers << "\n  seed: " << corpus.seed
      << "\n  first_speaker: " << corpus.firstSpeaker
      << "\n  validation_fraction: " << corpus.validationFraction
      << "\n  test_fraction: " << corpus.testFraction << "\n";
    y << "unknown_per_speaker: " << unknownPerSpeaker << "\n";
    y << "model: " << teacherKindName(model) << "\n";
    if (!architecture.empty()) {
        y << "architecture:\n";
        for (const auto &[k, v] : architecture)
            y << "  " << k << ": " << v << "\n";
    }
    y << "noise:\n  snr_db: [" << noise.snrDbMin << ", " << noise.snrDbMax << "]\n  kinds: [";
    for (size_t i = 0; i < noise.kinds.size(); ++i)
        y << (i ? ", " : "") << noiseKindName(noise.kinds[i]);
    y << "]\n  babble_words: " << noise.babbleWords << "\n  babble_gain_db: " << noise.babbleGainDb
      << "\n  seed: " << noise.seed << "\n";
    y << "features:\n";
    for (const ParamSpec &p : FeatureConfig::declared())
        y << "  " << p.name << ": " << features.value(p.name) << "\n";
    y << "batch_size: " << batchSize << "\nweight_decay: " << weightDecay << "\nstages:\n";
    for (const Stage &s : stages) {
        y << "  - {length_sec: " << s.lengthSec << ", epochs: " << s.epochs << ", lr: " << s.lr;
        if (s.focus > 0.0) // absent when off: recipes without it keep their text and hash
            y << ", focus: " << s.focus;
        y << "}\n";
    }
    y << "evaluate_lengths_sec: [";
    for (size_t i = 0; i < evaluateLengthsSec.size(); ++i)
        y << (i ? ", " : "") << evaluateLengthsSec[i];
    y << "]\nthreads: " << threads << "\n";
    return y.str();
}

std::string TeacherRecipe::hash() const
{
    TeacherRecipe r = *this;
    r.threads = 0; // how many cores ran it does not change what it makes
    return Sha256::ofString(r.toYaml()).substr(0, 12);
}

} // namespace tkd
