#include "core/train/Pipeline.h"

#include "core/checkpoint/TrainedModels.h"
#include "core/data/BuiltinCorpus.h"
#include "core/data/DatasetSource.h"
#include "core/data/FeatureCache.h"
#include "core/data/NoisyDataset.h"
#include "core/data/PreparedData.h"
#include "core/dist/Distributed.h"
#include "core/distill/TeacherAttentionCache.h"
#include "core/features/FeatureExtractor.h"
#include "core/train/DataParallel.h"
#include "core/train/EventLog.h"
#include "core/train/EventLogObserver.h"
#include "core/train/Provenance.h"
#include "core/train/RunDirectory.h"
#include "core/train/StageOptions.h"
#include "core/train/StudentTrainer.h"
#include "core/train/TeacherTrainer.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainLoop.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"
#include "core/util/Format.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>
#include <tuple>

namespace tkd {

Pipeline::Pipeline(ExperimentConfig config, PipelineOptions options, TrainObserver *observer,
    TrainControl *control)
    : m_config(std::move(config))
    , m_options(std::move(options))
    , m_observer(observer)
    , m_control(control)
{
    m_config.validate();
    if (m_options.shardCount < 1 || m_options.shardIndex < 0
        || m_options.shardIndex >= m_options.shardCount)
        throw Error("shard",
            std::to_string(m_options.shardIndex) + "/" + std::to_string(m_options.shardCount)
                + " is not a shard (expected K/N with 0 <= K < N)");
    if (!m_options.teacherCheckpoint.empty() && !m_options.teacherRunDir.empty())
        throw Error("teacher", "give a teacher checkpoint or a teacher run folder, not both");
}

namespace {

// How long the ranks other than 0 wait for rank 0 to open the run folder or publish a value.
constexpr auto kStoreWait = std::chrono::minutes(10);

// One run() of the pipeline: the run folder, its observers and results, and one method per stage.
class PipelineRun
{
public:
    // `run` is null on the ranks other than 0 of a data-parallel job: they write nothing.
    PipelineRun(const ExperimentConfig &config, const PipelineOptions &options, RunDirectory *run,
        const std::string &runPath, TrainObserver *obs, TrainControl &control, torch::Device device,
        PipelineResult previous = {})
        : c(config)
        , o(options)
        , m_previous(std::move(previous))
        , m_run(run)
        , m_runPath(runPath)
        , obs(obs)
        , m_control(control)
        , m_device(device)
        , m_featureCache(options.featureCacheDir)
        , m_studentFx(config.features)
    {
        m_result.runDir = runPath;
    }

    PipelineResult &result() { return m_result; }
    void save()
    {
        if (m_run)
            m_run->writeMetrics(m_result.toJson());
    }

    // Rank 0 tells the other ranks how length number `m_lengths` ended ("ok", "cancelled" or
    // "error: ..."); they wait for it before the student stage.
    void announceLength(const std::string &how)
    {
        try {
            if (dist() && m_teacherAnnounced != m_lengths) // the others may wait for the teacher
                dist()->publish("teacher/" + std::to_string(m_lengths), how);
            if (dist())
                dist()->publish("length/" + std::to_string(m_lengths), how);
        } catch (const std::exception &) {
            // The store is gone with the job: the others fail on their own.
        }
    }
    Distributed *dist() const { return o.dist && o.dist->active() ? o.dist : nullptr; }
    bool follower() const { return dist() && !dist()->isMain(); }

    bool resuming() const { return !o.resumeRunDir.empty(); }

    // The resumed run's record of this length, when its teacher stage had finished (metrics.json
    // is saved right after it).
    const LengthResult *previousLength(double lengthSec) const
    {
        for (const auto &l : m_previous.lengths)
            if (l.lengthSec == lengthSec && !l.teacherKind.empty())
                return &l;
        return nullptr;
    }

    // The resumed run's cell, when it trained to a usable end (its checkpoint still there).
    const CellResult *previousCell(const StudentTrainOptions &so, double lengthSec) const
    {
        const LengthResult *l = previousLength(lengthSec);
        if (!l)
            return nullptr;
        // Paths from this folder, not the recorded ones: the folder may have moved, or been
        // made with a runs_dir relative to another working directory.
        const std::string best = so.checkpointDir + "/best.safetensors";
        for (const auto &cell : l->cells)
            if (cell.student == so.student && cell.lambda == so.lambda && cell.seed == so.seed
                && cell.usable() && std::filesystem::is_regular_file(best)) {
                m_kept = cell;
                m_kept.checkpoint = best;
                return &m_kept;
            }
        return nullptr;
    }

