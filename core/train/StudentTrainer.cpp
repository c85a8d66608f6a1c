#include "core/train/StudentTrainer.h"

#include "core/checkpoint/Checkpoint.h"
#include "core/dist/Distributed.h"
#include "core/distill/AttentionRollout.h"
#include "core/distill/TemporalKdLoss.h"
#include "core/models/StudentRegistry.h"
#include "core/train/Batcher.h"
#include "core/train/DataParallel.h"
#include "core/train/LrSchedule.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainLoop.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <chrono>
#include <cmath>
#include <exception>
#include <filesystem>
#include <functional>
#include <limits>
#include <memory>

namespace tkd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Named copies of every parameter and buffer: the best-on-validation weights kept in memory.
using Snapshot = std::vector<std::pair<torch::Tensor, torch::Tensor>>; // live tensor, copy

Snapshot takeSnapshot(const StudentModel &model, const AttentionBranch &branch)
{
    Snapshot s;
    for (const auto &p : model.namedParameters())
        s.emplace_back(p.value(), p.value().detach().clone());
    for (const auto &b : model.namedBuffers())
        if (b.value().defined())
            s.emplace_back(b.value(), b.value().detach().clone());
    if (branch)
        s.emplace_back(branch->query, branch->query.detach().clone());
    return s;
}

void restoreSnapshot(const Snapshot &s)
{
    torch::NoGradGuard noGrad;
    for (const auto &[live, copy] : s)
        live.copy_(copy);
}

// s_t = <c'_t, q>, as AttentionBranch::scores computes it, but contracted over the feature map's
// own layout: a CNN's context is a transposed view of its [B, D, T'] map, and this way the
// gradient reaches the conv layers in their own contiguous layout instead of a transposed one.
// (Whether that matters for speed was not settled: timings on the shared 2-core machine were
// too noisy.)
torch::Tensor branchScores(const AttentionBranch &branch, const torch::Tensor &context)
{
    const torch::Tensor map = context.dim() == 3 ? context.transpose(1, 2) : torch::Tensor();
    if (!map.defined() || !map.is_contiguous() || context.size(2) != branch->options.contextDim()
        || context.size(1) == 0)
        return branch->scores(context);
    torch::Tensor s
        = torch::matmul(branch->query.to(map.scalar_type()), map); // [D] x [B, D, T'] -> [B, T']
    if (branch->options.scaled())
        s = s / std::sqrt(double(branch->options.contextDim()));
    return s;
}

double validationScore(const StudentEvaluation &e)
{
    return e.metrics.multiLabel ? e.metrics.meanAveragePrecision : e.metrics.accuracy;
}
} // namespace

const char *studentStatusName(StudentResult::Status s)
{
    switch (s) {
    case StudentResult::Status::Completed:
        return "completed";
    case StudentResult::Status::EarlyStopped:
        return "early-stopped";
    case StudentResult::Status::Cancelled:
        return "cancelled";
    }
    return "?";
}

std::map<std::string, double> StudentEvaluation::summary() const
{
    std::map<std::string, double> m = metrics.summary();
    m["loss"] = loss;
    m["localisation_branch"] = branch.mean();
    m["localisation_native"] = native.mean();
    m["localisation_baseline"] = branch.scoredClips ? branch.meanBaseline() : native.meanBaseline();
    return m;
}

StudentTrainer::StudentTrainer(
    StudentTrainOptions options, TrainObserver *observer, const TrainControl *control)
    : m_options(std::move(options))
    , m_observer(observer)
    , m_control(control)
{ }

void StudentTrainer::report(const std::string &text, int level) const
{
    if (m_observer)
        m_observer->onMessage(TrainObserver::Level(level), text);
}

