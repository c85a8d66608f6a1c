#include "core/infer/LiveSession.h"

#include "core/audio/AudioFile.h"
#include "core/util/BlasThreads.h"
#include "core/util/Error.h"

#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <filesystem>

namespace tkd {

namespace {
using Clock = std::chrono::steady_clock;
constexpr auto kPoll = std::chrono::milliseconds(10); // ring drain period
constexpr auto kStatusEvery = std::chrono::milliseconds(50);
} // namespace

LiveSession::LiveSession(
    std::shared_ptr<LiveModel> model, StreamingOptions options, Callbacks callbacks)
    : m_classifier(std::make_unique<StreamingClassifier>(std::move(model), options))
    , m_callbacks(std::move(callbacks))
    , m_options(options)
{
    m_historyCapacity
        = size_t(std::max(options.historySec, m_classifier->windowSec()) * kSampleRate);
}

LiveSession::~LiveSession()
{
    stop();
}

void LiveSession::setOptions(const StreamingOptions &options)
{
    options.validate();
    std::lock_guard<std::mutex> lock(m_mutex);
    m_options = options;
    m_optionsChanged = true;
}

StreamingOptions LiveSession::options() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_options;
}

LiveStatus LiveSession::lastStatus() const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    return m_status;
}

std::vector<float> LiveSession::recentAudio(double seconds) const
{
    std::lock_guard<std::mutex> lock(m_mutex);
    const size_t n = std::min(m_history.size(), size_t(std::max(0.0, seconds) * kSampleRate));
    return std::vector<float>(m_history.end() - std::ptrdiff_t(n), m_history.end());
}

std::string LiveSession::saveRecent(
    const std::string &folder, const std::string &label, double seconds) const
{
    if (folder.empty())
        throw Error("record folder", "no folder chosen");
    if (label.empty() || label.find('/') != std::string::npos || label == "." || label == "..")
        throw Error("record label", "'" + label + "' is not a usable folder name");
    const std::vector<float> audio = recentAudio(seconds);
    if (audio.empty())
        throw Error("record", "no audio captured yet");
    const auto now = std::chrono::system_clock::now();
    const std::time_t t = std::chrono::system_clock::to_time_t(now);
    const int ms
        = int(std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count()
            % 1000);
    std::tm tm {};
    localtime_r(&t, &tm);
    char stamp[64];
    std::snprintf(stamp, sizeof stamp, "%04d%02d%02d-%02d%02d%02d-%03d", tm.tm_year + 1900,
        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    const std::filesystem::path dir = std::filesystem::path(folder) / label;
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec)
        throw Error(dir.string(), "cannot create the folder: " + ec.message());
    const std::string path = (dir / (label + "-" + stamp + ".wav")).string();
    writeWav(path, audio);
    return path;
}

void LiveSession::launch(std::function<void()> body)
{
    // The caller stopped any previous worker (and may have opened the device since).
    m_stop = false;
    m_running = true;
    m_started = Clock::now();
    m_classifier->reset();
    m_hops = 0;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_history.clear();
        m_status = LiveStatus();
    }
    m_thread = std::thread([this, body = std::move(body)] {
        // One push computes a small tile: intra-op threads cost more than they give here
        // (see StreamingFeatureExtractor), and the GUI thread keeps the other core.
        torch::set_num_threads(1);
        setBlasThreads(1); // OpenBLAS's own pool busy-waits between calls (see BlasThreads.h)
        try {
            body();
        } catch (const std::exception &e) {
            if (m_callbacks.onError)
                m_callbacks.onError(e.what());
        }
        m_running = false;
        if (m_callbacks.onFinished)
            m_callbacks.onFinished();
    });
}

void LiveSession::startDevice(const CaptureOptions &capture)
{
    stop();
    auto stream = std::make_unique<CaptureStream>();
    stream->start(capture); // throws naming the device
    m_capture = std::move(stream);
    m_sourceName = m_capture->stats().device;
    launch([this] { runDevice(); });
}

void LiveSession::startFile(const std::string &path, bool realTime)
{
    std::vector<float> samples = loadAudio(path, kSampleRate);
    startSamples(std::move(samples), path, realTime);
}

void LiveSession::startSamples(std::vector<float> samples, const std::string &name, bool realTime)
{
    stop();
    m_sourceName = name;
    launch(
        [this, s = std::move(samples), realTime]() mutable { runSamples(std::move(s), realTime); });
}

void LiveSession::stop()
{
    m_stop = true;
    if (m_thread.joinable())
        m_thread.join();
    if (m_capture) {
        m_capture->stop();
        m_capture.reset();
    }
    m_running = false;
}

void LiveSession::wait()
{
    if (m_thread.joinable())
        m_thread.join();
}

