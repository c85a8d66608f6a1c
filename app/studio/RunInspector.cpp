#include "RunInspector.h"

#include "core/audio/AudioFile.h"
#include "core/data/BuiltinCorpus.h"
#include "core/data/DatasetSource.h"
#include "core/data/FeatureCache.h"
#include "core/data/NoisyDataset.h"
#include "core/distill/AttentionRollout.h"
#include "core/distill/Localisation.h"
#include "core/distill/OracleAttention.h"
#include "core/features/FeatureExtractor.h"
#include "core/models/Wav2Vec2Model.h"
#include "core/train/ExperimentConfig.h"
#include "core/train/Pipeline.h"
#include "core/train/PreparedData.h"
#include "core/train/StudentTrainer.h"
#include "core/train/TeacherTrainer.h"
#include "core/util/Error.h"
#include "core/util/Progress.h"

#include <QDir>
#include <QFileInfo>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <set>

namespace tkd {

namespace fs = std::filesystem;

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string number(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

PipelineResult readResult(const std::string &dir)
{
    const std::string path = dir + "/metrics.json";
    std::ifstream in(path);
    if (!in)
        throw Error(path, "cannot be read (is this a run folder written by tkd train?)");
    nlohmann::json j;
    try {
        in >> j;
    } catch (const nlohmann::json::exception &e) {
        throw Error(path, std::string("is not valid JSON: ") + e.what());
    }
    PipelineResult r = PipelineResult::fromJson(j);
    r.runDir = dir; // the folder may have moved since it was written
    return r;
}

double mapValue(const std::map<std::string, double> &m, const std::string &key)
{
    const auto it = m.find(key);
    return it == m.end() ? kNaN : it->second;
}

bool usable(const CellResult &c)
{
    return c.status == "completed" || c.status == "early-stopped";
}

// Frame centres (seconds) of an attention row of `length` over a clip, with the proportional
// frame-to-time mapping of OracleAttention / Localisation (FrameTiming).
QVector<double> frameCentres(const FrameTiming &t, double clipSec, int64_t length)
{
    const double input = double(std::max<int64_t>(1, t.inputFrames(clipSec)));
    QVector<double> out(static_cast<int>(length), 0.0);
    for (int64_t g = 0; g < length; ++g)
        out[int(g)] = (double(g) + 0.5) * input / double(length) * t.hopSec + 0.5 * (t.windowSec - t.hopSec);
    return out;
}

QVector<double> toVector(const torch::Tensor &row)
{
    const torch::Tensor r = row.detach().to(torch::kCPU, torch::kDouble).contiguous().flatten();
    return QVector<double>(r.data_ptr<double>(), r.data_ptr<double>() + r.numel());
}
} // namespace

struct RunInspector::Impl
{
    std::string dir;
    ExperimentConfig config;
    PipelineResult result;
    std::unique_ptr<DatasetIndex> index;
    std::map<double, std::unique_ptr<NoisyDataset>> datasets;
    struct Student
    {
        StudentModel model;
        AttentionBranch branch{nullptr};
        FeatureNorm norm;
    };
    std::map<std::string, Student> students;        // by checkpoint path
    std::map<std::string, Wav2Vec2Model> teachers;   // by checkpoint path

    const LengthResult &length(double l) const
    {
        for (const auto &lr : result.lengths)
            if (std::abs(lr.lengthSec - l) < 1e-9)
                return lr;
        throw Error(dir + "/metrics.json", "has no results for L = " + number(l) + " s");
    }

    void openIndex(const Progress &p)
    {
        if (index)
            return;
        if (config.data.source == "builtin") {
            BuiltinCorpus corpus(config.corpusConfig(), config.data.path);
            corpus.ensure(p);
            index = std::make_unique<DatasetIndex>(config.data.task == 35 ? corpus.index35() : corpus.index12());
        } else {
            index = std::make_unique<DatasetIndex>(config.datasetSource().open(p));
        }
    }

