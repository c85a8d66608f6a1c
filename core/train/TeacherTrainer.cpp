#include "core/train/TeacherTrainer.h"

#include "core/util/ParallelFor.h"

#include "core/checkpoint/Checkpoint.h"
#include "core/checkpoint/TrainedModels.h"
#include "core/data/FeatureCache.h"
#include "core/distill/OracleAttention.h"
#include "core/features/FeatureExtractor.h"
#include "core/models/Wav2Vec2Pretrained.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainLoop.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"
#include "core/util/Resources.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstring>
#include <exception>
#include <limits>
#include <mutex>
#include <thread>

namespace tkd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
} // namespace

std::vector<NoisyItem> TeacherTrainer::buildSelected(
    const NoisyDataset &data, Split split, const std::vector<int64_t> &indices, int threads)
{
    std::vector<NoisyItem> out(indices.size());
    parallelFor(int64_t(indices.size()), threads,
        [&](int64_t k) { out[size_t(k)] = data.item(split, size_t(indices[size_t(k)])); });
    return out;
}

torch::Tensor TeacherTrainer::stackSamples(std::vector<NoisyItem> &items)
{
    const int64_t n = int64_t(items.size()), len = int64_t(items.front().samples.size());
    torch::Tensor w = torch::empty({ n, len }, torch::kFloat);
    for (int64_t i = 0; i < n; ++i) {
        std::memcpy(
            w[i].data_ptr<float>(), items[size_t(i)].samples.data(), size_t(len) * sizeof(float));
        items[size_t(i)].samples = {};
    }
    return w;
}

void TeacherTrainer::finish(
    TeacherResult &r, Wav2Vec2Model model, std::chrono::steady_clock::time_point t0)
{
    r.test = evaluate(model, Split::Test);
    r.model = model;
    r.weightsHash = weightsHash(model);
    r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    warn(r);
}

torch::Tensor TeacherTrainer::attentionFocusLoss(
    const AttentionRollout &rollout, const std::vector<torch::Tensor> &attentions)
{
    // Differentiable: the rollout is matrix products of the softmax attentions.
    const torch::Tensor row = rollout.rolloutRow(attentions); // [B, T], sums to 1
    const int64_t t = row.size(1);
    if (t < 3)
        return row.select(1, 0).mean();
    const torch::Tensor rest = row.slice(1, 1);
    const torch::Tensor p = rest / rest.sum(1, true).clamp_min(1e-12);
    const torch::Tensor entropy = -(p * p.clamp_min(1e-12).log()).sum(1) / std::log(double(t - 1));
    return (entropy + row.select(1, 0)).mean();
}

torch::Tensor TeacherTrainer::taskLoss(
    const torch::Tensor &logits, const torch::Tensor &targets, bool multiLabel)
{
    return multiLabel ? torch::binary_cross_entropy_with_logits(logits, targets.to(logits.dtype()))
                      : torch::nn::functional::cross_entropy(logits, targets);
}

std::map<std::string, double> TeacherEvaluation::summary() const
{
    std::map<std::string, double> m;
    m["accuracy"] = metrics.count ? metrics.accuracy : kNaN;
    m["map"] = metrics.count ? metrics.meanAveragePrecision : kNaN;
    m["loss"] = metrics.count ? loss : kNaN;
    m["localisation"] = localisation.mean();
    m["localisation_baseline"] = localisation.meanBaseline();
    return m;
}

TeacherTrainer::TeacherTrainer(const NoisyDataset &data, const FeatureCache &cache,
    TeacherTrainOptions options, TrainObserver *observer, const TrainControl *control)
    : m_data(data)
    , m_cache(cache)
    , m_options(std::move(options))
    , m_observer(observer)
    , m_control(control)
    , m_prepared(std::make_unique<PreparedData>(data, std::string(), m_options.threads))
{
    const auto &o = m_options;
    if (o.kind == TeacherKind::Pretrained) {
        m_pretrainedPath = o.weights.empty() ? shippedTeacherPath() : o.weights;
        m_pretrainedInfo = TrainedModels::teacherInfo(m_pretrainedPath);
        if (!isSpectral())
            throw Error("teacher.weights",
                m_pretrainedPath + " is a '" + m_pretrainedInfo.kind
                    + "' teacher; a pretrained teacher must be spectral (tiny or small)");
    }
    if (o.kind == TeacherKind::Imported && o.weights.empty())
        throw Error("teacher.weights", "an imported teacher needs its weights");
    if (o.kind != TeacherKind::Oracle) {
        if (o.epochs < 0)
            throw Error("teacher.epochs", "must be >= 0");
        if (o.batchSize < 1)
            throw Error("teacher.batch_size", "must be at least 1");
        if (!(o.lr > 0.0))
            throw Error("teacher.lr", "must be > 0");
        if (o.spectralSubsampling < 1)
            throw Error("teacher.subsampling", "must be at least 1");
    }
}

