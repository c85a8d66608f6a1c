#pragma once

#include "core/train/TrainObserver.h"

#include <vector>

namespace tkd {

class EventLog;

// Writes every training report to a run's events.jsonl (DESIGN.md rule 1: the same events the
// GUI and the CLI see), and forwards it to further observers. Step events can be thinned to one
// in `stepStride` for long runs; epochs, stages, messages and checkpoints are always written.
class EventLogObserver : public TrainObserver
{
public:
    explicit EventLogObserver(EventLog *log, int stepStride = 1);

    void addForward(TrainObserver *observer);

    void onStep(const StepReport &r) override;
    void onEpoch(const EpochReport &r) override;
    void onStage(const StageReport &r) override;
    void onMessage(Level level, const std::string &text) override;
    void onCheckpoint(const std::string &stage, const std::string &path, bool best) override;

private:
    EventLog *m_log;
    int m_stepStride;
    std::vector<TrainObserver *> m_forward;
};

} // namespace tkd
