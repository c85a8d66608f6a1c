#include "core/train/StudentTrainer.h"

#include "core/distill/AttentionRollout.h"
#include "core/distill/TemporalKdLoss.h"
#include "core/models/StudentRegistry.h"
#include "core/train/Batcher.h"
#include "core/train/Checkpoint.h"
#include "core/train/LrSchedule.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainLoop.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <chrono>
#include <cmath>
#include <filesystem>
#include <limits>

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
    if (!map.defined() || !map.is_contiguous() || context.size(2) != branch->options.contextDim() ||
        context.size(1) == 0)
        return branch->scores(context);
    torch::Tensor s = torch::matmul(branch->query.to(map.scalar_type()), map); // [D] x [B, D, T'] -> [B, T']
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
    case StudentResult::Status::Completed: return "completed";
    case StudentResult::Status::EarlyStopped: return "early-stopped";
    case StudentResult::Status::Cancelled: return "cancelled";
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

StudentTrainer::StudentTrainer(StudentTrainOptions options, TrainObserver *observer, const TrainControl *control)
    : m_options(std::move(options)), m_observer(observer), m_control(control)
{
}

void StudentTrainer::report(const std::string &text, int level) const
{
    if (m_observer)
        m_observer->onMessage(TrainObserver::Level(level), text);
}

StudentEvaluation StudentTrainer::evaluate(const StudentModel &model, const AttentionBranch &branch,
                                           const PreparedSplit &split, torch::Device device, int64_t batchSize,
                                           const FeatureNorm &norm)
{
    if (split.size() == 0)
        throw Error(std::string("dataset ") + splitName(split.split) + " split", "has no clips");
    torch::NoGradGuard noGrad;
    StudentModel net = model; // shares the module; eval()/train() are not const
    const bool wasTraining = net.isTraining();
    net.eval();
    const Localisation loc(FrameTiming{split.frameWindowSec, split.frameHopSec});
    const TemporalKdLoss loss(TemporalKdLossOptions().multiLabel(split.multiLabel));
    StudentEvaluation e;
    std::vector<torch::Tensor> logits;
    double lossSum = 0.0;
    for (int64_t s = 0; s < split.size(); s += batchSize) {
        const int64_t n = std::min(batchSize, split.size() - s);
        const StudentOutput out = net.forward(norm.apply(split.features.narrow(0, s, n).to(device)));
        logits.push_back(out.logits.to(torch::kCPU, torch::kFloat));
        lossSum += loss.taskLoss(out.logits, split.targets.narrow(0, s, n).to(device)).item<double>() * double(n);
        const std::vector<KeywordWindow> windows(split.windows.begin() + s, split.windows.begin() + s + n);
        if (branch)
            e.branch.merge(loc.score(branch.ptr()->forward(out.context).to(torch::kCPU), windows, split.clipSec));
        if (out.nativeAttention.defined())
            e.native.merge(loc.score(out.nativeAttention.mean(1).to(torch::kCPU), windows, split.clipSec));
    }
    net.train(wasTraining);
    e.metrics = Metrics::classification(torch::cat(logits, 0), split.targets, split.multiLabel);
    e.loss = lossSum / double(split.size());
    return e;
}

FeatureNorm FeatureNorm::fromTraining(const torch::Tensor &features, torch::Device device)
{
    FeatureNorm n;
    const torch::Tensor flat = features.reshape({-1, features.size(-1)}).to(torch::kDouble);
    n.mean = flat.mean(0).to(device, torch::kFloat);
    n.std = flat.std(0).clamp_min(1e-6).to(device, torch::kFloat);
    return n;
}

torch::Tensor FeatureNorm::apply(const torch::Tensor &x) const
{
    return mean.defined() ? (x - mean.to(x.device())) / std.to(x.device()) : x;
}

StudentModel StudentTrainer::loadStudent(const std::string &path, AttentionBranch *branch, FeatureNorm *norm)
{
    const Checkpoint ck = Checkpoint::load(path);
    if (norm && ck.hasTensor("feature_mean")) {
        norm->mean = ck.tensor("feature_mean");
        norm->std = ck.tensor("feature_std");
    }
    const std::string name = ck.text("student");
    StudentModel model = StudentRegistry::create(name, ck.intValue("classes"), ck.intValue("features"));
    ck.loadModule(*model.module(), "model");
    if (branch) {
        *branch = AttentionBranch{nullptr};
        if (ck.hasTensor("branch.query")) {
            *branch = AttentionBranch(AttentionBranchOptions(model.contextDim()));
            ck.loadModule(**branch, "branch");
        }
    }
    model.eval();
    return model;
}