    void all()
    {
        obs->onStage(
            { "data", "opening the " + c.data.source + " dataset", 0, 0, 0.0, -1.0, false });
        const DatasetIndex index = c.datasetSource(o.corpusDir).open(progress("data"));
        Provenance prov = m_run ? m_run->provenance() : Provenance {};
        for (double lengthSec : c.clipLengths())
            length(index, lengthSec, prov);
    }

private:
    struct Splits
    {
        PreparedSplit train, validation, test;
        PreparedSplit unseenVoices; // empty when data.corpus.unseen_voices is off
    };
    struct TeacherAttention
    {
        torch::Tensor attention, logits;
    };

    Progress progress(const std::string &stage)
    {
        TrainObserver *observer = obs;
        return m_control.progress(
            [observer, stage](const std::string &what, int64_t done, int64_t total) {
                observer->onStage({ stage, what, done, total, 0.0, -1.0, false });
            });
    }

    void length(const DatasetIndex &index, double lengthSec, Provenance &prov)
    {
        ++m_lengths;
        if (follower())
            return followLength(index, lengthSec);
        LengthResult lr;
        lr.lengthSec = lengthSec;
        const NoisyDataset data(index, c.noisyConfig(lengthSec));
        lr.dataHash = data.contentHash();
        const PreparedData prepared(data, {}, o.threads);
        Splits splits = studentFeatures(prepared, lengthSec, lr);

        TeacherTrainer teacherTrainer(data, m_featureCache,
            teacherOptions(c, o, lengthSec, m_runPath, m_device), obs, &m_control);
        announceTeacher(teacherTrainer, lengthSec);
        const TeacherResult teacher = teacherStage(teacherTrainer, lengthSec, lr);
        prov.dataHash = lr.dataHash;
        prov.teacherHash = teacher.weightsHash;
        if (m_run)
            m_run->writeProvenance(prov);
        m_result.lengths.push_back(lr);
        save();
        if (o.stopAfter == PipelineOptions::Stop::AfterTeacher)
            return;
        if (o.stopAfter == PipelineOptions::Stop::AfterStudents)
            announceLength("ok"); // the other ranks join the cache stage, then the students

        TeacherAttention attention = cacheStage(teacherTrainer, teacher, splits.train, lengthSec);
        save();
        if (o.stopAfter == PipelineOptions::Stop::AfterCache)
            return;
        bool oracle = teacher.oracle;
        shareAttention(attention, oracle);
        studentStage(splits, attention, oracle, lengthSec);
    }

    // Whether this length's teacher trains data-parallel (it trains by gradient steps and no
    // checkpoint stands in for it): rank 0 decides, makes the teacher's inputs for the others to
    // read from the cache, and tells them ("train", or "rank 0" when it has the teacher alone).
    void announceTeacher(TeacherTrainer &trainer, double lengthSec)
    {
        if (!dist() || o.stopAfter != PipelineOptions::Stop::AfterStudents)
            return;
        const bool parallel
            = teacherCheckpoint(trainer, lengthSec).empty() && trainer.trainsInLoop();
        if (parallel) {
            trainer.prepareInputs();
            trainer.setDistributed(dist());
        }
        dist()->publish("teacher/" + std::to_string(m_lengths), parallel ? "train" : "rank 0");
        m_teacherAnnounced = m_lengths;
        m_parallelTeacher = parallel;
    }

