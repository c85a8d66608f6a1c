#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <string>

namespace tkd {

// How core reports on long work: plain callbacks plus a cancel flag, no Qt. The CLI turns the
// callback into a progress bar or log lines; the studio turns it into queued signals.
struct Progress
{
    // stage: short label ("synthesise", "features"); done/total: units of work so far.
    std::function<void(const std::string &stage, int64_t done, int64_t total)> onProgress;
    // Set from any thread to ask the work to stop at the next safe point (it throws
    // tkd::Cancelled).
    const std::atomic<bool> *cancel = nullptr;

    void report(const std::string &stage, int64_t done, int64_t total) const
    {
        if (onProgress)
            onProgress(stage, done, total);
    }
    bool cancelled() const { return cancel && cancel->load(std::memory_order_relaxed); }
    void throwIfCancelled() const;
};

} // namespace tkd
