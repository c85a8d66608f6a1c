#include "core/infer/ClipAnalysis.h"

#include "core/audio/AudioFile.h"
#include "core/checkpoint/TrainedModels.h"
#include "core/data/DatasetSource.h"
#include "core/data/FeatureCache.h"
#include "core/data/NoisyDataset.h"
#include "core/data/PreparedData.h"
#include "core/distill/AttentionRollout.h"
#include "core/distill/Localisation.h"
#include "core/distill/OracleAttention.h"
#include "core/features/FeatureExtractor.h"
#include "core/util/Error.h"
#include "core/util/Format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <limits>
#include <map>

namespace tkd {

namespace fs = std::filesystem;

namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Frame centres (seconds) of an attention row of `length` over a clip, with the proportional
// frame-to-time mapping of OracleAttention / Localisation (FrameTiming).
std::vector<double> frameCentres(const FrameTiming &t, double clipSec, int64_t length)
{
    const double input = double(std::max<int64_t>(1, t.inputFrames(clipSec)));
    std::vector<double> out(size_t(length), 0.0);
    for (int64_t g = 0; g < length; ++g)
        out[size_t(g)] = (double(g) + 0.5) * input / double(length) * t.hopSec
            + 0.5 * (t.windowSec - t.hopSec);
    return out;
}

std::vector<double> toVector(const torch::Tensor &row)
{
    const torch::Tensor r = row.detach().to(torch::kCPU, torch::kDouble).contiguous().flatten();
    return std::vector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
}

// Sets r.spectrogram to the log-mel spectrogram of r.samples and returns it as [frames, bins].
torch::Tensor spectrogram(ClipAnalysisResult &r, const FeatureConfig &melConfig)
{
    const torch::Tensor mel = FeatureExtractor(melConfig).compute(r.samples).contiguous();
    r.spectrogram.values.assign(mel.data_ptr<float>(), mel.data_ptr<float>() + mel.numel());
    r.spectrogram.frames = mel.size(0);
    r.spectrogram.bins = mel.size(1);
    r.spectrogram.hopSec = melConfig.hopMs / 1000.0;
    r.spectrogram.windowSec = melConfig.windowMs / 1000.0;
    return mel;
}

std::string title(const NoisyItem &item, Split split, int64_t index)
{
    char snr[32];
    std::snprintf(snr, sizeof snr, "%.1f", item.snrDb);
    return std::string(splitName(split)) + " #" + std::to_string(index) + " \u00b7 " + item.word
        + " (" + item.speaker + ", " + noiseKindName(item.noiseKind) + " noise, SNR " + snr
        + " dB)";
}

} // namespace

struct ClipAnalysis::Impl
{
    std::string dir;
    ExperimentConfig config;
    PipelineResult result;
    std::unique_ptr<DatasetIndex> index;
    std::map<double, std::unique_ptr<NoisyDataset>> datasets;
    struct Student
    {
        StudentModel model;
        AttentionBranch branch { nullptr };
        FeatureNorm norm;
    };
    std::map<std::string, Student> students; // by checkpoint path
    std::map<std::string, Wav2Vec2Model> teachers; // by checkpoint path

    const LengthResult &length(double l) const
    {
        for (const auto &lr : result.lengths)
            if (std::abs(lr.lengthSec - l) < 1e-9)
                return lr;
        throw Error(dir + "/metrics.json", "has no results for L = " + formatNumber(l) + " s");
    }

    const NoisyDataset &dataset(double l, const Progress &p)
    {
        if (!index)
            index = std::make_unique<DatasetIndex>(config.datasetSource().open(p));
        auto &slot = datasets[l];
        if (!slot)
            slot = std::make_unique<NoisyDataset>(*index, config.noisyConfig(l));
        return *slot;
    }

    std::string studentPath(const CellResult &c) const
    {
        if (!c.checkpoint.empty() && fs::exists(c.checkpoint))
            return c.checkpoint;
        return dir + "/students/"
            + PipelineResult::cellName(c.student, c.lengthSec, c.lambda, c.seed)
            + "/best.safetensors";
    }

    std::string teacherPath(const LengthResult &l) const
    {
        if (!l.teacherCheckpoint.empty() && fs::exists(l.teacherCheckpoint))
            return l.teacherCheckpoint;
        return dir + "/teacher-L" + formatNumber(l.lengthSec) + "/best.safetensors";
    }

