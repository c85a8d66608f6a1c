#include "core/train/Pipeline.h"

#include "core/data/BuiltinCorpus.h"
#include "core/data/DatasetSource.h"
#include "core/data/FeatureCache.h"
#include "core/data/NoisyDataset.h"
#include "core/distill/TeacherAttentionCache.h"
#include "core/features/FeatureExtractor.h"
#include "core/train/EventLog.h"
#include "core/train/EventLogObserver.h"
#include "core/train/PreparedData.h"
#include "core/train/Provenance.h"
#include "core/train/RunDirectory.h"
#include "core/train/StudentTrainer.h"
#include "core/train/TeacherTrainer.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainLoop.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <filesystem>
#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace tkd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string number(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

double get(const std::map<std::string, double> &m, const std::string &k)
{
    auto it = m.find(k);
    return it == m.end() ? kNaN : it->second;
}

nlohmann::json mapJson(const std::map<std::string, double> &m)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto &[k, v] : m)
        j[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
    return j;
}

std::map<std::string, double> jsonMap(const nlohmann::json &j)
{
    std::map<std::string, double> m;
    if (j.is_object())
        for (auto it = j.begin(); it != j.end(); ++it)
            m[it.key()] = it.value().is_number() ? it.value().get<double>() : kNaN;
    return m;
}

std::string percent(double v)
{
    if (!std::isfinite(v))
        return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * v);
    return buf;
}

std::string fixed3(double v)
{
    if (!std::isfinite(v))
        return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.3f", v);
    return buf;
}

DatasetIndex openIndex(const ExperimentConfig &c, const PipelineOptions &o, const Progress &p)
{
    if (c.data.source == "builtin") {
        BuiltinCorpus corpus(c.corpusConfig(), o.corpusDir.empty() ? c.data.path : o.corpusDir);
        corpus.ensure(p);
        return c.data.task == 35 ? corpus.index35() : corpus.index12();
    }
    return c.datasetSource().open(p);
}
} // namespace

nlohmann::json PipelineResult::toJson() const
{
    nlohmann::json j;
    j["run_dir"] = runDir;
    j["cancelled"] = cancelled;
    j["lengths"] = nlohmann::json::array();
    for (const auto &l : lengths) {
        nlohmann::json lj;
        lj["length_sec"] = l.lengthSec;
        lj["clips"] = {{"train", l.trainClips}, {"validation", l.validationClips}, {"test", l.testClips}};
        lj["teacher"] = {{"kind", l.teacherKind},
                         {"validation", mapJson(l.teacherValidation)},
                         {"test", mapJson(l.teacherTest)},
                         {"warnings", l.warnings},
                         {"checkpoint", l.teacherCheckpoint},
                         {"hash", l.teacherHash},
                         {"seconds", l.teacherSeconds}};
        lj["data_hash"] = l.dataHash;
        lj["cache"] = {{"hit", l.cacheHit}, {"path", l.cachePath}};
        lj["cells"] = nlohmann::json::array();
        for (const auto &c : l.cells)
            lj["cells"].push_back({{"student", c.student},
                                   {"lambda", c.lambda},
                                   {"length_sec", c.lengthSec},
                                   {"seed", c.seed},
                                   {"status", c.status},
                                   {"message", c.message},
                                   {"validation", mapJson(c.validation)},
                                   {"test", mapJson(c.test)},
                                   {"best_epoch", c.bestEpoch},
                                   {"epochs_run", c.epochsRun},
                                   {"train_seconds_per_epoch", c.trainSecondsPerEpoch},
                                   {"wall_seconds", c.wallSeconds},
                                   {"checkpoint", c.checkpoint}});
        j["lengths"].push_back(lj);
    }
    return j;
}