StudentEvaluation StudentTrainer::evaluate(const StudentModel &model, const AttentionBranch &branch,
    const PreparedSplit &split, torch::Device device, int64_t batchSize, const FeatureNorm &norm)
{
    if (split.size() == 0)
        throw Error(std::string("dataset ") + splitName(split.split) + " split", "has no clips");
    torch::NoGradGuard noGrad;
    StudentModel net = model; // shares the module; eval()/train() are not const
    const bool wasTraining = net.isTraining();
    net.eval();
    const Localisation loc(FrameTiming { split.frameWindowSec, split.frameHopSec });
    const TemporalKdLoss loss(TemporalKdLossOptions().multiLabel(split.multiLabel));
    StudentEvaluation e;
    std::vector<torch::Tensor> logits;
    double lossSum = 0.0;
    for (int64_t s = 0; s < split.size(); s += batchSize) {
        const int64_t n = std::min(batchSize, split.size() - s);
        const StudentOutput out
            = net.forward(norm.apply(split.features.narrow(0, s, n).to(device)));
        logits.push_back(out.logits.to(torch::kCPU, torch::kFloat));
        lossSum
            += loss.taskLoss(out.logits, split.targets.narrow(0, s, n).to(device)).item<double>()
            * double(n);
        const std::vector<KeywordWindow> windows(
            split.windows.begin() + s, split.windows.begin() + s + n);
        if (branch)
            e.branch.merge(loc.score(
                branch.ptr()->forward(out.context).to(torch::kCPU), windows, split.clipSec));
        if (out.nativeAttention.defined())
            e.native.merge(
                loc.score(out.nativeAttention.mean(1).to(torch::kCPU), windows, split.clipSec));
    }
    net.train(wasTraining);
    e.metrics = Metrics::classification(torch::cat(logits, 0), split.targets, split.multiLabel);
    e.loss = lossSum / double(split.size());
    return e;
}

namespace {

// One call of StudentTrainer::train: the model, its branch, optimiser, schedule and loss, the
// checkpoints, and one method per step of the loop. Reports through the trainer's observer.
class StudentTrainingRun
{
public:
    using Report = std::function<void(const std::string &, int)>;

    StudentTrainingRun(const StudentTrainOptions &options, const StudentData &data,
        TrainObserver *observer, const TrainControl *control, Report report)
        : o(options)
        , m_data(data)
        , tr(*data.train)
        , m_observer(observer)
        , m_control(control)
        , m_report(std::move(report))
    { }

