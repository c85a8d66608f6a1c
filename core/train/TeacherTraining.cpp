// The trained path of TeacherTrainer: the optimiser loop over epochs (from scratch, or fine-tuning
// all of a pretrained or imported teacher), fresh noise each epoch, and data parallelism over a
// Distributed world (a global batch split between the ranks, gradients averaged, rank 0 writes).
#include "core/train/TeacherTrainer.h"

#include "core/dist/Distributed.h"
#include "core/features/FeatureExtractor.h"
#include "core/train/Batcher.h"
#include "core/train/DataParallel.h"
#include "core/train/LrSchedule.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainLoop.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace tkd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
} // namespace

// A training epoch's inputs: spectral features of the clips a rank reads (`rowOf` maps a clip's
// index to its row; undefined when every clip is there, in order), or a raw-waveform epoch's noisy
// clips, built batch by batch.
struct TeacherTrainer::EpochInputs
{
    torch::Tensor features;
    torch::Tensor rowOf;
    std::unique_ptr<NoisyDataset> freshRaw;

    torch::Tensor gather(const torch::Tensor &idx) const
    {
        return Batcher::gather(features, rowOf.defined() ? rowOf.index_select(0, idx) : idx);
    }
};

TeacherTrainer::EpochInputs TeacherTrainer::freshEpochFeatures(
    int64_t epoch, const std::vector<int64_t> &rows)
{
    NoisyConfig cfg = m_data.config();
    cfg.seed
        = Rng::mix(cfg.seed ^ Rng::mix(0x7465616368ull + uint64_t(epoch))); // new noise, same clips
    const NoisyDataset fresh(m_data.index(), cfg);
    const FeatureExtractor fx(spectralFeatures());
    const int64_t n = int64_t(fresh.size(Split::Train));
    // The clips this rank reads, in index order (a data-parallel rank makes only its share).
    std::vector<int64_t> wanted = rows;
    if (wanted.empty()) {
        wanted.resize(size_t(n));
        for (int64_t i = 0; i < n; ++i)
            wanted[size_t(i)] = i;
    }
    const int64_t m = int64_t(wanted.size());
    std::vector<torch::Tensor> parts;
    const int64_t chunk = 64; // audio of a chunk only: an 8 s clip is 512 KB
    for (int64_t first = 0; first < m; first += chunk) {
        if (m_control && m_control->cancelRequested())
            throw Cancelled();
        const int64_t count = std::min(chunk, m - first);
        const std::vector<int64_t> idx(wanted.begin() + first, wanted.begin() + first + count);
        auto items = buildSelected(fresh, Split::Train, idx, m_options.threads);
        parts.push_back(fx.compute(stackSamples(items)));
        if (m_observer)
            m_observer->onStage(
                { m_options.stage, "fresh noise for epoch " + std::to_string(epoch + 1),
                    first + count, m, 0.0, -1.0, false });
    }
    EpochInputs in;
    in.features = torch::cat(parts, 0);
    if (m < n) {
        in.rowOf = torch::full({ n }, -1, torch::kInt64);
        in.rowOf.index_copy_(0, torch::tensor(wanted, torch::kInt64), torch::arange(m));
    }
    return in;
}

TeacherTrainer::EpochInputs TeacherTrainer::inputsForEpoch(
    int64_t epoch, const std::vector<int64_t> &rows)
{
    // Epoch 0 trains on the fixed dataset; later epochs on fresh noise over the same keyword clips.
    const bool fresh = m_options.freshNoiseEachEpoch && epoch > 0;
    if (isSpectral() && fresh)
        return freshEpochFeatures(epoch, rows);
    EpochInputs in;
    if (isSpectral()) {
        in.features = spectralSplit(Split::Train).features;
    } else if (fresh) {
        NoisyConfig cfg = m_data.config();
        cfg.seed = Rng::mix(cfg.seed ^ Rng::mix(0x7465616368ull + uint64_t(epoch)));
        in.freshRaw = std::make_unique<NoisyDataset>(m_data.index(), cfg);
    }
    return in;
}

bool TeacherTrainer::trainsInLoop() const
{
    return !isOracle() && !usesPretrainedAsIs()
        && !(m_options.kind == TeacherKind::Pretrained
            && m_options.fineTune == TeacherFineTune::Head);
}

void TeacherTrainer::prepareInputs()
{
    if (!isSpectral() || isOracle())
        return;
    for (Split s : { Split::Train, Split::Validation, Split::Test })
        spectralSplit(s);
}