TeacherTrainer::~TeacherTrainer() = default;

void TeacherTrainer::message(const std::string &text, int level) const
{
    if (m_observer)
        m_observer->onMessage(TrainObserver::Level(level), text);
}

FeatureConfig TeacherTrainer::spectralFeatures() const
{
    // A pretrained teacher keeps the front end it learned with, whatever the students use.
    FeatureConfig f = m_options.kind == TeacherKind::Pretrained && m_pretrainedInfo.hasFeatures
        ? m_pretrainedInfo.features
        : m_options.features;
    f.kind = FeatureConfig::Kind::LogMel;
    return f;
}

FrameTiming TeacherTrainer::timing(const Wav2Vec2Model &model) const
{
    // The teacher's own config says how its frames map to time (stacked log-mel frames of its
    // own front end, or the raw-waveform conv encoder's receptive field and stride).
    const FeatureConfig f = spectralFeatures();
    const double w = f.windowMs / 1000.0, h = f.hopMs / 1000.0;
    return FrameTiming { model->config.frameWindowSec(w, h), model->config.frameHopSec(h) };
}

int64_t TeacherTrainer::spectralSubsamplingInUse() const
{
    if (auto it = m_options.architecture.find("subsampling"); it != m_options.architecture.end())
        return it->second;
    if (m_options.kind == TeacherKind::Pretrained)
        return m_pretrainedInfo.subsampling;
    if (m_options.kind == TeacherKind::Small && m_options.spectralSubsampling <= 1)
        return Wav2Vec2Config::small().spectralSubsampling();
    return m_options.spectralSubsampling;
}

Wav2Vec2Model TeacherTrainer::buildModel() const
{
    const auto &o = m_options;
    const int64_t classes = int64_t(m_data.index().classes.size());
    torch::manual_seed(o.seed);
    if (o.kind == TeacherKind::Oracle)
        throw Error("teacher.kind", "the oracle teacher has no model");
    if (o.kind == TeacherKind::Imported)
        return Wav2Vec2Pretrained::load(o.weights, classes);
    if (o.kind == TeacherKind::Pretrained) {
        Wav2Vec2Model model = TrainedModels::loadTeacher(m_pretrainedPath);
        if (m_pretrainedInfo.classes != m_data.index().classes)
            model->resetHead(classes); // another task: a new head, adapted in run()
        return model;
    }
    Wav2Vec2Config cfg = o.kind == TeacherKind::Tiny
        ? Wav2Vec2Config::tiny(classes, spectralFeatures().melBins)
        : o.kind == TeacherKind::Small ? Wav2Vec2Config::small(classes, spectralFeatures().melBins)
                                       : Wav2Vec2Config::preset(teacherKindName(o.kind), classes);
    if (isSpectral()) {
        cfg.spectralSubsampling(spectralSubsamplingInUse());
        for (const auto &[key, value] : o.architecture)
            if (key != "subsampling")
                TrainedModels::setTeacherArchitecture(cfg, key, value);
        cfg.validate();
    }
    cfg.validate();
    return Wav2Vec2Model(cfg);
}

const PreparedSplit &TeacherTrainer::spectralSplit(Split split)
{
    auto it = m_spectral.find(split);
    if (it != m_spectral.end())
        return it->second;
    const FeatureExtractor fx(spectralFeatures());
    Progress p;
    if (m_control)
        p = m_control->progress();
    if (m_observer)
        p.onProgress = [this](const std::string &stage, int64_t done, int64_t total) {
            m_observer->onStage(
                { m_options.stage, stage + " (teacher log-mel)", done, total, 0.0, -1.0, false });
        };
    return m_spectral[split] = m_prepared->split(split, fx, m_cache, p);
}

torch::Tensor TeacherTrainer::inputBatch(Split split, int64_t first, int64_t count)
{
    if (isSpectral())
        return spectralSplit(split).features.narrow(0, first, count);
    std::vector<int64_t> idx(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i)
        idx[size_t(i)] = first + i;
    auto items = buildSelected(m_data, split, idx, m_options.threads);
    return stackSamples(items);
}