    StudentResult run()
    {
        setUp();
        if (o.resume && !m_lastPath.empty() && std::filesystem::exists(m_lastPath))
            resume();
        // Every rank starts from rank 0's weights (fresh or resumed).
        if (m_dp->active())
            m_dp->broadcastFromMain(liveTensors(), "broadcast of the initial weights");
        if (m_observer)
            m_observer->onStage(
                { o.stage, "training " + o.student, m_step, m_totalSteps, 0.0, -1.0, false });
        for (int64_t epoch = m_startEpoch; epoch < o.epochs; ++epoch) {
            if (!trainEpoch(epoch))
                return cancelled();
            if (!afterEpoch(epoch))
                break;
        }
        return finish();
    }

private:
    // The model and what trains it; a_T (and teacher logits) for every training clip at T',
    // once: the per-step cost of KD is one index_select.
    void setUp()
    {
        torch::manual_seed(o.seed);
        m_model = StudentRegistry::create(o.student, tr.numClasses, tr.features.size(2));
        const int64_t frames = tr.frames();
        if (frames < m_model.minFrames())
            throw Error("data.noisy.length_sec",
                o.student + " needs at least " + std::to_string(m_model.minFrames())
                    + " frames; clips give " + std::to_string(frames));
        const int64_t tPrime = m_model.contextLength(frames);
        m_useBranch = o.usesTeacherAttention() && o.kdTarget == KdTarget::Branch;
        m_useNative = o.usesTeacherAttention() && o.kdTarget == KdTarget::Native;
        if (m_useNative && m_model.nativeHeads() == 0)
            throw Error("kd.target",
                "'native' needs a student with its own attention; " + o.student + " has none");
        if (m_useBranch)
            m_branch = AttentionBranch(AttentionBranchOptions(m_model.contextDim()));
        m_model.to(o.device);
        if (m_branch)
            m_branch->to(o.device);
        if (o.usesTeacherAttention()) {
            if (!m_data.teacherAttention.defined() || m_data.teacherAttention.dim() != 2
                || m_data.teacherAttention.size(0) != tr.size())
                throw Error(o.stage,
                    "temporal KD (lambda " + std::to_string(o.lambda)
                        + ") needs the teacher's attention for all " + std::to_string(tr.size())
                        + " training clips");
            m_aT = AttentionRollout::resampleRow(m_data.teacherAttention.to(torch::kFloat), tPrime)
                       .to(o.device);
        }
        if (o.usesTeacherLogits()) {
            if (!m_data.teacherLogits.defined() || m_data.teacherLogits.size(0) != tr.size()
                || m_data.teacherLogits.size(1) != tr.numClasses)
                throw Error(o.stage, "logit KD needs the teacher's logits for every training clip");
            m_teacherLogits = m_data.teacherLogits.to(o.device, torch::kFloat);
        }
        // On an accelerator the whole training split moves once; on the CPU batches are sliced
        // straight out of the cache mapping.
        m_features = o.device.is_cpu() ? tr.features : tr.features.to(o.device);
        m_targets = tr.targets.to(o.device);
        // Per-coefficient standardisation from the training split: raw MFCCs span very different
        // ranges (c0 is tens of units), which slows the students badly. Stored in the checkpoint.
        m_norm = FeatureNorm::fromTraining(tr.features, o.device);

        m_params = m_model.parameters();
        if (m_branch)
            for (const auto &p : m_branch->parameters())
                m_params.push_back(p);
        m_optimizer
            = TrainLoop::makeOptimizer(o.optimizer, m_params, o.lr, o.momentum, o.weightDecay);
        m_dp = std::make_unique<DataParallel>(o.dist, m_params);
        m_batcher = std::make_unique<Batcher>(tr.size(), o.batchSize, o.seed);
        m_perEpoch = m_batcher->batchesPerEpoch();
        LrScheduleOptions so;
        so.kind = o.schedule;
        so.baseLr = o.lr;
        so.totalSteps = m_perEpoch * o.epochs;
        if (o.warmupEpochs < 0)
            throw Error("train.warmup_epochs", "must be >= 0");
        so.warmupSteps
            = so.kind == LrScheduleOptions::Kind::OneCycle ? 0 : m_perEpoch * o.warmupEpochs;
        m_totalSteps = so.totalSteps;
        m_schedule = std::make_unique<LrSchedule>(so);
        m_loss = std::make_unique<TemporalKdLoss>(TemporalKdLossOptions()
                                                      .lambda(o.lambda)
                                                      .multiLabel(tr.multiLabel)
                                                      .logitKdWeight(o.logitKdWeight)
                                                      .temperature(o.temperature));
        m_clock = std::make_unique<TrainLoop::Clock>(m_totalSteps);
        if (!o.checkpointDir.empty()) {
            m_lastPath = o.checkpointDir + "/last.safetensors";
            m_bestPath = o.checkpointDir + "/best.safetensors";
            makeDirs(o.checkpointDir);
        }
    }

