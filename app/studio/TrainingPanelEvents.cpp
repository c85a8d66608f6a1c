// TrainingPanel, following run folders: their events.jsonl polled off the GUI thread, applied
// to stages, curves and the run tree.
#include "TrainingPanel.h"

#include "RunController.h"
#include "TrainingPanelRun.h"

#include "core/data/DatasetSource.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/experiment/GridShape.h"
#include "core/train/EventLog.h"
#include "core/train/GridFolder.h"
#include "core/train/RunDirectory.h"
#include "widgets/TrainingCurves.h"

#include <QDateTime>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QRegularExpression>
#include <QSettings>
#include <QSplitter>
#include <QStyle>
#include <QThread>
#include <QTimer>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <cmath>

namespace tkd {

using namespace trainingpanel;

namespace {
// "epoch 3/12" -> 12 (0 when the message does not say).
qint64 epochsInMessage(const QString &message)
{
    static const QRegularExpression re(QStringLiteral("^epoch (\\d+)/(\\d+)"));
    const QRegularExpressionMatch m = re.match(message);
    return m.hasMatch() ? m.captured(2).toLongLong() : 0;
}

// Classes of a single-label task whose chance level is 1 / classes; 0 when the config alone
// does not tell (a folder dataset) or the task is multi-label (FSD50K: mAP has no such level).
int chanceClasses(const ExperimentConfig &c)
{
    if (DatasetSource::isKeywordTask(c.datasetSource().kind))
        return c.data.task;
    return 0;
}
} // namespace

TrainingPanel::Run *TrainingPanel::findRun(const QString &dir) const
{
    const QString clean = QDir::cleanPath(QFileInfo(dir).absoluteFilePath());
    for (const auto &r : m_followed)
        if (r->dir == clean)
            return r.get();
    return nullptr;
}

QStringList TrainingPanel::followedRuns() const
{
    QStringList out;
    for (const auto &r : m_followed)
        out << r->dir;
    return out;
}

bool TrainingPanel::followRun(const QString &dirIn, QString *error)
{
    const QString dir = QDir::cleanPath(QFileInfo(dirIn).absoluteFilePath());
    if (findRun(dir))
        return true;
    if (!QFileInfo(dir).isDir()) {
        if (error)
            *error = tr("%1: not a folder").arg(dir);
        return false;
    }
    if (!isRunFolder(dir)) {
        // A folder of runs (output.runs_dir): follow the newest few inside it.
        QStringList runs;
        const QFileInfoList subdirs
            = QDir(dir).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot, QDir::Name);
        for (const QFileInfo &fi : subdirs)
            if (isRunFolder(fi.absoluteFilePath()))
                runs << fi.absoluteFilePath();
        if (runs.isEmpty()) {
            if (error)
                *error = tr("%1: not a run folder (no events.jsonl or config.yaml in it or its "
                            "sub-folders)")
                             .arg(dir);
            return false;
        }
        while (runs.size() > 8)
            runs.removeFirst();
        for (const QString &r : runs)
            followRun(r, nullptr);
        return true;
    }

    auto run = std::make_unique<Run>();
    run->dir = dir;
    run->label = runLabel(dir);
    run->reader
        = std::make_shared<EventLogReader>((dir + QStringLiteral("/events.jsonl")).toStdString());
    try {
        const ExperimentConfig c
            = ExperimentConfig::load((dir + QStringLiteral("/config.yaml")).toStdString());
        run->studentCells = int(studentCellCount(c));
        run->studentEpochs = c.train.epochs;
        run->teacherEpochs = c.teacher.kind == TeacherKind::Oracle ? 0 : c.teacher.epochs;
        run->classes = chanceClasses(c);
        if (DatasetSource::isMultiLabel(c.datasetSource().kind))
            m_curves->setMetricName(tr("validation mAP"));
    } catch (const std::exception &) {
        // The log alone is enough to follow the run; the overall ETA just stays unknown.
    }
    run->item = new QTreeWidgetItem(m_tree, { run->label });
    run->item->setData(0, Qt::UserRole, dir);
    run->item->setToolTip(0, dir);
    run->item->setExpanded(true);
    QFont bold = run->item->font(0);
    bold.setBold(true);
    run->item->setFont(0, bold);
    m_followed.push_back(std::move(run));
    QSettings().setValue(QStringLiteral("training/lastRunFolder"), dir);
    appendMessage(tr("Following %1").arg(dir), 0);
    if (isGridFolder(dir.toStdString()) && !m_grids.contains(dir)) {
        m_grids << dir;
        followGridShards(dir);
    }
    pollNow();
    Q_EMIT runFollowed(dir);
    return true;
}