    Student &student(const std::string &path)
    {
        auto it = students.find(path);
        if (it != students.end())
            return it->second;
        Student s;
        s.model = TrainedModels::loadStudent(path, &s.branch, &s.norm);
        s.model.eval();
        return students[path] = std::move(s);
    }

    Wav2Vec2Model teacher(const std::string &path)
    {
        auto it = teachers.find(path);
        if (it != teachers.end())
            return it->second;
        Wav2Vec2Model m = TrainedModels::loadTeacher(path);
        teachers.emplace(path, m);
        return m;
    }

    FrameTiming studentTiming() const
    {
        return FrameTiming { config.features.windowMs / 1000.0, config.features.hopMs / 1000.0 };
    }

    FrameTiming teacherTiming(const Wav2Vec2Model &m) const
    {
        const double w = config.features.windowMs / 1000.0, h = config.features.hopMs / 1000.0;
        return FrameTiming { m->config.frameWindowSec(w, h), m->config.frameHopSec(h) };
    }

    FeatureConfig logMel() const
    {
        FeatureConfig f = config.features;
        f.kind = FeatureConfig::Kind::LogMel;
        return f;
    }

    std::string className(const torch::Tensor &logits, double *confidence) const
    {
        const torch::Tensor p = torch::softmax(logits.reshape({ -1 }).to(torch::kFloat), 0);
        const auto [prob, cls] = p.max(0);
        *confidence = prob.item<double>();
        return index->classes[size_t(cls.item<int64_t>())];
    }

    void addTeacher(ClipAnalysisResult &r, const LengthResult &lr, const NoisyItem &item,
        const torch::Tensor &mel);
    void addStudents(
        ClipAnalysisResult &r, const LengthResult &lr, const torch::Tensor &feats, uint64_t seed);
    torch::Tensor probabilities(const PreparedSplit &split, int64_t batch, const Progress &progress,
        const std::string &what, const std::function<torch::Tensor(const torch::Tensor &)> &logits);
};

ClipAnalysis::ClipAnalysis(const std::string &runDir)
    : d(std::make_unique<Impl>())
{
    d->dir = runDir;
    while (d->dir.size() > 1 && d->dir.back() == '/')
        d->dir.pop_back();
    d->config = ExperimentConfig::load(d->dir + "/config.yaml");
    d->result = PipelineResult::read(d->dir);
}

ClipAnalysis::~ClipAnalysis() = default;

const std::string &ClipAnalysis::runDir() const
{
    return d->dir;
}
const ExperimentConfig &ClipAnalysis::config() const
{
    return d->config;
}
const PipelineResult &ClipAnalysis::result() const
{
    return d->result;
}

std::vector<double> ClipAnalysis::lengths() const
{
    std::vector<double> out;
    for (const auto &l : d->result.lengths)
        out.push_back(l.lengthSec);
    std::sort(out.begin(), out.end());
    return out;
}

ClipAnalysisResult ClipAnalysis::analyse(
    double lengthSec, Split split, int64_t index, uint64_t seed, bool withModels)
{
    const LengthResult &lr = d->length(lengthSec);
    const NoisyDataset &data = d->dataset(lengthSec, {});
    if (index < 0 || size_t(index) >= data.size(split))
        throw Error("clip",
            std::to_string(index) + " is not a clip of the " + splitName(split) + " split (it has "
                + std::to_string(data.size(split)) + ")");
    const NoisyItem item = data.item(split, size_t(index));
    torch::NoGradGuard noGrad;

    ClipAnalysisResult r;
    r.lengthSec = lengthSec;
    r.split = split;
    r.index = index;
    r.title = title(item, split, index);
    for (int l : item.labels)
        r.labels.push_back(data.index().classes[size_t(l)]);
    r.word = item.word;
    r.speaker = item.speaker;
    r.noise = noiseKindName(item.noiseKind);
    r.snrDb = item.snrDb;
    r.samples = item.samples;
    r.sampleRate = kSampleRate;
    r.clipSec = double(item.samples.size()) / double(kSampleRate);
    r.onsetSec = item.keywordOnsetSec;
    r.offsetSec = item.keywordOffsetSec;

    const torch::Tensor mel = spectrogram(r, d->logMel());
    const KeywordWindow window { item.keywordOnsetSec, item.keywordOffsetSec };
    r.baseline = window.present() ? Localisation::uniformBaseline(window, r.clipSec) : kNaN;
    if (!withModels)
        return r;

    d->addTeacher(r, lr, item, mel);
    if (seed == 0)
        seed = d->config.studentSeeds().empty() ? 1 : d->config.studentSeeds().front();
    const torch::Tensor feats
        = FeatureExtractor(d->config.features).compute(item.samples).unsqueeze(0);
    d->addStudents(r, lr, feats, seed);
    return r;
}