    Checkpoint checkpoint(int64_t epoch, int64_t batch) const
    {
        Checkpoint ck;
        ck.step = m_step;
        ck.epoch = epoch;
        ck.configHash = o.configHash;
        ck.setModule(*m_model.module(), "model");
        if (m_branch)
            ck.setModule(*m_branch, "branch");
        ck.setOptimizer(*m_optimizer);
        ck.captureTorchRng();
        ck.setText("student", o.student);
        ck.setInt("classes", tr.numClasses);
        ck.setInt("features", tr.features.size(2));
        ck.setValue("lambda", o.lambda);
        ck.setText("kd_target", kdTargetName(o.kdTarget));
        ck.setInt("next_batch", batch);
        ck.setInt("bad_epochs", m_badEpochs);
        ck.setInt("best_epoch", m_result.bestEpoch);
        ck.setValue("best_score", m_result.bestValidationScore);
        ck.setInt("seed", int64_t(o.seed));
        ck.setTensor("feature_mean", m_norm.mean.to(torch::kCPU));
        ck.setTensor("feature_std", m_norm.std.to(torch::kCPU));
        return ck;
    }

    static std::exception_ptr recordError(const std::function<void()> &f)
    {
        try {
            f();
        } catch (const std::exception &) {
            return std::current_exception();
        }
        return nullptr;
    }

    bool writes() const { return !m_lastPath.empty() && (!o.dist || o.dist->isMain()); }

    // Parameters and buffers of the model and the branch: what rank 0 broadcasts.
    std::vector<torch::Tensor> liveTensors() const
    {
        std::vector<torch::Tensor> t;
        for (const auto &[live, copy] : takeSnapshot(m_model, m_branch))
            t.push_back(live);
        return t;
    }

    void saveLast(int64_t epoch, int64_t batch)
    {
        if (!writes())
            return;
        checkpoint(epoch, batch).save(m_lastPath);
        m_haveLast = true;
        m_result.lastCheckpoint = m_lastPath;
        if (m_observer)
            m_observer->onCheckpoint(o.stage, m_lastPath, false);
    }

    // Continue from last.safetensors (and keep best.safetensors's weights as the best so far).
    void resume()
    {
        const Checkpoint ck = Checkpoint::load(m_lastPath);
        if (ck.text("student") != o.student)
            throw Error(m_lastPath,
                "was written for student '" + ck.text("student") + "', not '" + o.student + "'");
        ck.loadModule(*m_model.module(), "model");
        if (m_branch)
            ck.loadModule(*m_branch, "branch");
        ck.loadOptimizer(*m_optimizer);
        ck.restoreTorchRng();
        m_startEpoch = ck.epoch;
        m_startBatch = ck.intValue("next_batch");
        m_step = ck.step;
        m_badEpochs = ck.intValue("bad_epochs");
        m_result.bestEpoch = ck.intValue("best_epoch");
        m_result.bestValidationScore = ck.value("best_score");
        m_haveLast = true;
        m_result.lastCheckpoint = m_lastPath;
        if (std::filesystem::exists(m_bestPath)) {
            // The best weights so far: load them, snapshot, then return to the resumed state.
            const Snapshot resumed = takeSnapshot(m_model, m_branch);
            const Checkpoint b = Checkpoint::load(m_bestPath);
            b.loadModule(*m_model.module(), "model");
            if (m_branch)
                b.loadModule(*m_branch, "branch");
            m_best = takeSnapshot(m_model, m_branch);
            restoreSnapshot(resumed);
            m_result.bestCheckpoint = m_bestPath;
        }
        m_report(o.stage + ": resumed from " + m_lastPath + " at epoch "
                + std::to_string(m_startEpoch + 1) + ", step " + std::to_string(m_step),
            0);
    }

    struct EpochLosses
    {
        double task = 0, kd = 0, logit = 0, total = 0;
        int64_t count = 0;
    };

    // Returns false when cancelled (last.safetensors then holds where it got to).
    bool trainEpoch(int64_t epoch)
    {
        const std::vector<torch::Tensor> batches = m_batcher->batches(epoch);
        m_losses = EpochLosses();
        m_model.train();
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t b = epoch == m_startEpoch ? m_startBatch : 0; b < m_perEpoch; ++b) {
            bool stop = m_control && m_control->waitWhilePaused();
            if (m_dp->active()) // all ranks stop at the same step, or none does
                stop = o.dist->any(stop, "agreeing on a stop");
            if (stop) {
                saveLast(epoch, b);
                m_report(o.stage + ": cancelled at step " + std::to_string(m_step)
                        + (m_lastPath.empty() ? ""
                                              : "; saved " + m_lastPath
                                    + " (tkd train --resume RUN continues from it)"),
                    1);
                m_result.epochsRun = epoch;
                return false;
            }
            step(batches[size_t(b)], epoch);
        }
        m_trainSeconds
            += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++m_trainedEpochs;
        return true;
    }