PipelineResult PipelineResult::fromJson(const nlohmann::json &j)
{
    PipelineResult r;
    try {
        r.runDir = j.value("run_dir", "");
        r.cancelled = j.value("cancelled", false);
        for (const auto &lj : j.at("lengths")) {
            LengthResult l;
            l.lengthSec = lj.at("length_sec").get<double>();
            if (lj.contains("clips")) {
                l.trainClips = lj["clips"].value("train", 0);
                l.validationClips = lj["clips"].value("validation", 0);
                l.testClips = lj["clips"].value("test", 0);
            }
            const auto &t = lj.at("teacher");
            l.teacherKind = t.value("kind", "");
            l.teacherValidation = jsonMap(t.value("validation", nlohmann::json::object()));
            l.teacherTest = jsonMap(t.value("test", nlohmann::json::object()));
            l.warnings = t.value("warnings", std::vector<std::string>{});
            l.teacherCheckpoint = t.value("checkpoint", "");
            l.teacherHash = t.value("hash", "");
            l.teacherSeconds = t.value("seconds", 0.0);
            l.dataHash = lj.value("data_hash", "");
            for (const auto &cj : lj.at("cells")) {
                CellResult c;
                c.student = cj.at("student").get<std::string>();
                c.lambda = cj.at("lambda").get<double>();
                c.lengthSec = cj.value("length_sec", l.lengthSec);
                c.seed = cj.value("seed", uint64_t(1));
                c.status = cj.value("status", "");
                c.message = cj.value("message", "");
                c.validation = jsonMap(cj.value("validation", nlohmann::json::object()));
                c.test = jsonMap(cj.value("test", nlohmann::json::object()));
                c.bestEpoch = cj.value("best_epoch", int64_t(0));
                c.epochsRun = cj.value("epochs_run", int64_t(0));
                c.trainSecondsPerEpoch = cj.value("train_seconds_per_epoch", 0.0);
                c.wallSeconds = cj.value("wall_seconds", 0.0);
                c.checkpoint = cj.value("checkpoint", "");
                c.runDir = r.runDir;
                l.cells.push_back(c);
            }
            r.lengths.push_back(l);
        }
    } catch (const nlohmann::json::exception &e) {
        throw Error("metrics.json", std::string("is not a pipeline result: ") + e.what());
    }
    return r;
}

std::string PipelineResult::table() const
{
    std::ostringstream s;
    for (const auto &l : lengths) {
        char head[256];
        std::snprintf(head, sizeof head, "L = %g s (train %lld, validation %lld, test %lld clips)\n", l.lengthSec,
                      (long long)l.trainClips, (long long)l.validationClips, (long long)l.testClips);
        s << head;
        char row[512];
        std::snprintf(row, sizeof row, "  %-24s %7s %6s %9s %9s %13s %13s %9s %9s\n", "model", "lambda", "seed",
                      "val acc", "test acc", "loc (branch)", "loc (native)", "uniform", "s/epoch");
        s << row;
        std::snprintf(row, sizeof row, "  %-24s %7s %6s %9s %9s %13s %13s %9s %9s\n", ("teacher " + l.teacherKind + (l.teacherKind == "oracle" ? " (upper bound)" : "")).c_str(),
                      "-", "-", percent(get(l.teacherValidation, "accuracy")).c_str(),
                      percent(get(l.teacherTest, "accuracy")).c_str(), fixed3(get(l.teacherTest, "localisation")).c_str(),
                      "-", fixed3(get(l.teacherTest, "localisation_baseline")).c_str(), "-");
        s << row;
        for (const auto &c : l.cells) {
            char perEpoch[32];
            std::snprintf(perEpoch, sizeof perEpoch, "%.2f", c.trainSecondsPerEpoch);
            std::snprintf(row, sizeof row, "  %-24s %7s %6llu %9s %9s %13s %13s %9s %9s%s\n", c.student.c_str(),
                          number(c.lambda).c_str(), (unsigned long long)c.seed,
                          percent(get(c.validation, "accuracy")).c_str(), percent(get(c.test, "accuracy")).c_str(),
                          fixed3(get(c.test, "localisation_branch")).c_str(),
                          fixed3(get(c.test, "localisation_native")).c_str(),
                          fixed3(get(c.test, "localisation_baseline")).c_str(), perEpoch,
                          c.status == "completed" || c.status == "early-stopped" ? "" : ("  [" + c.status + "]").c_str());
            s << row;
        }
        for (const auto &w : l.warnings)
            s << "  warning: " << w << "\n";
    }
    return s.str();
}

std::string Pipeline::cellName(const std::string &student, double lengthSec, double lambda, uint64_t seed)
{
    return student + "-L" + number(lengthSec) + "-lambda" + number(lambda) + "-seed" + std::to_string(seed);
}

Pipeline::Pipeline(ExperimentConfig config, PipelineOptions options, TrainObserver *observer, TrainControl *control)
    : m_config(std::move(config)), m_options(std::move(options)), m_observer(observer), m_control(control)
{
    m_config.validate();
    if (m_options.shardCount < 1 || m_options.shardIndex < 0 || m_options.shardIndex >= m_options.shardCount)
        throw Error("shard", std::to_string(m_options.shardIndex) + "/" + std::to_string(m_options.shardCount) +
                                 " is not a shard (expected K/N with 0 <= K < N)");
    if (!m_options.teacherCheckpoint.empty() && !m_options.teacherRunDir.empty())
        throw Error("teacher", "give a teacher checkpoint or a teacher run folder, not both");
}

