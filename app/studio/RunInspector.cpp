#include "RunInspector.h"

#include "core/data/DatasetSource.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/infer/ClipAnalysis.h"
#include "core/train/GridFolder.h"
#include "core/train/GridTable.h"
#include "core/train/PaperTable.h"
#include "core/util/Error.h"
#include "core/util/Format.h"
#include "core/util/Progress.h"

#include <QDir>
#include <QFileInfo>

#include <nlohmann/json.hpp>

#include <cstdio>
#include <fstream>
#include <limits>
#include <map>
#include <set>

namespace tkd {

namespace {

template <class T> QVector<T> toQVector(const std::vector<T> &v)
{
    return QVector<T>(v.begin(), v.end());
}

QString joined(const std::vector<std::string> &labels)
{
    QStringList out;
    for (const auto &l : labels)
        out << QString::fromStdString(l);
    return out.join(QLatin1Char(','));
}

Spectrogram toSpectrogram(const ClipSpectrogram &s)
{
    Spectrogram out;
    out.values = toQVector(s.values);
    out.frames = int(s.frames);
    out.bins = int(s.bins);
    out.hopSec = s.hopSec;
    out.windowSec = s.windowSec;
    return out;
}

AttentionSeries toSeries(const ClipAttentionCurve &c)
{
    AttentionSeries s;
    s.model = QString::fromStdString(c.model);
    s.kind = QString::fromStdString(c.kind);
    s.teacherKind = QString::fromStdString(c.teacherKind);
    s.lambda = c.lambda;
    s.seed = c.seed;
    s.timesSec = toQVector(c.timesSec);
    s.weights = toQVector(c.weights);
    s.score = c.score;
    s.prediction = QString::fromStdString(c.prediction);
    s.confidence = c.confidence;
    return s;
}
} // namespace

RunInspector::RunInspector(const std::string &runDir)
    : d(std::make_unique<ClipAnalysis>(runDir))
{ }

RunInspector::~RunInspector() = default;

const std::string &RunInspector::runDir() const
{
    return d->runDir();
}
const ExperimentConfig &RunInspector::config() const
{
    return d->config();
}
const PipelineResult &RunInspector::result() const
{
    return d->result();
}
std::vector<double> RunInspector::lengths() const
{
    return d->lengths();
}

bool RunInspector::isRunFolder(const QString &path)
{
    const QDir dir(path);
    return dir.exists(QStringLiteral("metrics.json")) && dir.exists(QStringLiteral("config.yaml"));
}

bool RunInspector::keepsCheckpoints(const QString &runDir)
{
    return !QDir(runDir).entryList(QDir::Dirs | QDir::NoDotAndDotDot).isEmpty();
}

namespace {
// The entries of a grid.json whose run folders are not here: every seed's test figure, the
// teacher's, no checkpoints to open.
QVector<ResultEntry> gridTableEntries(
    const nlohmann::json &j, const QString &folder, int listed, QString *title)
{
    QVector<ResultEntry> entries;
    const std::string metric = j.value("metric", std::string("accuracy"));
    const QString key = QString::fromStdString(metric);
    try {
        for (const auto &t : j.value("teachers", nlohmann::json::array())) {
            ResultEntry e;
            e.model = QStringLiteral("teacher");
            e.teacherKind = QString::fromStdString(t.value("kind", std::string()));
            e.lengthSec = t.value("length_sec", 0.0);
            e.status = QStringLiteral("completed");
            if (t.contains("test") && t["test"].is_number())
                e.test[key] = t["test"].get<double>();
            if (t.contains("localisation") && t["localisation"].is_number()) {
                e.test[QStringLiteral("localisation_branch")] = t["localisation"].get<double>();
                e.test[QStringLiteral("localisation_native")] = t["localisation"].get<double>();
            }
            entries << e;
        }
        for (const auto &cell : j.at("entries"))
            for (const auto &run : cell.value("runs", nlohmann::json::array())) {
                ResultEntry e;
                e.model = QString::fromStdString(cell.at("student").get<std::string>());
                e.lambda = cell.value("lambda", 0.0);
                e.lengthSec = cell.value("length_sec", 0.0);
                e.seed = run.value("seed", quint64(0));
                e.status = QStringLiteral("completed");
                if (run.contains("test") && run["test"].is_number())
                    e.test[key] = run["test"].get<double>();
                if (run.contains("validation") && run["validation"].is_number())
                    e.validation[key] = run["validation"].get<double>();
                entries << e; // no runDir: there is nothing to open
            }
    } catch (const nlohmann::json::exception &ex) {
        throw Error(QDir(folder).filePath(QStringLiteral("grid.json")).toStdString(),
            std::string("is not a grid table: ") + ex.what());
    }
    if (entries.isEmpty())
        throw Error(QDir(folder).filePath(QStringLiteral("grid.json")).toStdString(),
            "lists no results, and none of its run folders is here");
    if (title)
        *title = QObject::tr("%1 (table from grid.json; its %n run folder(s) are missing, so "
                             "clips, curves and attention cannot be shown)",
            nullptr, listed)
                     .arg(QFileInfo(folder).fileName());
    return entries;
}

// The run folders `folder` stands for: itself, the runs of a `tkd grid` folder (its grid.json's
// and its shard logs'), or the run folders directly inside it. `table` receives a grid.json whose
// runs are all missing (the table travels without them, as docs/grid-8s does); null otherwise.
QStringList runFoldersOf(const QString &folder, nlohmann::json *table)
{
    QStringList runs;
    const QDir top(folder);
    *table = nullptr;
    if (isGridFolder(folder.toStdString())) {
        // A `tkd grid` folder: the runs its grid.json tabulated and the runs its shard logs name
        // (a Slurm array's tasks, before or after the table was written).
        for (const std::string &r : gridFolderRuns(folder.toStdString()).runs) {
            const QString path = QDir::cleanPath(QString::fromStdString(r));
            if (RunInspector::isRunFolder(path) && !runs.contains(path))
                runs << path;
        }
        if (runs.isEmpty() && top.exists(QStringLiteral("grid.json"))) {
            std::ifstream in(top.filePath(QStringLiteral("grid.json")).toStdString());
            try {
                in >> *table;
            } catch (const nlohmann::json::exception &e) {
                throw Error(top.filePath(QStringLiteral("grid.json")).toStdString(),
                    std::string("is not a grid table: ") + e.what());
            }
        }
    } else if (RunInspector::isRunFolder(folder)) {
        runs << folder;
    } else {
        for (const QString &sub : top.entryList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name))
            if (RunInspector::isRunFolder(top.filePath(sub)))
                runs << top.filePath(sub);
    }
    return runs;
}
} // namespace

