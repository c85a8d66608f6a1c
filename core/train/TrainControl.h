#pragma once

#include "core/util/Progress.h"

#include <atomic>
#include <chrono>
#include <thread>

namespace tkd {

// Flags another thread (the studio's stop / pause buttons, the CLI's Ctrl-C) sets while training
// runs; trainers look at them between steps. Cancelling ends the stage at the next step with a
// checkpoint of where it got to, then tkd::Cancelled. Pausing holds the loop between steps
// (the last checkpoint stays valid) until resumed or cancelled.
class TrainControl
{
public:
    void requestCancel() { m_cancel.store(true); }
    void setPaused(bool paused) { m_pause.store(paused); }
    bool cancelRequested() const { return m_cancel.load(std::memory_order_relaxed); }
    bool paused() const { return m_pause.load(std::memory_order_relaxed); }
    void reset()
    {
        m_cancel.store(false);
        m_pause.store(false);
    }

    // Blocks while paused; returns true when the work should stop (cancelled meanwhile or before).
    bool waitWhilePaused() const
    {
        while (paused() && !cancelRequested())
            std::this_thread::sleep_for(std::chrono::milliseconds(20));
        return cancelRequested();
    }

    // A Progress whose cancel flag is this one (for data preparation, caches).
    Progress progress(
        std::function<void(const std::string &, int64_t, int64_t)> onProgress = {}) const
    {
        Progress p;
        p.onProgress = std::move(onProgress);
        p.cancel = &m_cancel;
        return p;
    }

private:
    std::atomic<bool> m_cancel { false };
    std::atomic<bool> m_pause { false };
};

} // namespace tkd
