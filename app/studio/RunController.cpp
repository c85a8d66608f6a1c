#include "RunController.h"

#include "core/train/Quickstart.h"
#include "core/train/RunDirectory.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>
#include <QThread>

#include <chrono>
#include <cmath>

namespace tkd {

namespace {

QString qs(const std::string &s)
{
    return QString::fromStdString(s);
}

// Core's reports, on the training thread, leave as signals of the controller (which lives on the
// GUI thread, so every connection to it is queued). Progress ticks come many times a second
// from some stages: they are thinned to ten a second, keeping every start and finish.
class SignalObserver : public TrainObserver
{
public:
    explicit SignalObserver(RunController *controller)
        : m_c(controller)
    { }
    void setPipeline(const Pipeline *pipeline) { m_pipeline = pipeline; }

    void onStep(const StepReport &r) override
    {
        announceFolder();
        Q_EMIT m_c->stepReported(qs(r.stage), r.step, r.epoch, r.task, r.kd, r.total);
    }
    void onEpoch(const EpochReport &r) override
    {
        announceFolder();
        QString metric;
        double value = std::nan("");
        for (const char *k : { "accuracy", "map" }) {
            auto it = r.validation.find(k);
            if (it != r.validation.end()) {
                metric = QString::fromLatin1(k);
                value = it->second;
                break;
            }
        }
        Q_EMIT m_c->epochReported(qs(r.stage), r.epoch, metric, value, r.best);
    }
    void onStage(const StageReport &r) override
    {
        announceFolder();
        const auto now = std::chrono::steady_clock::now();
        const bool milestone
            = r.done == 0 || r.finished || r.stage != m_lastStage || r.message != m_lastMessage;
        if (!milestone && now - m_lastStageEmit < std::chrono::milliseconds(100))
            return;
        m_lastStageEmit = now;
        m_lastStage = r.stage;
        m_lastMessage = r.message;
        Q_EMIT m_c->stageReported(qs(r.stage), qs(r.message), r.done, r.total, r.finished);
    }
    void onMessage(Level level, const std::string &text) override
    {
        announceFolder();
        Q_EMIT m_c->messageReported(int(level), qs(text));
    }
    void onCheckpoint(const std::string &stage, const std::string &path, bool best) override
    {
        Q_EMIT m_c->checkpointWritten(qs(stage), qs(path), best);
    }

private:
    // The pipeline names its run folder before its first report; read on this same thread.
    void announceFolder()
    {
        if (m_announced || !m_pipeline || m_pipeline->runDir().empty())
            return;
        m_announced = true;
        Q_EMIT m_c->runFolderCreated(qs(m_pipeline->runDir()));
    }

    RunController *m_c;
    const Pipeline *m_pipeline = nullptr;
    bool m_announced = false;
    std::string m_lastStage, m_lastMessage;
    std::chrono::steady_clock::time_point m_lastStageEmit {};
};

// Torch errors carry a C++ backtrace after the message: the window shows the message.
QString readable(const char *what)
{
    QString s = QString::fromUtf8(what);
    const int bt = s.indexOf(QStringLiteral("\nException raised from"));
    if (bt > 0)
        s.truncate(bt);
    if (s.size() > 2000)
        s = s.left(2000) + QStringLiteral(" ...");
    return s.trimmed();
}

} // namespace

RunController::RunController(QObject *parent)
    : QObject(parent)
{
    connect(this, &RunController::runFolderCreated, this,
        [this](const QString &dir) { m_runDir = dir; });
}

RunController::~RunController()
{
    if (m_thread) {
        m_control.requestCancel();
        m_thread->wait();
        delete m_thread;
    }
}

QString RunController::defaultRunsDir()
{
    return QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation)
        + QStringLiteral("/runs");
}

ExperimentConfig RunController::quickstartConfig()
{
    return QuickstartSettings().config(); // what `tkd quickstart` runs with its defaults
}

PipelineOptions RunController::quickstartOptions()
{
    return QuickstartSettings().options({ "tkd-studio", "quickstart" });
}

bool RunController::startQuickstart(QString *error)
{
    return start(quickstartConfig(), quickstartOptions(), {}, error);
}