// What every optimiser step of the trained path needs, and the data-parallel world it runs in.
struct TeacherTrainer::Loop
{
    Loop(const TeacherTrainOptions &o, Wav2Vec2Model m, std::vector<torch::Tensor> trainable,
        int64_t clips, const LrScheduleOptions &so, torch::Tensor trainTargets)
        : model(std::move(m))
        , params(std::move(trainable))
        , dp(o.dist, params)
        , batcher(clips, o.batchSize, o.seed)
        , schedule(so)
        , optimizer(params, torch::optim::AdamWOptions(o.lr).weight_decay(o.weightDecay))
        , clock(so.totalSteps)
        , focusRollout(o.rollout)
        , targets(std::move(trainTargets))
    { }

    Wav2Vec2Model model;
    std::vector<torch::Tensor> params;
    DataParallel dp;
    Batcher batcher;
    LrSchedule schedule;
    torch::optim::AdamW optimizer;
    TrainLoop::Clock clock;
    AttentionRollout focusRollout;
    torch::Tensor targets;
    int64_t step = 0;
};

TeacherResult TeacherTrainer::train(std::chrono::steady_clock::time_point t0)
{
    const auto &o = m_options;
    TeacherResult r;
    r.kind = teacherKindName(o.kind);
    Wav2Vec2Model model = buildModel();
    model->to(o.device);
    if (!isSpectral() && o.kind != TeacherKind::Imported)
        message("teacher '" + std::string(teacherKindName(o.kind))
                + "' trains a raw-waveform encoder from scratch; the calibration probe found that "
                  "this does not learn from a few thousand clips (use tiny or imported weights)",
            1);
    const int64_t n = int64_t(m_data.size(Split::Train));
    LrScheduleOptions so;
    so.kind
        = LrScheduleOptions::Kind::OneCycle; // what the calibration probe trained its teachers with
    so.baseLr = o.lr;
    so.totalSteps
        = std::max<int64_t>(1, Batcher(n, o.batchSize, o.seed).batchesPerEpoch() * o.epochs);
    Loop loop(o, model, trainableParameters(model), n, so,
        m_prepared->items(Split::Train).targets.to(o.device));
    const bool isMain = !o.dist || o.dist->isMain();
    if (loop.dp.active()) {
        // Every rank starts from rank 0's weights, whatever its own initialisation drew.
        std::vector<torch::Tensor> all = model->parameters();
        for (const auto &b : model->buffers())
            all.push_back(b);
        loop.dp.broadcastFromMain(all, "broadcast of the teacher's initial weights");
        message("the teacher trains data-parallel over " + std::to_string(loop.dp.worldSize())
                + " ranks (teacher.batch_size " + std::to_string(o.batchSize)
                + " is the global batch)",
            0);
    }
    if (m_observer)
        m_observer->onStage(
            { o.stage, "training the " + std::string(teacherKindName(o.kind)) + " teacher", 0,
                so.totalSteps, 0.0, -1.0, false });

    std::vector<std::pair<torch::Tensor, torch::Tensor>> best;
    double bestScore = -1.0;
    for (int64_t epoch = 0; epoch < o.epochs; ++epoch) {
        const auto [meanLoss, meanFocus] = trainEpoch(loop, epoch);
        // Every rank validates the same weights alike, so they all keep the same best epoch.
        const TeacherEvaluation val = evaluate(model, Split::Validation);
        const bool improved = val.metrics.accuracy > bestScore;
        if (improved) {
            bestScore = val.metrics.accuracy;
            best.clear();
            for (const auto &p : model->named_parameters())
                best.emplace_back(p.value(), p.value().detach().clone());
            for (const auto &b : model->named_buffers())
                best.emplace_back(b.value(), b.value().detach().clone());
            r.validation = val;
            if (!o.checkpointDir.empty() && isMain)
                r.checkpoint = saveBest(model, val, epoch + 1, loop.step);
        }
        r.epochsRun = int(epoch + 1);
        if (m_observer) {
            EpochReport er;
            er.stage = o.stage;
            er.epoch = epoch + 1;
            er.step = loop.step;
            er.trainLosses = { { "task", meanLoss }, { "total", meanLoss } };
            if (o.attentionFocus > 0.0) {
                er.trainLosses["focus"] = meanFocus; // unweighted
                er.trainLosses["task"] = meanLoss - o.attentionFocus * meanFocus;
            }
            er.validation = val.summary();
            er.lr = loop.schedule.lrAt(std::max<int64_t>(0, loop.step - 1));
            er.best = improved;
            m_observer->onEpoch(er);
        }
    }
    {
        torch::NoGradGuard noGrad;
        for (auto &[live, copy] : best)
            live.copy_(copy);
    }
    for (auto &p : model->parameters())
        p.set_requires_grad(false); // frozen from here on
    model->eval();
    if (best.empty())
        r.validation = evaluate(model, Split::Validation);
    finish(r, model, t0);
    if (m_observer)
        m_observer->onStage({ o.stage, "teacher ready", loop.step, so.totalSteps,
            loop.clock.elapsed(), 0.0, true });
    return r;
}

