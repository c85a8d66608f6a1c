#include "core/adapt/StudentAdaptation.h"

#include "core/adapt/AdaptationData.h"
#include "core/checkpoint/Checkpoint.h"
#include "core/checkpoint/TrainedModels.h"
#include "core/data/DatasetSource.h"
#include "core/infer/LiveModel.h"
#include "core/models/StudentRegistry.h"
#include "core/train/Batcher.h"
#include "core/train/EventLog.h"
#include "core/train/EventLogObserver.h"
#include "core/train/Provenance.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <filesystem>

namespace fs = std::filesystem;

namespace tkd {

namespace {

using Clock = std::chrono::steady_clock;
constexpr const char *kStage = "adapt";
constexpr double kWriteMarginSec = 2.0; // kept free of training for the final evaluation + files

double since(Clock::time_point t0)
{
    return std::chrono::duration<double>(Clock::now() - t0).count();
}

// The student the Live view would load for `path`, with what adaptation needs besides.
struct SourceStudent
{
    LiveModelInfo info;
    std::string name; // registry name, from the checkpoint
    StudentModel model;
    AttentionBranch branch { nullptr };
    FeatureNorm norm;
    std::vector<std::string> classes;
    ExperimentConfig config;
};

SourceStudent loadSource(const std::string &path)
{
    SourceStudent s;
    s.info = resolveLiveModel(path);
    s.name = Checkpoint::load(s.info.cell.checkpoint).text("student");
    std::vector<std::string> names;
    s.model = TrainedModels::loadStudent(s.info.cell.checkpoint, &s.branch, &s.norm, &names);
    s.classes = int64_t(names.size()) == s.model.numClasses()
        ? names
        : runClassNames(s.info.runDir, s.model.numClasses());
    s.config = ExperimentConfig::load(s.info.runDir + "/config.yaml");
    if (DatasetSource::isMultiLabel(s.config.datasetSource().kind))
        throw Error(path, "is a multi-label (FSD50K) student; adaptation is for keyword students");
    return s;
}

// The source student with `classes` outputs: every weight carried over; a classifier tensor whose
// first dimension grew keeps the old rows and starts each new row at their mean.
StudentModel growStudent(const SourceStudent &s, int64_t classes)
{
    StudentModel m = StudentRegistry::create(s.name, classes, s.model.featureDim());
    const int64_t oldClasses = s.model.numClasses();
    torch::NoGradGuard noGrad;
    auto carry = [&](const torch::OrderedDict<std::string, torch::Tensor> &to,
                     const torch::OrderedDict<std::string, torch::Tensor> &from) {
        for (const auto &p : to) {
            torch::Tensor dst = p.value();
            const torch::Tensor *src = from.find(p.key());
            if (!dst.defined())
                continue;
            if (!src || !src->defined())
                throw Error(s.info.cell.checkpoint, "has no tensor " + p.key());
            if (src->sizes() == dst.sizes()) {
                dst.copy_(*src);
            } else if (src->dim() == dst.dim() && src->dim() > 0 && src->size(0) == oldClasses
                && dst.size(0) == classes && src->sizes().slice(1) == dst.sizes().slice(1)) {
                dst.narrow(0, 0, oldClasses).copy_(*src);
                dst.narrow(0, oldClasses, classes - oldClasses)
                    .copy_(src->mean(0, true).expand_as(
                        dst.narrow(0, oldClasses, classes - oldClasses)));
            } else {
                throw Error(s.info.cell.checkpoint,
                    "tensor " + p.key() + " cannot be carried over to " + std::to_string(classes)
                        + " classes");
            }
        }
    };
    carry(m.namedParameters(), s.model.namedParameters());
    carry(m.namedBuffers(), s.model.namedBuffers());
    return m;
}

struct Scores
{
    double recorded = -1.0; // accuracy on clips from takes (-1: none)
    double rehearsal = -1.0; // on built-in clips
    double mean() const
    {
        if (recorded < 0.0)
            return rehearsal;
        return rehearsal < 0.0 ? recorded : 0.5 * (recorded + rehearsal);
    }
};

Scores evaluate(StudentModel &model, const FeatureNorm &norm, const AdaptSplit &split)
{
    torch::NoGradGuard noGrad;
    const bool wasTraining = model.isTraining();
    model.eval();
    std::vector<torch::Tensor> predictions;
    for (int64_t s = 0; s < split.size(); s += 256) {
        const int64_t n = std::min<int64_t>(256, split.size() - s);
        predictions.push_back(
            model.forward(norm.apply(split.features.narrow(0, s, n))).logits.argmax(1));
    }
    model.train(wasTraining);
    const torch::Tensor correct = torch::cat(predictions).eq(split.targets);
    auto accuracy = [&](const torch::Tensor &mask) {
        const int64_t n = mask.sum().item<int64_t>();
        return n ? correct.masked_select(mask).sum().item<double>() / double(n) : -1.0;
    };
    return { accuracy(split.recorded), accuracy(split.recorded.logical_not()) };
}

using Snapshot = std::vector<std::pair<torch::Tensor, torch::Tensor>>;
Snapshot snapshot(const StudentModel &m)
{
    Snapshot s;
    for (const auto &p : m.namedParameters())
        s.emplace_back(p.value(), p.value().detach().clone());
    for (const auto &b : m.namedBuffers())
        if (b.value().defined())
            s.emplace_back(b.value(), b.value().detach().clone());
    return s;
}

std::string joinLines(const std::vector<std::string> &v)
{
    std::string out;
    for (size_t i = 0; i < v.size(); ++i)
        out += (i ? "\n" : "") + v[i];
    return out;
}

} // namespace

void AdaptOptions::validate() const
{
    if (model.empty())
        throw Error("--model", "required: a run folder, <run>/students/<cell> or a checkpoint");
    if (recordings.empty())
        throw Error("--data", "required: the recordings folder (<dir>/<word>/*.wav)");
    if (outDir.empty())
        throw Error("--out", "required: a new folder for the adapted student");
    if (!std::isfinite(budgetSec) || budgetSec < 5.0 || budgetSec > 86400.0)
        throw Error("--seconds", "must be between 5 and 86400");
    if (variantsPerTake < 0 || variantsPerTake > 1000)
        throw Error("adapt.variants", "must be between 0 (automatic) and 1000");
    if (rehearsalSpeakers < 2 || rehearsalSpeakers > 1000)
        throw Error("adapt.rehearsal_speakers", "must be between 2 and 1000");
    if (!std::isfinite(gainDb) || gainDb < 0.0 || gainDb > 40.0)
        throw Error("adapt.gain_db", "must be between 0 and 40 dB");
    if (!std::isfinite(lr) || lr <= 0.0 || lr > 1.0)
        throw Error("adapt.lr", "must be in (0, 1]");
    if (batchSize < 1 || maxEpochs < 1 || threads < 1)
        throw Error("adapt", "batch size, epochs and threads must be at least 1");
}

StudentAdaptation::StudentAdaptation(
    AdaptOptions options, TrainObserver *observer, const TrainControl *control)
    : m_options(std::move(options))
    , m_observer(observer)
    , m_control(control)
{ }

namespace {

// One adaptation into a folder it created; run() removes the folder if anything throws.
class AdaptationRun
{
public:
    AdaptationRun(const AdaptOptions &o, TrainObserver *observer, const TrainControl *control,
        Clock::time_point t0)
        : o(o)
        , m_control(control)
        , m_t0(t0)
        , m_log(o.outDir + "/events.jsonl")
        , m_events(&m_log)
    {
        if (observer)
            m_events.addForward(observer);
    }