void LiveSession::applyPendingOptions()
{
    StreamingOptions o;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        if (!m_optionsChanged)
            return;
        m_optionsChanged = false;
        o = m_options;
    }
    try {
        m_classifier->setOptions(o);
    } catch (const std::exception &e) {
        if (m_callbacks.onError)
            m_callbacks.onError(e.what());
    }
}

void LiveSession::feed(const float *samples, size_t n, Clock::time_point at)
{
    if (n == 0)
        return;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_history.insert(m_history.end(), samples, samples + n);
        if (m_history.size() > 2 * m_historyCapacity)
            m_history.erase(m_history.begin(), m_history.end() - std::ptrdiff_t(m_historyCapacity));
    }
    applyPendingOptions();
    std::vector<StreamingResult> results = m_classifier->push(samples, n);
    const auto &spec = m_classifier->lastSpectrogramFrames();
    // Spectrogram frames of this push travel with its first result (or alone, in an update
    // without a result, when no hop completed: hop < 0).
    if (results.empty()) {
        if (!spec.empty() && m_callbacks.onUpdate) {
            LiveUpdate u;
            u.result.hop = -1;
            u.result.timeSec = m_classifier->timeSec();
            u.spectrogram = spec;
            u.samplesAt = at;
            u.readyAt = Clock::now();
            m_callbacks.onUpdate(u);
        }
        return;
    }
    m_hops += int64_t(results.size());
    bool first = true;
    for (auto &r : results) {
        for (const auto &d : r.detections)
            if (m_callbacks.onDetection)
                m_callbacks.onDetection(d);
        if (m_callbacks.onUpdate) {
            LiveUpdate u;
            u.result = std::move(r);
            if (first)
                u.spectrogram = spec;
            first = false;
            u.samplesAt = at;
            u.readyAt = Clock::now();
            m_callbacks.onUpdate(u);
        }
    }
}

void LiveSession::publishStatus(LiveStatus s)
{
    s.source = m_sourceName;
    s.streamSec = m_classifier->timeSec();
    s.wallSec = std::chrono::duration<double>(Clock::now() - m_started).count();
    s.hops = m_hops;
    {
        std::lock_guard<std::mutex> lock(m_mutex);
        m_status = s;
    }
    if (m_callbacks.onStatus)
        m_callbacks.onStatus(s);
}

void LiveSession::runDevice()
{
    std::vector<float> block;
    auto nextStatus = Clock::now();
    float peak = 0.0f;
    while (!m_stop) {
        std::this_thread::sleep_for(kPoll);
        const size_t n = m_capture->read(block);
        const auto at = Clock::now();
        for (size_t i = 0; i < n; ++i)
            peak = std::max(peak, std::abs(block[i]));
        feed(block.data(), n, at);
        const auto now = Clock::now();
        if (now >= nextStatus) {
            const CaptureStats st = m_capture->stats();
            const CaptureHealth h = m_capture->health();
            LiveStatus s;
            s.rate = st.rate;
            s.peak = std::max(peak, st.peak);
            s.overflows = st.overflows;
            s.droppedFrames = st.droppedFrames;
            s.inputOverflows = st.inputOverflows;
            s.health = h.state;
            s.message = h.message;
            publishStatus(s);
            peak = 0.0f;
            nextStatus = now + kStatusEvery;
            if (h.state == CaptureHealth::State::Stopped)
                throw Error(
                    m_sourceName, h.message.empty() ? "the input stream stopped" : h.message);
        }
    }
}

void LiveSession::runSamples(std::vector<float> samples, bool realTime)
{
    // Real time: 10 ms blocks on the wall clock, like a microphone drained every 10 ms.
    // Otherwise: one hop's worth at a time, as fast as the model goes.
    const size_t block = realTime ? size_t(kSampleRate / 100)
                                  : size_t(std::max(1.0, m_classifier->hopSec() * kSampleRate));
    const auto start = Clock::now();
    auto nextStatus = start;
    size_t pos = 0;
    float peak = 0.0f;
    while (!m_stop && pos < samples.size()) {
        const size_t n = std::min(block, samples.size() - pos);
        if (realTime) {
            const auto due
                = start + std::chrono::microseconds(int64_t(double(pos + n) * 1e6 / kSampleRate));
            std::this_thread::sleep_until(due);
        }
        for (size_t i = pos; i < pos + n; ++i)
            peak = std::max(peak, std::abs(samples[i]));
        feed(samples.data() + pos, n, Clock::now());
        pos += n;
        const auto now = Clock::now();
        if (now >= nextStatus || pos >= samples.size()) {
            LiveStatus s;
            s.fromFile = true;
            s.rate = kSampleRate;
            s.peak = peak;
            s.health = CaptureHealth::State::Ok;
            publishStatus(s);
            peak = 0.0f;
            nextStatus = now + kStatusEvery;
        }
    }
}

} // namespace tkd
