#pragma once

#include "core/audio/CaptureStream.h"
#include "core/data/KeywordTake.h"

#include <atomic>
#include <functional>
#include <vector>

namespace tkd {

struct KeywordRecorderOptions
{
    CaptureOptions capture; // device and format (CaptureStream negotiates, resamples to 16 kHz)
    double countdownSec = 3.0; // before each take: time to get ready (0: none)
    double takeSec = 2.0; // audio captured per take
    TakeCheckOptions check;

    void validate() const; // tkd::Error("record.<key>", ...)
};

// Records one take of a keyword: a countdown, then the device is opened and takeSec of audio is
// drained from the CaptureStream's ring (the real-time callback only copies into it), then the
// take is level-checked and trimmed (checkTake). Blocking: call it on a worker thread (the CLI's
// main thread, the studio's recorder thread). The device is opened for each take, so nothing
// listens between takes.
class KeywordRecorder
{
public:
    struct Callbacks
    {
        // Whole seconds left of the countdown (3, 2, 1), then 0 as recording starts.
        std::function<void(int secondsLeft)> onCountdown;
        // A few times a second while recording: peak |sample| since the last call, and the
        // fraction of the take done.
        std::function<void(float peak, double fraction)> onLevel;
    };

    explicit KeywordRecorder(KeywordRecorderOptions options);
    const KeywordRecorderOptions &options() const { return m_options; }

    // Throws tkd::Error naming the device when it cannot be opened or stops delivering audio,
    // tkd::Cancelled when `cancel` is set meanwhile (nothing is kept).
    KeywordTake record(const Callbacks &callbacks = {}, const std::atomic<bool> *cancel = nullptr);

private:
    KeywordRecorderOptions m_options;
};

} // namespace tkd
