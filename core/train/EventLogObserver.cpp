#include "core/train/EventLogObserver.h"

#include "core/train/EventLog.h"

namespace tkd {

EventLogObserver::EventLogObserver(EventLog *log, int stepStride)
    : m_log(log)
    , m_stepStride(stepStride < 1 ? 1 : stepStride)
{ }

void EventLogObserver::addForward(TrainObserver *observer)
{
    if (observer)
        m_forward.push_back(observer);
}

void EventLogObserver::onStep(const StepReport &r)
{
    if (m_log && r.step % m_stepStride == 0) {
        Event e = Event::stepEvent(r.step, r.epoch,
            { { "task", r.task }, { "kd", r.kd }, { "logit_kd", r.logitKd }, { "total", r.total } },
            r.lr);
        e.stage = r.stage;
        m_log->append(std::move(e));
    }
    for (auto *o : m_forward)
        o->onStep(r);
}

void EventLogObserver::onEpoch(const EpochReport &r)
{
    if (m_log) {
        std::map<std::string, double> metrics;
        for (const auto &[k, v] : r.validation)
            metrics["val_" + k] = v;
        metrics["best"] = r.best ? 1.0 : 0.0;
        Event e = Event::epochEvent(r.epoch, r.step, r.trainLosses, metrics, r.lr);
        e.stage = r.stage;
        m_log->append(std::move(e));
    }
    for (auto *o : m_forward)
        o->onEpoch(r);
}

void EventLogObserver::onStage(const StageReport &r)
{
    // Stage starts and ends go to the log; the many intermediate progress ticks do not.
    if (m_log && (r.done == 0 || r.finished)) {
        Event e = Event::stageEvent(r.stage, r.message);
        e.metrics = { { "done", double(r.done) }, { "total", double(r.total) },
            { "elapsed_sec", r.elapsedSec } };
        if (r.finished)
            e.metrics["finished"] = 1.0;
        m_log->append(std::move(e));
    }
    for (auto *o : m_forward)
        o->onStage(r);
}

void EventLogObserver::onMessage(Level level, const std::string &text)
{
    if (m_log) {
        if (level == Level::Error) {
            m_log->append(Event::errorEvent(text));
        } else {
            Event e = Event::stageEvent("message", text);
            e.metrics = { { "warning", level == Level::Warning ? 1.0 : 0.0 } };
            m_log->append(std::move(e));
        }
    }
    for (auto *o : m_forward)
        o->onMessage(level, text);
}

void EventLogObserver::onCheckpoint(const std::string &stage, const std::string &path, bool best)
{
    if (m_log) {
        Event e = Event::checkpointEvent(-1, -1, path);
        e.stage = stage;
        e.metrics = { { "best", best ? 1.0 : 0.0 } };
        m_log->append(std::move(e));
    }
    for (auto *o : m_forward)
        o->onCheckpoint(stage, path, best);
}

} // namespace tkd