ClipAnalysisResult ClipAnalysis::audioFile(
    const std::string &path, double startSec, double segmentSec)
{
    ClipAnalysisResult r;
    r.samples = loadAudio(path);
    if (segmentSec > 0) {
        // A segment of a longer recording (e.g. a silence clip cut from background noise).
        const size_t begin
            = std::min(r.samples.size(), size_t(std::llround(startSec * kSampleRate)));
        const size_t end
            = std::min(r.samples.size(), begin + size_t(std::llround(segmentSec * kSampleRate)));
        r.samples
            = std::vector<float>(r.samples.begin() + long(begin), r.samples.begin() + long(end));
    }
    r.sampleRate = kSampleRate;
    r.clipSec = double(r.samples.size()) / double(kSampleRate);
    FeatureConfig mel;
    mel.kind = FeatureConfig::Kind::LogMel;
    spectrogram(r, mel);
    return r;
}

namespace {

double localisation(
    const FrameTiming &timing, const torch::Tensor &row, const ClipAnalysisResult &r)
{
    const KeywordWindow window { r.onsetSec, r.offsetSec };
    if (!window.present())
        return kNaN;
    return Localisation(timing)
        .score(row.to(torch::kCPU, torch::kFloat).reshape({ 1, -1 }), { window }, r.clipSec)
        .perClip.at(0);
}

} // namespace

// The teacher: the oracle's window, or the rollout of its attention maps (and, per layer and
// head, the attention of the rollout's query row).
void ClipAnalysis::Impl::addTeacher(
    ClipAnalysisResult &r, const LengthResult &lr, const NoisyItem &item, const torch::Tensor &mel)
{
    ClipAttentionCurve t;
    t.model = "teacher";
    t.teacherKind = lr.teacherKind;
    if (teacherKindFromName(lr.teacherKind) == TeacherKind::Oracle) {
        const FrameTiming timing = studentTiming();
        const int64_t frames = timing.inputFrames(r.clipSec);
        const torch::Tensor row = OracleAttention(timing).batch(
            { KeywordWindow { r.onsetSec, r.offsetSec } }, r.clipSec, frames)[0];
        t.kind = "oracle";
        t.weights = toVector(row);
        t.timesSec = frameCentres(timing, r.clipSec, frames);
        t.score = localisation(timing, row, r);
        r.curves.push_back(t);
        return;
    }
    Wav2Vec2Model model = teacher(teacherPath(lr));
    const torch::Tensor input = model->config.frontEnd() == Wav2Vec2Config::FrontEnd::Spectral
        ? mel.unsqueeze(0)
        : torch::from_blob(const_cast<float *>(item.samples.data()),
            { 1, int64_t(item.samples.size()) }, torch::kFloat)
              .clone();
    const Wav2Vec2Output out = model->forward(input);
    const RolloutOptions rolloutOptions = config.rolloutOptions();
    const torch::Tensor row = AttentionRollout(rolloutOptions).rolloutRow(out.attentions)[0];
    const FrameTiming timing = teacherTiming(model);
    t.kind = "rollout";
    t.weights = toVector(row);
    t.timesSec = frameCentres(timing, r.clipSec, row.size(0));
    t.score = localisation(timing, row, r);
    if (out.logits.defined())
        t.prediction = className(out.logits[0], &t.confidence);
    const int64_t frames = row.size(0);
    int64_t q = rolloutOptions.queryRow;
    if (q < 0)
        q += frames;
    r.layers = int64_t(out.attentions.size());
    r.heads = r.layers ? out.attentions.front().size(1) : 0;
    r.teacherTimesSec = t.timesSec;
    for (const torch::Tensor &a : out.attentions) {
        const torch::Tensor rows
            = a[0].select(1, q).to(torch::kCPU, torch::kFloat).contiguous(); // [H, T]
        r.layerRows.insert(
            r.layerRows.end(), rows.data_ptr<float>(), rows.data_ptr<float>() + rows.numel());
    }
    r.curves.push_back(t);
}