    const NoisyDataset &dataset(double l, const Progress &p)
    {
        openIndex(p);
        auto &slot = datasets[l];
        if (!slot)
            slot = std::make_unique<NoisyDataset>(*index, config.noisyConfig(l));
        return *slot;
    }

    std::string studentPath(const CellResult &c) const
    {
        if (!c.checkpoint.empty() && fs::exists(c.checkpoint))
            return c.checkpoint;
        return dir + "/students/" + Pipeline::cellName(c.student, c.lengthSec, c.lambda, c.seed) + "/best.safetensors";
    }

    std::string teacherPath(const LengthResult &l) const
    {
        if (!l.teacherCheckpoint.empty() && fs::exists(l.teacherCheckpoint))
            return l.teacherCheckpoint;
        return dir + "/teacher-L" + number(l.lengthSec) + "/best.safetensors";
    }

    Student &student(const std::string &path)
    {
        auto it = students.find(path);
        if (it != students.end())
            return it->second;
        Student s;
        s.model = StudentTrainer::loadStudent(path, &s.branch, &s.norm);
        s.model.eval();
        return students[path] = std::move(s);
    }

    Wav2Vec2Model teacher(const std::string &path)
    {
        auto it = teachers.find(path);
        if (it != teachers.end())
            return it->second;
        Wav2Vec2Model m = TeacherTrainer::load(path);
        m->eval();
        teachers.emplace(path, m);
        return m;
    }

    FrameTiming studentTiming() const { return FrameTiming{config.features.windowMs / 1000.0, config.features.hopMs / 1000.0}; }

    FrameTiming teacherTiming(const Wav2Vec2Model &m) const
    {
        if (m->config.frontEnd() == Wav2Vec2Config::FrontEnd::Spectral) {
            const double w = config.features.windowMs / 1000.0, h = config.features.hopMs / 1000.0;
            const double k = double(m->config.spectralSubsampling());
            return FrameTiming{w + (k - 1.0) * h, k * h};
        }
        return FrameTiming{0.025, 0.020};
    }