    // A rank other than 0: it trains its share of a learned teacher with rank 0 (or waits for rank
    // 0's teacher), computes its share of the teacher attention cache, takes a_T by broadcast, and
    // trains its share of every student.
    void followLength(const DatasetIndex &index, double lengthSec)
    {
        if (o.stopAfter != PipelineOptions::Stop::AfterStudents)
            return;
        const std::string n = std::to_string(m_lengths);
        obs->onStage({ "rank " + std::to_string(dist()->rank()), "waiting for rank 0's data", 0, 0,
            0.0, -1.0, false });
        const auto waitForRankZero = [&](const std::string &key) {
            const std::string how = dist()->fetch(key, std::chrono::hours(24 * 7));
            if (how == "cancelled")
                throw Cancelled();
            return how;
        };
        const std::string teacherHow = waitForRankZero("teacher/" + n);
        if (teacherHow != "train" && teacherHow != "rank 0")
            throw Error("rank 0", teacherHow);
        LengthResult lr;
        lr.lengthSec = lengthSec;
        const NoisyDataset data(index, c.noisyConfig(lengthSec));
        lr.dataHash = data.contentHash();
        TeacherTrainer trainer(data, m_featureCache,
            teacherOptions(c, o, lengthSec, m_runPath, m_device), obs, &m_control);
        Wav2Vec2Model own { nullptr }; // the teacher this rank trained with the others
        std::string ownHash;
        if (teacherHow == "train") {
            trainer.setDistributed(dist());
            const TeacherResult r = trainer.run();
            own = r.model;
            ownHash = r.weightsHash;
        } else {
            obs->onStage({ "rank " + std::to_string(dist()->rank()), "waiting for rank 0's teacher",
                0, 0, 0.0, -1.0, false });
        }
        if (const std::string how = waitForRankZero("length/" + n); how != "ok")
            throw Error("rank 0", how);
        const PreparedData prepared(data, {}, o.threads);
        const Splits splits = studentFeatures(prepared, lengthSec, lr); // rank 0's cached files
        m_result.lengths.push_back(lr);
        if (c.teacher.kind != TeacherKind::Oracle) {
            // This rank's share of the teacher attention cache, with rank 0's teacher: its own
            // when they trained it together (the same weights), else rank 0's by broadcast.
            const std::string hash = dist()->fetch("teacher_hash/" + n, kStoreWait);
            if (own && ownHash != hash)
                throw DistributedError("rank " + std::to_string(dist()->rank()),
                    "the teacher it trained with rank 0 ended with other weights than rank 0's ("
                        + ownHash + " against " + hash + "): the ranks drifted apart");
            Wav2Vec2Model model = own ? own : trainer.buildModel();
            if (own || shareTeacher(model)) {
                TeacherAttentionCache cache(o.teacherCacheDir);
                cache.setShard(cacheShard(splits.train.size()));
                cache.get(trainer.cacheSource(Split::Train), model, hash, c.rolloutOptions(), {},
                    m_device);
            }
        }
        TeacherAttention attention;
        bool oracle = false;
        shareAttention(attention, oracle);
        studentStage(splits, attention, oracle, lengthSec);
    }

    // Rank 0's teacher weights into `model` on every rank; false (on all) when an architecture
    // differs (a --teacher checkpoint of another shape): rank 0 then makes the cache alone.
    bool shareTeacher(Wav2Vec2Model &model)
    {
        std::vector<torch::Tensor> t = model->parameters();
        for (const auto &b : model->buffers())
            t.push_back(b);
        int64_t numel = 0;
        for (const auto &x : t)
            numel += x.numel();
        std::vector<torch::Tensor> shape { torch::tensor({ int64_t(t.size()), numel }) };
        dist()->broadcast(shape, 0, "broadcast of the teacher's shape");
        const bool same = shape[0][0].item<int64_t>() == int64_t(t.size())
            && shape[0][1].item<int64_t>() == numel;
        if (dist()->any(!same, "agreeing on the teacher's architecture"))
            return false;
        DataParallel(dist(), {}).broadcastFromMain(t, "broadcast of the teacher's weights");
        return true;
    }

    // Rows [n r / W, n (r+1) / W) of the cache on rank r; the rows gathered by an all-reduce
    // over zeros elsewhere (x + 0 is x: the merged cache is bit for bit what each rank computed).
    std::shared_ptr<const TeacherAttentionCache::Shard> cacheShard(int64_t n)
    {
        Distributed *d = dist();
        auto s = std::make_shared<TeacherAttentionCache::Shard>();
        const int64_t w = d->worldSize(), r = d->rank();
        s->first = n * r / w;
        s->count = n * (r + 1) / w - s->first;
        s->write = d->isMain();
        s->agree = [d](bool found) { return !d->any(!found, "agreeing on the teacher cache"); };
        s->gather = [d, n, first = s->first](torch::Tensor &a, torch::Tensor &l) {
            std::vector<torch::Tensor> cols { torch::tensor({ a.size(1), l.size(1) }) };
            d->broadcast(cols, 0, "broadcast of the teacher cache's shape"); // rank 0 has rows
            std::vector<torch::Tensor> full;
            for (auto [part, k] : { std::pair { &a, 0 }, std::pair { &l, 1 } }) {
                torch::Tensor f = torch::zeros({ n, cols[0][k].item<int64_t>() }, torch::kFloat);
                if (part->size(0) > 0)
                    f.narrow(0, first, part->size(0)).copy_(*part);
                *part = f;
                if (f.numel() > 0)
                    full.push_back(f);
            }
            d->allReduceSum(full, "gathering the teacher cache");
        };
        return s;
    }

