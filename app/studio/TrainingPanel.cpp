#include "TrainingPanel.h"

#include "RunController.h"

#include "core/train/EventLog.h"
#include "core/train/ExperimentConfig.h"
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

namespace {

double nowSec()
{
    return QDateTime::currentMSecsSinceEpoch() / 1000.0;
}

QString duration(double sec)
{
    if (!(sec >= 0) || !std::isfinite(sec))
        return QStringLiteral("-");
    const qint64 s = qint64(std::llround(sec));
    if (s < 60)
        return QStringLiteral("%1 s").arg(s);
    if (s < 3600)
        return QStringLiteral("%1 min %2 s").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
    return QStringLiteral("%1 h %2 min")
        .arg(s / 3600)
        .arg((s % 3600) / 60, 2, 10, QLatin1Char('0'));
}

// "student tc-resnet8 lambda=0.25 L=8 seed=1" -> "tc-resnet8 λ=0.25 L=8 seed 1".
QString compactStage(const QString &stage)
{
    QString s = stage;
    if (s.startsWith(QLatin1String("student ")))
        s.remove(0, 8);
    s.replace(QStringLiteral("lambda="), QStringLiteral("\u03bb="));
    s.replace(QStringLiteral("seed="), QStringLiteral("seed "));
    return s;
}

// Run folders are <YYYYMMDD-HHMMSS>-<name>-<hash8>[-N]: "name HH:MM:SS" tells overlaid runs apart.
QString runLabel(const QString &dir)
{
    const QString base = QFileInfo(dir).fileName();
    static const QRegularExpression re(
        QStringLiteral("^(\\d{8})-(\\d{2})(\\d{2})(\\d{2})-(.+)-([0-9a-f]{8})(-\\d+)?$"));
    const QRegularExpressionMatch m = re.match(base);
    if (!m.hasMatch())
        return base;
    return QStringLiteral("%1 %2:%3:%4%5")
        .arg(m.captured(5), m.captured(2), m.captured(3), m.captured(4), m.captured(7));
}

} // namespace

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

