#pragma once

#include "core/audio/PortAudioSession.h"

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tkd {

// Plays one mono clip through PortAudio. The samples are copied (and resampled if the device
// refuses the clip's rate) before the stream opens; the callback then only copies from that
// immutable buffer and advances an atomic position, so it never allocates, locks or throws.
class AudioPlayer
{
public:
    AudioPlayer();
    ~AudioPlayer();
    AudioPlayer(const AudioPlayer &) = delete;
    AudioPlayer &operator=(const AudioPlayer &) = delete;

    // Starts playing (stopping any current clip). deviceName: exact or substring; empty = default.
    // Throws tkd::Error naming the device when there is none or it cannot be opened.
    void play(
        const std::vector<float> &samples, int sampleRate, const std::string &deviceName = {});
    void stop();

    bool isPlaying() const { return m_playing.load(std::memory_order_acquire); }
    // Position in the clip, in seconds of the clip's own time base.
    double positionSec() const;
    // Samples handed to the device so far (at the device rate).
    int64_t framesDelivered() const { return m_pos.load(std::memory_order_acquire); }
    double deviceSampleRate() const { return m_deviceRate; }
    const std::string &deviceName() const { return m_deviceName; }

private:
    friend struct AudioPlayerCallbacks; // the PortAudio callbacks, defined in the .cpp
    // Real-time: copies the next frames (zero-padded at the end); returns false when done.
    bool fill(float *out, unsigned long frames);

    std::unique_ptr<PortAudioSession> m_session;
    void *m_stream = nullptr; // PaStream*
    std::vector<float> m_buffer; // at m_deviceRate; untouched while the stream runs
    std::atomic<int64_t> m_pos { 0 };
    std::atomic<bool> m_playing { false };
    double m_deviceRate = 0.0;
    std::string m_deviceName;
};

} // namespace tkd
