#include "core/features/StreamingFeatureExtractor.h"

#include "core/util/Error.h"

namespace tkd {

StreamingFeatureExtractor::StreamingFeatureExtractor(const FeatureConfig &config)
    : m_extractor(config)
{
    m_pending.reserve(size_t(m_extractor.config().windowSamples()) * 2);
}

void StreamingFeatureExtractor::reset()
{
    m_pending.clear();
    m_framesEmitted = 0;
    m_samplesPushed = 0;
}

torch::Tensor StreamingFeatureExtractor::push(const float *samples, size_t n)
{
    const FeatureConfig &cfg = m_extractor.config();
    if (n > 0 && samples == nullptr)
        throw Error(
            "features.input", "push of " + std::to_string(n) + " samples from a null pointer");

    m_pending.insert(m_pending.end(), samples, samples + n);
    m_samplesPushed += int64_t(n);

    const int64_t win = cfg.windowSamples();
    const int64_t hop = cfg.hopSamples();
    const int64_t k = cfg.numFrames(int64_t(m_pending.size()));
    if (k == 0)
        return torch::zeros({ 0, cfg.featureDim() }, torch::kFloat);

    // The pending buffer starts exactly at the next frame, so its frames are the batch frames
    // framesEmitted() .. framesEmitted() + k - 1; computeFrames() makes each row's result
    // independent of how many rows are computed together.
    const auto pending
        = torch::from_blob(m_pending.data(), { int64_t(m_pending.size()) }, torch::kFloat);
    const auto frames
        = pending.unfold(0, win, hop).narrow(0, 0, k); // views; copied once by the windowing
    auto out = m_extractor.computeFrames(frames);

    // Keep what the next frame needs (fewer than `win` samples).
    m_pending.erase(m_pending.begin(), m_pending.begin() + k * hop);
    m_framesEmitted += k;
    return out;
}

} // namespace tkd