void TrainingPanel::followGridShards(const QString &grid)
{
    // The shards' runs of a `tkd grid` folder, as their logs name them: a Slurm array's tasks
    // start when the scheduler says, so the poll timer asks again until the grid is dropped.
    try {
        for (const std::string &r : gridFolderRuns(grid.toStdString()).started) {
            const QString dir
                = QDir::cleanPath(QFileInfo(QString::fromStdString(r)).absoluteFilePath());
            if (!findRun(dir) && !m_removed.contains(dir))
                followRun(dir, nullptr);
        }
    } catch (const std::exception &) {
        // A grid.json being rewritten: the next tick reads it again.
    }
}

void TrainingPanel::removeRun(const QString &dir)
{
    m_grids.removeAll(dir);
    m_removed << dir; // not followed again by its grid's rescan
    for (auto it = m_followed.begin(); it != m_followed.end(); ++it) {
        Run &r = **it;
        if (r.dir != dir)
            continue;
        for (const auto &s : r.stages)
            m_curves->removeSeries(r.dir + QLatin1Char('|') + s->name);
        delete r.item;
        m_followed.erase(it);
        updateBanner();
        updateStatus();
        updateButtons();
        return;
    }
}

void TrainingPanel::chooseRunFolder()
{
    const QString start = QSettings().value(QStringLiteral("training/lastRunFolder")).toString();
    const QString dir
        = QFileDialog::getExistingDirectory(this, tr("Open a run folder (or a folder of runs)"),
            start.isEmpty() ? QString() : QFileInfo(start).absolutePath());
    if (dir.isEmpty())
        return;
    QString error;
    if (!followRun(dir, &error)) {
        appendMessage(error, 2);
        Q_EMIT errorReported(error);
    }
}

TrainingPanel::Stage &TrainingPanel::stage(Run &run, const QString &name)
{
    for (auto &s : run.stages)
        if (s->name == name)
            return *s;
    // The pipeline runs its stages one after another: a new one means the earlier ones are over,
    // whether or not their last progress tick said so.
    for (auto &earlier : run.stages)
        finishStage(run, *earlier, earlier->tLast);
    auto s = std::make_unique<Stage>();
    s->name = name;
    s->item = new QTreeWidgetItem(run.item, { compactStage(name) });
    s->item->setToolTip(0, name);
    s->item->setTextAlignment(1, Qt::AlignRight | Qt::AlignVCenter);
    s->item->setTextAlignment(2, Qt::AlignRight | Qt::AlignVCenter);
    if (name.startsWith(QLatin1String("student ")))
        s->epochs = run.studentEpochs;
    else if (name.startsWith(QLatin1String("teacher")))
        s->epochs = run.teacherEpochs;
    run.stages.push_back(std::move(s));
    return *run.stages.back();
}