PaperComparison RunInspector::paperComparison(const QString &folder)
{
    PaperComparison out;
    std::vector<std::string> students;
    std::vector<double> lengths;
    try {
        nlohmann::json table;
        const QStringList runs = runFoldersOf(folder, &table);
        if (!table.is_null()) { // the claims grid.json was written with
            if (!table.contains("paper"))
                return out;
            for (const auto &c : table["paper"].value("claims", nlohmann::json::array()))
                out.claims.push_back({ QString::fromStdString(c.value("statement", "")),
                    QString::fromStdString(c.value("verdict", "")),
                    QString::fromStdString(c.value("evidence", "")) });
            students = table.value("students", std::vector<std::string>());
            lengths = table.value("lengths_sec", std::vector<double>());
        } else {
            std::vector<std::string> dirs;
            for (const QString &r : runs)
                dirs.push_back(r.toStdString());
            const GridTable t = GridTable::fromRunDirs(dirs);
            for (const auto &c : paper::checkClaims(t))
                out.claims.push_back({ QString::fromStdString(c.statement),
                    QString::fromStdString(c.verdict), QString::fromStdString(c.evidence) });
            students = t.students();
            lengths = t.lengths();
        }
    } catch (const std::exception &) {
        return {}; // the results view reports what is wrong with the folder
    }
    for (double L : lengths) {
        if (const auto a = paper::teacherAccuracy(L))
            out.figures.push_back({ QStringLiteral("teacher"), L, *a, *a });
        for (const std::string &s : students)
            if (const auto f = paper::studentAccuracy(s, L))
                out.figures.push_back({ QString::fromStdString(s), L, f->kd, f->vanilla });
    }
    return out;
}