    AdaptResult run()
    {
        stage("loading " + o.model);
        m_source = loadSource(o.model);
        const Progress progress = m_control
            ? m_control->progress(
                [this](const std::string &s, int64_t d, int64_t n) { dataProgress(s, d, n); })
            : Progress { [this](
                             const std::string &s, int64_t d, int64_t n) { dataProgress(s, d, n); },
                  nullptr };
        m_data = buildAdaptData(
            o, m_source.config, m_source.info.windowSec, m_source.classes, progress);
        AdaptResult r;
        r.sourceCheckpoint = m_source.info.cell.checkpoint;
        r.classes = m_data.classes;
        r.newWords = m_data.newWords;
        r.recordedTakes = m_data.takes;
        r.trainClips = m_data.train.size();
        r.validationClips = m_data.validation.size();
        const Scores before = evaluate(m_source.model, m_source.norm, m_data.validation);
        r.recordedBefore = before.recorded;
        r.rehearsalBefore = before.rehearsal;
        StudentModel model = growStudent(m_source, int64_t(m_data.classes.size()));
        r.epochs = train(model);
        const Scores after = evaluate(model, m_source.norm, m_data.validation);
        r.recordedAfter = after.recorded;
        r.rehearsalAfter = after.rehearsal;
        write(model, r);
        r.seconds = since(m_t0);
        m_log.append(Event::doneEvent("adapted in " + std::to_string(int(r.seconds)) + " s",
            { { "recorded_accuracy", r.recordedAfter },
                { "builtin_accuracy", r.rehearsalAfter } }));
        return r;
    }

private:
    void stage(const std::string &message, int64_t done = 0, int64_t total = 0)
    {
        m_events.onStage({ kStage, message, done, total, since(m_t0), -1.0, false });
    }
    void dataProgress(const std::string &what, int64_t done, int64_t total)
    {
        // The event log gets the start and end of each part, the observers every report.
        if (done == 0 || done == total)
            stage(what, done, total);
    }