    FeatureConfig logMel() const
    {
        FeatureConfig f = config.features;
        f.kind = FeatureConfig::Kind::LogMel;
        return f;
    }
};

RunInspector::RunInspector(const std::string &runDir) : d(std::make_unique<Impl>())
{
    d->dir = runDir;
    while (d->dir.size() > 1 && d->dir.back() == '/')
        d->dir.pop_back();
    d->config = ExperimentConfig::load(d->dir + "/config.yaml");
    d->result = readResult(d->dir);
}

RunInspector::~RunInspector() = default;

const std::string &RunInspector::runDir() const { return d->dir; }
const ExperimentConfig &RunInspector::config() const { return d->config; }
const PipelineResult &RunInspector::result() const { return d->result; }

std::vector<double> RunInspector::lengths() const
{
    std::vector<double> out;
    for (const auto &l : d->result.lengths)
        out.push_back(l.lengthSec);
    std::sort(out.begin(), out.end());
    return out;
}

bool RunInspector::isRunFolder(const QString &path)
{
    const QDir dir(path);
    return dir.exists(QStringLiteral("metrics.json")) && dir.exists(QStringLiteral("config.yaml"));
}

QVector<ResultEntry> RunInspector::resultEntries(const QString &folder, QString *title)
{
    QStringList runs;
    const QDir top(folder);
    if (isRunFolder(folder)) {
        runs << folder;
    } else if (top.exists(QStringLiteral("grid.json"))) {
        // A `tkd grid` table folder: the run folders it tabulated.
        std::ifstream in(top.filePath(QStringLiteral("grid.json")).toStdString());
        try {
            nlohmann::json j;
            in >> j;
            for (const auto &r : j.at("run_dirs")) {
                const QString dir = QString::fromStdString(r.get<std::string>());
                const QString path = QDir::cleanPath(QDir::isAbsolutePath(dir) ? dir : top.filePath(dir));
                if (isRunFolder(path) && !runs.contains(path))
                    runs << path;
            }
        } catch (const nlohmann::json::exception &e) {
            throw Error(top.filePath(QStringLiteral("grid.json")).toStdString(), std::string("is not a grid table: ") + e.what());
        }
    } else {
        const QDir dir(folder);
        for (const QString &sub : dir.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
            if (isRunFolder(dir.filePath(sub)))
                runs << dir.filePath(sub);
    }
    if (runs.isEmpty())
        throw Error(folder.toStdString(), "is neither a run folder (config.yaml + metrics.json) nor a folder of runs");
    QVector<ResultEntry> entries;
    std::set<std::string> teachers; // grid shards share one teacher: list it once
    for (const QString &run : runs) {
        const PipelineResult r = readResult(run.toStdString());
        for (const auto &l : r.lengths) {
            if (teachers.insert(l.teacherKind + "|" + number(l.lengthSec) + "|" + l.teacherHash).second) {
                ResultEntry t;
                t.model = QStringLiteral("teacher");
                t.teacherKind = QString::fromStdString(l.teacherKind);
                t.lengthSec = l.lengthSec;
                t.status = QStringLiteral("completed");
                t.runDir = run;
                for (const auto &[k, v] : l.teacherTest)
                    t.test[QString::fromStdString(k)] = v;
                // The teacher's rollout localisation is the reference for both student attentions.
                t.test[QStringLiteral("localisation_branch")] = mapValue(l.teacherTest, "localisation");
                t.test[QStringLiteral("localisation_native")] = mapValue(l.teacherTest, "localisation");
                entries << t;
            }
            for (const auto &c : l.cells) {
                ResultEntry e;
                e.model = QString::fromStdString(c.student);
                e.lambda = c.lambda;
                e.lengthSec = c.lengthSec;
                e.seed = c.seed;
                e.status = QString::fromStdString(c.status);
                e.runDir = run;
                e.cellName = QString::fromStdString(Pipeline::cellName(c.student, c.lengthSec, c.lambda, c.seed));
                if (usable(c))
                    for (const auto &[k, v] : c.test)
                        e.test[QString::fromStdString(k)] = v;
                entries << e;
            }
        }
    }
    if (title)
        *title = runs.size() == 1 ? QFileInfo(runs.first()).fileName()
                                  : QObject::tr("%1 (%2 runs)").arg(QFileInfo(folder).fileName()).arg(runs.size());
    return entries;
}

QVector<ClipRow> RunInspector::clips(double lengthSec, const Progress &progress, QString *note)
{
    const LengthResult &lr = d->length(lengthSec);
    const NoisyDataset &data = d->dataset(lengthSec, progress);
    const DatasetIndex &index = data.index();
    const double clipSec = double(data.lengthSamples()) / double(kSampleRate);
    const std::string scoreKey = index.multiLabel ? "map" : "accuracy";

    // The student whose predictions the table shows: the best test score of this length.
    const CellResult *best = nullptr;
    for (const auto &c : lr.cells)
        if (usable(c) && std::isfinite(mapValue(c.test, scoreKey))
            && (!best || mapValue(c.test, scoreKey) > mapValue(best->test, scoreKey)))
            best = &c;
    Impl::Student *student = best ? &d->student(d->studentPath(*best)) : nullptr;
    Wav2Vec2Model teacher{nullptr};
    if (lr.teacherKind != "oracle" && fs::exists(d->teacherPath(lr))) {
        teacher = d->teacher(d->teacherPath(lr));
        if (teacher->config.frontEnd() != Wav2Vec2Config::FrontEnd::Spectral)
            teacher = Wav2Vec2Model{nullptr}; // raw-waveform teachers would need every clip's audio
    }
    if (note)
        *note = best ? QObject::tr("predictions: %1 λ=%2 seed %3")
                           .arg(QString::fromStdString(best->student))
                           .arg(best->lambda)
                           .arg(best->seed)
                     : QObject::tr("no trained student at L = %1 s").arg(lengthSec);

    torch::NoGradGuard noGrad;
    const PreparedData prepared(data, {}, 2);
    const FeatureCache cache;
    const FeatureExtractor studentFx(d->config.features);
    const FeatureExtractor teacherFx(d->logMel());
    QVector<ClipRow> rows;
    for (Split split : {Split::Train, Split::Validation, Split::Test}) {
        const std::vector<const ClipRef *> sources = index.clipsIn(split);
        SplitItems items;
        torch::Tensor studentProbs, teacherProbs;
        // Held-out clips only: the training split is the largest, and what a model says about the
        // clips it was fitted to is not what one inspects.
        const bool predict = split != Split::Train;
        if (student && predict) {
            const PreparedSplit ps = prepared.split(split, studentFx, cache, progress);
            items.targets = ps.targets;
            items.windows = ps.windows;
            std::vector<torch::Tensor> parts;
            for (int64_t s = 0; s < ps.size(); s += 256) {
                const int64_t n = std::min<int64_t>(256, ps.size() - s);
                if (progress.cancelled())
                    throw Cancelled();
                parts.push_back(torch::softmax(student->model.forward(student->norm.apply(ps.features.narrow(0, s, n))).logits, 1));
                progress.report(std::string("student predictions (") + splitName(split) + ")", s + n, ps.size());
            }
            if (!parts.empty())
                studentProbs = torch::cat(parts, 0);
        } else {
            items = prepared.items(split, progress);
        }
        if (teacher && predict) {
            const PreparedSplit ts = prepared.split(split, teacherFx, cache, progress);
            std::vector<torch::Tensor> parts;
            for (int64_t s = 0; s < ts.size(); s += 32) {
                if (progress.cancelled())
                    throw Cancelled();
                const int64_t n = std::min<int64_t>(32, ts.size() - s);
                parts.push_back(torch::softmax(teacher->forward(ts.features.narrow(0, s, n)).logits, 1));
                progress.report(std::string("teacher predictions (") + splitName(split) + ")", s + n, ts.size());
            }
            if (!parts.empty())
                teacherProbs = torch::cat(parts, 0);
        }
        const int64_t n = int64_t(data.size(split));
        for (int64_t i = 0; i < n; ++i) {
            ClipRow r;
            r.split = QString::fromLatin1(splitName(split));
            r.path = QStringLiteral("%1 #%2").arg(r.split).arg(i);
            if (size_t(i) < sources.size()) {
                r.word = QString::fromStdString(sources[size_t(i)]->word);
                r.speaker = QString::fromStdString(sources[size_t(i)]->speaker);
            }
            QStringList labels;
            if (items.targets.dim() == 1) {
                labels << QString::fromStdString(index.classes[size_t(items.targets[i].item<int64_t>())]);
            } else {
                const torch::Tensor t = items.targets[i];
                for (int64_t c = 0; c < t.size(0); ++c)
                    if (t[c].item<float>() > 0.5f)
                        labels << QString::fromStdString(index.classes[size_t(c)]);
            }
            r.label = labels.join(QLatin1Char(','));
            r.durationSec = clipSec;
            if (size_t(i) < items.windows.size() && items.windows[size_t(i)].present()) {
                r.onsetSec = items.windows[size_t(i)].onsetSec;
                r.offsetSec = items.windows[size_t(i)].offsetSec;
            }
            if (studentProbs.defined()) {
                const auto [p, c] = studentProbs[i].max(0);
                r.prediction = QString::fromStdString(index.classes[size_t(c.item<int64_t>())]);
                r.studentConfidence = p.item<double>();
            }
            if (teacherProbs.defined()) {
                // The teacher's confidence in its own prediction.
                r.teacherConfidence = teacherProbs[i].max().item<double>();
            }
            r.runItem = int(i);
            r.runLengthSec = lengthSec;
            rows << r;
        }
    }
    return rows;
}

void RunInspector::analyse(double lengthSec, int splitIndex, int index, ClipAudio *audio, AttentionFigure *figure,
                           quint64 seed)
{
    const Split split = Split(splitIndex);
    const LengthResult &lr = d->length(lengthSec);
    const NoisyDataset &data = d->dataset(lengthSec, {});
    const NoisyItem item = data.item(split, size_t(index));
    const DatasetIndex &dindex = data.index();
    const double clipSec = double(item.samples.size()) / double(kSampleRate);
    const KeywordWindow window{item.keywordOnsetSec, item.keywordOffsetSec};
    torch::NoGradGuard noGrad;

    QStringList labels;
    for (int l : item.labels)
        labels << QString::fromStdString(dindex.classes[size_t(l)]);
    const QString title = QStringLiteral("%1 #%2 · %3 (%4, %5 noise, SNR %6 dB)")
                              .arg(QString::fromLatin1(splitName(split)))
                              .arg(index)
                              .arg(QString::fromStdString(item.word), QString::fromStdString(item.speaker),
                                   QString::fromLatin1(noiseKindName(item.noiseKind)))
                              .arg(item.snrDb, 0, 'f', 1);

    const FeatureConfig melConfig = d->logMel();
    const torch::Tensor mel = FeatureExtractor(melConfig).compute(item.samples).contiguous();
    const torch::Tensor feats = FeatureExtractor(d->config.features).compute(item.samples).unsqueeze(0);

    if (audio) {
        *audio = ClipAudio();
        audio->title = title;
        audio->samples = QVector<float>(item.samples.begin(), item.samples.end());
        audio->sampleRate = kSampleRate;
        audio->frames = int(mel.size(0));
        audio->bins = int(mel.size(1));
        audio->spectrogram = QVector<float>(mel.data_ptr<float>(), mel.data_ptr<float>() + mel.numel());
        audio->hopSec = melConfig.hopMs / 1000.0;
        audio->windowSec = melConfig.windowMs / 1000.0;
        audio->onsetSec = item.keywordOnsetSec;
        audio->offsetSec = item.keywordOffsetSec;
    }
    if (!figure)
        return;

    AttentionFigure &f = *figure;
    f = AttentionFigure();
    f.title = title;
    f.trueLabel = labels.join(QLatin1Char(','));
    f.clipSec = clipSec;
    f.frames = int(mel.size(0));
    f.bins = int(mel.size(1));
    f.spectrogram = QVector<float>(mel.data_ptr<float>(), mel.data_ptr<float>() + mel.numel());
    f.hopSec = melConfig.hopMs / 1000.0;
    f.windowSec = melConfig.windowMs / 1000.0;
    f.onsetSec = item.keywordOnsetSec;
    f.offsetSec = item.keywordOffsetSec;
    f.baseline = window.present() ? Localisation::uniformBaseline(window, clipSec) : kNaN;
    auto scoreOf = [&](const FrameTiming &timing, const torch::Tensor &row) {
        if (!window.present())
            return kNaN;
        return Localisation(timing).score(row.to(torch::kCPU, torch::kFloat).reshape({1, -1}), {window}, clipSec).perClip.at(0);
    };
    auto className = [&](const torch::Tensor &logits, double *confidence) {
        const torch::Tensor p = torch::softmax(logits.reshape({-1}).to(torch::kFloat), 0);
        const auto [prob, cls] = p.max(0);
        *confidence = prob.item<double>();
        return QString::fromStdString(dindex.classes[size_t(cls.item<int64_t>())]);
    };

    // The teacher: the oracle's window, or the rollout of its attention maps.
    AttentionSeries t;
    t.model = QStringLiteral("teacher");
    t.teacherKind = QString::fromStdString(lr.teacherKind);
    if (lr.teacherKind == "oracle") {
        const FrameTiming timing = d->studentTiming();
        const int64_t frames = timing.inputFrames(clipSec);
        const torch::Tensor row = OracleAttention(timing).batch({window}, clipSec, frames)[0];
        t.kind = QStringLiteral("oracle");
        t.weights = toVector(row);
        t.timesSec = frameCentres(timing, clipSec, frames);
        t.score = scoreOf(timing, row);
    } else {
        Wav2Vec2Model teacher = d->teacher(d->teacherPath(lr));
        torch::Tensor input;
        if (teacher->config.frontEnd() == Wav2Vec2Config::FrontEnd::Spectral)
            input = mel.unsqueeze(0);
        else
            input = torch::from_blob(const_cast<float *>(item.samples.data()), {1, int64_t(item.samples.size())},
                                     torch::kFloat)
                        .clone();
        const Wav2Vec2Output out = teacher->forward(input);
        const AttentionRollout rollout(d->config.rolloutOptions());
        const torch::Tensor row = rollout.rolloutRow(out.attentions)[0];
        const FrameTiming timing = d->teacherTiming(teacher);
        t.kind = QStringLiteral("rollout");
        t.weights = toVector(row);
        t.timesSec = frameCentres(timing, clipSec, row.size(0));
        t.score = scoreOf(timing, row);
        if (out.logits.defined())
            t.prediction = className(out.logits[0], &t.confidence);
        // Per layer and head: the attention of the rollout's query row.
        const int64_t frames = row.size(0);
        int64_t q = d->config.rolloutOptions().queryRow;
        if (q < 0)
            q += frames;
        f.layers = int(out.attentions.size());
        f.heads = f.layers ? int(out.attentions.front().size(1)) : 0;
        f.teacherTimesSec = t.timesSec;
        for (const torch::Tensor &a : out.attentions) {
            const torch::Tensor rows = a[0].select(1, q).to(torch::kCPU, torch::kFloat).contiguous(); // [H, T]
            f.layerRows += QVector<float>(rows.data_ptr<float>(), rows.data_ptr<float>() + rows.numel());
        }
    }
    f.series << t;

    // The students of this length trained with the chosen seed, in the grid's order.
    if (seed == 0)
        seed = d->config.studentSeeds().empty() ? 1 : d->config.studentSeeds().front();
    const FrameTiming timing = d->studentTiming();
    for (const auto &c : lr.cells) {
        if (!usable(c) || c.seed != seed)
            continue;
        const std::string path = d->studentPath(c);
        if (!fs::exists(path))
            continue;
        Impl::Student &s = d->student(path);
        const StudentOutput out = s.model.forward(s.norm.apply(feats));
        double confidence = -1.0;
        const QString prediction = className(out.logits[0], &confidence);
        auto add = [&](const QString &kind, const torch::Tensor &row) {
            AttentionSeries a;
            a.model = QString::fromStdString(c.student);
            a.kind = kind;
            a.lambda = c.lambda;
            a.seed = c.seed;
            a.weights = toVector(row);
            a.timesSec = frameCentres(timing, clipSec, row.size(0));
            a.score = scoreOf(timing, row);
            a.prediction = prediction;
            a.confidence = confidence;
            f.series << a;
        };
        if (s.branch)
            add(QStringLiteral("branch"), s.branch->forward(out.context)[0]);
        if (out.nativeAttention.defined())
            add(QStringLiteral("native"), out.nativeAttention.mean(1)[0]);
        if (!s.branch && !out.nativeAttention.defined()) {
            // A vanilla student without attention of its own: no curve, but keep its prediction
            // visible in the score list.
            AttentionSeries a;
            a.model = QString::fromStdString(c.student);
            a.kind = QStringLiteral("none");
            a.lambda = c.lambda;
            a.seed = c.seed;
            a.prediction = prediction;
            a.confidence = confidence;
            f.series << a;
        }
    }
}

} // namespace tkd