    struct StepLosses
    {
        double task = 0, kd = 0, logit = 0, total = 0;
    };

    // The global batch's mean losses: this rank's alone, or every rank's weighted by its rows.
    StepLosses stepLosses(const KdLossTerms &terms, double share)
    {
        StepLosses l;
        if (terms.total.defined()) {
            l.total = terms.total.item<double>();
            l.task = terms.task.item<double>();
            l.kd = terms.kd.item<double>();
            l.logit = terms.logitKd.item<double>();
        }
        if (!m_dp->active())
            return l;
        std::vector<torch::Tensor> t { torch::tensor(
            { l.task * share, l.kd * share, l.logit * share, l.total * share }, torch::kDouble) };
        o.dist->allReduceSum(t, "all-reduce of the losses");
        const auto v = t[0].accessor<double, 1>();
        return { v[0], v[1], v[2], v[3] };
    }

    void step(const torch::Tensor &globalIdx, int64_t epoch)
    {
        const double lr = m_schedule->lrAt(m_step);
        TrainLoop::setLearningRate(*m_optimizer, lr);
        const torch::Tensor idx = m_dp->shard(globalIdx); // this rank's rows
        const double share = m_dp->share(idx.size(0), globalIdx.size(0));
        KdLossTerms terms;
        if (idx.size(0) > 0) { // a rank may have no rows of a last batch smaller than the world
            const torch::Tensor x = m_norm.apply(Batcher::gather(m_features, idx).to(o.device));
            const torch::Tensor y = Batcher::gather(m_targets, idx);
            const StudentOutput out = m_model.forward(x);
            torch::Tensor scores, a;
            if (m_useBranch)
                scores = branchScores(m_branch, out.context);
            else if (m_useNative)
                // log of a distribution is its own log-softmax, so the loss sees log a_S exactly.
                scores = out.nativeAttention.mean(1).clamp_min(1e-12).log();
            if (m_aT.defined())
                a = Batcher::gather(m_aT, idx);
            terms = (*m_loss)(out.logits, y, scores, a,
                m_teacherLogits.defined() ? Batcher::gather(m_teacherLogits, idx)
                                          : torch::Tensor());
        }
        const StepLosses losses = stepLosses(terms, share);
        const double total = losses.total; // the same on every rank: they all stop, or none
        if (!std::isfinite(total)) {
            const std::string msg = "the loss became "
                + std::string(std::isnan(total) ? "NaN" : "infinite") + " at step "
                + std::to_string(m_step + 1) + " (epoch " + std::to_string(epoch + 1)
                + "); training stopped. "
                + (m_haveLast ? "The last good checkpoint is kept: " + m_lastPath
                              : std::string("No checkpoint had been written yet."))
                + " Try a lower train.lr.";
            m_report(o.stage + ": " + msg, 2);
            throw Error(o.stage, msg);
        }
        m_optimizer->zero_grad();
        if (terms.total.defined())
            terms.total.backward();
        m_dp->reduceGradients(share);
        if (o.gradClipNorm > 0.0)
            torch::nn::utils::clip_grad_norm_(m_params, o.gradClipNorm);
        m_optimizer->step();
        ++m_step;
        m_dp->afterStep(m_step);
        const double task = losses.task, kd = losses.kd, lk = losses.logit;
        m_losses.task += task;
        m_losses.kd += kd;
        m_losses.logit += lk;
        m_losses.total += total;
        ++m_losses.count;
        if (m_observer) {
            m_observer->onStep({ o.stage, m_step, epoch + 1, task, kd, lk, total, lr });
            m_observer->onStage(
                { o.stage, "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs),
                    m_step, m_totalSteps, m_clock->elapsed(), m_clock->eta(m_step), false });
        }
    }

