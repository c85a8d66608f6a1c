#pragma once

#include "core/audio/Resampler.h" // ResampleQuality

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

// The product's one time base: every clip, feature frame and attention map is at 16 kHz mono.
inline constexpr int kSampleRate = 16000;

struct AudioInfo
{
    int sampleRate = 0;
    int channels = 0;
    int64_t frames = 0; // per channel
    std::string format; // e.g. "WAV PCM 16-bit", "FLAC 24-bit", "OGG Vorbis"
    double durationSec() const { return sampleRate > 0 ? double(frames) / sampleRate : 0.0; }
};

// Reads the header only. Throws tkd::Error(path, reason) when the file is missing, unreadable,
// not audio, or empty, and when the header already shows truncation (WAV/AIFF data shorter
// than declared, an Ogg stream without its final page). Only when a header does not state
// the length (rare streamed files) is the file decoded to count its frames.
AudioInfo probeAudio(const std::string &path);

// Decodes anything libsndfile reads, mixes down to mono (the mean of the channels) and
// resamples to targetRate; the output has exactly round(frames * targetRate / fileRate)
// samples. Decodes and resamples block by block, so only the output is held whole.
// Throws tkd::Error(path, reason) for: missing/unreadable file, non-audio, zero-length,
// truncated data (fewer frames than the header declares), and NaN/Inf samples.
std::vector<float> loadAudio(const std::string &path, int targetRate = kSampleRate,
    ResampleQuality quality = ResampleQuality::Best);

// Resamples a mono signal. Identity when the rates are equal. Output length is
// round(n * toRate / fromRate). Throws tkd::Error("resample", reason) for bad rates.
// For a stream (microphone, long file) use Resampler directly.
std::vector<float> resample(const float *samples, size_t n, double fromRate, double toRate,
    ResampleQuality quality = ResampleQuality::Best);

// Lower-case file extensions (no dot) that the installed libsndfile decodes, e.g. "wav",
// "flac", "ogg", "opus", "mp3" (the last only where libsndfile was built with MPEG support).
// For folder scans and file dialogs.
std::vector<std::string> audioFileExtensions();

enum class WavFormat { Pcm16, Float32 };

// Writes a mono WAV atomically (temp file + rename), so a crash never leaves half a file.
// Pcm16 clips samples outside [-1, 1]. Throws tkd::Error(path, reason), also for NaN/Inf
// samples (which loadAudio would refuse) and a non-positive rate.
void writeWav(const std::string &path, const float *samples, size_t n, int sampleRate = kSampleRate,
    WavFormat format = WavFormat::Pcm16);
inline void writeWav(const std::string &path, const std::vector<float> &samples,
    int sampleRate = kSampleRate, WavFormat format = WavFormat::Pcm16)
{
    writeWav(path, samples.data(), samples.size(), sampleRate, format);
}

} // namespace tkd