    // Rank 0's a_T and teacher logits (and whether the teacher is the oracle) on every rank.
    void shareAttention(TeacherAttention &a, bool &oracle)
    {
        if (!dist())
            return;
        const auto dims = [](const torch::Tensor &t) {
            return t.defined() ? std::vector<int64_t> { t.size(0), t.size(1) }
                               : std::vector<int64_t> { -1, -1 };
        };
        std::vector<torch::Tensor> meta { torch::zeros({ 5 }, torch::kInt64) };
        if (dist()->isMain()) {
            const auto da = dims(a.attention), dl = dims(a.logits);
            meta[0] = torch::tensor({ da[0], da[1], dl[0], dl[1], int64_t(oracle) });
        }
        dist()->broadcast(meta, 0, "broadcast of the teacher attention's shape");
        const auto m = meta[0].accessor<int64_t, 1>();
        oracle = m[4] != 0;
        std::vector<torch::Tensor> payload;
        for (auto [t, rows, cols] :
            { std::tuple { &a.attention, m[0], m[1] }, std::tuple { &a.logits, m[2], m[3] } }) {
            if (rows < 0)
                continue;
            *t = dist()->isMain() ? t->to(torch::kFloat).contiguous()
                                  : torch::empty({ rows, cols }, torch::kFloat);
            payload.push_back(*t);
        }
        dist()->broadcast(payload, 0, "broadcast of the teacher attention");
    }

    Splits studentFeatures(const PreparedData &prepared, double lengthSec, LengthResult &lr)
    {
        const std::string stage = "data L=" + formatNumber(lengthSec);
        obs->onStage({ stage, "student features", 0, 0, 0.0, -1.0, false });
        Splits s;
        s.train = prepared.split(Split::Train, m_studentFx, m_featureCache, progress(stage));
        s.validation
            = prepared.split(Split::Validation, m_studentFx, m_featureCache, progress(stage));
        s.test = prepared.split(Split::Test, m_studentFx, m_featureCache, progress(stage));
        lr.trainClips = s.train.size();
        lr.validationClips = s.validation.size();
        lr.testClips = s.test.size();
        s.unseenVoices = unseenVoices(lengthSec, lr);
        obs->onStage({ stage, "ready", 1, 1, 0.0, 0.0, true });
        return s;
    }

    // Leave-one-voice-family-out: new speakers of the synthesiser family the corpus left out,
    // through the same noisy construction, scored by every student after its test split.
    PreparedSplit unseenVoices(double lengthSec, LengthResult &lr)
    {
        const int speakers = c.data.corpus.unseenVoices;
        if (speakers <= 0)
            return {};
        DatasetSource source = c.datasetSource(o.corpusDir);
        if (source.kind != DatasetSource::Kind::Builtin)
            return {};
        const auto corpus = source.corpus.unseenFamily(speakers);
        if (!corpus) {
            lr.warnings.push_back("data.corpus.unseen_voices: the corpus speaks with both voice "
                                  "families (flite_share is neither 0 nor 1), so none is unseen");
            return {};
        }
        source.corpus = *corpus;
        const std::string stage = "data L=" + formatNumber(lengthSec);
        obs->onStage({ stage, "unseen voices", 0, 0, 0.0, -1.0, false });
        const NoisyDataset data(source.open(progress(stage)), c.noisyConfig(lengthSec));
        const PreparedData prepared(data, {}, o.threads);
        PreparedSplit s = prepared.split(Split::Test, m_studentFx, m_featureCache, progress(stage));
        std::set<std::string> heard;
        for (const ClipRef *clip : data.index().clipsIn(Split::Test))
            heard.insert(clip->speaker);
        lr.unseenVoices = voiceFamilyName(corpus->onlyFamily()) + ": "
            + std::to_string(heard.size()) + " new speakers, " + std::to_string(s.size())
            + " clips";
        return s;
    }

