#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

// The product's one time base: every clip, feature frame and attention map is at 16 kHz mono.
inline constexpr int kSampleRate = 16000;

enum class ResampleQuality { Best, Medium, Fastest }; // libsamplerate SINC_BEST / MEDIUM / FASTEST

struct AudioInfo
{
    int sampleRate = 0;
    int channels = 0;
    int64_t frames = 0;     // per channel
    std::string format;     // e.g. "WAV PCM 16-bit", "FLAC 24-bit", "OGG Vorbis"
    double durationSec() const { return sampleRate > 0 ? double(frames) / sampleRate : 0.0; }
};

// Reads the header only. Throws tkd::Error(path, reason) when the file is missing, unreadable,
// not audio, or empty.
AudioInfo probeAudio(const std::string &path);

// Decodes anything libsndfile reads, mixes down to mono and resamples to targetRate.
// Throws tkd::Error(path, reason) for: missing/unreadable file, non-audio, zero-length,
// truncated data, and NaN/Inf samples.
std::vector<float> loadAudio(const std::string &path, int targetRate = kSampleRate,
                             ResampleQuality quality = ResampleQuality::Best);

// Resamples a mono signal. Identity when the rates are equal. Output length is
// round(n * toRate / fromRate).
std::vector<float> resample(const float *samples, size_t n, double fromRate, double toRate,
                            ResampleQuality quality = ResampleQuality::Best);

enum class WavFormat { Pcm16, Float32 };

// Writes a mono WAV atomically (temp file + rename), so a crash never leaves half a file.
// Throws tkd::Error(path, reason).
void writeWav(const std::string &path, const float *samples, size_t n, int sampleRate = kSampleRate,
              WavFormat format = WavFormat::Pcm16);
inline void writeWav(const std::string &path, const std::vector<float> &samples,
                     int sampleRate = kSampleRate, WavFormat format = WavFormat::Pcm16)
{
    writeWav(path, samples.data(), samples.size(), sampleRate, format);
}

} // namespace tkd