std::pair<double, double> TeacherTrainer::trainEpoch(Loop &loop, int64_t epoch)
{
    const auto &o = m_options;
    const bool multiLabel = m_data.index().multiLabel;
    // A data-parallel rank reads (and makes the fresh noise of) only its rows of every batch.
    const std::vector<torch::Tensor> batches = loop.batcher.batches(epoch);
    std::vector<int64_t> rows;
    if (loop.dp.active()) {
        for (const torch::Tensor &b : batches) {
            const torch::Tensor mine = loop.dp.shard(b);
            rows.insert(
                rows.end(), mine.data_ptr<int64_t>(), mine.data_ptr<int64_t>() + mine.numel());
        }
        std::sort(rows.begin(), rows.end());
    }
    const EpochInputs inputs = inputsForEpoch(epoch, rows);
    loop.model->train();
    double lossSum = 0.0, focusSum = 0.0;
    int64_t counted = 0;
    for (const torch::Tensor &global : batches) {
        bool stop = m_control && m_control->waitWhilePaused();
        if (loop.dp.active()) // all ranks stop at the same step, or none does
            stop = o.dist->any(stop, "agreeing on a stop");
        if (stop)
            throw Cancelled();
        const double lr = loop.schedule.lrAt(loop.step);
        TrainLoop::setLearningRate(loop.optimizer, lr);
        const torch::Tensor idx = loop.dp.shard(global);
        loop.optimizer.zero_grad();
        double value = 0.0, focus = 0.0;
        if (idx.size(0) > 0) { // a rank may have no rows of a last batch smaller than the world
            torch::Tensor x;
            if (inputs.features.defined()) {
                x = inputs.gather(idx);
            } else {
                std::vector<int64_t> ids(
                    idx.data_ptr<int64_t>(), idx.data_ptr<int64_t>() + idx.numel());
                auto items = buildSelected(
                    inputs.freshRaw ? *inputs.freshRaw : m_data, Split::Train, ids, o.threads);
                x = stackSamples(items);
            }
            const Wav2Vec2Output out = loop.model->forward(x.to(o.device));
            torch::Tensor loss
                = taskLoss(out.logits, Batcher::gather(loop.targets, idx), multiLabel);
            if (o.attentionFocus > 0.0) {
                const torch::Tensor f = attentionFocusLoss(loop.focusRollout, out.attentions);
                focus = f.item<double>();
                loss = loss + o.attentionFocus * f;
            }
            value = loss.item<double>();
            if (std::isfinite(value))
                loss.backward();
        }
        const double share = loop.dp.share(idx.size(0), global.size(0));
        loop.dp.reduceGradients(share);
        if (loop.dp.active()) { // the global batch's means, the same on every rank
            std::vector<torch::Tensor> t { torch::tensor(
                { value * share, focus * share }, torch::kDouble) };
            o.dist->allReduceSum(t, "all-reduce of the teacher's losses");
            value = t[0][0].item<double>();
            focus = t[0][1].item<double>();
        }
        if (!std::isfinite(value)) {
            const std::string msg = "the teacher's loss became non-finite at step "
                + std::to_string(loop.step + 1) + " (epoch " + std::to_string(epoch + 1)
                + "); lower teacher.lr";
            message(msg, 2);
            throw Error(o.stage, msg);
        }
        torch::nn::utils::clip_grad_norm_(loop.params, 1.0);
        loop.optimizer.step();
        ++loop.step;
        loop.dp.afterStep(loop.step); // TKD_CRASH_RANK_STEP: a learned teacher's steps come first
        lossSum += value;
        focusSum += focus;
        ++counted;
        if (m_observer) {
            m_observer->onStep({ o.stage, loop.step, epoch + 1, value, 0.0, 0.0, value, lr });
            m_observer->onStage({ o.stage,
                "epoch " + std::to_string(epoch + 1) + "/" + std::to_string(o.epochs), loop.step,
                loop.clock.total(), loop.clock.elapsed(), loop.clock.eta(loop.step), false });
        }
    }
    return { counted ? lossSum / double(counted) : kNaN,
        counted ? focusSum / double(counted) : kNaN };
}

} // namespace tkd
