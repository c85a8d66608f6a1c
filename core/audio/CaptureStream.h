#pragma once

#include "core/audio/PortAudioSession.h"
#include "core/audio/Resampler.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tkd {

// How the device's samples reach the callback. Int16 is the default because every capture
// device offers it natively (no conversion inside ALSA/PortAudio) and 16 bits are plenty for
// keyword spotting; Float32 keeps a 24-bit interface's extra resolution.
enum class CaptureSampleFormat { Int16, Float32 };

struct CaptureOptions
{
    std::string device; // exact name or case-insensitive substring; empty = default input
    double ringSeconds = 4.0; // ring capacity at the device rate: how long the consumer may lag
    double preferredRate = 16000; // tried first; otherwise the device's default rate
    int channels = 0; // 0 = mono if the device allows it, else 2, else all it has
    bool averageChannels = true; // mix down by the mean of the channels; false = first channel
    CaptureSampleFormat format = CaptureSampleFormat::Int16;
    double stallSeconds = 1.0; // no callback for this long while active = "stalled"
    ResampleQuality quality = ResampleQuality::Medium; // device rate -> 16 kHz in read()
};

struct CaptureStats
{
    uint64_t framesCaptured = 0; // frames the device delivered (device rate)
    uint64_t overflows = 0; // callbacks whose block did not fit the ring (part dropped)
    uint64_t droppedFrames = 0; // frames lost to those overflows
    uint64_t inputOverflows = 0; // callbacks flagged paInputOverflow (lost before reaching us)
    uint64_t callbacks = 0;
    uint64_t samplesRead = 0; // 16 kHz samples handed out by read()
    float peak = 0.0f; // largest |sample| since the previous stats() call
    double rate = 0.0; // device rate actually negotiated
    int channels = 0; // channels actually opened
    std::string device; // device actually opened
};

struct CaptureHealth
{
    enum class State {
        Idle, // not started (or stopped by the owner)
        Ok, // active and the callback arrives
        Stalled, // active, but no callback for longer than CaptureOptions::stallSeconds
        Stopped, // the stream ended on its own (device error or gone)
    };
    State state = State::Idle;
    std::string message; // human-readable; names the device
    double secondsSinceCallback = 0.0; // since the last callback (or since start if none yet)
};

// Microphone capture for the live view. The PortAudio callback only converts/mixes the block
// into preallocated scratch, copies it into a preallocated SPSC RingBuffer and updates atomics:
// it never allocates, locks, logs or throws (tests/core/audio/tst_rtsafety.cpp proves it).
// One consumer thread calls read() to drain the ring and resample to 16 kHz mono.
//
// Overflow policy: when the consumer lags by more than ringSeconds, the NEWEST frames are
// dropped (what is queued stays intact, in order) and counted in stats().overflows /
// droppedFrames, never silently.
//
// start(), stop(), read(), stats() and health() belong to one owner thread (or are externally
// serialised). A device that fails shows in health(); stop() + start() recovers in-process.
class CaptureStream
{
public:
    CaptureStream();
    ~CaptureStream();
    CaptureStream(const CaptureStream &) = delete;
    CaptureStream &operator=(const CaptureStream &) = delete;

    // Opens and starts the device (stopping any current stream first). Throws tkd::Error naming
    // the device when it does not exist, cannot take the format, or fails to open/start; the
    // object is then idle and start() may be tried again.
    void start(const CaptureOptions &options);
    void start(const std::string &deviceName = {}, double ringSeconds = 4.0);
    // Aborts and closes the stream (safe to call twice, or after the device failed). Returns
    // within about a second even when the driver is stuck (a device blocked mid-read): the
    // close then finishes on a background thread that owns the callback's buffers.
    void stop();
    // True while the stream is open and PortAudio reports it active.
    bool isRunning() const;

    // Drains everything queued, resampled to 16 kHz mono. out16k is replaced by the new samples;
    // returns their count. Allocates as needed (consumer side). Returns 0 when not started.
    size_t read(std::vector<float> &out16k);

    // Counters since start(); resets the peak hold.
    CaptureStats stats();
    CaptureHealth health() const;

    // Streams whose close is still waiting on a stuck driver (see stop()), process-wide.
    static int pendingCloses();

    // Test-only hooks (production cost: two relaxed loads per callback). callbackProbe, when
    // set, is called with true on entering and false on leaving the callback's own work, so a
    // test can flag "inside the audio callback" for its allocation hooks.
    static std::atomic<void (*)(bool inside)> callbackProbe;
    enum class TestFault { None = 0, AllocateOnce, AbortStream };
    // Injected into the next callback: AllocateOnce allocates (the negative control of the
    // real-time test); AbortStream makes the callback end the stream as a device error would.
    static std::atomic<int> testFault;

private:
    // Everything the callback touches: the ring, the mix-down scratch and the counters. Shared
    // with a closing thread (see stop()), so a stream stuck in the driver can never write into
    // freed memory.
    struct Shared;
    void closeStream();

    std::shared_ptr<Shared> m_shared;
    std::unique_ptr<PortAudioSession> m_session;
    void *m_stream = nullptr; // PaStream*
    CaptureOptions m_options; // .device = the device actually opened
    double m_rate = 0.0;
    // Consumer side.
    std::unique_ptr<Resampler> m_resampler;
    std::vector<float> m_drainScratch;
    uint64_t m_samplesRead = 0;
};

} // namespace tkd