StudentResult StudentTrainer::train(const StudentData &data)
{
    const StudentTrainOptions &o = m_options;
    if (!data.train || !data.validation || !data.test)
        throw Error(o.stage, "needs train, validation and test splits");
    const PreparedSplit &tr = *data.train;
    if (tr.size() == 0 || data.validation->size() == 0 || data.test->size() == 0)
        throw Error(o.stage, "a split is empty (train " + std::to_string(tr.size()) + ", validation " +
                                 std::to_string(data.validation->size()) + ", test " +
                                 std::to_string(data.test->size()) + ")");
    if (o.epochs < 1)
        throw Error("train.epochs", "must be at least 1");
    if (o.lambda < 0.0 || !std::isfinite(o.lambda))
        throw Error("kd.lambdas", "lambda must be >= 0");
    if (o.kdTarget != "branch" && o.kdTarget != "native")
        throw Error("kd.target", "must be 'branch' or 'native', not '" + o.kdTarget + "'");
    if (o.earlyStoppingPatience < 0)
        throw Error("train.early_stopping_patience", "must be >= 0");

    torch::manual_seed(o.seed);
    StudentResult result;
    StudentModel model = StudentRegistry::create(o.student, tr.numClasses, tr.features.size(2));
    const int64_t frames = tr.frames();
    if (frames < model.minFrames())
        throw Error("data.noisy.length_sec", o.student + " needs at least " + std::to_string(model.minFrames()) +
                                                 " frames; clips give " + std::to_string(frames));
    const int64_t tPrime = model.contextLength(frames);
    const bool useBranch = o.usesTeacherAttention() && o.kdTarget == "branch";
    const bool useNative = o.usesTeacherAttention() && o.kdTarget == "native";
    if (useNative && model.nativeHeads() == 0)
        throw Error("kd.target", "'native' needs a student with its own attention; " + o.student + " has none");
    AttentionBranch branch{nullptr};
    if (useBranch)
        branch = AttentionBranch(AttentionBranchOptions(model.contextDim()));
    model.to(o.device);
    if (branch)
        branch->to(o.device);

    // a_T for every training clip at T', once: the per-step cost of KD is one index_select.
    torch::Tensor aT, teacherLogits;
    if (o.usesTeacherAttention()) {
        if (!data.teacherAttention.defined() || data.teacherAttention.dim() != 2 ||
            data.teacherAttention.size(0) != tr.size())
            throw Error(o.stage, "temporal KD (lambda " + std::to_string(o.lambda) +
                                     ") needs the teacher's attention for all " + std::to_string(tr.size()) +
                                     " training clips");
        aT = AttentionRollout::resampleRow(data.teacherAttention.to(torch::kFloat), tPrime).to(o.device);
    }
    if (o.usesTeacherLogits()) {
        if (!data.teacherLogits.defined() || data.teacherLogits.size(0) != tr.size() ||
            data.teacherLogits.size(1) != tr.numClasses)
            throw Error(o.stage, "logit KD needs the teacher's logits for every training clip");
        teacherLogits = data.teacherLogits.to(o.device, torch::kFloat);
    }
    // On an accelerator the whole training split moves once; on the CPU batches are sliced
    // straight out of the cache mapping.
    const torch::Tensor features = o.device.is_cpu() ? tr.features : tr.features.to(o.device);
    const torch::Tensor targets = tr.targets.to(o.device);
    // Per-coefficient standardisation from the training split: raw MFCCs span very different
    // ranges (c0 is tens of units), which slows the students badly. Stored in the checkpoint.
    const FeatureNorm norm = FeatureNorm::fromTraining(tr.features, o.device);

    std::vector<torch::Tensor> params = model.parameters();
    if (branch)
        for (const auto &p : branch->parameters())
            params.push_back(p);
    auto optimizer = TrainLoop::makeOptimizer(o.optimizer, params, o.lr, o.momentum, o.weightDecay);
    const Batcher batcher(tr.size(), o.batchSize, o.seed);
    const int64_t perEpoch = batcher.batchesPerEpoch();
    LrScheduleOptions so;
    so.kind = LrSchedule::kindFromName(o.schedule);
    so.baseLr = o.lr;
    so.totalSteps = perEpoch * o.epochs;
    if (o.warmupEpochs < 0)
        throw Error("train.warmup_epochs", "must be >= 0");
    so.warmupSteps = so.kind == LrScheduleOptions::Kind::OneCycle ? 0 : perEpoch * o.warmupEpochs;
    const LrSchedule schedule(so);
    const TemporalKdLoss loss(TemporalKdLossOptions()
                                  .lambda(o.lambda)
                                  .multiLabel(tr.multiLabel)
                                  .logitKdWeight(o.logitKdWeight)
                                  .temperature(o.temperature));

    const std::string lastPath = o.checkpointDir.empty() ? "" : o.checkpointDir + "/last.safetensors";
    const std::string bestPath = o.checkpointDir.empty() ? "" : o.checkpointDir + "/best.safetensors";
    if (!o.checkpointDir.empty())
        makeDirs(o.checkpointDir);
    int64_t startEpoch = 0, startBatch = 0, step = 0, badEpochs = 0;
    bool haveLast = false;
    Snapshot best;

    auto makeCheckpoint = [&](int64_t epoch, int64_t batch) {
        Checkpoint ck;
        ck.step = step;
        ck.epoch = epoch;
        ck.configHash = o.configHash;
        ck.setModule(*model.module(), "model");
        if (branch)
            ck.setModule(*branch, "branch");
        ck.setOptimizer(*optimizer);
        ck.captureTorchRng();
        ck.setText("student", o.student);
        ck.setInt("classes", tr.numClasses);
        ck.setInt("features", tr.features.size(2));
        ck.setValue("lambda", o.lambda);
        ck.setText("kd_target", o.kdTarget);
        ck.setInt("next_batch", batch);
        ck.setInt("bad_epochs", badEpochs);
        ck.setInt("best_epoch", result.bestEpoch);
        ck.setValue("best_score", result.bestValidationScore);
        ck.setInt("seed", int64_t(o.seed));
        ck.setTensor("feature_mean", norm.mean.to(torch::kCPU));
        ck.setTensor("feature_std", norm.std.to(torch::kCPU));
        return ck;
    };
    auto saveLast = [&](int64_t epoch, int64_t batch) {
        if (lastPath.empty())
            return;
        makeCheckpoint(epoch, batch).save(lastPath);
        haveLast = true;
        result.lastCheckpoint = lastPath;
        if (m_observer)
            m_observer->onCheckpoint(o.stage, lastPath, false);
    };

    if (o.resume && !lastPath.empty() && std::filesystem::exists(lastPath)) {
        const Checkpoint ck = Checkpoint::load(lastPath);
        if (ck.text("student") != o.student)
            throw Error(lastPath, "was written for student '" + ck.text("student") + "', not '" + o.student + "'");
        ck.loadModule(*model.module(), "model");
        if (branch)
            ck.loadModule(*branch, "branch");
        ck.loadOptimizer(*optimizer);
        ck.restoreTorchRng();
        startEpoch = ck.epoch;
        startBatch = ck.intValue("next_batch");
        step = ck.step;
        badEpochs = ck.intValue("bad_epochs");
        result.bestEpoch = ck.intValue("best_epoch");
        result.bestValidationScore = ck.value("best_score");
        haveLast = true;
        result.lastCheckpoint = lastPath;
        if (std::filesystem::exists(bestPath)) {
            // The best weights so far: load them, snapshot, then return to the resumed state.
            const Snapshot resumed = takeSnapshot(model, branch);
            const Checkpoint b = Checkpoint::load(bestPath);
            b.loadModule(*model.module(), "model");
            if (branch)
                b.loadModule(*branch, "branch");
            best = takeSnapshot(model, branch);
            restoreSnapshot(resumed);
            result.bestCheckpoint = bestPath;
        }
        report(o.stage + ": resumed from " + lastPath + " at epoch " + std::to_string(startEpoch + 1) + ", step " +
                   std::to_string(step),
               0);
    }

    const TrainLoop::Clock clock(so.totalSteps);
    double trainSeconds = 0.0;
    int64_t trainedEpochs = 0;
    if (m_observer)
        m_observer->onStage({o.stage, "training " + o.student, step, so.totalSteps, 0.0, -1.0, false});

    for (int64_t epoch = startEpoch; epoch < o.epochs; ++epoch) {
        const std::vector<torch::Tensor> batches = batcher.batches(epoch);
        double sumTask = 0, sumKd = 0, sumLogit = 0, sumTotal = 0;
        int64_t counted = 0;
        model.train();
        const auto t0 = std::chrono::steady_clock::now();
        for (int64_t b = epoch == startEpoch ? startBatch : 0; b < perEpoch; ++b) {
            if (m_control && m_control->waitWhilePaused()) {
                saveLast(epoch, b);
                report(o.stage + ": cancelled at step " + std::to_string(step) +
                           (lastPath.empty() ? "" : "; resume from " + lastPath),
                       1);
                result.status = StudentResult::Status::Cancelled;
                result.steps = step;
                result.epochsRun = epoch;
                result.model = model;
                result.branch = branch;
                return result;
            }
            const double lr = schedule.lrAt(step);
            TrainLoop::setLearningRate(*optimizer, lr);
            const torch::Tensor &idx = batches[size_t(b)];
            const torch::Tensor x = norm.apply(Batcher::gather(features, idx).to(o.device));
            const torch::Tensor y = Batcher::gather(targets, idx);
            const StudentOutput out = model.forward(x);
            torch::Tensor scores, a;
            if (useBranch)
                scores = branchScores(branch, out.context);
            else if (useNative)
                // log of a distribution is its own log-softmax, so the loss sees log a_S exactly.
                scores = out.nativeAttention.mean(1).clamp_min(1e-12).log();
            if (aT.defined())
                a = Batcher::gather(aT, idx);
            const KdLossTerms terms =
                loss(out.logits, y, scores, a, teacherLogits.defined() ? Batcher::gather(teacherLogits, idx) : torch::Tensor());
            const double total = terms.total.item<double>();
            if (!std::isfinite(total)) {
                const std::string msg =
                    "the loss became " + std::string(std::isnan(total) ? "NaN" : "infinite") + " at step " +
                    std::to_string(step + 1) + " (epoch " + std::to_string(epoch + 1) +
                    "); training stopped. " +
                    (haveLast ? "The last good checkpoint is kept: " + lastPath
                              : std::string("No checkpoint had been written yet.")) +
                    " Try a lower train.lr.";
                report(o.stage + ": " + msg, 2);
                throw Error(o.stage, msg);
            }
            optimizer->zero_grad();
            terms.total.backward();
            optimizer->step();
            ++step;
            const double task = terms.task.item<double>(), kd = terms.kd.item<double>(),
                         lk = terms.logitKd.item<double>();
            sumTask += task;
            sumKd += kd;
            sumLogit += lk;
            sumTotal += total;
            ++counted;
            if (m_observer) {
                m_observer->onStep({o.stage, step, epoch + 1, task, kd, lk, total, lr});
                m_observer->onStage({o.stage, "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs),
                                     step, so.totalSteps, clock.elapsed(), clock.eta(step), false});
            }
        }
        trainSeconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        ++trainedEpochs;

        const StudentEvaluation val = evaluate(model, branch, *data.validation, o.device, o.evalBatchSize, norm);
        const double score = validationScore(val);
        const bool improved = std::isfinite(score) && score > result.bestValidationScore;
        const double meanTotal = counted ? sumTotal / double(counted) : kNaN;
        result.epochLosses.push_back(meanTotal);
        if (improved) {
            result.bestValidationScore = score;
            result.bestEpoch = epoch + 1;
            result.validation = val;
            best = takeSnapshot(model, branch);
            badEpochs = 0;
            if (!bestPath.empty()) {
                makeCheckpoint(epoch + 1, 0).save(bestPath);
                result.bestCheckpoint = bestPath;
                if (m_observer)
                    m_observer->onCheckpoint(o.stage, bestPath, true);
            }
        } else {
            ++badEpochs;
        }
        saveLast(epoch + 1, 0);
        if (m_observer) {
            EpochReport r;
            r.stage = o.stage;
            r.epoch = epoch + 1;
            r.step = step;
            if (counted)
                r.trainLosses = {{"task", sumTask / double(counted)},
                                 {"kd", sumKd / double(counted)},
                                 {"logit_kd", sumLogit / double(counted)},
                                 {"total", meanTotal}};
            r.validation = val.summary();
            r.lr = schedule.lrAt(std::max<int64_t>(0, step - 1));
            r.best = improved;
            m_observer->onEpoch(r);
        }
        result.epochsRun = epoch + 1;
        if (o.earlyStoppingPatience > 0 && badEpochs >= o.earlyStoppingPatience && epoch + 1 < o.epochs) {
            result.status = StudentResult::Status::EarlyStopped;
            report(o.stage + ": early stop after epoch " + std::to_string(epoch + 1) + " (no better validation score for " +
                       std::to_string(badEpochs) + " epochs)",
                   0);
            break;
        }
    }
    result.steps = step;
    result.trainSecondsPerEpoch = trainedEpochs ? trainSeconds / double(trainedEpochs) : 0.0;
    if (!best.empty())
        restoreSnapshot(best);
    if (result.bestEpoch > 0 && result.validation.metrics.count == 0)
        result.validation = evaluate(model, branch, *data.validation, o.device, o.evalBatchSize, norm);
    result.test = evaluate(model, branch, *data.test, o.device, o.evalBatchSize, norm);
    result.model = model;
    result.branch = branch;
    result.norm = norm;
    if (m_observer)
        m_observer->onStage({o.stage, "done", step, so.totalSteps, clock.elapsed(), 0.0, true});
    return result;
}

} // namespace tkd
