#include "core/data/SpeechActivity.h"

#include <algorithm>
#include <cmath>

namespace tkd {

SpeechActivity::SpeechActivity(SpeechActivityOptions options)
    : m_options(options)
{ }

SpeechWindow SpeechActivity::detect(const float *x, size_t n, int sampleRate) const
{
    SpeechWindow none;
    if (!x || n == 0 || sampleRate <= 0)
        return none;
    const size_t frame = std::max<size_t>(1, size_t(std::lround(m_options.frameSec * sampleRate)));
    const size_t frames = (n + frame - 1) / frame;

    std::vector<double> db(frames);
    for (size_t f = 0; f < frames; ++f) {
        const size_t a = f * frame, b = std::min(n, a + frame);
        double e = 0.0;
        for (size_t i = a; i < b; ++i)
            e += double(x[i]) * double(x[i]);
        db[f] = 10.0 * std::log10(e / double(b - a) + 1e-20);
    }
    const double peak = *std::max_element(db.begin(), db.end());
    if (peak < m_options.absoluteFloorDb)
        return none;
    // Noise floor: a low percentile, so a word that fills most of the clip still leaves one.
    std::vector<double> sorted = db;
    const size_t p = sorted.size() / 10;
    std::nth_element(sorted.begin(), sorted.begin() + p, sorted.end());
    const double floor = sorted[p];
    // Within the floor margin of the peak there is nothing to separate: take the frames in the
    // upper half of the range, which still finds the loudest stretch.
    const double margin = std::min(m_options.floorMarginDb, 0.5 * (peak - floor));
    const double threshold = std::max(peak + m_options.peakRelativeDb, floor + margin);

    // Runs of loud frames, merged across short gaps; keep the run with the most energy.
    const size_t maxGap = size_t(std::lround(m_options.mergeGapSec / m_options.frameSec));
    size_t bestA = 0, bestB = 0;
    double bestEnergy = -1.0;
    size_t f = 0;
    while (f < frames) {
        if (db[f] < threshold) {
            ++f;
            continue;
        }
        size_t a = f, last = f;
        double energy = 0.0;
        size_t g = f;
        while (g < frames && g - last <= maxGap + 1) {
            if (db[g] >= threshold) {
                last = g;
                energy += std::pow(10.0, db[g] / 10.0);
            }
            ++g;
        }
        if (energy > bestEnergy) {
            bestEnergy = energy;
            bestA = a;
            bestB = last;
        }
        f = last + 1;
    }
    if (bestEnergy < 0.0)
        return none;
    SpeechWindow w;
    w.onsetSec = double(bestA * frame) / sampleRate;
    w.offsetSec = double(std::min(n, (bestB + 1) * frame)) / sampleRate;
    return w;
}

} // namespace tkd