    // Train the teacher, or evaluate a given one (--teacher, --teacher-run).
    // The checkpoint that stands in for this length's teacher: the resumed run's finished
    // teacher, the --teacher-run folder's or --teacher's; empty when the teacher stage runs.
    std::string teacherCheckpoint(const TeacherTrainer &trainer, double lengthSec) const
    {
        std::string checkpoint = o.teacherCheckpoint;
        // A resumed run's finished teacher is loaded, not trained again.
        const std::string finished
            = m_runPath + "/teacher-L" + formatNumber(lengthSec) + "/best.safetensors";
        if (previousLength(lengthSec) && c.teacher.kind != TeacherKind::Oracle
            && std::filesystem::is_regular_file(finished))
            checkpoint = finished;
        if (!o.teacherRunDir.empty() && c.teacher.kind != TeacherKind::Oracle
            && !trainer.usesPretrainedAsIs()) {
            checkpoint
                = o.teacherRunDir + "/teacher-L" + formatNumber(lengthSec) + "/best.safetensors";
            if (!std::filesystem::is_regular_file(checkpoint))
                throw Error(o.teacherRunDir,
                    "has no teacher for L = " + formatNumber(lengthSec) + " s (expected "
                        + checkpoint + ")");
        }
        return c.teacher.kind == TeacherKind::Oracle ? std::string() : checkpoint;
    }

    TeacherResult teacherStage(TeacherTrainer &trainer, double lengthSec, LengthResult &lr)
    {
        TeacherResult teacher;
        const std::string checkpoint = teacherCheckpoint(trainer, lengthSec);
        if (!checkpoint.empty() && c.teacher.kind != TeacherKind::Oracle) {
            obs->onStage({ "teacher L=" + formatNumber(lengthSec), "loading " + checkpoint, 0, 0,
                0.0, -1.0, false });
            teacher = trainer.evaluateOnly(TrainedModels::loadTeacher(checkpoint));
            teacher.checkpoint = checkpoint;
        } else {
            teacher = trainer.run();
        }
        lr.teacherKind = teacher.kind;
        lr.teacherValidation = teacher.validation.summary();
        lr.teacherTest = teacher.test.summary();
        lr.warnings.insert(lr.warnings.end(), teacher.warnings.begin(), teacher.warnings.end());
        lr.teacherCheckpoint = teacher.checkpoint;
        lr.teacherHash = teacher.weightsHash;
        lr.teacherSeconds = teacher.seconds;
        return teacher;
    }

    // a_T for every training clip: the cache (or the oracle, computed on the spot).
    TeacherAttention cacheStage(TeacherTrainer &trainer, const TeacherResult &teacher,
        const PreparedSplit &train, double lengthSec)
    {
        TeacherAttention a;
        if (teacher.oracle) {
            a.attention = TeacherTrainer::oracleAttention(train, train.frames());
            return a;
        }
        TeacherAttentionCache cache(o.teacherCacheDir);
        TrainObserver *observer = obs;
        cache.setMessageHandler([observer](const std::string &m) {
            observer->onMessage(TrainObserver::Level::Warning, m);
        });
        const std::string stage = "cache L=" + formatNumber(lengthSec);
        obs->onStage({ stage, "teacher attention for the training clips", 0, train.size(), 0.0,
            -1.0, false });
        Wav2Vec2Model model = teacher.model; // a holder: shares the module
        if (dist() && o.stopAfter == PipelineOptions::Stop::AfterStudents) {
            dist()->publish("teacher_hash/" + std::to_string(m_lengths), teacher.weightsHash);
            // A teacher trained data-parallel is already on every rank (its hash is checked).
            if (m_parallelTeacher || shareTeacher(model)) {
                cache.setShard(cacheShard(train.size()));
                obs->onMessage(TrainObserver::Level::Info,
                    stage + ": a missing cache is computed over "
                        + std::to_string(dist()->worldSize()) + " ranks");
            }
        }
        const TeacherCacheEntry entry = cache.get(trainer.cacheSource(Split::Train), model,
            teacher.weightsHash, c.rolloutOptions(), progress(stage), m_device);
        a.attention = entry.attention;
        a.logits = entry.logits;
        m_result.lengths.back().cacheHit = entry.fromCache;
        m_result.lengths.back().cachePath = entry.path;
        obs->onStage({ stage, entry.fromCache ? "reused " + entry.path : "wrote " + entry.path,
            train.size(), train.size(), 0.0, 0.0, true });
        return a;
    }