PipelineResult Pipeline::run()
{
    const ExperimentConfig &c = m_config;
    TrainControl localControl;
    TrainControl &control = m_control ? *m_control : localControl;
    TrainLoop::setThreads(c.train.numThreads);
    std::string deviceNote;
    const torch::Device device = TrainLoop::resolveDevice(c.train.device, &deviceNote);

    RunDirectory run = RunDirectory::create(c, Provenance::collect(c, m_options.commandLine));
    m_runDir = run.path();
    EventLogObserver log(&run.events());
    log.addForward(m_observer);
    TrainObserver *obs = &log;
    if (!deviceNote.empty())
        obs->onMessage(TrainObserver::Level::Warning, deviceNote);
    obs->onMessage(TrainObserver::Level::Info, "run folder " + run.path());

    PipelineResult result;
    result.runDir = run.path();
    auto save = [&] { run.writeMetrics(result.toJson()); };
    auto stageProgress = [&](const std::string &stage) {
        return control.progress([obs, stage](const std::string &what, int64_t done, int64_t total) {
            obs->onStage({stage, what, done, total, 0.0, -1.0, false});
        });
    };

    try {
        obs->onStage({"data", "opening the " + c.data.source + " dataset", 0, 0, 0.0, -1.0, false});
        const DatasetIndex index = openIndex(c, m_options, stageProgress("data"));
        const FeatureCache featureCache(m_options.featureCacheDir);
        const FeatureExtractor studentFx(c.features);
        Provenance prov = run.provenance();

        for (double lengthSec : c.clipLengths()) {
            LengthResult lr;
            lr.lengthSec = lengthSec;
            const NoisyDataset data(index, c.noisyConfig(lengthSec));
            lr.dataHash = data.contentHash();
            const PreparedData prepared(data, {}, m_options.threads);
            const std::string dataStage = "data L=" + number(lengthSec);
            obs->onStage({dataStage, "student features", 0, 0, 0.0, -1.0, false});
            PreparedSplit train = prepared.split(Split::Train, studentFx, featureCache, stageProgress(dataStage));
            PreparedSplit val = prepared.split(Split::Validation, studentFx, featureCache, stageProgress(dataStage));
            PreparedSplit test = prepared.split(Split::Test, studentFx, featureCache, stageProgress(dataStage));
            lr.trainClips = train.size();
            lr.validationClips = val.size();
            lr.testClips = test.size();
            obs->onStage({dataStage, "ready", 1, 1, 0.0, 0.0, true});

            // Teacher stage.
            TeacherTrainOptions to;
            to.kind = c.teacher.kind;
            to.weights = c.teacher.weights;
            to.fineTune = c.teacher.fineTune;
            to.epochs = c.teacher.epochs;
            to.lr = c.teacher.lr;
            to.batchSize = c.teacher.batchSize;
            to.freshNoiseEachEpoch = c.teacher.freshNoiseEachEpoch;
            to.spectralSubsampling = m_options.teacherSubsampling;
            to.seed = c.seed;
            to.device = device;
            to.rollout = c.rolloutOptions();
            to.features = c.features;
            to.stage = "teacher L=" + number(lengthSec);
            to.checkpointDir = run.path() + "/teacher-L" + number(lengthSec);
            to.configHash = c.hash();
            to.threads = m_options.threads;
            TeacherTrainer teacherTrainer(data, featureCache, to, obs, &control);
            TeacherResult teacher;
            std::string teacherCkpt = m_options.teacherCheckpoint;
            if (!m_options.teacherRunDir.empty() && c.teacher.kind != "oracle" && !teacherTrainer.usesPretrainedAsIs()) {
                teacherCkpt = m_options.teacherRunDir + "/teacher-L" + number(lengthSec) + "/best.safetensors";
                if (!std::filesystem::is_regular_file(teacherCkpt))
                    throw Error(m_options.teacherRunDir, "has no teacher for L = " + number(lengthSec) +
                                                             " s (expected " + teacherCkpt + ")");
            }
            if (!teacherCkpt.empty() && c.teacher.kind != "oracle") {
                obs->onStage({to.stage, "loading " + teacherCkpt, 0, 0, 0.0, -1.0, false});
                teacher = teacherTrainer.evaluateOnly(TeacherTrainer::load(teacherCkpt));
                teacher.checkpoint = teacherCkpt;
            } else {
                teacher = teacherTrainer.run();
            }
            lr.teacherKind = teacher.kind;
            lr.teacherValidation = teacher.validation.summary();
            lr.teacherTest = teacher.test.summary();
            lr.warnings = teacher.warnings;
            lr.teacherCheckpoint = teacher.checkpoint;
            lr.teacherHash = teacher.weightsHash;
            lr.teacherSeconds = teacher.seconds;
            prov.dataHash = lr.dataHash;
            prov.teacherHash = teacher.weightsHash;
            run.writeProvenance(prov);
            result.lengths.push_back(lr);
            save();
            if (m_options.stopAfter == PipelineOptions::Stop::AfterTeacher)
                continue;

            // a_T for every training clip: the cache (or the oracle, computed on the spot).
            torch::Tensor teacherAttention, teacherLogits;
            if (teacher.oracle) {
                teacherAttention = TeacherTrainer::oracleAttention(train, train.frames());
            } else {
                TeacherAttentionCache cache(m_options.teacherCacheDir);
                cache.setMessageHandler([obs](const std::string &m) { obs->onMessage(TrainObserver::Level::Warning, m); });
                const std::string stage = "cache L=" + number(lengthSec);
                obs->onStage({stage, "teacher attention for the training clips", 0, train.size(), 0.0, -1.0, false});
                const TeacherCacheEntry entry =
                    cache.get(teacherTrainer.cacheSource(Split::Train), teacher.model, teacher.weightsHash,
                              c.rolloutOptions(), stageProgress(stage), device);
                teacherAttention = entry.attention;
                teacherLogits = entry.logits;
                result.lengths.back().cacheHit = entry.fromCache;
                result.lengths.back().cachePath = entry.path;
                obs->onStage({stage, entry.fromCache ? "reused " + entry.path : "wrote " + entry.path, train.size(),
                              train.size(), 0.0, 0.0, true});
            }
            save();
            if (m_options.stopAfter == PipelineOptions::Stop::AfterCache)
                continue;

            // Students: every student x seed x lambda (this shard's share of them).
            int ordinal = -1;
            for (const std::string &student : c.students)
                for (uint64_t seed : c.studentSeeds())
                    for (double lambda : c.kd.lambdas) {
                        if (++ordinal % m_options.shardCount != m_options.shardIndex)
                            continue;
                        const auto cellStart = std::chrono::steady_clock::now();
                        CellResult cell;
                        cell.student = student;
                        cell.lambda = lambda;
                        cell.lengthSec = lengthSec;
                        cell.seed = seed;
                        StudentTrainOptions so;
                        so.student = student;
                        so.lambda = lambda;
                        so.kdTarget = c.kd.target;
                        so.logitKdWeight = teacher.oracle ? 0.0 : c.kd.logitKd.weight;
                        so.temperature = c.kd.logitKd.temperature;
                        so.optimizer = c.train.optimizer;
                        so.lr = c.train.lr;
                        so.momentum = c.train.momentum;
                        so.weightDecay = c.train.weightDecay;
                        so.schedule = c.train.schedule;
                        so.warmupEpochs = c.train.warmupEpochs;
                        so.epochs = c.train.epochs;
                        so.batchSize = c.train.batchSize;
                        so.earlyStoppingPatience = c.train.earlyStoppingPatience;
                        so.seed = seed;
                        so.device = device;
                        so.stage = "student " + student + " lambda=" + number(lambda) + " L=" + number(lengthSec) +
                                   " seed=" + std::to_string(seed);
                        so.checkpointDir = run.path() + "/students/" + cellName(student, lengthSec, lambda, seed);
                        so.configHash = c.hash();
                        StudentData sd;
                        sd.train = &train;
                        sd.validation = &val;
                        sd.test = &test;
                        sd.teacherAttention = teacherAttention;
                        sd.teacherLogits = teacherLogits;
                        try {
                            StudentTrainer trainer(so, obs, &control);
                            StudentResult r = trainer.train(sd);
                            cell.status = studentStatusName(r.status);
                            cell.validation = r.validation.summary();
                            cell.test = r.test.summary();
                            cell.bestEpoch = r.bestEpoch;
                            cell.epochsRun = r.epochsRun;
                            cell.trainSecondsPerEpoch = r.trainSecondsPerEpoch;
                            cell.checkpoint = r.bestCheckpoint;
                            cell.runDir = run.path();
                            if (r.status == StudentResult::Status::Cancelled) {
                                result.lengths.back().cells.push_back(cell);
                                throw Cancelled();
                            }
                        } catch (const Cancelled &) {
                            throw;
                        } catch (const Error &e) {
                            // One diverged cell must not cost the rest of the grid.
                            cell.status = "failed";
                            cell.message = e.what();
                        }
                        cell.wallSeconds =
                            std::chrono::duration<double>(std::chrono::steady_clock::now() - cellStart).count();
                        result.lengths.back().cells.push_back(cell);
                        save();
                    }
        }
    } catch (const Cancelled &) {
        result.cancelled = true;
        save();
        run.events().append(Event::doneEvent("cancelled"));
        throw;
    } catch (const Error &e) {
        run.events().append(Event::errorEvent(e.what()));
        save();
        throw;
    }
    save();
    run.events().append(Event::doneEvent("finished"));
    return result;
}

} // namespace tkd
