#include "core/infer/DatasetEvaluation.h"

#include "core/audio/AudioFile.h"
#include "core/checkpoint/TrainedModels.h"
#include "core/data/NoisyDataset.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/features/FeatureExtractor.h"
#include "core/infer/LiveModel.h"
#include "core/util/Error.h"
#include "core/util/Format.h"
#include "core/util/ParallelFor.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <memory>

namespace fs = std::filesystem;

namespace tkd {

namespace {

// A clip to score: where it is and the run class it counts as.
struct EvalClip
{
    Split split = Split::Test;
    size_t item = 0; // index in its split (NoisyDataset's item number)
    const ClipRef *clip = nullptr;
    int target = -1;
};

// A loaded model with its running scores.
struct LoadedModel
{
    ModelEvaluation eval;
    StudentModel student;
    FeatureNorm norm;
    Wav2Vec2Model teacher { nullptr };
    std::unique_ptr<FeatureExtractor> teacherFx; // log-mel; null for a raw-waveform teacher
};

std::vector<Split> splitsOf(const std::string &split)
{
    if (split == "all")
        return { Split::Train, Split::Validation, Split::Test };
    return { splitFromName(split) };
}

bool samePath(const std::string &a, const std::string &b)
{
    std::error_code e1, e2;
    const fs::path ca = fs::weakly_canonical(fs::absolute(a), e1);
    const fs::path cb = fs::weakly_canonical(fs::absolute(b), e2);
    return !e1 && !e2 && ca == cb;
}

std::string resolveSplit(
    const std::string &split, const EvalDataSpec &data, const ExperimentConfig &config)
{
    if (split != "auto") {
        if (split != "all")
            splitFromName(split); // throws naming "split"
        return split;
    }
    if (data.kind == DatasetSource::Kind::Builtin)
        return "test";
    const bool own = config.data.source == DatasetSource::kindName(data.kind)
        && samePath(config.data.path, data.path);
    return own ? "test" : "all";
}

// The experiment whose built-in corpus and noisy construction "builtin[:EXPERIMENT.yaml]" means.
ExperimentConfig builtinExperiment(const EvalDataSpec &data, const ExperimentConfig &run)
{
    if (data.kind != DatasetSource::Kind::Builtin || data.path.empty())
        return run;
    ExperimentConfig other = ExperimentConfig::load(data.path); // throws naming the file and key
    if (other.datasetSource().kind != DatasetSource::Kind::Builtin)
        throw Error(data.path,
            "data.source is '" + other.data.source + "', not builtin (from --data " + data.text
                + ")");
    return other;
}

// `builtin`: the corpus of `builtin` (builtinExperiment()); other kinds read their folder.
DatasetIndex openData(const EvalDataSpec &data, const ExperimentConfig &builtin,
    const std::vector<std::string> &runClasses, const Progress &progress)
{
    if (data.kind == DatasetSource::Kind::Builtin)
        return builtin.datasetSource().open(progress);
    DatasetSource s;
    s.kind = data.kind;
    s.path = data.path;
    // A Speech Commands folder read as the run's task where the run is a 12-label keyword task,
    // else as its 35 words (then matched by name).
    std::vector<std::string> twelve = keywords10();
    twelve.push_back(kUnknownLabel);
    twelve.push_back(kSilenceLabel);
    s.task = runClasses == twelve ? 12 : 35;
    DatasetIndex index = s.open(progress);
    if (index.multiLabel)
        throw Error(data.text, "is multi-label; only single-label sets are scored");
    return index;
}

std::vector<float> loadClip(const ClipRef &clip)
{
    std::vector<float> x = loadAudio(clip.path, kSampleRate);
    if (clip.startSec > 0.0 || clip.durationSec > 0.0) {
        const size_t a = std::min(x.size(), size_t(std::llround(clip.startSec * kSampleRate)));
        const size_t n = clip.durationSec > 0.0
            ? std::min(x.size() - a, size_t(std::llround(clip.durationSec * kSampleRate)))
            : x.size() - a;
        x = std::vector<float>(x.begin() + long(a), x.begin() + long(a + n));
    }
    if (x.empty())
        throw Error(clip.path, "clip is empty");
    return x;
}

std::string teacherPath(const std::string &runDir, double lengthSec)
{
    return runDir + "/teacher-L" + formatNumber(lengthSec) + "/best.safetensors";
}

// The run's students (or one cell) and, per length, its teacher where it has a model; `classes`
// gets the run's class names (every cell shares them).
std::vector<std::unique_ptr<LoadedModel>> loadModels(const std::string &runDir,
    const ExperimentConfig &config, const DatasetEvaluationOptions &o,
    std::vector<std::string> &classes, std::vector<std::string> &notes)
{
    std::vector<LiveCell> cells = listLiveCells(runDir);
    if (!o.cell.empty()) {
        cells.erase(std::remove_if(cells.begin(), cells.end(),
                        [&](const LiveCell &c) { return c.name != o.cell; }),
            cells.end());
        if (cells.empty())
            throw Error("--cell", "no trained student '" + o.cell + "' in " + runDir);
    }
    std::vector<std::unique_ptr<LoadedModel>> models;
    std::vector<double> lengths;
    for (const LiveCell &c : cells) {
        auto m = std::make_unique<LoadedModel>();
        m->student = TrainedModels::loadStudent(c.checkpoint, nullptr, &m->norm);
        m->student.eval();
        if (m->student.featureDim() != config.features.featureDim())
            throw Error(c.checkpoint, "expects a different front end than the run's config.yaml");
        if (classes.empty())
            classes = runClassNames(runDir, m->student.numClasses());
        if (size_t(m->student.numClasses()) != classes.size())
            throw Error(c.checkpoint, "has a different number of classes than the run's first");
        m->eval.name = c.name;
        m->eval.kind = "student";
        m->eval.student = c.student;
        m->eval.lengthSec = c.lengthSec > 0.0 ? c.lengthSec : config.clipLengths().front();
        m->eval.lambda = c.lambda;
        if (std::find(lengths.begin(), lengths.end(), m->eval.lengthSec) == lengths.end())
            lengths.push_back(m->eval.lengthSec);
        models.push_back(std::move(m));
    }
    if (!o.teacher)
        return models;
    for (double l : lengths) {
        const std::string path = teacherPath(runDir, l);
        if (config.teacher.kind == TeacherKind::Oracle) {
            notes.push_back("teacher: the run used the oracle (the keyword's true window), which "
                            "has no model to score");
            break;
        }
        if (!fs::is_regular_file(path)) {
            notes.push_back("teacher at L = " + formatNumber(l) + " s: no " + path);
            continue;
        }
        const TeacherCheckpointInfo info = TrainedModels::teacherInfo(path);
        if (!info.classes.empty() && info.classes != classes) {
            notes.push_back(path + ": its classes are not the run's; not scored");
            continue;
        }
        auto m = std::make_unique<LoadedModel>();
        m->teacher = TrainedModels::loadTeacher(path);
        if (m->teacher->config.frontEnd() == Wav2Vec2Config::FrontEnd::Spectral) {
            // A pretrained teacher keeps the front end it learned with (as TeacherTrainer does).
            FeatureConfig f = info.hasFeatures ? info.features : config.features;
            f.kind = FeatureConfig::Kind::LogMel;
            m->teacherFx = std::make_unique<FeatureExtractor>(f);
        }
        m->eval.name = "teacher-L" + formatNumber(l);
        m->eval.kind = "teacher";
        m->eval.student = info.kind;
        m->eval.lengthSec = l;
        models.push_back(std::move(m));
    }
    return models;
}

// Every model of one clip length on a batch of placed clips [n, samples]: argmax into confusion.
void scoreBatch(const torch::Tensor &wave, const std::vector<LoadedModel *> &group,
    const EvalClip *clips, const FeatureExtractor &studentFx)
{
    torch::Tensor studentFeats;
    for (LoadedModel *m : group) {
        torch::Tensor logits;
        if (!m->teacher.is_empty()) {
            logits = m->teacher->forward(m->teacherFx ? m->teacherFx->compute(wave) : wave).logits;
        } else {
            if (!studentFeats.defined())
                studentFeats = studentFx.compute(wave);
            logits = m->student.forward(m->norm.apply(studentFeats)).logits;
        }
        if (!logits.defined() || logits.size(1) != int64_t(m->eval.confusion.size()))
            throw Error(m->eval.name, "gives no logits over the run's classes");
        const torch::Tensor pred = logits.argmax(1).to(torch::kLong).contiguous();
        for (int64_t k = 0; k < wave.size(0); ++k) {
            const int t = clips[k].target;
            const int64_t p = pred.data_ptr<int64_t>()[k];
            ++m->eval.confusion[size_t(t)][size_t(p)];
            ++m->eval.clips;
            m->eval.correct += p == t ? 1 : 0;
        }
    }
}

// The clips of the chosen splits whose class maps onto the run's; counts per dataset class and
// the skipped ones into r.
std::vector<EvalClip> selectClips(
    const DatasetIndex &index, const std::vector<int> &map, DatasetEvaluation &r)
{
    std::vector<EvalClip> clips;
    std::vector<int64_t> perClass(index.classes.size(), 0);
    for (Split s : splitsOf(r.split)) {
        const std::vector<const ClipRef *> in = index.clipsIn(s);
        for (size_t i = 0; i < in.size(); ++i) {
            if (in[i]->labels.size() != 1)
                continue;
            const int label = in[i]->labels[0];
            ++perClass[size_t(label)];
            if (map[size_t(label)] < 0)
                ++r.skipped;
            else
                clips.push_back({ s, i, in[i], map[size_t(label)] });
        }
    }
    for (size_t d = 0; d < index.classes.size(); ++d)
        if (perClass[d] > 0)
            r.mapping.push_back({ index.classes[d],
                map[d] >= 0 ? r.classes[size_t(map[d])] : std::string(), perClass[d] });
    return clips;
}

} // namespace

double ModelEvaluation::recall(size_t k) const
{
    if (k >= confusion.size())
        return std::nan("");
    int64_t row = 0;
    for (int64_t v : confusion[k])
        row += v;
    return row ? double(confusion[k][k]) / double(row) : std::nan("");
}

DatasetEvaluation evaluateDataset(
    const std::string &runDir, const DatasetEvaluationOptions &o, const Progress &progress)
{
    if (o.batchSize < 1 || o.threads < 1)
        throw Error("eval", "batch size and threads must be at least 1");
    if (!std::isfinite(o.snrDb) || o.snrDb < -10.0 || o.snrDb > 80.0)
        throw Error("--snr", "must be between -10 and 80 dB");
    DatasetEvaluation r;
    r.runDir = runDir;
    r.data = o.data.text;
    r.slug = o.data.slug();
    r.snrDb = o.snrDb;
    const ExperimentConfig config = ExperimentConfig::load(runDir + "/config.yaml");
    std::vector<std::unique_ptr<LoadedModel>> models
        = loadModels(runDir, config, o, r.classes, r.notes);
    for (auto &m : models)
        m->eval.confusion.assign(r.classes.size(), std::vector<int64_t>(r.classes.size(), 0));
    r.split = resolveSplit(o.split, o.data, config);
    // builtin:EXPERIMENT.yaml: that experiment's corpus, and behind noisy: its clips as it builds
    // them; for every other kind the run's own construction.
    const bool otherExperiment
        = o.data.kind == DatasetSource::Kind::Builtin && !o.data.path.empty();
    const ExperimentConfig clipsConfig = builtinExperiment(o.data, config);

    const DatasetIndex index = openData(o.data, clipsConfig, r.classes, progress);
    r.datasetName = index.name;
    const std::string what = o.data.path.empty() ? o.data.text : o.data.path;
    const std::vector<int> map = mapClassesByName(index.classes, r.classes, what);
    const std::vector<EvalClip> clips = selectClips(index, map, r);
    if (clips.empty())
        throw Error(what,
            "has no clip of a class the run knows in the " + r.split + " split"
                + (r.split == "all" ? "" : " (try --split all)"));
    r.clips = int64_t(clips.size());
    r.placement = o.data.noisy
        ? (otherExperiment ? "the noisy construction of " + o.data.path
                           : std::string("the run's noisy construction"))
            + " at each model's L (keyword at a random offset in noise at "
            + formatNumber(clipsConfig.data.noisy.snrDbMin) + "-"
            + formatNumber(clipsConfig.data.noisy.snrDbMax) + " dB, seeded like training)"
        : "each clip centred in the model's L-second window (a longer clip cropped around its "
          "speech), over pink noise "
            + formatNumber(o.snrDb) + " dB below the speech";

    std::map<double, std::vector<LoadedModel *>> groups;
    for (auto &m : models)
        groups[m->eval.lengthSec].push_back(m.get());
    const FeatureExtractor studentFx(config.features);
    torch::NoGradGuard noGrad;
    const int64_t total = int64_t(clips.size() * groups.size());
    int64_t done = 0;
    for (auto &[lengthSec, group] : groups) {
        std::unique_ptr<NoisyDataset> noisy;
        if (o.data.noisy)
            noisy = std::make_unique<NoisyDataset>(index, clipsConfig.noisyConfig(lengthSec));
        const size_t window = size_t(std::lround(lengthSec * kSampleRate));
        const std::string stage = "evaluate (L = " + formatNumber(lengthSec) + " s)";
        for (size_t start = 0; start < clips.size(); start += size_t(o.batchSize)) {
            progress.throwIfCancelled();
            const size_t n = std::min(size_t(o.batchSize), clips.size() - start);
            torch::Tensor wave = torch::zeros({ int64_t(n), int64_t(window) });
            float *dst = wave.data_ptr<float>();
            parallelFor(
                int64_t(n), o.threads,
                [&](int64_t k) {
                    const EvalClip &c = clips[start + size_t(k)];
                    const std::vector<float> x = noisy
                        ? noisy->item(c.split, c.item).samples
                        : placeInWindow(loadClip(*c.clip), window, o.snrDb,
                            (uint64_t(c.split) << 32) | uint64_t(c.item));
                    std::copy_n(x.begin(), std::min(x.size(), window), dst + size_t(k) * window);
                },
                progress);
            scoreBatch(wave, group, &clips[start], studentFx);
            done += int64_t(n);
            progress.report(stage, done, total);
        }
    }
    for (auto &m : models)
        r.models.push_back(std::move(m->eval));
    return r;
}

} // namespace tkd