    // Epochs while the budget lasts (at least one); the best epoch's weights are kept.
    int train(StudentModel &model)
    {
        const AdaptSplit &tr = m_data.train;
        torch::manual_seed(o.seed);
        torch::optim::Adam optimizer(model.parameters(), torch::optim::AdamOptions(o.lr));
        const Batcher batcher(tr.size(), o.batchSize, o.seed);
        double best = -1.0;
        Snapshot bestWeights;
        int64_t step = 0;
        int epochs = 0;
        const int64_t total = batcher.batchesPerEpoch() * o.maxEpochs;
        for (int epoch = 0; epoch < o.maxEpochs; ++epoch) {
            const auto epochStart = Clock::now();
            model.train();
            double lossSum = 0.0;
            const auto batches = batcher.batches(epoch);
            for (const torch::Tensor &idx : batches) {
                if (m_control && m_control->waitWhilePaused())
                    throw Cancelled();
                const StudentOutput out
                    = model.forward(m_source.norm.apply(Batcher::gather(tr.features, idx)));
                const torch::Tensor loss = torch::nn::functional::cross_entropy(
                    out.logits, Batcher::gather(tr.targets, idx));
                optimizer.zero_grad();
                loss.backward();
                optimizer.step();
                const double l = loss.item<double>();
                if (!std::isfinite(l))
                    throw Error(kStage,
                        "the loss became " + std::to_string(l) + " at step "
                            + std::to_string(step + 1) + "; try a lower learning rate");
                lossSum += l;
                ++step;
                m_events.onStep({ kStage, step, epoch + 1, l, 0.0, 0.0, l, o.lr });
                m_events.onStage({ kStage, "epoch " + std::to_string(epoch + 1), step, total,
                    since(m_t0), -1.0, false });
            }
            ++epochs;
            const Scores s = evaluate(model, m_source.norm, m_data.validation);
            const bool improved = s.mean() > best;
            if (improved) {
                best = s.mean();
                bestWeights = snapshot(model);
            }
            EpochReport er;
            er.stage = kStage;
            er.epoch = epoch + 1;
            er.step = step;
            const double mean = lossSum / double(std::max<size_t>(1, batches.size()));
            er.trainLosses = { { "task", mean }, { "total", mean } };
            er.validation = { { "accuracy", s.mean() }, { "recorded_accuracy", s.recorded },
                { "builtin_accuracy", s.rehearsal } };
            er.lr = o.lr;
            er.best = improved;
            m_events.onEpoch(er);
            const double epochSec = since(epochStart);
            if (since(m_t0) + epochSec + kWriteMarginSec > o.budgetSec)
                break;
        }
        torch::NoGradGuard noGrad;
        for (const auto &[live, copy] : bestWeights)
            live.copy_(copy);
        return epochs;
    }