    // Validation, best / last checkpoints, the epoch report; false when early stopping ends it.
    bool afterEpoch(int64_t epoch)
    {
        // Batch-norm statistics saw only each rank's rows: rank 0's are the ones kept (as DDP's
        // broadcast_buffers does), so that validation and early stopping agree on every rank.
        if (m_dp->active())
            m_dp->broadcastFromMain(liveTensors(), "broadcast of the weights before validation");
        const StudentEvaluation val = StudentTrainer::evaluate(
            m_model, m_branch, *m_data.validation, o.device, o.evalBatchSize, m_norm);
        const double score = validationScore(val);
        std::exception_ptr saveError;
        const bool improved = std::isfinite(score) && score > m_result.bestValidationScore;
        const EpochLosses &l = m_losses;
        const double meanTotal = l.count ? l.total / double(l.count) : kNaN;
        m_result.epochLosses.push_back(meanTotal);
        if (improved) {
            m_result.bestValidationScore = score;
            m_result.bestEpoch = epoch + 1;
            m_result.validation = val;
            m_best = takeSnapshot(m_model, m_branch);
            m_badEpochs = 0;
            if (writes()) {
                saveError = recordError([&] { checkpoint(epoch + 1, 0).save(m_bestPath); });
                if (!saveError) {
                    m_result.bestCheckpoint = m_bestPath;
                    if (m_observer)
                        m_observer->onCheckpoint(o.stage, m_bestPath, true);
                }
            }
        } else {
            ++m_badEpochs;
        }
        if (!saveError)
            saveError = recordError([&] { saveLast(epoch + 1, 0); });
        // Rank 0 alone writes: the others must hear that it failed, or they would wait for it in
        // the next cell's collectives.
        if (m_dp->active() && o.dist->any(bool(saveError), "agreeing on the checkpoints")
            && !saveError)
            throw Error(o.stage, "rank 0 could not write its checkpoints (see its message)");
        if (saveError)
            std::rethrow_exception(saveError);
        if (m_observer) {
            EpochReport r;
            r.stage = o.stage;
            r.epoch = epoch + 1;
            r.step = m_step;
            if (l.count)
                r.trainLosses
                    = { { "task", l.task / double(l.count) }, { "kd", l.kd / double(l.count) },
                          { "logit_kd", l.logit / double(l.count) }, { "total", meanTotal } };
            r.validation = val.summary();
            r.lr = m_schedule->lrAt(std::max<int64_t>(0, m_step - 1));
            r.best = improved;
            m_observer->onEpoch(r);
        }
        m_result.epochsRun = epoch + 1;
        if (o.earlyStoppingPatience > 0 && m_badEpochs >= o.earlyStoppingPatience
            && epoch + 1 >= o.earlyStoppingMinEpochs && epoch + 1 < o.epochs) {
            m_result.status = StudentResult::Status::EarlyStopped;
            m_report(o.stage + ": early stop after epoch " + std::to_string(epoch + 1)
                    + " (no better validation score for " + std::to_string(m_badEpochs)
                    + " epochs)",
                0);
            return false;
        }
        return true;
    }

    StudentResult cancelled()
    {
        m_result.status = StudentResult::Status::Cancelled;
        m_result.steps = m_step;
        m_result.model = m_model;
        m_result.branch = m_branch;
        return m_result;
    }

