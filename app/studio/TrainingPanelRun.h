#pragma once

// Private to TrainingPanel*.cpp: a followed run folder and its stages, and small formatting
// helpers.

#include "TrainingPanel.h"

#include "core/train/EventLog.h"

#include <QString>
#include <QTreeWidgetItem>

#include <algorithm>
#include <memory>
#include <vector>

namespace tkd::trainingpanel {

double nowSec();
QString duration(double sec);
// "student tc-resnet8 lambda=0.25 L=8 seed=1" -> "tc-resnet8 λ=0.25 L=8 seed 1".
QString compactStage(const QString &stage);
// Run folders are <YYYYMMDD-HHMMSS>-<name>-<hash8>[-N]: "name HH:MM:SS" tells overlaid runs apart.
QString runLabel(const QString &dir);

} // namespace tkd::trainingpanel

namespace tkd {

struct TrainingPanel::Stage
{
    QString name;
    qint64 done = 0;
    qint64 total = 0;
    qint64 epoch = 0; // the epoch in progress or last reported
    qint64 epochsDone = 0; // epochs whose end (validation) was reported
    qint64 epochs = 0; // how many the stage will run: "epoch 3/12" messages, else the config
    double tStart = 0.0;
    double tLast = 0.0;
    bool finished = false;
    double bestAccuracy = -1.0; // best validation accuracy of its epochs
    QString message;
    QTreeWidgetItem *item = nullptr;

    // The share of the stage that is done, or -1 when nothing says. A stage's progress ticks can
    // count a sub-step (the pretrained teacher's frozen pass over the clips reaches 100% before
    // its epochs start), so the epochs win whenever they are known, and nothing reads 100% before
    // the stage says it finished.
    double fraction() const
    {
        if (finished)
            return 1.0;
        // Step ticks whose message names the epoch span the whole training: the finest measure.
        double f = -1.0;
        if (total > 0 && message.startsWith(QLatin1String("epoch")))
            f = double(done) / double(total);
        else if (epochs > 0)
            f = double(epochsDone) / double(epochs);
        else if (total > 0)
            f = double(done) / double(total);
        return f < 0 ? -1.0 : std::clamp(f, 0.0, 0.99);
    }
    double etaSec() const
    {
        if (finished)
            return 0.0;
        const double f = fraction();
        if (f <= 0.0 || tLast <= tStart)
            return -1.0;
        return (tLast - tStart) / f * (1.0 - f);
    }
};

struct TrainingPanel::Run
{
    QString dir;
    QString label;
    // Shared with the poll thread, which reads and parses the log off the GUI thread.
    std::shared_ptr<EventLogReader> reader;
    std::vector<std::unique_ptr<Stage>> stages;
    QTreeWidgetItem *item = nullptr;
    bool own = false;
    QString state = QStringLiteral("waiting");
    bool ended = false;
    bool sawError = false;
    int studentCells = 0; // from config.yaml: students x lambdas x lengths x seeds
    int studentEpochs = 0; // from config.yaml, for stages whose log does not say
    int teacherEpochs = 0;
    int classes = 0; // single-label task size (0: unknown), for the chance check
    double tFirst = 0.0; // first event
    QStringList finishedCellSecs;
    double finishedCellTotal = 0.0;
    int finishedCells = 0;
    double lastEventT = 0.0;
    QString lastStage;
};

} // namespace tkd