QVector<ResultEntry> RunInspector::resultEntries(const QString &folder, QString *title)
{
    nlohmann::json table;
    const QStringList runs = runFoldersOf(folder, &table);
    if (!table.is_null())
        return gridTableEntries(
            table, folder, int(table.value("run_dirs", nlohmann::json::array()).size()), title);
    if (runs.isEmpty())
        throw Error(folder.toStdString(),
            "is neither a run folder (config.yaml + metrics.json) nor a folder of runs");
    QVector<ResultEntry> entries;
    std::set<std::string> teachers; // grid shards share one teacher: list it once
    QString mark; // a single run's "[incomplete: ...]", or how many of several are
    int incomplete = 0;
    for (const QString &run : runs) {
        const PipelineResult r = PipelineResult::read(run.toStdString());
        if (!r.complete()) {
            ++incomplete;
            mark = QString::fromStdString(r.incompleteMark(false));
        }
        // Chance is 1 / classes for the single-label tasks whose class count the config states.
        int classes = 0;
        try {
            const ExperimentConfig c = ExperimentConfig::load(
                QDir(run).filePath(QStringLiteral("config.yaml")).toStdString());
            if (DatasetSource::isKeywordTask(c.datasetSource().kind))
                classes = c.data.task;
        } catch (const std::exception &) {
            // Results without a readable config: no chance check.
        }
        for (const auto &l : r.lengths) {
            if (teachers
                    .insert(l.teacherKind + "|" + formatNumber(l.lengthSec) + "|" + l.teacherHash)
                    .second) {
                ResultEntry t;
                t.model = QStringLiteral("teacher");
                t.teacherKind = QString::fromStdString(l.teacherKind);
                t.lengthSec = l.lengthSec;
                t.status = QStringLiteral("completed");
                t.runDir = run;
                t.classes = classes;
                for (const auto &[k, v] : l.teacherTest)
                    t.test[QString::fromStdString(k)] = v;
                // The teacher's rollout localisation is the reference for both student attentions.
                t.test[QStringLiteral("localisation_branch")]
                    = PipelineResult::metric(l.teacherTest, "localisation");
                t.test[QStringLiteral("localisation_native")]
                    = PipelineResult::metric(l.teacherTest, "localisation");
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
                e.classes = classes;
                e.cellName = QString::fromStdString(
                    PipelineResult::cellName(c.student, c.lengthSec, c.lambda, c.seed));
                if (c.usable()) {
                    for (const auto &[k, v] : c.test)
                        e.test[QString::fromStdString(k)] = v;
                    for (const auto &[k, v] : c.validation)
                        e.validation[QString::fromStdString(k)] = v;
                }
                entries << e;
            }
        }
    }
    if (title)
        *title = runs.size() == 1
            ? QFileInfo(runs.first()).fileName() + (mark.isEmpty() ? QString() : " " + mark)
            : QObject::tr("%1 (%2 runs%3)")
                  .arg(QFileInfo(folder).fileName())
                  .arg(runs.size())
                  .arg(incomplete ? QObject::tr(", %1 incomplete").arg(incomplete) : QString());
    return entries;
}

QVector<ClipRow> RunInspector::clips(double lengthSec, const Progress &progress, QString *note)
{
    std::string text;
    const std::vector<ClipPrediction> predictions = d->predictions(lengthSec, progress, &text);
    if (note)
        *note = QString::fromStdString(text);
    QVector<ClipRow> rows;
    rows.reserve(int(predictions.size()));
    for (const ClipPrediction &p : predictions) {
        ClipRow r;
        r.split = QString::fromLatin1(splitName(p.split));
        r.path = QStringLiteral("%1 #%2").arg(r.split).arg(p.index);
        r.word = QString::fromStdString(p.word);
        r.speaker = QString::fromStdString(p.speaker);
        r.label = joined(p.labels);
        r.durationSec = p.clipSec;
        r.onsetSec = p.onsetSec;
        r.offsetSec = p.offsetSec;
        r.prediction = QString::fromStdString(p.prediction);
        r.studentConfidence = p.studentConfidence;
        r.teacherConfidence = p.teacherConfidence;
        r.runItem = int(p.index);
        r.runLengthSec = lengthSec;
        rows << r;
    }
    return rows;
}

void RunInspector::analyse(double lengthSec, int splitIndex, int index, ClipAudio *audio,
    AttentionFigure *figure, quint64 seed)
{
    const ClipAnalysisResult r
        = d->analyse(lengthSec, Split(splitIndex), index, seed, figure != nullptr);
    const QString title = QString::fromStdString(r.title);
    if (audio) {
        *audio = ClipAudio();
        audio->title = title;
        audio->samples = toQVector(r.samples);
        audio->sampleRate = r.sampleRate;
        audio->spectrogram = toSpectrogram(r.spectrogram);
        audio->onsetSec = r.onsetSec;
        audio->offsetSec = r.offsetSec;
    }
    if (!figure)
        return;
    AttentionFigure &f = *figure;
    f = AttentionFigure();
    f.title = title;
    f.trueLabel = joined(r.labels);
    f.clipSec = r.clipSec;
    f.spectrogram = toSpectrogram(r.spectrogram);
    f.onsetSec = r.onsetSec;
    f.offsetSec = r.offsetSec;
    f.baseline = r.baseline;
    for (const ClipAttentionCurve &c : r.curves)
        f.series << toSeries(c);
    f.layers = int(r.layers);
    f.heads = int(r.heads);
    f.teacherTimesSec = toQVector(r.teacherTimesSec);
    f.layerRows = toQVector(r.layerRows);
}

} // namespace tkd
