#pragma once

#include "core/features/FeatureExtractor.h"

#include <cstddef>
#include <cstdint>
#include <vector>

namespace tkd {

// The same front end fed in chunks (microphone, live panel): each frame is emitted as soon as its
// last sample arrives, and the frames are bit-identical to FeatureExtractor::compute() on the
// whole signal, whatever the chunk sizes. Not thread-safe: one feeder thread.
// For live use, call torch::set_num_threads(1) on the feeding thread (with OpenMP it is a
// per-thread setting): a push computes one 64-frame tile, too little to gain from intra-op
// threads, and waking them cost 1-9 ms per push on a busy 2-core machine against ~0.1 ms alone.
class StreamingFeatureExtractor
{
public:
    // Validates the config (throws tkd::Error("features.<key>", ...)).
    explicit StreamingFeatureExtractor(const FeatureConfig &config);

    const FeatureConfig &config() const { return m_extractor.config(); }

    // Appends n samples and returns the [k, C] CPU float32 frames they complete (k may be 0).
    // Work is proportional to n plus at most one window of pending samples.
    // samples == nullptr with n > 0 throws tkd::Error("features.input", ...).
    torch::Tensor push(const float *samples, size_t n);
    torch::Tensor push(const std::vector<float> &samples)
    {
        return push(samples.data(), samples.size());
    }

    // Forgets pending samples and counters: the next push starts a new signal.
    void reset();

    int64_t framesEmitted() const { return m_framesEmitted; }
    int64_t samplesPushed() const { return m_samplesPushed; }
    // Samples held for the next frame; always fewer than one window after a push.
    size_t pendingSamples() const { return m_pending.size(); }

private:
    FeatureExtractor m_extractor;
    // Samples from the start of the next (not yet complete) frame on: fewer than one window
    // between pushes, so the buffer stays small.
    std::vector<float> m_pending;
    int64_t m_framesEmitted = 0;
    int64_t m_samplesPushed = 0;
};

} // namespace tkd