void TrainingPanel::applyEvent(Run &run, const Event &e)
{
    const QString stageName = QString::fromStdString(e.stage);
    const double t = e.t > 0 ? e.t : nowSec();
    run.lastEventT = std::max(run.lastEventT, t);
    if (run.state == QLatin1String("waiting"))
        run.state = QStringLiteral("running");
    auto series = [&] { return run.dir + QLatin1Char('|') + stageName; };
    auto ensureSeries = [&] {
        if (!m_curves->hasSeries(series()))
            m_curves->addSeries(
                series(), run.label + QStringLiteral(": ") + compactStage(stageName));
    };
    switch (e.type) {
    case Event::Type::Step: {
        auto loss = [&](const char *k) {
            auto it = e.losses.find(k);
            return it == e.losses.end() ? std::nan("") : it->second;
        };
        ensureSeries();
        m_curves->addStep(series(), double(e.step), loss("task"), loss("kd"), loss("total"));
        Stage &s = stage(run, stageName);
        if (s.tStart <= 0)
            s.tStart = t;
        s.done = std::max<qint64>(s.done, e.step);
        s.epoch = e.epoch;
        s.tLast = t;
        if (!s.finished)
            run.lastStage = stageName;
        break;
    }
    case Event::Type::Epoch:
    case Event::Type::Eval: {
        for (const char *k : { "val_accuracy", "val_map" }) {
            auto it = e.metrics.find(k);
            if (it == e.metrics.end())
                continue;
            ensureSeries();
            m_curves->addEpoch(series(), double(e.epoch), it->second);
            if (std::string(k) == "val_map")
                m_curves->setMetricName(tr("validation mAP"));
            break;
        }
        Stage &s = stage(run, stageName);
        s.epoch = e.epoch;
        s.epochsDone = std::max<qint64>(s.epochsDone, e.epoch);
        s.tLast = t;
        auto acc = e.metrics.find("val_accuracy");
        if (acc != e.metrics.end()) {
            s.bestAccuracy = std::max(s.bestAccuracy, acc->second);
            if (s.finished) // the studio's own run can report the end before the log's epochs
                updateBanner();
        }
        break;
    }
    case Event::Type::Stage: {
        if (stageName == QLatin1String("message")) {
            auto w = e.metrics.find("warning");
            appendMessage(run.label + QStringLiteral(": ") + QString::fromStdString(e.message),
                w != e.metrics.end() && w->second > 0 ? 1 : 0);
            break;
        }
        Stage &s = stage(run, stageName);
        auto metric = [&](const char *k, double d) {
            auto it = e.metrics.find(k);
            return it == e.metrics.end() ? d : it->second;
        };
        const qint64 done = qint64(metric("done", 0));
        const qint64 total = qint64(metric("total", 0));
        if (!e.message.empty())
            s.message = QString::fromStdString(e.message);
        if (const qint64 n = epochsInMessage(s.message))
            s.epochs = n;
        if (total > 0)
            s.total = total;
        if (done == 0 && s.tStart <= 0)
            s.tStart = t;
        s.done = std::max(s.done, done);
        s.tLast = t;
        if (metric("finished", 0) > 0)
            finishStage(run, s, t);
        if (!s.finished)
            run.lastStage = stageName;
        break;
    }
    case Event::Type::Checkpoint: {
        const QString path = QString::fromStdString(e.path);
        auto best = e.metrics.find("best");
        Stage &s = stage(run, stageName);
        s.message = best != e.metrics.end() && best->second > 0 ? tr("best checkpoint saved")
                                                                : tr("checkpoint saved");
        break;
    }
    case Event::Type::Error:
        run.sawError = true;
        appendMessage(run.label + QStringLiteral(": ") + QString::fromStdString(e.message), 2);
        break;
    case Event::Type::Done: {
        run.ended = true;
        run.state
            = e.message.empty() ? QStringLiteral("finished") : QString::fromStdString(e.message);
        appendMessage(
            tr("%1: %2").arg(run.label, run.state), run.state == QLatin1String("finished") ? 0 : 1);
        Q_EMIT runEnded(run.dir, run.state);
        break;
    }
    default:
        break;
    }
}

void TrainingPanel::pollNow()
{
    // Reading and parsing a log happens on the poll thread (a long finished run's log is tens of
    // MB of JSON); the events come back here, in order, one poll at a time.
    if (m_pollInFlight) {
        m_pollAgain = true;
        return;
    }
    m_pollInFlight = true;
    ++m_ticks;
    if (m_ticks % 8 == 0) // every 2 s: shards of followed grids that started meanwhile
        for (const QString &grid : QStringList(m_grids))
            followGridShards(grid);
    std::vector<std::pair<QString, std::shared_ptr<EventLogReader>>> readers;
    for (auto &run : m_followed)
        readers.emplace_back(run->dir, run->reader);
    QMetaObject::invokeMethod(m_pollContext, [this, readers = std::move(readers)] {
        auto batches = std::make_shared<std::vector<std::pair<QString, EventLogReader::Batch>>>();
        for (const auto &[dir, reader] : readers) {
            EventLogReader::Batch batch;
            try {
                batch = reader->poll();
            } catch (const std::exception &e) {
                batch.messages.push_back(e.what());
            }
            batches->emplace_back(dir, std::move(batch));
        }
        // Back to the GUI thread; dropped if the panel is gone meanwhile.
        QMetaObject::invokeMethod(
            this, [this, batches] { applyBatches(*batches); }, Qt::QueuedConnection);
    });
}

