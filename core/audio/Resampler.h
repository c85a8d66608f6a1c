#pragma once

#include <cstddef>
#include <cstdint>
#include <vector>

struct SRC_STATE_tag; // libsamplerate's state; kept out of this header

namespace tkd {

enum class ResampleQuality { Best, Medium, Fastest }; // libsamplerate SINC_BEST / MEDIUM / FASTEST

// Streaming mono sample-rate converter over libsamplerate's full src_process API, so a long
// file (or a microphone) is converted block by block without holding the whole input.
// Feed blocks with process(); finish() flushes the filter tail so that the total output is
// exactly round(inputCount * toRate / fromRate) samples, as if the signal were followed by
// silence. Equal rates are an exact copy. Not thread-safe; one instance per stream.
class Resampler
{
public:
    // Throws tkd::Error("resample", reason) for non-positive rates or a ratio outside
    // libsamplerate's range (1/256 .. 256).
    Resampler(double fromRate, double toRate, ResampleQuality quality = ResampleQuality::Best);
    ~Resampler();
    Resampler(const Resampler &) = delete;
    Resampler &operator=(const Resampler &) = delete;

    double ratio() const { return m_ratio; }
    int64_t inputCount() const { return m_inputCount; }
    int64_t outputCount() const { return m_outputCount; }

    // Appends the output now available for n more input samples. The output lags the input
    // by the filter's half length until finish().
    void process(const float *input, size_t n, std::vector<float> &output);

    // Appends the remaining output; afterwards outputCount() == round(inputCount() * ratio()).
    // The stream must be reset() before more input.
    void finish(std::vector<float> &output);

    // Forgets all input, ready for a new stream.
    void reset();

    // Output length finish() will reach for n input samples.
    static int64_t outputLength(int64_t n, double fromRate, double toRate);

private:
    void run(const float *input, size_t n, bool endOfInput, std::vector<float> &output);

    SRC_STATE_tag *m_state = nullptr; // null when the rates are equal (copy)
    double m_fromRate = 0.0;
    double m_toRate = 0.0;
    double m_ratio = 1.0;
    int64_t m_inputCount = 0;
    int64_t m_outputCount = 0;
    bool m_finished = false;
};

} // namespace tkd
