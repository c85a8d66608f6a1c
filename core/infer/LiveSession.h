#pragma once

#include "core/audio/CaptureStream.h"
#include "core/infer/StreamingClassifier.h"

#include <atomic>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace tkd {

// What the live source is doing, reported a few times a second.
struct LiveStatus
{
    std::string source; // device name (as opened) or file path
    bool fromFile = false;
    double rate = 0.0; // device rate (the file's rate is always 16 kHz after decoding)
    float peak = 0.0f; // largest |sample| since the previous status
    uint64_t overflows = 0; // ring overflows (callbacks that lost samples) since start
    uint64_t droppedFrames = 0;
    uint64_t inputOverflows = 0; // reported by the driver
    CaptureHealth::State health = CaptureHealth::State::Idle;
    std::string message; // health message
    double streamSec = 0.0; // audio classified so far
    double wallSec = 0.0; // since start
    int64_t hops = 0;
};

// One hop as the live view wants it: the classifier's result, the spectrogram frames that
// arrived with it and when it was computed (for latency figures).
struct LiveUpdate
{
    StreamingResult result;
    std::vector<std::vector<float>> spectrogram; // log-mel frames since the previous update
    // steady_clock times: when the samples completing this window were read from the ring (or
    // pushed from the file) and when the result was ready.
    std::chrono::steady_clock::time_point samplesAt, readyAt;
};

// The live pipeline on its own thread: a microphone (CaptureStream) or a file, drained every
// few milliseconds into a StreamingClassifier. Inference runs on this worker, never in the
// audio callback or the caller's (GUI) thread; results leave through the callbacks, called on
// the worker thread (the studio turns them into queued signals).
class LiveSession
{
public:
    struct Callbacks
    {
        std::function<void(const LiveUpdate &)> onUpdate;
        std::function<void(const Detection &)> onDetection;
        std::function<void(const LiveStatus &)> onStatus;
        std::function<void(const std::string &)> onError; // the stream ended with an error
        std::function<void()> onFinished; // the worker is about to exit
    };

    LiveSession(std::shared_ptr<LiveModel> model, StreamingOptions options, Callbacks callbacks);
    ~LiveSession(); // stops

    // Opens the device here, so a bad name throws tkd::Error at once (naming the devices that
    // exist), then starts the worker.
    void startDevice(const CaptureOptions &capture);
    // Decodes the file here (tkd::Error for a missing or bad file), then streams it: realTime
    // paces it like a microphone; otherwise it goes as fast as the model allows.
    void startFile(const std::string &path, bool realTime);
    // Or samples already at 16 kHz mono.
    void startSamples(std::vector<float> samples, const std::string &name, bool realTime);

    void stop(); // asks the worker to end and joins it (safe to call twice)
    bool isRunning() const { return m_running.load(); }
    void wait(); // joins a worker that ends on its own (file sources)

    // Thresholds and smoothing may change while running (taken at the next drain).
    void setOptions(const StreamingOptions &options);
    StreamingOptions options() const;
    const std::vector<std::string> &classes() const { return m_classifier->classes(); }
    double windowSec() const { return m_classifier->windowSec(); }
    double hopSec() const { return m_classifier->hopSec(); }
    int spectrogramBins() const { return m_classifier->spectrogramBins(); }

    // The last `seconds` of audio, copied under a lock (any thread).
    std::vector<float> recentAudio(double seconds) const;
    // Writes recentAudio(seconds) to <folder>/<label>/<label>-<yyyymmdd-hhmmss-mmm>.wav (16 kHz
    // PCM16), creating the folders. Returns the path. tkd::Error when there is no audio yet or
    // the file cannot be written.
    std::string saveRecent(
        const std::string &folder, const std::string &label, double seconds) const;

    LiveStatus lastStatus() const;

private:
    void runDevice();
    void runSamples(std::vector<float> samples, bool realTime);
    void feed(const float *samples, size_t n, std::chrono::steady_clock::time_point at);
    void applyPendingOptions();
    void publishStatus(LiveStatus s);
    void launch(std::function<void()> body);

    std::unique_ptr<StreamingClassifier> m_classifier;
    Callbacks m_callbacks;
    std::unique_ptr<CaptureStream> m_capture;
    std::thread m_thread;
    std::atomic<bool> m_stop { false };
    std::atomic<bool> m_running { false };
    std::chrono::steady_clock::time_point m_started;
    std::string m_sourceName;
    int64_t m_hops = 0; // worker thread only

    mutable std::mutex m_mutex; // guards the fields below (never taken in the audio callback)
    std::vector<float> m_history;
    size_t m_historyCapacity = 0;
    StreamingOptions m_options;
    bool m_optionsChanged = false;
    LiveStatus m_status;
};

} // namespace tkd