void TrainingPanel::applyBatches(
    const std::vector<std::pair<QString, EventLogReader::Batch>> &batches)
{
    m_pollInFlight = false;
    int total = 0;
    for (const auto &[dir, batch] : batches) {
        Run *found = findRun(dir);
        if (!found)
            continue; // removed while its log was being read
        Run &run = *found;
        for (const std::string &m : batch.messages)
            appendMessage(run.label + QStringLiteral(": ") + QString::fromStdString(m), 1);
        for (const Event &e : batch.events)
            applyEvent(run, e);
        total += int(batch.events.size());
        // A run another process writes and that ended without a word (killed): its lock is gone.
        // Checked every 2 s, only while the log says it is still going.
        if (!run.ended && !run.own && m_ticks % 8 == 0 && run.state == QLatin1String("running")
            && !RunDirectory::inUse(run.dir.toStdString())) {
            run.ended = true;
            run.state = run.sawError ? tr("failed") : tr("stopped");
            Q_EMIT runEnded(run.dir, run.state);
        }
        if (!batch.events.empty() || run.ended)
            for (auto &st : run.stages)
                updateStageItem(run, *st);
        updateRunItem(run);
    }
    if (total > 0)
        Q_EMIT eventsRead(total);
    updateBanner();
    updateStatus();
    if (m_pollAgain) {
        m_pollAgain = false;
        pollNow();
    }
}

void TrainingPanel::finishStage(Run &run, Stage &s, double t)
{
    if (s.finished)
        return;
    s.finished = true;
    if (s.total > 0)
        s.done = s.total;
    if (s.name.startsWith(QLatin1String("student ")) && s.tStart > 0 && t >= s.tStart) {
        run.finishedCellTotal += t - s.tStart;
        ++run.finishedCells;
    }
    updateBanner(); // a model that ended at chance says so
    if (s.item)
        updateStageItem(run, s);
}

void TrainingPanel::onOwnStage(
    const QString &stageName, const QString &message, qint64 done, qint64 total, bool finished)
{
    // The observer's progress ticks are finer than the log's (data preparation, the teacher
    // cache): they move the bars of the studio's own run between polls.
    Run *run = findRun(m_ownDir);
    if (!run || stageName == QLatin1String("message"))
        return;
    Stage &s = stage(*run, stageName);
    const double t = nowSec();
    if (s.tStart <= 0)
        s.tStart = t;
    if (total > 0)
        s.total = total;
    s.done = std::max(s.done, done);
    s.tLast = t;
    if (!message.isEmpty())
        s.message = message;
    if (const qint64 n = epochsInMessage(s.message))
        s.epochs = n;
    if (finished)
        finishStage(*run, s, t);
    if (!s.finished)
        run->lastStage = stageName;
    updateStageItem(*run, s);
}

void TrainingPanel::onOwnFinished(
    const QString &dir, bool ok, bool cancelled, const QString &error, const QString &summary)
{
    pollNow(); // the last lines of the log (done, the final checkpoints)
    if (Run *run = findRun(dir)) {
        run->ended = true;
        run->state = ok && error.isEmpty() ? tr("finished")
            : ok                           ? tr("incomplete")
            : cancelled                    ? tr("cancelled")
                                           : tr("failed");
        updateRunItem(*run);
    }
    if (ok && !error.isEmpty()) {
        // Finished, but cells failed: the table is partial and says so; Continue retrains them.
        if (!summary.isEmpty())
            appendMessage(summary.trimmed(), 0);
        const QString message
            = tr("%1 is incomplete: %2\nContinue (beside Remove) trains the failed cells again.")
                  .arg(m_runs->runName(), error);
        appendMessage(message, 2);
        Q_EMIT errorReported(message);
    } else if (ok) {
        appendMessage(tr("%1 finished.").arg(m_runs->runName()), 0);
        if (!summary.isEmpty())
            appendMessage(summary.trimmed(), 0);
    } else if (cancelled) {
        appendMessage(tr("%1 stopped; the last checkpoints are in %2. Continue (beside Remove) "
                         "goes on from them.")
                          .arg(m_runs->runName(), dir),
            1);
    } else {
        const QString message = tr("The run failed: %1\nIts folder keeps what was done: Continue "
                                   "(beside Remove) goes on from there.")
                                    .arg(error);
        appendMessage(message, 2);
        Q_EMIT errorReported(message);
    }
    m_ownDir.clear();
    updateButtons();
    updateStatus();
}

} // namespace tkd
