#pragma once

#include "DatasetWorker.h" // Q_DECLARE_METATYPE(tkd::ClipAudio)
#include "widgets/AttentionView.h"
#include "widgets/ClipTableModel.h"
#include "widgets/ResultsView.h"
#include "widgets/WaveformView.h"

#include <QString>
#include <QVector>

#include <memory>
#include <string>

namespace tkd {

class ClipAnalysis;
class ExperimentConfig;
struct PipelineResult;
struct Progress;

// A run folder for the studio's views: core's ClipAnalysis (the run's noisy dataset rebuilt,
// its teacher and students run, rollout and localisation) translated to widget types. The work
// is core work (LibTorch, audio synthesis): call it from a worker thread, never from the GUI
// thread. Loaded models are kept, so looking at clip after clip costs one forward pass per model.
class RunInspector
{
public:
    // Throws tkd::Error naming the file when config.yaml or metrics.json is missing or malformed.
    explicit RunInspector(const std::string &runDir);
    ~RunInspector();
    RunInspector(const RunInspector &) = delete;
    RunInspector &operator=(const RunInspector &) = delete;

    const std::string &runDir() const;
    const ExperimentConfig &config() const;
    const PipelineResult &result() const;
    std::vector<double> lengths() const; // clip lengths with results, ascending

    // A run folder: config.yaml and metrics.json side by side.
    static bool isRunFolder(const QString &path);
    // A run folder with checkpoints (any of students/, teacher-L*/, checkpoints/): not a copy of
    // its results alone, as docs/paper-table/runs/ keeps them, nor a run that has saved nothing
    // yet. Clips and attention need them.
    static bool keepsCheckpoints(const QString &runDir);
    // Every model of a run folder, or of every run folder directly inside `folder` (a grid split
    // over several runs), as rows for the results view. Throws tkd::Error when there is none.
    static QVector<ResultEntry> resultEntries(const QString &folder, QString *title = nullptr);
    // The paper's Table 2 at the lengths of those runs and its four claims judged on them
    // (core/train/PaperTable.h); empty when they are not a keyword-accuracy grid.
    static PaperComparison paperComparison(const QString &folder);

    // The dataset's clips at length L as rows for the clips view; validation and test clips come
    // with the prediction and confidence of the best student of that length (highest test score)
    // and, for a model teacher with a log-mel front end, the teacher's confidence. Features come
    // from the feature cache the run filled. `note` (optional) says which student predicted.
    QVector<ClipRow> clips(double lengthSec, const Progress &progress, QString *note = nullptr);

    // Clip `index` of `split` at length L: its audio and spectrogram, and the attention figure:
    // the teacher's rollout (or the oracle window) and every student of that length trained with
    // `seed` (0: the run's first seed): branch a_S where it has one, native attention where the
    // architecture has it, each with its localisation score and prediction.
    void analyse(double lengthSec, int split, int index, ClipAudio *audio, AttentionFigure *figure,
        quint64 seed = 0);

private:
    std::unique_ptr<ClipAnalysis> d;
};

} // namespace tkd
