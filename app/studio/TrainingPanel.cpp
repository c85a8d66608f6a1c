#include "TrainingPanel.h"

#include "TrainingPanelRun.h"

#include "RunController.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/train/EventLog.h"
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

namespace trainingpanel {

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

} // namespace trainingpanel

using namespace trainingpanel;

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
