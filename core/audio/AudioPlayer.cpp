#include "core/audio/AudioPlayer.h"

#include "core/audio/AudioFile.h"
#include "core/util/Error.h"

#include <portaudio.h>

#include <algorithm>
#include <cstring>

namespace tkd {

AudioPlayer::AudioPlayer()
    : m_session(std::make_unique<PortAudioSession>())
{ }

AudioPlayer::~AudioPlayer()
{
    stop();
}

struct AudioPlayerCallbacks
{
    static int stream(const void *, void *output, unsigned long frames,
        const PaStreamCallbackTimeInfo *, PaStreamCallbackFlags, void *self)
    {
        return static_cast<AudioPlayer *>(self)->fill(static_cast<float *>(output), frames)
            ? paContinue
            : paComplete;
    }
    static void finished(void *self)
    {
        static_cast<AudioPlayer *>(self)->m_playing.store(false, std::memory_order_release);
    }
};

bool AudioPlayer::fill(float *out, unsigned long frames)
{
    const int64_t pos = m_pos.load(std::memory_order_relaxed);
    const int64_t total = int64_t(m_buffer.size());
    const int64_t n = std::min<int64_t>(int64_t(frames), std::max<int64_t>(0, total - pos));
    if (n > 0)
        std::memcpy(out, m_buffer.data() + pos, size_t(n) * sizeof(float));
    if (n < int64_t(frames))
        std::memset(out + n, 0, size_t(int64_t(frames) - n) * sizeof(float));
    m_pos.store(pos + n, std::memory_order_release);
    return pos + n < total;
}

void AudioPlayer::play(
    const std::vector<float> &samples, int sampleRate, const std::string &deviceName)
{
    stop();
    const AudioDeviceInfo dev = findAudioDevice(deviceName, /*forOutput=*/true);

    PaStreamParameters params {};
    params.device = dev.index;
    params.channelCount = 1;
    params.sampleFormat = paFloat32;
    params.suggestedLatency = Pa_GetDeviceInfo(dev.index)->defaultLowOutputLatency;

    // Prefer the clip's own rate; fall back to the device's default rate and resample here,
    // outside the callback.
    double rate = sampleRate;
    if (Pa_IsFormatSupported(nullptr, &params, rate) != paFormatIsSupported)
        rate = dev.defaultSampleRate;
    if (rate == sampleRate)
        m_buffer = samples;
    else
        m_buffer
            = resample(samples.data(), samples.size(), sampleRate, rate, ResampleQuality::Medium);
    m_deviceRate = rate;
    m_deviceName = dev.name;
    m_pos.store(0, std::memory_order_release);

    PaStream *stream = nullptr;
    PaError err = Pa_OpenStream(&stream, nullptr, &params, rate, paFramesPerBufferUnspecified,
        paClipOff, &AudioPlayerCallbacks::stream, this);
    if (err != paNoError)
        throw Error(dev.name, std::string("cannot open for playback: ") + Pa_GetErrorText(err));
    Pa_SetStreamFinishedCallback(stream, &AudioPlayerCallbacks::finished);
    m_stream = stream;
    m_playing.store(true, std::memory_order_release);
    err = Pa_StartStream(stream);
    if (err != paNoError) {
        m_playing.store(false, std::memory_order_release);
        Pa_CloseStream(stream);
        m_stream = nullptr;
        throw Error(dev.name, std::string("cannot start playback: ") + Pa_GetErrorText(err));
    }
}

void AudioPlayer::stop()
{
    if (!m_stream)
        return;
    auto *stream = static_cast<PaStream *>(m_stream);
    if (Pa_IsStreamStopped(stream) == 0)
        Pa_AbortStream(stream);
    Pa_CloseStream(stream);
    m_stream = nullptr;
    m_playing.store(false, std::memory_order_release);
}

double AudioPlayer::positionSec() const
{
    return m_deviceRate > 0 ? double(m_pos.load(std::memory_order_acquire)) / m_deviceRate : 0.0;
}

} // namespace tkd