torch::Tensor TeacherTrainer::inputRows(Split split, const std::vector<int64_t> &rows)
{
    if (isSpectral() && m_spectral.count(split))
        return m_spectral.at(split).features.index_select(
            0, torch::tensor(rows, torch::dtype(torch::kInt64)));
    auto items = buildSelected(m_data, split, rows, m_options.threads);
    if (!isSpectral())
        return stackSamples(items);
    // The split's log-mel is not prepared (the probe reads a few clips of each class): these
    // clips' alone, as PreparedData computes them. The attention cache prepares the whole split
    // later, when it needs it.
    return FeatureExtractor(spectralFeatures()).compute(stackSamples(items));
}

TeacherAttentionCache::Source TeacherTrainer::cacheSource(Split split)
{
    TeacherAttentionCache::Source s;
    s.dataHash = m_data.contentHash();
    s.extraKey = std::string(splitName(split))
        + (isSpectral() ? ";" + spectralFeatures().canonicalString() : "");
    s.count = int64_t(m_data.size(split));
    s.inputs
        = [this, split](int64_t first, int64_t count) { return inputBatch(split, first, count); };
    return s;
}

torch::Tensor TeacherTrainer::oracleAttention(const PreparedSplit &split, int64_t length)
{
    const OracleAttention oracle(FrameTiming { split.frameWindowSec, split.frameHopSec });
    return oracle.batch(split.windows, split.clipSec, length);
}

TeacherEvaluation TeacherTrainer::evaluateOracleSplit(Split split)
{
    // Scored at the front end's frame rate against the same windows it came from: the upper
    // bound every real teacher is compared with.
    const PreparedSplit &s = m_prepared->split(split, FeatureExtractor(m_options.features), m_cache,
        m_control ? m_control->progress() : Progress {});
    TeacherEvaluation e;
    const Localisation loc(FrameTiming { s.frameWindowSec, s.frameHopSec });
    e.localisation = loc.score(oracleAttention(s, s.frames()), s.windows, s.clipSec);
    e.loss = kNaN;
    return e;
}

TeacherEvaluation TeacherTrainer::evaluate(Wav2Vec2Model &model, Split split)
{
    const auto &o = m_options;
    torch::NoGradGuard noGrad;
    const bool wasTraining = model->is_training();
    model->eval();
    const SplitItems items = m_prepared->items(split);
    const int64_t n = int64_t(m_data.size(split));
    const AttentionRollout roll(o.rollout);
    const Localisation loc(timing(model));
    const double clipSec = double(m_data.lengthSamples()) / 16000.0;
    TeacherEvaluation e;
    std::vector<torch::Tensor> logits;
    double lossSum = 0.0;
    for (int64_t first = 0; first < n; first += o.evalBatchSize) {
        if (m_control && m_control->cancelRequested())
            throw Cancelled();
        const int64_t count = std::min<int64_t>(o.evalBatchSize, n - first);
        const Wav2Vec2Output out = model->forward(inputBatch(split, first, count).to(o.device));
        logits.push_back(out.logits.to(torch::kCPU, torch::kFloat));
        lossSum += taskLoss(out.logits, items.targets.narrow(0, first, count).to(o.device),
                       m_data.index().multiLabel)
                       .item<double>()
            * double(count);
        if (o.scoreLocalisation) {
            const std::vector<KeywordWindow> windows(
                items.windows.begin() + first, items.windows.begin() + first + count);
            e.localisation.merge(
                loc.score(roll.rolloutRow(out.attentions).to(torch::kCPU), windows, clipSec));
        }
    }
    model->train(wasTraining);
    e.metrics
        = Metrics::classification(torch::cat(logits, 0), items.targets, m_data.index().multiLabel);
    e.loss = lossSum / double(n);
    return e;
}

void TeacherTrainer::warn(TeacherResult &r)
{
    const auto &o = m_options;
    char buf[512];
    if (!r.oracle && r.validation.metrics.count > 0
        && r.validation.metrics.accuracy < o.minAccuracy) {
        std::snprintf(buf, sizeof buf,
            "teacher is probably weaker than the students: validation accuracy %.1f%% is below "
            "%.0f%% "
            "(TC-ResNet8 reached ~77%% at 8 s in the calibration probe). Temporal KD needs only "
            "its "
            "attention to be well placed; logit KD would pass its mistakes on.",
            100.0 * r.validation.metrics.accuracy, 100.0 * o.minAccuracy);
        r.warnings.push_back(buf);
    }
    const double ratio = r.validation.localisationRatio();
    if (!r.oracle && std::isfinite(ratio) && ratio < o.minLocalisationRatio) {
        std::snprintf(buf, sizeof buf,
            "teacher attention is poorly localised: its rollout puts %.3f of its mass in the "
            "keyword "
            "window, uniform attention would put %.3f (x%.2f < x%.2f). Temporal KD from it is "
            "unlikely "
            "to help; consider more teacher epochs or the oracle teacher.",
            r.validation.localisation.mean(), r.validation.localisation.meanBaseline(), ratio,
            o.minLocalisationRatio);
        r.warnings.push_back(buf);
    }
    for (const auto &w : r.warnings)
        message(w, 1);
}

