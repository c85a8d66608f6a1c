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
    qint64 epoch = 0;
    double tStart = 0.0;
    double tLast = 0.0;
    bool finished = false;
    QString message;
    QTreeWidgetItem *item = nullptr;

    double etaSec() const
    {
        if (finished)
            return 0.0;
        if (done <= 0 || total <= 0 || tLast <= tStart)
            return -1.0;
        return (tLast - tStart) / double(done) * double(total - done);
    }
    double fraction() const
    {
        return finished ? 1.0
            : total > 0 ? std::clamp(double(done) / double(total), 0.0, 1.0)
                        : 0.0;
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
    QStringList finishedCellSecs;
    double finishedCellTotal = 0.0;
    int finishedCells = 0;
    double lastEventT = 0.0;
    QString lastStage;
};

} // namespace tkd