    // Every student x seed x lambda (this shard's share of them).
    void studentStage(const Splits &splits, const TeacherAttention &attention, bool oracleTeacher,
        double lengthSec)
    {
        int ordinal = -1;
        for (const std::string &student : c.students)
            for (uint64_t seed : c.studentSeeds())
                for (double lambda : c.kd.lambdas) {
                    if (++ordinal % o.shardCount != o.shardIndex)
                        continue;
                    StudentTrainOptions so = studentOptions(
                        c, student, lambda, seed, lengthSec, oracleTeacher, m_runPath, m_device);
                    if (const CellResult *done = previousCell(so, lengthSec)) {
                        m_result.lengths.back().cells.push_back(*done);
                        obs->onMessage(TrainObserver::Level::Info,
                            so.stage + ": finished before the resume, kept as it was");
                        continue;
                    }
                    so.resume = resuming(); // from its last.safetensors, when it has one
                    so.dist = dist();
                    cell(so, splits, attention, lengthSec);
                    save();
                }
    }

    void cell(const StudentTrainOptions &so, const Splits &splits,
        const TeacherAttention &attention, double lengthSec)
    {
        const auto cellStart = std::chrono::steady_clock::now();
        CellResult cell;
        cell.student = so.student;
        cell.lambda = so.lambda;
        cell.lengthSec = lengthSec;
        cell.seed = so.seed;
        StudentData sd;
        sd.train = &splits.train;
        sd.validation = &splits.validation;
        sd.test = &splits.test;
        sd.unseenVoices = &splits.unseenVoices;
        sd.teacherAttention = attention.attention;
        sd.teacherLogits = attention.logits;
        try {
            StudentTrainer trainer(so, obs, &m_control);
            StudentResult r = trainer.train(sd);
            cell.status = studentStatusName(r.status);
            cell.validation = r.validation.summary();
            cell.test = r.test.summary();
            if (r.unseenVoices)
                cell.test["unseen_voices_accuracy"] = r.unseenVoices->metrics.accuracy;
            cell.bestEpoch = r.bestEpoch;
            cell.epochsRun = r.epochsRun;
            cell.trainSecondsPerEpoch = r.trainSecondsPerEpoch;
            cell.checkpoint = r.bestCheckpoint;
            cell.runDir = m_runPath;
            if (r.status == StudentResult::Status::Cancelled) {
                m_result.lengths.back().cells.push_back(cell);
                throw Cancelled();
            }
        } catch (const Cancelled &) {
            throw;
        } catch (const DistributedError &) {
            throw; // the job itself broke, not this cell
        } catch (const Error &e) {
            // One diverged cell must not cost the rest of the grid.
            cell.status = "failed";
            cell.message = e.what();
        }
        cell.wallSeconds
            = std::chrono::duration<double>(std::chrono::steady_clock::now() - cellStart).count();
        m_result.lengths.back().cells.push_back(cell);
    }

