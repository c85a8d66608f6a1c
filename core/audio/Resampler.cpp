#include "core/audio/Resampler.h"

#include "core/util/Error.h"

#include <samplerate.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <string>

namespace tkd {

namespace {

int converterType(ResampleQuality quality)
{
    switch (quality) {
    case ResampleQuality::Best:
        return SRC_SINC_BEST_QUALITY;
    case ResampleQuality::Medium:
        return SRC_SINC_MEDIUM_QUALITY;
    case ResampleQuality::Fastest:
        return SRC_SINC_FASTEST;
    }
    return SRC_SINC_BEST_QUALITY;
}

std::string rateText(double rate)
{
    char buf[64];
    std::snprintf(buf, sizeof buf, "%g Hz", rate);
    return buf;
}

} // namespace

int64_t Resampler::outputLength(int64_t n, double fromRate, double toRate)
{
    if (fromRate == toRate)
        return n;
    return int64_t(std::llround(double(n) * toRate / fromRate));
}

Resampler::Resampler(double fromRate, double toRate, ResampleQuality quality)
    : m_fromRate(fromRate)
    , m_toRate(toRate)
{
    if (!(fromRate > 0.0) || !(toRate > 0.0) || !std::isfinite(fromRate) || !std::isfinite(toRate))
        throw Error("resample",
            "sample rates must be positive, got " + rateText(fromRate) + " -> " + rateText(toRate));
    m_ratio = toRate / fromRate;
    if (fromRate == toRate)
        return;
    if (!src_is_valid_ratio(m_ratio))
        throw Error("resample",
            "cannot convert " + rateText(fromRate) + " to " + rateText(toRate)
                + ": libsamplerate supports ratios from 1/256 to 256");
    int err = 0;
    m_state = src_new(converterType(quality), 1, &err);
    if (!m_state)
        throw Error("resample", std::string("libsamplerate: ") + src_strerror(err));
}

Resampler::~Resampler()
{
    if (m_state)
        src_delete(m_state);
}

void Resampler::reset()
{
    if (m_state)
        src_reset(m_state);
    m_inputCount = 0;
    m_outputCount = 0;
    m_finished = false;
}

void Resampler::process(const float *input, size_t n, std::vector<float> &output)
{
    if (m_finished)
        throw Error("resample", "input after finish(); call reset() to start a new stream");
    if (n == 0)
        return;
    m_inputCount += int64_t(n);
    if (!m_state) {
        output.insert(output.end(), input, input + n);
        m_outputCount += int64_t(n);
        return;
    }
    run(input, n, false, output);
}

void Resampler::finish(std::vector<float> &output)
{
    if (m_finished)
        return;
    m_finished = true;
    if (!m_state)
        return;
    const int64_t target = outputLength(m_inputCount, m_fromRate, m_toRate);
    const size_t base = output.size();
    // A few input samples of silence past the end push the converter's position beyond the
    // last output we need, so the flushed tail always reaches `target`; the surplus is trimmed.
    // That is what end_of_input does internally anyway (the signal is zero past its end).
    const std::vector<float> silence(size_t(std::ceil(8.0 / m_ratio)) + 8, 0.0f);
    run(silence.data(), silence.size(), true, output);
    const int64_t produced = int64_t(output.size() - base);
    const int64_t excess = std::min(m_outputCount - target, produced);
    if (excess > 0) {
        output.resize(output.size() - size_t(excess));
        m_outputCount -= excess;
    } else if (m_outputCount < target) {
        output.resize(output.size() + size_t(target - m_outputCount), 0.0f);
        m_outputCount = target;
    }
}

void Resampler::run(const float *input, size_t n, bool endOfInput, std::vector<float> &output)
{
    static const float kNothing = 0.0f; // libsamplerate rejects null data pointers
    SRC_DATA data;
    std::memset(&data, 0, sizeof data);
    data.src_ratio = m_ratio;
    data.end_of_input = endOfInput ? 1 : 0;
    size_t used = 0;
    for (;;) {
        const size_t remaining = n - used;
        const size_t capacity = size_t(std::ceil(double(remaining) * m_ratio)) + 256;
        const size_t base = output.size();
        output.resize(base + capacity);
        data.data_in = remaining > 0 ? input + used : &kNothing;
        data.input_frames = long(remaining);
        data.data_out = output.data() + base;
        data.output_frames = long(capacity);
        const int err = src_process(m_state, &data);
        if (err != 0) {
            output.resize(base);
            throw Error("resample", std::string("libsamplerate: ") + src_strerror(err));
        }
        output.resize(base + size_t(data.output_frames_gen));
        used += size_t(data.input_frames_used);
        m_outputCount += data.output_frames_gen;
        const bool progressed = data.input_frames_used > 0 || data.output_frames_gen > 0;
        if (used == n && (!endOfInput || data.output_frames_gen == 0))
            break;
        if (!progressed)
            throw Error("resample", "libsamplerate made no progress"); // never loop forever
    }
}

} // namespace tkd