bool RunController::resume(const QString &runDir, QString *error)
{
    ExperimentConfig config;
    try {
        config = RunDirectory::open(runDir.toStdString()).config();
    } catch (const std::exception &e) {
        if (error)
            *error = tr("Cannot continue %1: %2").arg(runDir, readable(e.what()));
        return false;
    }
    PipelineOptions o;
    o.commandLine = { "tkd-studio", "resume", runDir.toStdString() };
    o.resumeRunDir = runDir.toStdString();
    return start(config, o, {}, error);
}

bool RunController::start(const ExperimentConfig &config, const PipelineOptions &options,
    const QString &baseDir, QString *error)
{
    if (m_thread) {
        if (error)
            *error = tr("A run is already going (%1); stop it or wait for it first.").arg(m_name);
        return false;
    }
    ExperimentConfig c = config;
    const QString runs = qs(c.output.runsDir);
    // A resumed run keeps its config as written: the folder is given, and the config's hash
    // must match the one it started with.
    if (options.resumeRunDir.empty() && QDir::isRelativePath(runs)) {
        const QString base
            = baseDir.isEmpty() ? QFileInfo(defaultRunsDir()).absolutePath() : baseDir;
        c.output.runsDir = QDir::cleanPath(QDir(base).absoluteFilePath(runs)).toStdString();
    }
    PipelineOptions o = options;
    if (o.commandLine.empty())
        o.commandLine = { "tkd-studio", "run" };

    m_control.reset();
    m_name = qs(c.name);
    m_runDir.clear();
    m_outcome = std::make_shared<Outcome>();
    auto outcome = m_outcome;
    TrainControl *control = &m_control;
    m_thread = QThread::create([this, c, o, outcome, control] {
        SignalObserver observer(this);
        std::unique_ptr<Pipeline> pipeline;
        try {
            pipeline = std::make_unique<Pipeline>(c, o, &observer, control);
            observer.setPipeline(pipeline.get());
            const PipelineResult result = pipeline->run();
            outcome->ok = true;
            if (!result.complete())
                outcome->error = qs(result.failureSummary()).trimmed();
            outcome->summary = qs(result.table());
            outcome->runDir = qs(result.runDir);
        } catch (const Cancelled &) {
            outcome->cancelled = true;
        } catch (const std::exception &e) {
            outcome->error = readable(e.what());
        } catch (...) {
            outcome->error = QStringLiteral("unknown error");
        }
        if (pipeline && outcome->runDir.isEmpty())
            outcome->runDir = qs(pipeline->runDir());
    });
    m_thread->setObjectName(QStringLiteral("tkd-training"));
    connect(m_thread, &QThread::finished, this, &RunController::onThreadFinished);
    m_clock.start();
    m_thread->start();
    Q_EMIT started(m_name);
    return true;
}

void RunController::onThreadFinished()
{
    Q_ASSERT(QThread::currentThread() == thread()); // GUI side: the training runs on m_thread
    if (!m_thread)
        return;
    m_thread->wait();
    delete m_thread;
    m_thread = nullptr;
    const Outcome o = *m_outcome;
    if (!o.runDir.isEmpty())
        m_runDir = o.runDir;
    if (m_control.paused()) {
        m_control.setPaused(false);
        Q_EMIT pausedChanged(false);
    }
    Q_EMIT finished(m_runDir, o.ok, o.cancelled, o.error, o.summary);
}

double RunController::elapsedSec() const
{
    return m_clock.isValid() ? m_clock.elapsed() / 1000.0 : 0.0;
}

void RunController::setPaused(bool paused)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (!m_thread || paused == m_control.paused())
        return;
    m_control.setPaused(paused);
    Q_EMIT pausedChanged(paused);
}

void RunController::stop()
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (m_thread)
        m_control.requestCancel(); // also ends a pause: the trainer checkpoints, then stops
}

bool RunController::waitForFinished(int msecs)
{
    QDeadlineTimer deadline(msecs);
    while (m_thread && !deadline.hasExpired()) {
        QCoreApplication::processEvents(QEventLoop::AllEvents, 50);
        if (m_thread && m_thread->isFinished())
            onThreadFinished();
        else
            QThread::msleep(10);
    }
    return m_thread == nullptr;
}

} // namespace tkd
