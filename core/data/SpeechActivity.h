#pragma once

#include <cstddef>
#include <vector>

namespace tkd {

// Where the speech (or, for any labelled sound, the event) is inside a clip, in seconds from its
// start. found() is false for silence / noise-only input.
struct SpeechWindow
{
    double onsetSec = -1.0;
    double offsetSec = -1.0;
    bool found() const { return onsetSec >= 0.0 && offsetSec > onsetSec; }
};

struct SpeechActivityOptions
{
    double frameSec = 0.010; // analysis frame (and hop)
    double peakRelativeDb = -35.0; // frames this far below the loudest frame are not speech
    double floorMarginDb = 10.0; // ... nor frames within this much of the noise floor
    double absoluteFloorDb = -70.0; // a clip whose loudest frame is below this is silence (dBFS)
    double mergeGapSec = 0.25; // pauses inside a word ("shei-la") shorter than this merge
};

// Energy-based speech window detector. Real recordings (Speech Commands, folders) carry no speech
// position, yet the noisy construction must know where the keyword is to place it, measure its SNR
// and score attention maps; a frame-energy detector is enough for single-word clips. It picks the
// most energetic run of loud frames, so a click or a breath elsewhere does not widen the window.
class SpeechActivity
{
public:
    explicit SpeechActivity(SpeechActivityOptions options = {});

    SpeechWindow detect(const float *samples, size_t n, int sampleRate) const;
    SpeechWindow detect(const std::vector<float> &samples, int sampleRate) const
    {
        return detect(samples.data(), samples.size(), sampleRate);
    }

    const SpeechActivityOptions &options() const { return m_options; }

private:
    SpeechActivityOptions m_options;
};

} // namespace tkd
