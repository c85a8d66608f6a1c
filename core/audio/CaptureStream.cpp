#include "core/audio/CaptureStream.h"

#include "core/audio/AudioFile.h"
#include "core/audio/RingBuffer.h"
#include "core/util/Error.h"

#include <portaudio.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <future>
#include <thread>

namespace tkd {

std::atomic<void (*)(bool)> CaptureStream::callbackProbe { nullptr };
std::atomic<int> CaptureStream::testFault { 0 };

namespace {

// Mix-down scratch, in frames: blocks larger than this are processed in pieces.
constexpr size_t kScratchFrames = 4096;
// How long stop() waits for PortAudio to close before leaving it to a background thread.
constexpr int kCloseWaitMs = 1000;

int64_t steadyNowNs()
{
    // steady_clock::now() is clock_gettime(CLOCK_MONOTONIC) through the vDSO: no lock, no
    // allocation, so the callback may call it.
    return std::chrono::duration_cast<std::chrono::nanoseconds>(
        std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

std::atomic<int> g_pendingCloses { 0 };

// Sink that makes the negative-control allocation observable, so it cannot be optimised away.
std::atomic<int *> g_faultSink { nullptr };

std::string describeRate(double r)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g Hz", r);
    return buf;
}

} // namespace

struct CaptureStream::Shared
{
    Shared(size_t ringFrames, int channels, const CaptureOptions &options)
        : ring(ringFrames)
        , mixScratch(kScratchFrames, 0.0f)
        , channels(size_t(channels))
        , isInt16(options.format == CaptureSampleFormat::Int16)
        , averageChannels(options.averageChannels)
    {
        lastCallbackNs.store(steadyNowNs());
    }

    // Real-time: everything the callback does.
    int onAudio(const void *input, unsigned long frames, unsigned long statusFlags) noexcept;

    static int streamCallback(const void *input, void *, unsigned long frames,
        const PaStreamCallbackTimeInfo *, PaStreamCallbackFlags flags, void *self) noexcept
    {
        return static_cast<Shared *>(self)->onAudio(input, frames, flags);
    }
    static void finishedCallback(void *self) noexcept
    {
        static_cast<Shared *>(self)->finished.store(true, std::memory_order_release);
    }

    RingBuffer ring;
    std::vector<float> mixScratch;
    const size_t channels;
    const bool isInt16;
    const bool averageChannels;