    void write(const StudentModel &model, AdaptResult &r)
    {
        const LiveModelInfo &info = m_source.info;
        r.runDir = o.outDir;
        r.cellDir = o.outDir + "/students/" + info.cell.name;
        r.checkpoint = r.cellDir + "/best.safetensors";
        makeDirs(r.cellDir);
        Checkpoint ck;
        ck.epoch = r.epochs;
        ck.configHash = m_source.config.hash();
        ck.setModule(*model.module(), "model");
        if (m_source.branch)
            ck.setModule(*m_source.branch, "branch");
        ck.setText("student", m_source.name);
        ck.setInt("classes", int64_t(m_data.classes.size()));
        ck.setInt("features", model.featureDim());
        ck.setValue("lambda", std::max(0.0, info.cell.lambda));
        ck.setText("class_names", joinLines(m_data.classes));
        ck.setText("adapted_from", info.cell.checkpoint);
        ck.setText("recordings", o.recordings);
        if (m_source.norm.mean.defined()) {
            ck.setTensor("feature_mean", m_source.norm.mean.to(torch::kCPU));
            ck.setTensor("feature_std", m_source.norm.std.to(torch::kCPU));
        }
        ck.save(r.checkpoint);
        m_events.onCheckpoint(kStage, r.checkpoint, true);

        // The source's experiment (front end, clip length, teacher) and teacher come along, so
        // the Live view shows the teacher's attention for the adapted student too.
        writeFileAtomic(o.outDir + "/config.yaml", readFile(info.runDir + "/config.yaml"));
        if (!info.teacherCheckpoint.empty()) {
            const fs::path rel = fs::relative(info.teacherCheckpoint, info.runDir);
            makeDirs((fs::path(o.outDir) / rel).parent_path().string());
            writeFileAtomic((fs::path(o.outDir) / rel).string(), readFile(info.teacherCheckpoint));
        }
        Provenance p = Provenance::collect(m_source.config, o.commandLine);
        p.dataHash = m_data.recordingsHash;
        writeFileAtomic(o.outDir + "/provenance.json", p.toJson() + "\n");
        writeFileAtomic(o.outDir + "/adaptation.json", adaptationJson(r).dump(2) + "\n");
    }

    nlohmann::json adaptationJson(const AdaptResult &r) const
    {
        return { { "source_model", o.model }, { "source_checkpoint", r.sourceCheckpoint },
            { "recordings", fs::absolute(o.recordings).string() },
            { "recordings_hash", m_data.recordingsHash }, { "recorded_takes", r.recordedTakes },
            { "classes", r.classes }, { "new_words", r.newWords },
            { "settings",
                { { "budget_seconds", o.budgetSec },
                    { "variants_per_take", m_data.variantsPerTake },
                    { "rehearsal_speakers", o.rehearsalSpeakers }, { "gain_db", o.gainDb },
                    { "lr", o.lr }, { "batch_size", o.batchSize }, { "max_epochs", o.maxEpochs },
                    { "seed", o.seed } } },
            { "train_clips", r.trainClips }, { "validation_clips", r.validationClips },
            { "validation_from_training_takes", m_data.validationFromTrainingTakes },
            { "epochs", r.epochs },
            { "accuracy",
                { { "recorded_before", r.recordedBefore }, { "recorded_after", r.recordedAfter },
                    { "builtin_before", r.rehearsalBefore },
                    { "builtin_after", r.rehearsalAfter } } },
            { "seconds", since(m_t0) } };
    }

    const AdaptOptions &o;
    const TrainControl *m_control;
    Clock::time_point m_t0;
    EventLog m_log;
    EventLogObserver m_events;
    SourceStudent m_source;
    AdaptData m_data;
};

} // namespace

AdaptResult StudentAdaptation::run()
{
    const auto t0 = Clock::now();
    const AdaptOptions &o = m_options;
    o.validate();
    std::error_code ec;
    if (fs::exists(o.outDir, ec) && !(fs::is_directory(o.outDir, ec) && fs::is_empty(o.outDir, ec)))
        throw Error(o.outDir,
            "already exists and is not empty: choose a new folder for the "
            "adapted student (nothing is overwritten)");
    const bool created = !fs::exists(o.outDir, ec);
    fs::create_directories(o.outDir, ec);
    if (ec)
        throw Error(o.outDir, "cannot create the folder: " + ec.message());
    try {
        AdaptationRun run(o, m_observer, m_control, t0);
        return run.run();
    } catch (...) {
        // Nothing half-made stays behind to be mistaken for a student; an empty folder the user
        // made is left empty.
        if (created)
            fs::remove_all(o.outDir, ec);
        else
            for (const auto &e : fs::directory_iterator(o.outDir, ec))
                fs::remove_all(e.path(), ec);
        throw;
    }
}

} // namespace tkd