    const ExperimentConfig &c;
    const PipelineOptions &o;
    const PipelineResult m_previous; // what a resumed run had done; empty for a new run
    mutable CellResult m_kept; // previousCell()'s answer
    RunDirectory *m_run;
    std::string m_runPath;
    int m_lengths = 0; // lengths started
    int m_teacherAnnounced = 0; // the last length whose teacher rank 0 announced to the others
    bool m_parallelTeacher = false; // that length's teacher trained on every rank
    TrainObserver *obs;
    TrainControl &m_control;
    torch::Device m_device;
    const FeatureCache m_featureCache;
    const FeatureExtractor m_studentFx;
    PipelineResult m_result;
};

// The run folder of `tkd train --resume`, locked (a second resume or a live run is refused),
// with what it had finished. Its config must be the experiment's.
RunDirectory openForResume(
    const std::string &dir, const ExperimentConfig &c, PipelineResult &previous)
{
    RunDirectory run = RunDirectory::open(dir, RunDirectory::Access::Exclusive);
    if (run.config().hash() != c.hash())
        throw Error(run.configPath(),
            "differs from the experiment given to resume it; resume with the run's own config");
    if (std::filesystem::is_regular_file(run.metricsPath()))
        previous = PipelineResult::read(run.path());
    return run;
}

int64_t usableCells(const PipelineResult &r)
{
    int64_t n = 0;
    for (const auto &l : r.lengths)
        for (const auto &cell : l.cells)
            n += cell.usable() ? 1 : 0;
    return n;
}

} // namespace

// A rank other than 0 of a data-parallel job: rank 0's run folder and its record of a resumed
// run through the store; it writes nothing and reports only to the given observer.
PipelineResult Pipeline::runFollower(TrainControl &control)
{
    const torch::Device device = TrainLoop::resolveDevice(m_config.train.device);
    Distributed &dist = *m_options.dist;
    m_runDir = dist.fetch("run_dir", kStoreWait);
    PipelineResult previous;
    if (const std::string p = dist.fetch("previous", kStoreWait); !p.empty())
        previous = PipelineResult::fromJson(nlohmann::json::parse(p));
    TrainObserver quiet;
    PipelineRun stages(m_config, m_options, nullptr, m_runDir, m_observer ? m_observer : &quiet,
        control, device, std::move(previous));
    try {
        stages.all();
    } catch (const Cancelled &) {
        throw;
    } catch (const std::exception &e) {
        dist.announceFailure(e.what());
        throw;
    }
    return stages.result();
}

PipelineResult Pipeline::run()
{
    const ExperimentConfig &c = m_config;
    TrainControl localControl;
    TrainControl &control = m_control ? *m_control : localControl;
    TrainLoop::setThreads(m_options.torchThreads > 0 ? m_options.torchThreads : c.train.numThreads);
    std::string deviceNote;
    const torch::Device device = TrainLoop::resolveDevice(c.train.device, &deviceNote);
    Distributed *dist = m_options.dist && m_options.dist->active() ? m_options.dist : nullptr;
    if (dist && !dist->isMain())
        return runFollower(control);

    PipelineResult previous;
    RunDirectory run = m_options.resumeRunDir.empty()
        ? RunDirectory::create(c, Provenance::collect(c, m_options.commandLine))
        : openForResume(m_options.resumeRunDir, c, previous);
    m_runDir = run.path();
    if (dist) {
        dist->publish("previous", m_options.resumeRunDir.empty() ? "" : previous.toJson().dump());
        dist->publish("run_dir", run.path());
    }
    EventLogObserver log(&run.events());
    log.addForward(m_observer);
    if (!deviceNote.empty())
        log.onMessage(TrainObserver::Level::Warning, deviceNote);
    log.onMessage(TrainObserver::Level::Info, "run folder " + run.path());
    if (dist)
        log.onMessage(TrainObserver::Level::Info,
            "data-parallel over " + std::to_string(dist->worldSize())
                + " ranks (train.batch_size is the global batch)");

    if (!m_options.resumeRunDir.empty()) {
        // A Slurm teacher job "resumes" the grid folder before any student has run: say so
        // rather than count zero cells.
        const int64_t done = usableCells(previous);
        log.onMessage(TrainObserver::Level::Info,
            done == 0 ? std::string("continuing the run folder: no student cell has finished yet")
                      : "resuming: " + std::to_string(done)
                    + " cell(s) already trained, the rest continue from their last checkpoints");
    }
    PipelineRun stages(c, m_options, &run, run.path(), &log, control, device, std::move(previous));
    using Status = PipelineResult::Status;
    stages.result().status = Status::Running;
    try {
        stages.all();
    } catch (const Cancelled &) {
        stages.announceLength("cancelled");
        stages.result().cancelled = true;
        stages.result().status = Status::Cancelled;
        stages.save();
        run.events().append(Event::doneEvent("cancelled"));
        throw;
    } catch (const Error &e) {
        stages.announceLength(std::string("error: ") + e.what());
        if (dist)
            dist->announceFailure(e.what());
        run.events().append(Event::errorEvent(e.what()));
        stages.result().status = Status::Failed;
        stages.save();
        throw;
    }
    // Failed cells make the run incomplete, in metrics.json and in the log's last word, and the
    // front ends turn that into a non-zero exit (tkd train) or a banner (the studio).
    const std::string failures = stages.result().failureSummary();
    stages.result().status = failures.empty() ? Status::Finished : Status::Incomplete;
    stages.save();
    if (!failures.empty())
        run.events().append(Event::errorEvent(std::to_string(stages.result().failedCells().size())
            + " cell(s) failed:\n" + failures));
    run.events().append(Event::doneEvent(PipelineResult::statusName(stages.result().status)));
    return stages.result();
}

} // namespace tkd