TrainingPanel::TrainingPanel(RunController *runs, QWidget *parent)
    : QWidget(parent)
    , m_runs(runs)
    , m_curves(new TrainingCurves)
    , m_tree(new QTreeWidget)
    , m_log(new QPlainTextEdit)
    , m_current(new QLabel(tr("No run. Run an experiment, the quick-start, or open a run folder.")))
    , m_progress(new QProgressBar)
    , m_eta(new QLabel)
    , m_pause(new QPushButton(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause")))
    , m_stop(new QPushButton(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop")))
    , m_remove(new QPushButton(tr("Remove")))
    , m_statusLabel(new QLabel)
    , m_poll(new QTimer(this))
    , m_pollContext(new QObject)
{
    m_pause->setCheckable(true);
    m_pause->setToolTip(tr("Hold training between two steps (the last checkpoint stays valid)"));
    m_stop->setToolTip(tr("Stop the run: the student being trained is checkpointed first"));
    m_remove->setToolTip(tr("Stop following the selected run and remove its curves"));
    auto *open
        = new QPushButton(style()->standardIcon(QStyle::SP_DirOpenIcon), tr("Open Run Folder..."));
    open->setToolTip(
        tr("Follow a run folder written by tkd train or by the studio (several overlay)"));
    m_progress->setRange(0, 1000);
    m_progress->setTextVisible(true);
    m_progress->setFormat(QStringLiteral("%p%"));
    m_progress->setMinimumWidth(160);
    m_current->setTextFormat(Qt::PlainText);
    m_current->setMinimumWidth(100);
    m_current->setSizePolicy(
        QSizePolicy::Ignored, QSizePolicy::Preferred); // long stage names elide, never push

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_pause);
    bar->addWidget(m_stop);
    bar->addSpacing(8);
    bar->addWidget(m_current, 1);
    bar->addWidget(m_progress);
    bar->addWidget(m_eta);
    bar->addSpacing(8);
    bar->addWidget(open);

    m_tree->setColumnCount(4);
    m_tree->setHeaderLabels({ tr("Run / stage"), tr("Progress"), tr("ETA"), tr("State") });
    m_tree->setRootIsDecorated(true);
    m_tree->setUniformRowHeights(true);
    m_tree->header()->setStretchLastSection(true);
    m_tree->setColumnWidth(0, 190);
    m_tree->setColumnWidth(1, 105);
    m_tree->setColumnWidth(2, 60);
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setPlaceholderText(
        tr("Messages from the runs: warnings, errors, checkpoints, results."));

    auto *side = new QWidget;
    auto *sideLayout = new QVBoxLayout(side);
    sideLayout->setContentsMargins(0, 0, 0, 0);
    auto *sideSplit = new QSplitter(Qt::Vertical);
    sideSplit->addWidget(m_tree);
    sideSplit->addWidget(m_log);
    sideSplit->setStretchFactor(0, 3);
    sideSplit->setStretchFactor(1, 2);
    sideLayout->addWidget(sideSplit, 1);
    auto *sideButtons = new QHBoxLayout;
    sideButtons->addStretch(1);
    sideButtons->addWidget(m_remove);
    sideLayout->addLayout(sideButtons);

    auto *split = new QSplitter(Qt::Horizontal);
    split->addWidget(m_curves);
    split->addWidget(side);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 1);
    split->setChildrenCollapsible(false);
    split->setSizes({ 680, 400 });
    side->setMinimumWidth(240);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(split, 1);

    connect(open, &QPushButton::clicked, this, &TrainingPanel::chooseRunFolder);
    connect(m_pause, &QPushButton::toggled, this, [this](bool on) { m_runs->setPaused(on); });
    connect(m_stop, &QPushButton::clicked, this, [this] {
        m_runs->stop();
        appendMessage(
            tr("Stopping %1: checkpointing the current stage ...").arg(m_runs->runName()), 1);
        updateButtons();
        updateStatus();
    });
    connect(m_remove, &QPushButton::clicked, this, [this] {
        QTreeWidgetItem *item = m_tree->currentItem();
        while (item && item->parent())
            item = item->parent();
        if (item)
            removeRun(item->data(0, Qt::UserRole).toString());
    });
    connect(m_tree, &QTreeWidget::currentItemChanged, this, [this] { updateButtons(); });

    connect(m_runs, &RunController::started, this, [this](const QString &name) {
        appendMessage(tr("Starting %1 ...").arg(name), 0);
        m_current->setText(tr("Starting %1 ...").arg(name));
        updateButtons();
        updateStatus();
    });
    connect(m_runs, &RunController::runFolderCreated, this, [this](const QString &dir) {
        m_ownDir = dir;
        QString error;
        if (followRun(dir, &error)) {
            if (Run *r = findRun(dir))
                r->own = true;
        } else {
            appendMessage(error, 2);
        }
        updateButtons();
    });
    connect(m_runs, &RunController::stageReported, this, &TrainingPanel::onOwnStage);
    connect(m_runs, &RunController::pausedChanged, this, [this](bool paused) {
        const QSignalBlocker block(m_pause);
        m_pause->setChecked(paused);
        m_pause->setText(paused ? tr("Resume") : tr("Pause"));
        m_pause->setIcon(
            style()->standardIcon(paused ? QStyle::SP_MediaPlay : QStyle::SP_MediaPause));
        updateStatus();
    });
    connect(m_runs, &RunController::finished, this, &TrainingPanel::onOwnFinished);

    m_pollContext->moveToThread(&m_pollThread);
    connect(&m_pollThread, &QThread::finished, m_pollContext, &QObject::deleteLater);
    m_pollThread.setObjectName(QStringLiteral("tkd-log-poll"));
    m_pollThread.start();
    m_poll->setInterval(250);
    connect(m_poll, &QTimer::timeout, this, &TrainingPanel::pollNow);
    m_poll->start();
    updateButtons();
    updateStatus();
}

TrainingPanel::~TrainingPanel()
{
    m_pollThread.quit();
    m_pollThread.wait();
}

bool TrainingPanel::isRunFolder(const QString &dir)
{
    const QDir d(dir);
    return QFileInfo(dir).isDir()
        && (d.exists(QStringLiteral("events.jsonl")) || d.exists(QStringLiteral("config.yaml")));
}

bool TrainingPanel::containsRuns(const QString &dir)
{
    // A `tkd grid` table folder (grid.json) stands for the run folders it lists.
    if (isRunFolder(dir) || QFileInfo(QDir(dir).filePath(QStringLiteral("grid.json"))).isFile())
        return true;
    for (const QFileInfo &sub : QDir(dir).entryInfoList(QDir::Dirs | QDir::NoDotAndDotDot))
        if (isRunFolder(sub.absoluteFilePath()))
            return true;
    return false;
}

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
        run->studentCells = int(c.students.size() * c.kd.lambdas.size() * c.clipLengths().size()
            * c.studentSeeds().size());
        if (c.data.source == "fsd50k")
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
    pollNow();
    Q_EMIT runFollowed(dir);
    return true;
}

void TrainingPanel::removeRun(const QString &dir)
{
    for (auto it = m_followed.begin(); it != m_followed.end(); ++it) {
        Run &r = **it;
        if (r.dir != dir)
            continue;
        for (const auto &s : r.stages)
            m_curves->removeSeries(r.dir + QLatin1Char('|') + s->name);
        delete r.item;
        m_followed.erase(it);
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
        s.tLast = t;
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
        run->state = ok ? tr("finished") : cancelled ? tr("cancelled") : tr("failed");
        updateRunItem(*run);
    }
    if (ok) {
        appendMessage(tr("%1 finished.").arg(m_runs->runName()), 0);
        if (!summary.isEmpty())
            appendMessage(summary.trimmed(), 0);
    } else if (cancelled) {
        appendMessage(
            tr("%1 stopped; the last checkpoints are in %2").arg(m_runs->runName(), dir), 1);
    } else {
        const QString message = tr("The run failed: %1").arg(error);
        appendMessage(message, 2);
        Q_EMIT errorReported(message);
    }
    m_ownDir.clear();
    updateButtons();
    updateStatus();
}

void TrainingPanel::updateStageItem(Run &run, Stage &s)
{
    Q_UNUSED(run);
    // A run that finished finished all its stages, whether or not each one said so in the log.
    if (run.ended && run.state == QLatin1String("finished"))
        s.finished = true;
    if (s.finished)
        s.item->setText(1, QStringLiteral("100%"));
    else if (s.total > 0)
        s.item->setText(
            1, QStringLiteral("%1/%2 (%3%)").arg(s.done).arg(s.total).arg(int(100 * s.fraction())));
    else
        s.item->setText(1, QString());
    const double eta = s.etaSec();
    s.item->setText(2, s.finished ? QString() : eta >= 0 ? duration(eta) : QStringLiteral("-"));
    QString state = s.finished ? tr("done") : s.message;
    if (!s.finished && s.epoch > 0 && !s.message.startsWith(QLatin1String("epoch")))
        state = tr("epoch %1").arg(s.epoch)
            + (s.message.isEmpty() ? QString() : QStringLiteral(" - ") + s.message);
    if (run.ended && !s.finished && run.state != QLatin1String("finished"))
        state = run.state;
    s.item->setText(3, state);
    s.item->setToolTip(3, state);
}

void TrainingPanel::updateRunItem(Run &run)
{
    QString state = run.state;
    if (run.own && m_runs->isRunning())
        state = m_runs->isPaused()    ? tr("paused")
            : m_runs->stopRequested() ? tr("stopping")
                                      : tr("running (here)");
    run.item->setText(3, state);
    int started = 0;
    for (const auto &s : run.stages)
        started += s->name.startsWith(QLatin1String("student "));
    if (run.studentCells > 0)
        run.item->setText(1, tr("%1/%2 students").arg(run.finishedCells).arg(run.studentCells));
    Q_UNUSED(started);
}

QString TrainingPanel::statusText() const
{
    return m_lastStatus;
}

void TrainingPanel::updateStatus()
{
    // The run to headline: the studio's own, else the most recently active followed one.
    const Run *active = findRun(m_ownDir);
    if (!active)
        for (const auto &r : m_followed)
            if (!r->ended && r->state == QLatin1String("running")
                && (!active || r->lastEventT > active->lastEventT))
                active = r.get();
    QString text;
    if (active && !active->lastStage.isEmpty()) {
        const Stage *s = nullptr;
        for (const auto &st : active->stages)
            if (st->name == active->lastStage)
                s = st.get();
        const QString who = active->own ? tr("Training %1").arg(active->label)
                                        : tr("Following %1").arg(active->label);
        QString where = compactStage(active->lastStage);
        if (s && s->epoch > 0)
            where += tr(", epoch %1").arg(s->epoch);
        // Overall ETA: this stage's remainder, plus the students not yet started at the mean
        // time of those finished (or of this one, projected).
        double eta = s ? s->etaSec() : -1.0;
        double runEta = -1.0;
        if (active->studentCells > 0 && eta >= 0) {
            int studentsSeen = 0;
            for (const auto &st : active->stages)
                studentsSeen += st->name.startsWith(QLatin1String("student "));
            double perCell = active->finishedCells > 0
                ? active->finishedCellTotal / active->finishedCells
                : -1.0;
            if (perCell < 0 && s && s->name.startsWith(QLatin1String("student ")) && s->done > 0)
                perCell = (s->tLast - s->tStart) / s->fraction();
            if (perCell >= 0)
                runEta = eta + perCell * std::max(0, active->studentCells - studentsSeen);
        }
        if (active->own && m_runs->isPaused())
            text = tr("%1: paused at %2").arg(who, where);
        else if (active->own && m_runs->stopRequested())
            text = tr("%1: stopping (checkpointing %2)").arg(who, where);
        else
            text = tr("%1: %2 (%3%)").arg(who, where).arg(s ? int(100 * s->fraction()) : 0);
        m_current->setText(text);
        m_current->setToolTip(s ? s->name + QStringLiteral(": ") + s->message : QString());
        m_progress->setValue(s ? int(1000 * s->fraction()) : 0);
        m_progress->setRange(0, s && s->total <= 0 && !s->finished ? 0 : 1000);
        m_eta->setText(eta >= 0
                ? (runEta >= 0 ? tr("ETA stage %1, run %2").arg(duration(eta), duration(runEta))
                               : tr("ETA %1").arg(duration(eta)))
                : QString());
        if (eta >= 0)
            text += QStringLiteral(", ") + m_eta->text();
    } else if (m_runs->isRunning()) {
        text = tr("Starting %1 ...").arg(m_runs->runName());
        m_current->setText(text);
        m_progress->setRange(0, 0);
        m_eta->clear();
    } else {
        m_progress->setRange(0, 1000);
        m_progress->setValue(m_followed.empty() ? 0 : 1000);
        m_eta->clear();
        if (!m_followed.empty()) {
            const Run &last = *m_followed.back();
            m_current->setText(tr("%1: %2").arg(last.label, last.state));
        }
        text = QString();
    }
    m_eta->setVisible(!m_eta->text().isEmpty());
    m_statusLabel->setText(text);
    m_statusLabel->setVisible(!text.isEmpty());
    if (text != m_lastStatus) {
        m_lastStatus = text;
        Q_EMIT statusChanged(text);
    }
}

void TrainingPanel::appendMessage(const QString &text, int level)
{
    const QString time = QDateTime::currentDateTime().toString(QStringLiteral("HH:mm:ss"));
    const char *colour = level >= 2 ? "#c0392b" : level == 1 ? "#b9770e" : "#404040";
    const QString prefix = level >= 2 ? tr("error: ") : level == 1 ? tr("warning: ") : QString();
    QString body = text.toHtmlEscaped();
    body.replace(QLatin1Char('\n'), QStringLiteral("<br>"));
    m_log->appendHtml(
        QStringLiteral("<span style=\"color:%1\"><span style=\"color:gray\">%2</span> %3%4</span>")
            .arg(QLatin1String(colour), time, prefix,
                text.contains(QLatin1Char('\n'))
                    ? QStringLiteral("<pre>%1</pre>").arg(text.toHtmlEscaped())
                    : body));
}

void TrainingPanel::updateButtons()
{
    const bool running = m_runs->isRunning();
    m_pause->setEnabled(running && !m_runs->stopRequested());
    m_stop->setEnabled(running && !m_runs->stopRequested());
    if (!running) {
        const QSignalBlocker block(m_pause);
        m_pause->setChecked(false);
        m_pause->setText(tr("Pause"));
        m_pause->setIcon(style()->standardIcon(QStyle::SP_MediaPause));
    }
    m_remove->setEnabled(m_tree->currentItem() != nullptr);
}

} // namespace tkd