    std::atomic<uint64_t> framesCaptured { 0 };
    std::atomic<uint64_t> overflows { 0 };
    std::atomic<uint64_t> inputOverflows { 0 };
    std::atomic<uint64_t> callbacks { 0 };
    std::atomic<float> peak { 0.0f };
    std::atomic<int64_t> lastCallbackNs { 0 }; // steady clock
    std::atomic<bool> finished { false }; // PortAudio's stream-finished callback ran
};

CaptureStream::CaptureStream() = default;

CaptureStream::~CaptureStream()
{
    stop();
}

int CaptureStream::Shared::onAudio(
    const void *input, unsigned long frames, unsigned long statusFlags) noexcept
{
    void (*probe)(bool) = callbackProbe.load(std::memory_order_relaxed);
    if (probe)
        probe(true);

    int result = paContinue;
    if (testFault.load(std::memory_order_relaxed) != 0) {
        const int fault = testFault.exchange(0, std::memory_order_relaxed);
        if (fault == int(TestFault::AllocateOnce)) {
            g_faultSink.store(new int(1), std::memory_order_relaxed);
            delete g_faultSink.exchange(nullptr, std::memory_order_relaxed);
        } else if (fault == int(TestFault::AbortStream)) {
            result = paAbort;
        }
    }

    lastCallbackNs.store(steadyNowNs(), std::memory_order_relaxed);
    if (statusFlags & paInputOverflow)
        inputOverflows.fetch_add(1, std::memory_order_relaxed);

    float blockPeak = 0.0f;
    bool dropped = false;
    for (size_t done = 0; done < frames;) {
        const size_t n = std::min(size_t(frames) - done, kScratchFrames);
        float *mix = mixScratch.data();
        const float *block = mix;
        if (!input) {
            std::memset(mix, 0, n * sizeof(float)); // keep the time base: a gap is silence
        } else if (isInt16) {
            const int16_t *src = static_cast<const int16_t *>(input) + done * channels;
            if (channels == 1 || !averageChannels) {
                for (size_t i = 0; i < n; ++i)
                    mix[i] = float(src[i * channels]) * (1.0f / 32768.0f);
            } else {
                const float scale = 1.0f / (32768.0f * float(channels));
                for (size_t i = 0; i < n; ++i) {
                    int32_t sum = 0;
                    for (size_t c = 0; c < channels; ++c)
                        sum += src[i * channels + c];
                    mix[i] = float(sum) * scale;
                }
            }
        } else {
            const float *src = static_cast<const float *>(input) + done * channels;
            if (channels == 1) {
                block = src; // already mono float: copy straight into the ring
            } else if (!averageChannels) {
                for (size_t i = 0; i < n; ++i)
                    mix[i] = src[i * channels];
            } else {
                const float scale = 1.0f / float(channels);
                for (size_t i = 0; i < n; ++i) {
                    float sum = 0.0f;
                    for (size_t c = 0; c < channels; ++c)
                        sum += src[i * channels + c];
                    mix[i] = sum * scale;
                }
            }
        }
        for (size_t i = 0; i < n; ++i)
            blockPeak = std::max(blockPeak, std::fabs(block[i]));
        if (ring.write(block, n) < n)
            dropped = true;
        done += n;
    }

    if (dropped)
        overflows.fetch_add(1, std::memory_order_relaxed);
    // Peak hold: raise it, never lower it (the consumer resets it); a lock-free CAS loop.
    float held = peak.load(std::memory_order_relaxed);
    while (blockPeak > held
        && !peak.compare_exchange_weak(held, blockPeak, std::memory_order_relaxed)) { }
    framesCaptured.fetch_add(frames, std::memory_order_relaxed);
    callbacks.fetch_add(1, std::memory_order_release);

    if (probe)
        probe(false);
    return result;
}

void CaptureStream::start(const std::string &deviceName, double ringSeconds)
{
    CaptureOptions options;
    options.device = deviceName;
    options.ringSeconds = ringSeconds;
    start(options);
}

void CaptureStream::start(const CaptureOptions &options)
{
    stop();
    if (!(options.ringSeconds > 0.0) || options.ringSeconds > 600.0)
        throw Error("capture ring seconds",
            "must be in (0, 600], got " + std::to_string(options.ringSeconds));
    if (!(options.preferredRate > 0.0) || options.preferredRate > 768000.0)
        throw Error("capture rate",
            "must be in (0, 768000] Hz, got " + std::to_string(options.preferredRate));
    if (options.channels < 0)
        throw Error("capture channels",
            "must be 0 (automatic) or positive, got " + std::to_string(options.channels));
    if (!(options.stallSeconds > 0.0))
        throw Error("capture stall seconds", "must be positive");

    // A fresh PortAudio session per start: when nobody else holds one, PortAudio re-enumerates
    // and a re-plugged microphone shows up without restarting the process.
    auto session = std::make_unique<PortAudioSession>();
    const AudioDeviceInfo dev = findAudioDevice(options.device, /*forOutput=*/false);
    const PaDeviceInfo *info = Pa_GetDeviceInfo(dev.index);
    if (!info || info->maxInputChannels <= 0)
        throw Error(dev.name, "is no longer available for capture");

    PaStreamParameters params {};
    params.device = dev.index;
    params.sampleFormat = options.format == CaptureSampleFormat::Int16 ? paInt16 : paFloat32;
    params.suggestedLatency = info->defaultLowInputLatency;

    auto supported = [&](int channels, double rate) {
        params.channelCount = channels;
        return Pa_IsFormatSupported(&params, nullptr, rate) == paFormatIsSupported;
    };
    std::vector<int> channelChoices;
    if (options.channels > 0) {
        if (options.channels > info->maxInputChannels)
            throw Error(dev.name,
                "cannot capture " + std::to_string(options.channels) + " channels (the device has "
                    + std::to_string(info->maxInputChannels) + ")");
        channelChoices = { options.channels };
    } else {
        channelChoices = { 1, std::min(2, info->maxInputChannels), info->maxInputChannels };
    }
    // Negotiate: the preferred rate (16 kHz: no resampling at all), else the device default.
    int channels = 0;
    double rate = 0.0;
    for (double r : { options.preferredRate, info->defaultSampleRate }) {
        for (int c : channelChoices)
            if (supported(c, r)) {
                channels = c;
                rate = r;
                break;
            }
        if (channels > 0)
            break;
    }
    if (channels == 0)
        throw Error(dev.name,
            "cannot capture at " + describeRate(options.preferredRate) + " nor at its default "
                + describeRate(info->defaultSampleRate) + " with "
                + std::to_string(channelChoices.front())
                + (channelChoices.size() > 1 ? " or more" : "") + " channels");
    params.channelCount = channels;

    // Everything the callback touches is allocated here, before the stream exists.
    const size_t ringFrames
        = std::max<size_t>(size_t(std::ceil(options.ringSeconds * rate)), kScratchFrames);
    auto shared = std::make_shared<Shared>(ringFrames, channels, options);
    m_drainScratch.assign(std::min<size_t>(shared->ring.capacity(), size_t(1) << 16), 0.0f);
    m_resampler = std::make_unique<Resampler>(rate, double(kSampleRate), options.quality);
    m_shared = shared;
    m_options = options;
    m_options.device = dev.name; // what was actually opened
    m_rate = rate;
    m_samplesRead = 0;

    PaStream *stream = nullptr;
    PaError err = Pa_OpenStream(&stream, &params, nullptr, rate, paFramesPerBufferUnspecified,
        paClipOff, &Shared::streamCallback, shared.get());
    if (err != paNoError)
        throw Error(dev.name,
            std::string("cannot open for capture at ") + describeRate(rate) + ": "
                + Pa_GetErrorText(err));
    Pa_SetStreamFinishedCallback(stream, &Shared::finishedCallback);
    m_stream = stream;
    m_session = std::move(session);
    // The stall clock starts now, not when the buffers were allocated (opening can be slow).
    shared->lastCallbackNs.store(steadyNowNs(), std::memory_order_relaxed);
    err = Pa_StartStream(stream);
    if (err != paNoError) {
        closeStream();
        throw Error(dev.name, std::string("cannot start capture: ") + Pa_GetErrorText(err));
    }
}

void CaptureStream::closeStream()
{
    if (!m_stream)
        return;
    // Abort, not stop: capture has nothing to drain. PortAudio's abort joins the callback
    // thread, which never returns while the driver is stuck in a read (seen with ALSA on a
    // device that stops delivering), so the close runs on its own thread. That thread owns the
    // stream, the callback's buffers and a PortAudio reference until it finishes; we wait for
    // it a little and otherwise let it finish whenever the driver lets go.
    struct Closing
    {
        PaStream *stream;
        std::shared_ptr<Shared> shared;
        std::unique_ptr<PortAudioSession> session;
        std::promise<void> done;
    };
    auto closing = std::make_shared<Closing>(
        Closing { static_cast<PaStream *>(m_stream), m_shared, std::move(m_session), {} });
    std::future<void> done = closing->done.get_future();
    m_stream = nullptr;
    g_pendingCloses.fetch_add(1);
    std::thread closer([closing] {
        if (Pa_IsStreamStopped(closing->stream) == 0)
            Pa_AbortStream(closing->stream);
        Pa_CloseStream(closing->stream);
        closing->session.reset();
        g_pendingCloses.fetch_sub(1);
        closing->done.set_value();
    });
    if (done.wait_for(std::chrono::milliseconds(kCloseWaitMs)) == std::future_status::ready)
        closer.join();
    else
        closer.detach();
}

int CaptureStream::pendingCloses()
{
    return g_pendingCloses.load();
}

void CaptureStream::stop()
{
    closeStream();
    // The ring and counters stay, so stats() and read() after stop() still tell what happened.
}

bool CaptureStream::isRunning() const
{
    return m_stream && Pa_IsStreamActive(static_cast<PaStream *>(m_stream)) == 1;
}

size_t CaptureStream::read(std::vector<float> &out16k)
{
    out16k.clear();
    if (!m_shared || !m_resampler)
        return 0;
    RingBuffer &ring = m_shared->ring;
    // Drain only what was queued when we started, so a producer faster than us (a device that
    // is not paced) cannot keep this loop going forever.
    size_t todo = ring.readAvailable();
    while (todo > 0) {
        const size_t got = ring.read(m_drainScratch.data(), std::min(todo, m_drainScratch.size()));
        if (got == 0)
            break;
        m_resampler->process(m_drainScratch.data(), got, out16k);
        todo -= got;
    }
    m_samplesRead += out16k.size();
    return out16k.size();
}

CaptureStats CaptureStream::stats()
{
    CaptureStats s;
    s.samplesRead = m_samplesRead;
    if (!m_shared)
        return s;
    const Shared &sh = *m_shared;
    s.framesCaptured = sh.framesCaptured.load(std::memory_order_relaxed);
    s.overflows = sh.overflows.load(std::memory_order_relaxed);
    s.droppedFrames = sh.ring.droppedSamples();
    s.inputOverflows = sh.inputOverflows.load(std::memory_order_relaxed);
    s.callbacks = sh.callbacks.load(std::memory_order_acquire);
    s.peak = m_shared->peak.exchange(0.0f, std::memory_order_relaxed);
    s.rate = m_rate;
    s.channels = int(sh.channels);
    s.device = m_options.device;
    return s;
}

CaptureHealth CaptureStream::health() const
{
    CaptureHealth h;
    if (!m_stream) {
        h.state = CaptureHealth::State::Idle;
        h.message = "not capturing";
        return h;
    }
    const std::string &device = m_options.device;
    h.secondsSinceCallback
        = double(steadyNowNs() - m_shared->lastCallbackNs.load(std::memory_order_relaxed)) * 1e-9;
    const PaError active = Pa_IsStreamActive(static_cast<PaStream *>(m_stream));
    if (active != 1 || m_shared->finished.load(std::memory_order_acquire)) {
        h.state = CaptureHealth::State::Stopped;
        h.message = device + ": the capture stream stopped"
            + (active < 0 ? std::string(" (") + Pa_GetErrorText(active) + ")"
                          : std::string(" (device error or unplugged)"))
            + "; restart the capture";
        return h;
    }
    if (h.secondsSinceCallback > m_options.stallSeconds) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%.1f", h.secondsSinceCallback);
        h.state = CaptureHealth::State::Stalled;
        h.message
            = device + ": no audio for " + buf + " s (device unplugged, blocked or suspended?)";
        return h;
    }
    h.state = CaptureHealth::State::Ok;
    h.message = device + ": capturing";
    return h;
}

} // namespace tkd
