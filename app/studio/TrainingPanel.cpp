#include "TrainingPanel.h"

#include "TrainingPanelRun.h"

#include "RunController.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/train/EventLog.h"
#include "core/train/RunDirectory.h"
#include "widgets/TrainingCurves.h"
#include "widgets/WarningBanner.h"

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
#include <QResizeEvent>
#include <QSettings>
#include <QSplitter>
#include <QStyle>
#include <QTextCursor>
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
    , m_runProgress(new QProgressBar)
    , m_eta(new QLabel)
    , m_banner(new QLabel)
    , m_pause(new QPushButton(style()->standardIcon(QStyle::SP_MediaPause), tr("Pause")))
    , m_stop(new QPushButton(style()->standardIcon(QStyle::SP_MediaStop), tr("Stop")))
    , m_continue(
          new QPushButton(style()->standardIcon(QStyle::SP_MediaSeekForward), tr("Continue")))
    , m_remove(new QPushButton(tr("Remove")))
    , m_statusLabel(new QLabel)
    , m_poll(new QTimer(this))
    , m_pollContext(new QObject)
{
    m_pause->setCheckable(true);
    m_pause->setToolTip(tr("Hold training between two steps (the last checkpoint stays valid)"));
    m_stop->setToolTip(tr("Stop the run: the student being trained is checkpointed first"));
    m_remove->setToolTip(tr("Stop following the selected run and remove its curves"));
    m_continue->setObjectName(QStringLiteral("continueButton"));
    m_continue->setToolTip(
        tr("Continue the selected run where it stopped: finished cells are kept, "
           "the others go on from their last checkpoints (tkd train --resume)"));
    auto *open
        = new QPushButton(style()->standardIcon(QStyle::SP_DirOpenIcon), tr("Open Run Folder..."));
    open->setToolTip(
        tr("Follow a run folder written by tkd train or by the studio (several overlay)"));
    for (QProgressBar *bar : { m_progress, m_runProgress }) {
        bar->setRange(0, 1000);
        bar->setTextVisible(true);
        bar->setMinimumWidth(110);
    }
    m_progress->setFormat(tr("stage %p%"));
    m_progress->setToolTip(tr("The current stage (data, teacher, cache or one student)"));
    m_runProgress->setFormat(tr("run %p%"));
    m_runProgress->setToolTip(tr("The whole run: its student trainings done of all"));
    m_current->setTextFormat(Qt::PlainText);
    // On its own line under the bars, and it elides rather than pushing them: long stage names
    // never run under a bar.
    m_current->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_eta->setTextFormat(Qt::PlainText);
    m_statusLabel->setSizePolicy(QSizePolicy::Ignored, QSizePolicy::Preferred);
    m_statusLabel->setMinimumWidth(120);
    makeWarningBanner(m_banner, QStringLiteral("chanceBanner"));

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_pause);
    bar->addWidget(m_stop);
    bar->addSpacing(8);
    bar->addWidget(m_progress, 1);
    bar->addWidget(m_runProgress, 1);
    bar->addWidget(m_eta);
    bar->addSpacing(8);
    bar->addWidget(open);

    m_tree->setColumnCount(4);
    m_tree->setHeaderLabels({ tr("Run / stage"), tr("Progress"), tr("ETA"), tr("State") });
    m_tree->setRootIsDecorated(true);
    m_tree->setUniformRowHeights(true);
    // Progress and ETA always fit their text; the names and states take what is left.
    m_tree->header()->setStretchLastSection(true);
    m_tree->header()->setSectionResizeMode(1, QHeaderView::ResizeToContents);
    m_tree->header()->setSectionResizeMode(2, QHeaderView::ResizeToContents);
    m_tree->setColumnWidth(0, 170);
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
    sideButtons->addWidget(m_continue);
    sideButtons->addWidget(m_remove);
    sideLayout->addLayout(sideButtons);

    m_split = new QSplitter(Qt::Horizontal);
    m_split->addWidget(m_curves);
    m_split->addWidget(side);
    m_split->setStretchFactor(0, 3);
    m_split->setStretchFactor(1, 2);
    m_split->setChildrenCollapsible(false);
    m_split->setSizes({ 600, 440 });

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(bar);
    layout->addWidget(m_current);
    layout->addWidget(m_banner);
    layout->addWidget(m_split, 1);

    connect(open, &QPushButton::clicked, this, &TrainingPanel::chooseRunFolder);
    connect(m_pause, &QPushButton::toggled, this, [this](bool on) { m_runs->setPaused(on); });
    connect(m_stop, &QPushButton::clicked, this, [this] {
        m_runs->stop();
        appendMessage(
            tr("Stopping %1: checkpointing the current stage ...").arg(m_runs->runName()), 1);
        updateButtons();
        updateStatus();
    });
    connect(m_continue, &QPushButton::clicked, this, [this] {
        const QString dir = continuableRun();
        if (!dir.isEmpty())
            continueRun(dir);
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

void TrainingPanel::resizeEvent(QResizeEvent *event)
{
    QWidget::resizeEvent(event);
    // Narrow (a laptop, a docked panel): the stages go under the curves, so neither is cut off.
    const Qt::Orientation wanted = width() < 900 ? Qt::Vertical : Qt::Horizontal;
    if (m_split->orientation() != wanted)
        m_split->setOrientation(wanted);
}

void TrainingPanel::updateBanner()
{
    // A finished stage whose best validation accuracy is within 1.5 x chance (12.5% for 12
    // classes) has learned nothing: said plainly here, not only in the log.
    QStringList lines;
    for (const auto &r : m_followed)
        for (const auto &st : r->stages)
            if (r->classes > 1 && st->finished && st->bestAccuracy >= 0
                && st->bestAccuracy <= 1.5 / r->classes)
                lines << tr("%1: %2: best validation accuracy %3%, chance is %4% (1 of %5 "
                            "classes).")
                             .arg(r->label.toHtmlEscaped(), compactStage(st->name).toHtmlEscaped())
                             .arg(100.0 * st->bestAccuracy, 0, 'f', 1)
                             .arg(100.0 / r->classes, 0, 'f', 1)
                             .arg(r->classes);
    if (lines.isEmpty()) {
        m_banner->setVisible(false);
        m_banner->clear();
        return;
    }
    m_banner->setText(tr("<b>At chance: this has not learned.</b> %1<br>A model at chance "
                         "guesses; more epochs, more data (corpus speakers) or another teacher "
                         "are the usual fixes.")
                          .arg(lines.join(QStringLiteral("<br>"))));
    m_banner->setVisible(true);
}

double TrainingPanel::runFraction(const Run &run, const Stage *current) const
{
    if (run.ended && run.state == QLatin1String("finished"))
        return 1.0;
    if (run.studentCells <= 0)
        return current ? current->fraction() : -1.0;
    double cells = run.finishedCells;
    if (current && !current->finished && current->name.startsWith(QLatin1String("student ")))
        cells += std::max(0.0, current->fraction());
    return std::clamp(cells / run.studentCells, 0.0, run.ended ? 1.0 : 0.99);
}

void TrainingPanel::updateStageItem(Run &run, Stage &s)
{
    Q_UNUSED(run);
    // A run that finished finished all its stages, whether or not each one said so in the log.
    if (run.ended && run.state == QLatin1String("finished"))
        s.finished = true;
    const double f = s.fraction();
    if (s.finished)
        s.item->setText(1, QStringLiteral("100%"));
    else if (f < 0)
        s.item->setText(1, QString());
    else if (s.total > 0 && (s.epochs <= 0 || s.message.startsWith(QLatin1String("epoch"))))
        s.item->setText(
            1, QStringLiteral("%1/%2 (%3%)").arg(s.done).arg(s.total).arg(int(100 * f)));
    else
        s.item->setText(
            1, tr("epoch %1/%2 (%3%)").arg(s.epochsDone).arg(s.epochs).arg(int(100 * f)));
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
    const Run *shown = active ? active : m_followed.empty() ? nullptr : m_followed.back().get();
    const Stage *s = nullptr;
    if (shown)
        for (const auto &st : shown->stages)
            if (st->name == shown->lastStage)
                s = st.get();
    auto setBar = [](QProgressBar *bar, double f) {
        bar->setRange(0, f < 0 ? 0 : 1000); // unknown: a busy bar, never a made-up number
        bar->setValue(f < 0 ? 0 : int(1000 * f));
    };
    QString text;
    if (active && s) {
        const QString who = active->own ? tr("Training %1").arg(active->label)
                                        : tr("Following %1").arg(active->label);
        QString where = compactStage(active->lastStage);
        if (s->epoch > 0)
            where += s->epochs > 0 ? tr(", epoch %1 of %2").arg(s->epoch).arg(s->epochs)
                                   : tr(", epoch %1").arg(s->epoch);
        // Overall ETA: this stage's remainder, plus the students not yet started at the mean
        // time of those finished (or of this one, projected).
        const double eta = s->etaSec();
        double runEta = -1.0;
        if (active->studentCells > 0 && eta >= 0) {
            int studentsSeen = 0;
            for (const auto &st : active->stages)
                studentsSeen += st->name.startsWith(QLatin1String("student "));
            double perCell = active->finishedCells > 0
                ? active->finishedCellTotal / active->finishedCells
                : -1.0;
            if (perCell < 0 && s->name.startsWith(QLatin1String("student ")) && s->fraction() > 0)
                perCell = (s->tLast - s->tStart) / s->fraction();
            if (perCell >= 0)
                runEta = eta + perCell * std::max(0, active->studentCells - studentsSeen);
        }
        const double f = s->fraction();
        if (active->own && m_runs->isPaused())
            text = tr("%1: paused at %2").arg(who, where);
        else if (active->own && m_runs->stopRequested())
            text = tr("%1: stopping (checkpointing %2)").arg(who, where);
        else
            text = f >= 0 ? tr("%1: %2 (%3%)").arg(who, where).arg(int(100 * f))
                          : tr("%1: %2").arg(who, where);
        setBar(m_progress, f);
        const double rf = runFraction(*active, s);
        setBar(m_runProgress, rf);
        m_runProgress->setFormat(active->studentCells > 0 ? tr("run %p% (%1 of %2 students)")
                                                                .arg(active->finishedCells)
                                                                .arg(active->studentCells)
                                                          : tr("run %p%"));
        m_eta->setText(eta >= 0
                ? (runEta >= 0 ? tr("ETA stage %1, run %2").arg(duration(eta), duration(runEta))
                               : tr("ETA stage %1").arg(duration(eta)))
                : tr("ETA: after the first epoch"));
        text += QStringLiteral(", ") + m_eta->text();
        m_current->setText(text);
        m_current->setToolTip(s->name + QStringLiteral(": ") + s->message);
    } else if (m_runs->isRunning()) {
        text = tr("Starting %1 ...").arg(m_runs->runName());
        m_current->setText(text);
        setBar(m_progress, -1.0);
        setBar(m_runProgress, -1.0);
        m_eta->clear();
    } else {
        // Nothing running: the last run as it ended. A stopped run's bars stay where it stopped.
        m_eta->clear();
        if (shown) {
            const double rf = runFraction(*shown, s);
            setBar(m_progress, s ? std::max(0.0, s->fraction()) : (rf >= 0 ? rf : 0.0));
            setBar(m_runProgress, std::max(0.0, rf));
            m_current->setText(shown->state == QLatin1String("finished") || !s
                    ? tr("%1: %2").arg(shown->label, shown->state)
                    : tr("%1: %2 at %3").arg(shown->label, shown->state, compactStage(s->name)));
        } else {
            setBar(m_progress, 0.0);
            setBar(m_runProgress, 0.0);
        }
        text = QString();
    }
    m_eta->setVisible(!m_eta->text().isEmpty());
    m_statusLabel->setText(text);
    m_statusLabel->setToolTip(text);
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
    // The newest line in view, however narrow the log and however long its lines wrap.
    m_log->moveCursor(QTextCursor::End);
    m_log->ensureCursorVisible();
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
    m_continue->setEnabled(!continuableRun().isEmpty());
}

QString TrainingPanel::continuableRun() const
{
    QTreeWidgetItem *item = m_tree->currentItem();
    while (item && item->parent())
        item = item->parent();
    if (!item || m_runs->isRunning())
        return {};
    const Run *run = findRun(item->data(0, Qt::UserRole).toString());
    return run && run->state != QLatin1String("finished") ? run->dir : QString();
}

bool TrainingPanel::continueRun(const QString &dir, QString *error)
{
    QString why;
    if (!m_runs->resume(dir, &why)) {
        appendMessage(why, 2);
        if (error)
            *error = why;
        return false;
    }
    appendMessage(tr("Continuing %1 ...").arg(dir), 0);
    if (Run *run = findRun(dir)) {
        run->own = true;
        run->ended = false;
        run->state = tr("running");
        updateRunItem(*run);
    }
    updateButtons();
    return true;
}

} // namespace tkd
