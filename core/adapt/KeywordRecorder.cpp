#include "core/adapt/KeywordRecorder.h"

#include "core/audio/AudioFile.h"
#include "core/util/Error.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <thread>

namespace tkd {

namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(10); // ring drain period, as LiveSession
constexpr double kLevelEverySec = 0.05;
// A device that has not delivered the take this long after it should have is treated as stuck.
constexpr double kGraceSec = 3.0;

bool cancelled(const std::atomic<bool> *cancel)
{
    return cancel && cancel->load(std::memory_order_relaxed);
}
} // namespace

void KeywordRecorderOptions::validate() const
{
    if (!std::isfinite(countdownSec) || countdownSec < 0.0 || countdownSec > 30.0)
        throw Error("record.countdown", "must be between 0 and 30 seconds");
    if (!std::isfinite(takeSec) || takeSec < 0.5 || takeSec > 30.0)
        throw Error("record.seconds", "must be between 0.5 and 30 seconds");
}

KeywordRecorder::KeywordRecorder(KeywordRecorderOptions options)
    : m_options(std::move(options))
{
    m_options.validate();
}

KeywordTake KeywordRecorder::record(const Callbacks &cb, const std::atomic<bool> *cancel)
{
    const KeywordRecorderOptions &o = m_options;
    // The countdown first, with nothing open: a device that is not paced (a file-backed test
    // device) would otherwise have delivered the take before the user was told to speak.
    const auto countdownEnd
        = Clock::now() + std::chrono::microseconds(int64_t(o.countdownSec * 1e6));
    int shown = -1;
    while (Clock::now() < countdownEnd) {
        if (cancelled(cancel))
            throw Cancelled();
        const double left = std::chrono::duration<double>(countdownEnd - Clock::now()).count();
        const int whole = int(std::ceil(left));
        if (whole != shown && cb.onCountdown)
            cb.onCountdown(whole);
        shown = whole;
        std::this_thread::sleep_for(kPoll);
    }
    if (cb.onCountdown)
        cb.onCountdown(0);

    CaptureStream stream;
    CaptureOptions capture = o.capture;
    capture.ringSeconds = std::max(capture.ringSeconds, o.takeSec + 1.0);
    stream.start(capture); // throws naming the device
    const size_t want = size_t(std::lround(o.takeSec * kSampleRate));
    std::vector<float> take, block;
    take.reserve(want);
    const auto start = Clock::now();
    auto nextLevel = start;
    float peak = 0.0f;
    while (take.size() < want) {
        if (cancelled(cancel))
            throw Cancelled(); // the stream's destructor closes the device
        std::this_thread::sleep_for(kPoll);
        stream.read(block);
        for (float x : block)
            peak = std::max(peak, std::fabs(x));
        take.insert(take.end(), block.begin(),
            block.begin() + long(std::min(block.size(), want - take.size())));
        const auto now = Clock::now();
        if (now >= nextLevel) {
            if (cb.onLevel)
                cb.onLevel(peak, double(take.size()) / double(want));
            peak = 0.0f;
            nextLevel = now + std::chrono::microseconds(int64_t(kLevelEverySec * 1e6));
        }
        const CaptureHealth h = stream.health();
        const double waited = std::chrono::duration<double>(now - start).count();
        if (h.state == CaptureHealth::State::Stopped
            || (take.size() < want && waited > o.takeSec + kGraceSec))
            throw Error(stream.stats().device,
                h.state == CaptureHealth::State::Stopped
                    ? h.message
                    : "delivered " + std::to_string(take.size()) + " of " + std::to_string(want)
                        + " samples in " + std::to_string(int(waited))
                        + " s; the take was not saved");
    }
    stream.stop();
    if (cb.onLevel)
        cb.onLevel(peak, 1.0);
    return checkTake(std::move(take), o.check);
}

} // namespace tkd