    // The best weights back, then the final validation and test evaluation.
    StudentResult finish()
    {
        m_result.steps = m_step;
        m_result.trainSecondsPerEpoch
            = m_trainedEpochs ? m_trainSeconds / double(m_trainedEpochs) : 0.0;
        if (!m_best.empty())
            restoreSnapshot(m_best);
        if (m_result.bestEpoch > 0 && m_result.validation.metrics.count == 0)
            m_result.validation = StudentTrainer::evaluate(
                m_model, m_branch, *m_data.validation, o.device, o.evalBatchSize, m_norm);
        m_result.test = StudentTrainer::evaluate(
            m_model, m_branch, *m_data.test, o.device, o.evalBatchSize, m_norm);
        if (m_data.unseenVoices && m_data.unseenVoices->size() > 0)
            m_result.unseenVoices = StudentTrainer::evaluate(
                m_model, m_branch, *m_data.unseenVoices, o.device, o.evalBatchSize, m_norm);
        m_result.model = m_model;
        m_result.branch = m_branch;
        m_result.norm = m_norm;
        if (m_observer)
            m_observer->onStage(
                { o.stage, "done", m_step, m_totalSteps, m_clock->elapsed(), 0.0, true });
        return m_result;
    }

    const StudentTrainOptions &o;
    const StudentData &m_data;
    const PreparedSplit &tr;
    TrainObserver *m_observer;
    const TrainControl *m_control;
    Report m_report;

    StudentModel m_model;
    AttentionBranch m_branch { nullptr };
    bool m_useBranch = false, m_useNative = false;
    torch::Tensor m_aT, m_teacherLogits, m_features, m_targets;
    std::vector<torch::Tensor> m_params; // the student's and the branch's: optimised, clipped
    FeatureNorm m_norm;
    std::unique_ptr<torch::optim::Optimizer> m_optimizer;
    std::unique_ptr<DataParallel> m_dp; // a no-op in a world of one
    std::unique_ptr<Batcher> m_batcher;
    std::unique_ptr<LrSchedule> m_schedule;
    std::unique_ptr<TemporalKdLoss> m_loss;
    std::unique_ptr<TrainLoop::Clock> m_clock;
    int64_t m_perEpoch = 0, m_totalSteps = 0;
    std::string m_lastPath, m_bestPath;

    int64_t m_startEpoch = 0, m_startBatch = 0, m_step = 0, m_badEpochs = 0, m_trainedEpochs = 0;
    bool m_haveLast = false;
    double m_trainSeconds = 0.0;
    Snapshot m_best;
    EpochLosses m_losses;
    StudentResult m_result;
};

} // namespace

StudentResult StudentTrainer::train(const StudentData &data)
{
    const StudentTrainOptions &o = m_options;
    TrainLoop::flushDenormals(); // see TrainLoop.h: 15x on LSTM-P
    if (!data.train || !data.validation || !data.test)
        throw Error(o.stage, "needs train, validation and test splits");
    const PreparedSplit &tr = *data.train;
    if (tr.size() == 0 || data.validation->size() == 0 || data.test->size() == 0)
        throw Error(o.stage,
            "a split is empty (train " + std::to_string(tr.size()) + ", validation "
                + std::to_string(data.validation->size()) + ", test "
                + std::to_string(data.test->size()) + ")");
    if (o.epochs < 1)
        throw Error("train.epochs", "must be at least 1");
    if (o.lambda < 0.0 || !std::isfinite(o.lambda))
        throw Error("kd.lambdas", "lambda must be >= 0");
    if (o.earlyStoppingPatience < 0)
        throw Error("train.early_stopping_patience", "must be >= 0");
    if (o.earlyStoppingMinEpochs < 0)
        throw Error("train.early_stopping_min_epochs", "must be >= 0");
    if (!std::isfinite(o.gradClipNorm) || o.gradClipNorm < 0.0)
        throw Error("train.grad_clip_norm", "must be a finite number >= 0 (0: off)");
    StudentTrainingRun run(o, data, m_observer, m_control,
        [this](const std::string &text, int level) { report(text, level); });
    return run.run();
}

} // namespace tkd