std::string TeacherTrainer::weightsHash(const Wav2Vec2Model &model)
{
    return TeacherAttentionCache::weightsHash(*model, model->config.canonicalString());
}

TeacherResult TeacherTrainer::evaluateOnly(Wav2Vec2Model model)
{
    TeacherResult r;
    r.kind = teacherKindName(m_options.kind);
    model->to(m_options.device);
    model->eval();
    r.validation = evaluate(model, Split::Validation);
    r.test = evaluate(model, Split::Test);
    r.model = model;
    r.weightsHash = weightsHash(model);
    warn(r);
    return r;
}

TeacherResult TeacherTrainer::runOracle()
{
    const auto &o = m_options;
    TeacherResult r;
    r.kind = teacherKindName(o.kind);
    r.oracle = true;
    r.weightsHash = "oracle";
    if (m_observer)
        m_observer->onStage(
            { o.stage, "oracle attention (the keyword's true window); nothing to train", 0, 0, 0.0,
                0.0, false });
    r.validation = evaluateOracleSplit(Split::Validation);
    r.test = evaluateOracleSplit(Split::Test);
    if (m_observer)
        m_observer->onStage({ o.stage, "oracle ready", 0, 0, 0.0, 0.0, true });
    return r;
}

std::vector<torch::Tensor> TeacherTrainer::trainableParameters(Wav2Vec2Model &model) const
{
    const auto &o = m_options;
    std::vector<torch::Tensor> params;
    for (auto &p : model->named_parameters()) {
        bool train = true;
        if (o.kind == TeacherKind::Imported)
            train = o.fineTune == TeacherFineTune::Head
                ? p.key().rfind("head.", 0) == 0
                : p.key().rfind("feature_extractor.", 0) != 0;
        else if (o.kind == TeacherKind::Pretrained)
            train = o.fineTune == TeacherFineTune::All || p.key().rfind("head.", 0) == 0;
        p.value().set_requires_grad(train);
        if (train)
            params.push_back(p.value());
    }
    return params;
}

std::string TeacherTrainer::saveBest(
    const Wav2Vec2Model &model, const TeacherEvaluation &val, int64_t epoch, int64_t step) const
{
    const auto &o = m_options;
    makeDirs(o.checkpointDir);
    // An adapted pretrained teacher keeps its architecture's kind.
    const std::string kind = o.kind == TeacherKind::Pretrained
        ? m_pretrainedInfo.kind
        : std::string(teacherKindName(o.kind));
    const std::string path = o.checkpointDir + "/best.safetensors";
    TrainedModels::saveTeacher(path, model, kind, m_data.index().classes, spectralFeatures(),
        { { "val_accuracy", val.metrics.accuracy }, { "val_localisation", val.localisation.mean() },
            { "epoch", double(epoch) }, { "step", double(step) } },
        { { "weights", o.kind == TeacherKind::Pretrained ? m_pretrainedPath : o.weights },
            { "config_hash", o.configHash } });
    if (m_observer)
        m_observer->onCheckpoint(o.stage, path, true);
    return path;
}

TeacherResult TeacherTrainer::run()
{
    const auto &o = m_options;
    TrainLoop::flushDenormals(); // see TrainLoop.h
    const auto t0 = std::chrono::steady_clock::now();
    if (isOracle())
        return runOracle();
    if (usesPretrainedAsIs())
        return runPretrainedAsIs(t0);
    if (o.kind == TeacherKind::Pretrained && o.epochs < 1)
        throw Error("teacher.epochs",
            "the pretrained teacher's classes (" + std::to_string(m_pretrainedInfo.classes.size())
                + ") differ from the dataset's (" + std::to_string(m_data.index().classes.size())
                + "): give it at least one epoch to adapt a new head");
    if (o.kind == TeacherKind::Pretrained && o.fineTune == TeacherFineTune::Head)
        return adaptHead(t0);
    return train(t0);
}

} // namespace tkd