// The students of this length trained with `seed`, in the grid's order: branch a_S where it has
// one, native attention where the architecture has it, a prediction-only entry otherwise.
void ClipAnalysis::Impl::addStudents(
    ClipAnalysisResult &r, const LengthResult &lr, const torch::Tensor &feats, uint64_t seed)
{
    const FrameTiming timing = studentTiming();
    for (const auto &c : lr.cells) {
        if (!c.usable() || c.seed != seed)
            continue;
        const std::string path = studentPath(c);
        if (!fs::exists(path))
            continue;
        Student &s = student(path);
        const StudentOutput out = s.model.forward(s.norm.apply(feats));
        ClipAttentionCurve base;
        base.model = c.student;
        base.lambda = c.lambda;
        base.seed = c.seed;
        base.prediction = className(out.logits[0], &base.confidence);
        auto add = [&](const std::string &kind, const torch::Tensor &row) {
            ClipAttentionCurve a = base;
            a.kind = kind;
            a.weights = toVector(row);
            a.timesSec = frameCentres(timing, r.clipSec, row.size(0));
            a.score = localisation(timing, row, r);
            r.curves.push_back(a);
        };
        if (s.branch)
            add("branch", s.branch->forward(out.context)[0]);
        if (out.nativeAttention.defined())
            add("native", out.nativeAttention.mean(1)[0]);
        if (!s.branch && !out.nativeAttention.defined()) {
            base.kind = "none"; // no curve, but its prediction stays visible
            r.curves.push_back(base);
        }
    }
}

torch::Tensor ClipAnalysis::Impl::probabilities(const PreparedSplit &split, int64_t batch,
    const Progress &progress, const std::string &what,
    const std::function<torch::Tensor(const torch::Tensor &)> &logits)
{
    std::vector<torch::Tensor> parts;
    for (int64_t s = 0; s < split.size(); s += batch) {
        if (progress.cancelled())
            throw Cancelled();
        const int64_t n = std::min<int64_t>(batch, split.size() - s);
        parts.push_back(torch::softmax(logits(split.features.narrow(0, s, n)), 1));
        progress.report(
            what + " predictions (" + splitName(split.split) + ")", s + n, split.size());
    }
    return parts.empty() ? torch::Tensor() : torch::cat(parts, 0);
}

