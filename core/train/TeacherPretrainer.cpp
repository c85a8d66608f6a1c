#include "core/train/TeacherPretrainer.h"

#include "core/checkpoint/TrainedModels.h"
#include "core/data/FeatureCache.h"
#include "core/dist/Distributed.h"
#include "core/train/EventLog.h"
#include "core/train/EventLogObserver.h"
#include "core/train/TeacherTrainer.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainObserver.h"
#include "core/util/BuildInfo.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <filesystem>
#include <sstream>

namespace tkd {

namespace {

std::string lengthText(double sec)
{
    std::ostringstream s;
    s << sec;
    return s.str();
}

} // namespace

TeacherPretrainer::TeacherPretrainer(
    TeacherRecipe recipe, std::string outDir, TrainObserver *observer, const TrainControl *control)
    : m_recipe(std::move(recipe))
    , m_outDir(std::move(outDir))
    , m_observer(observer)
    , m_control(control)
{
    m_recipe.validate();
    if (m_outDir.empty())
        throw Error("--out", "needs an output folder");
}

std::string TeacherPretrainer::stageDir(size_t k) const
{
    return m_outDir + "/stage-" + std::to_string(k + 1);
}

std::string TeacherPretrainer::corpusDir() const
{
    return cacheRoot() + "/builtin-corpus/" + m_recipe.corpus.hash();
}

TeacherTrainOptions TeacherPretrainer::stageOptions(size_t k, const std::string &previous) const
{
    const TeacherRecipe::Stage &st = m_recipe.stages[k];
    TeacherTrainOptions o;
    o.kind = k == 0 ? m_recipe.model : TeacherKind::Pretrained;
    if (k == 0)
        o.architecture = m_recipe.architecture;
    o.weights = previous;
    o.fineTune = TeacherFineTune::All;
    o.epochs = st.epochs;
    o.lr = st.lr;
    o.attentionFocus = st.focus;
    o.batchSize = m_recipe.batchSize;
    o.weightDecay = m_recipe.weightDecay;
    o.freshNoiseEachEpoch = true;
    o.seed = m_recipe.seed + k;
    o.features = m_recipe.features;
    o.stage = "pretrain stage " + std::to_string(k + 1) + " (L=" + lengthText(st.lengthSec) + " s)";
    o.checkpointDir = stageDir(k);
    o.configHash = m_recipe.hash();
    o.threads = std::max(1, torch::get_num_threads());
    o.minAccuracy = 0.0; // the pretraining stages are judged at the end, not warned about
    o.minLocalisationRatio = 0.0;
    o.dist = m_dist && m_dist->active() ? m_dist : nullptr;
    return o;
}

TeacherPretrainResult TeacherPretrainer::runFollower()
{
    // Rank 0 checks the folder, writes the recipe and makes the corpus first; a week at most.
    constexpr auto wait = std::chrono::hours(24 * 7);
    BuiltinCorpus corpus(m_recipe.corpus, m_dist->fetch("pretrain/corpus", wait));
    corpus.ensure(m_control ? m_control->progress() : Progress {});
    const DatasetIndex index = corpus.index12(m_recipe.unknownPerSpeaker);
    const FeatureCache featureCache(cacheRoot() + "/features");
    std::string previous;
    for (size_t k = 0; k < m_recipe.stages.size(); ++k) {
        const std::string how = m_dist->fetch("pretrain/stage-" + std::to_string(k + 1), wait);
        if (how == "train") {
            NoisyConfig noisy = m_recipe.noise;
            noisy.lengthSec = m_recipe.stages[k].lengthSec;
            const NoisyDataset data(index, noisy);
            TeacherTrainer trainer(
                data, featureCache, stageOptions(k, previous), m_observer, m_control);
            trainer.run();
        }
        previous = stageDir(k) + "/best.safetensors"; // rank 0's, read when the next stage opens
    }
    return {};
}

TeacherPretrainResult TeacherPretrainer::run()
{
    const bool parallel = m_dist && m_dist->active();
    if (parallel && !m_dist->isMain())
        return runFollower();
    using clock = std::chrono::steady_clock;
    const auto t0 = clock::now();
    makeDirs(m_outDir);
    const std::string recipePath = m_outDir + "/recipe.yaml";
    if (std::filesystem::exists(recipePath)) {
        // Resuming: the finished stages must come from this recipe. A recipe may grow by stages
        // appended at its end (everything else and the earlier stages unchanged): the finished
        // stages are kept and training goes on from the last of them.
        const TeacherRecipe before = TeacherRecipe::load(recipePath);
        TeacherRecipe a = before, b = m_recipe;
        a.stages.clear();
        b.stages.clear();
        bool prefix = a.hash() == b.hash() && before.stages.size() <= m_recipe.stages.size();
        for (size_t k = 0; prefix && k < before.stages.size(); ++k)
            prefix = before.stages[k].lengthSec == m_recipe.stages[k].lengthSec
                && before.stages[k].epochs == m_recipe.stages[k].epochs
                && before.stages[k].lr == m_recipe.stages[k].lr
                && before.stages[k].focus == m_recipe.stages[k].focus;
        if (!prefix)
            throw Error(m_outDir,
                "holds a pretraining run of another recipe (" + before.name + ", " + before.hash()
                    + "); choose another --out folder (only stages appended at the end can "
                      "continue it)");
    }
    writeFileAtomic(recipePath, m_recipe.toYaml());
    EventLog log(m_outDir + "/events.jsonl");
    EventLogObserver events(&log, 4);
    if (m_observer)
        events.addForward(m_observer);
    events.onStage({ "pretrain", "recipe " + m_recipe.name + " (" + m_recipe.hash() + ")", 0, 0,
        0.0, -1.0, false });

    if (m_recipe.threads > 0)
        torch::set_num_threads(m_recipe.threads);
    BuiltinCorpus corpus(m_recipe.corpus, corpusDir());
    Progress synthProgress;
    if (m_control)
        synthProgress = m_control->progress();
    synthProgress.onProgress = [&events](const std::string &stage, int64_t done, int64_t total) {
        events.onStage({ "pretrain", "teacher corpus: " + stage, done, total, 0.0, -1.0, false });
    };
    corpus.ensure(synthProgress);
    if (parallel)
        m_dist->publish("pretrain/corpus", corpusDir());
    const DatasetIndex index = corpus.index12(m_recipe.unknownPerSpeaker);
    const FeatureCache featureCache(cacheRoot() + "/features");

    TeacherPretrainResult result;
    std::string previous; // the best weights of the stage before
    for (size_t k = 0; k < m_recipe.stages.size(); ++k) {
        const TeacherRecipe::Stage &st = m_recipe.stages[k];
        const std::string dir = stageDir(k), best = dir + "/best.safetensors",
                          done = dir + "/done.json";
        const std::string key = "pretrain/stage-" + std::to_string(k + 1);
        if (std::filesystem::exists(done) && std::filesystem::exists(best)) {
            if (parallel)
                m_dist->publish(key, "skip");
            events.onMessage(TrainObserver::Level::Info,
                "stage " + std::to_string(k + 1) + " already finished: " + best);
            result.stageSeconds.push_back(
                nlohmann::json::parse(readFile(done)).value("seconds", 0.0));
            result.stageResumed.push_back(true);
            previous = best;
            continue;
        }
        NoisyConfig noisy = m_recipe.noise;
        noisy.lengthSec = st.lengthSec;
        const NoisyDataset data(index, noisy);
        const TeacherTrainOptions o = stageOptions(k, previous);
        const auto s0 = clock::now();
        TeacherTrainer trainer(data, featureCache, o, &events, m_control);
        if (parallel) { // the stage before is written: the others load it and train with us
            trainer.prepareInputs(); // its log-mel, for the others to read from the cache
            m_dist->publish(key, "train");
        }
        const TeacherResult r = trainer.run();
        const double sec = std::chrono::duration<double>(clock::now() - s0).count();
        nlohmann::json j
            = { { "stage", k + 1 }, { "length_sec", st.lengthSec }, { "epochs", st.epochs },
                  { "seconds", sec }, { "validation_accuracy", r.validation.metrics.accuracy },
                  { "validation_localisation", r.validation.localisation.mean() } };
        writeFileAtomic(done, j.dump(2) + "\n");
        result.stageSeconds.push_back(sec);
        result.stageResumed.push_back(false);
        previous = best;
    }

    // The final teacher: the last stage's best weights, with provenance and its figures.
    result.figures = evaluate(previous);
    const Wav2Vec2Model model = TrainedModels::loadTeacher(previous);
    const TeacherCheckpointInfo info = TrainedModels::teacherInfo(previous);
    std::map<std::string, double> values;
    for (const auto &f : result.figures) {
        values["test_accuracy_L" + lengthText(f.lengthSec)] = f.accuracy;
        values["test_localisation_L" + lengthText(f.lengthSec)] = f.localisation;
        values["uniform_localisation_L" + lengthText(f.lengthSec)] = f.uniform;
    }
    result.teacherPath = m_outDir + "/teacher.safetensors";
    TrainedModels::saveTeacher(result.teacherPath, model, info.kind, index.classes, info.features,
        values,
        { { "recipe", m_recipe.toYaml() }, { "recipe_hash", m_recipe.hash() },
            { "corpus_hash", corpus.contentHash() }, { "source_revision", build::kSourceRevision },
            { "fair_rules",
                "clip labels only; speakers " + std::to_string(m_recipe.corpus.firstSpeaker) + ".."
                    + std::to_string(m_recipe.corpus.firstSpeaker + m_recipe.corpus.speakers - 1)
                    + " (train split), none of any experiment's" } });
    result.seconds = std::chrono::duration<double>(clock::now() - t0).count();

    nlohmann::json report;
    report["recipe"] = m_recipe.name;
    report["recipe_hash"] = m_recipe.hash();
    report["teacher"] = result.teacherPath;
    report["source_revision"] = build::kSourceRevision;
    for (const auto &f : result.figures)
        report["figures"].push_back(
            { { "length_sec", f.lengthSec }, { "test_accuracy", f.accuracy },
                { "test_localisation", f.localisation }, { "uniform_localisation", f.uniform } });
    for (size_t k = 0; k < result.stageSeconds.size(); ++k)
        report["stages"].push_back({ { "stage", k + 1 },
            { "length_sec", m_recipe.stages[k].lengthSec }, { "epochs", m_recipe.stages[k].epochs },
            { "seconds", result.stageSeconds[k] }, { "resumed", bool(result.stageResumed[k]) } });
    report["seconds_this_sitting"] = result.seconds;
    writeFileAtomic(m_outDir + "/report.json", report.dump(2) + "\n");
    events.onStage(
        { "pretrain", "teacher ready: " + result.teacherPath, 1, 1, result.seconds, 0.0, true });
    log.append(Event::doneEvent("teacher pretrained"));
    return result;
}

std::vector<TeacherPretrainResult::LengthFigures> TeacherPretrainer::evaluate(
    const std::string &teacherPath)
{
    BuiltinCorpus corpus(m_recipe.corpus, corpusDir());
    corpus.ensure(m_control ? m_control->progress() : Progress {});
    const DatasetIndex index = corpus.index12(m_recipe.unknownPerSpeaker);
    const FeatureCache featureCache(cacheRoot() + "/features");
    std::vector<TeacherPretrainResult::LengthFigures> out;
    for (double len : m_recipe.evaluateLengthsSec) {
        NoisyConfig noisy = m_recipe.noise;
        noisy.lengthSec = len;
        const NoisyDataset data(index, noisy);
        TeacherTrainOptions o;
        o.kind = TeacherKind::Pretrained;
        o.weights = teacherPath;
        o.epochs = 0;
        o.features = m_recipe.features;
        o.stage = "evaluate L=" + lengthText(len);
        o.threads = std::max(1, torch::get_num_threads());
        o.minAccuracy = 0.0;
        o.minLocalisationRatio = 0.0;
        TeacherTrainer trainer(data, featureCache, o, m_observer, m_control);
        const TeacherResult r = trainer.run();
        out.push_back({ len, r.test.metrics.accuracy, r.test.localisation.mean(),
            r.test.localisation.meanBaseline() });
    }
    return out;
}

} // namespace tkd