std::vector<ClipPrediction> ClipAnalysis::predictions(
    double lengthSec, const Progress &progress, std::string *note)
{
    const LengthResult &lr = d->length(lengthSec);
    const NoisyDataset &data = d->dataset(lengthSec, progress);
    const DatasetIndex &index = data.index();
    const double clipSec = double(data.lengthSamples()) / double(kSampleRate);
    const std::string scoreKey = index.multiLabel ? "map" : "accuracy";

    // The student whose predictions the table shows: the best test score of this length.
    const CellResult *best = nullptr;
    for (const auto &c : lr.cells)
        if (c.usable() && std::isfinite(PipelineResult::metric(c.test, scoreKey))
            && (!best
                || PipelineResult::metric(c.test, scoreKey)
                    > PipelineResult::metric(best->test, scoreKey)))
            best = &c;
    Impl::Student *student = best ? &d->student(d->studentPath(*best)) : nullptr;
    Wav2Vec2Model teacher { nullptr };
    if (teacherKindFromName(lr.teacherKind) != TeacherKind::Oracle
        && fs::exists(d->teacherPath(lr))) {
        teacher = d->teacher(d->teacherPath(lr));
        if (teacher->config.frontEnd() != Wav2Vec2Config::FrontEnd::Spectral)
            teacher
                = Wav2Vec2Model { nullptr }; // raw-waveform teachers would need every clip's audio
    }
    if (note)
        *note = best ? "predictions: " + best->student + " \u03bb=" + formatNumber(best->lambda)
                + " seed " + std::to_string(best->seed)
                     : "no trained student at L = " + formatNumber(lengthSec) + " s";

    torch::NoGradGuard noGrad;
    const PreparedData prepared(data, {}, 2);
    const FeatureCache cache;
    const FeatureExtractor studentFx(d->config.features);
    const FeatureExtractor teacherFx(d->logMel());
    std::vector<ClipPrediction> rows;
    for (Split split : { Split::Train, Split::Validation, Split::Test }) {
        const std::vector<const ClipRef *> sources = index.clipsIn(split);
        SplitItems items;
        torch::Tensor studentProbs, teacherProbs;
        // Held-out clips only: what a model says about the clips it was fitted to is not what
        // one inspects (and the training split is the largest).
        const bool predict = split != Split::Train;
        if (student && predict) {
            const PreparedSplit ps = prepared.split(split, studentFx, cache, progress);
            items.targets = ps.targets;
            items.windows = ps.windows;
            studentProbs
                = d->probabilities(ps, 256, progress, "student", [&](const torch::Tensor &x) {
                      return student->model.forward(student->norm.apply(x)).logits;
                  });
        } else {
            items = prepared.items(split, progress);
        }
        if (teacher && predict) {
            const PreparedSplit ts = prepared.split(split, teacherFx, cache, progress);
            teacherProbs = d->probabilities(ts, 32, progress, "teacher",
                [&](const torch::Tensor &x) { return teacher->forward(x).logits; });
        }
        const int64_t n = int64_t(data.size(split));
        for (int64_t i = 0; i < n; ++i) {
            ClipPrediction r;
            r.split = split;
            r.index = i;
            if (size_t(i) < sources.size()) {
                r.word = sources[size_t(i)]->word;
                r.speaker = sources[size_t(i)]->speaker;
            }
            if (items.targets.dim() == 1) {
                r.labels.push_back(index.classes[size_t(items.targets[i].item<int64_t>())]);
            } else {
                const torch::Tensor t = items.targets[i];
                for (int64_t c = 0; c < t.size(0); ++c)
                    if (t[c].item<float>() > 0.5f)
                        r.labels.push_back(index.classes[size_t(c)]);
            }
            r.clipSec = clipSec;
            if (size_t(i) < items.windows.size() && items.windows[size_t(i)].present()) {
                r.onsetSec = items.windows[size_t(i)].onsetSec;
                r.offsetSec = items.windows[size_t(i)].offsetSec;
            }
            if (studentProbs.defined()) {
                const auto [p, c] = studentProbs[i].max(0);
                r.prediction = index.classes[size_t(c.item<int64_t>())];
                r.studentConfidence = p.item<double>();
            }
            if (teacherProbs.defined())
                r.teacherConfidence = teacherProbs[i].max().item<double>(); // in its own prediction
            rows.push_back(std::move(r));
        }
    }
    return rows;
}

nlohmann::json ClipAnalysisResult::toJson() const
{
    auto finite
        = [](double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr); };
    nlohmann::json j = { { "length_sec", lengthSec }, { "split", splitName(split) },
        { "index", index }, { "title", title }, { "labels", labels }, { "word", word },
        { "speaker", speaker }, { "noise", noise }, { "snr_db", snrDb }, { "clip_sec", clipSec },
        { "keyword",
            onsetSec >= 0 ? nlohmann::json { onsetSec, offsetSec } : nlohmann::json(nullptr) },
        { "uniform_baseline", finite(baseline) },
        { "spectrogram", { { "frames", spectrogram.frames }, { "bins", spectrogram.bins } } },
        { "teacher_layers", layers }, { "teacher_heads", heads } };
    j["curves"] = nlohmann::json::array();
    for (const ClipAttentionCurve &c : curves) {
        nlohmann::json cj
            = { { "model", c.model }, { "kind", c.kind }, { "localisation", finite(c.score) },
                  { "weights", c.weights }, { "times_sec", c.timesSec } };
        if (c.model == "teacher")
            cj["teacher_kind"] = c.teacherKind;
        else
            cj.update({ { "lambda", c.lambda }, { "seed", c.seed } });
        if (!c.prediction.empty())
            cj.update({ { "prediction", c.prediction }, { "confidence", c.confidence } });
        j["curves"].push_back(cj);
    }
    return j;
}

} // namespace tkd
