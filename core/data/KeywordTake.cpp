#include "core/data/KeywordTake.h"

#include "core/audio/AudioFile.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace tkd {

namespace {

double toDb(double amplitude)
{
    return 20.0 * std::log10(std::max(amplitude, 1e-10));
}

std::string dbText(double db)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.0f dBFS", db);
    return buf;
}

} // namespace

double KeywordTake::trimmedSec() const
{
    return double(trimmed.size()) / kSampleRate;
}

KeywordTake checkTake(std::vector<float> samples, const TakeCheckOptions &o)
{
    KeywordTake t;
    t.raw = std::move(samples);
    const std::vector<float> &x = t.raw;
    float peak = 0.0f;
    int clipped = 0;
    for (float v : x) {
        const float a = std::fabs(v);
        peak = std::max(peak, a);
        if (a >= o.clipLevel)
            ++clipped;
    }
    t.peakDb = toDb(peak);
    t.clipping = clipped >= o.clippedSamples;
    if (t.clipping)
        t.warnings.push_back("clipping: " + std::to_string(clipped)
            + " samples at full scale; move back from the microphone or lower its gain");

    const SpeechWindow w = SpeechActivity(o.vad).detect(x, kSampleRate);
    if (!w.found() || x.empty()) {
        t.warnings.push_back("no speech found (peak " + dbText(t.peakDb)
            + "): is the microphone muted or the wrong device?");
        return t;
    }
    t.speechFound = true;
    t.onsetSec = w.onsetSec;
    t.offsetSec = w.offsetSec;
    const size_t a = size_t(std::lround(w.onsetSec * kSampleRate));
    const size_t b = std::min(x.size(), size_t(std::lround(w.offsetSec * kSampleRate)));
    double energy = 0.0;
    for (size_t i = a; i < b; ++i)
        energy += double(x[i]) * x[i];
    t.speechRmsDb = toDb(std::sqrt(energy / double(std::max<size_t>(1, b - a))));
    t.tooQuiet = t.speechRmsDb < o.tooQuietDb;
    if (t.tooQuiet)
        t.warnings.push_back("too quiet: the word is at " + dbText(t.speechRmsDb) + " RMS (below "
            + dbText(o.tooQuietDb) + "); speak up or move closer");
    const double dur = double(x.size()) / kSampleRate;
    t.cutOff = w.onsetSec < o.edgeSec || w.offsetSec > dur - o.edgeSec;
    if (t.cutOff)
        t.warnings.push_back(w.onsetSec < o.edgeSec
                ? "the word starts right at the beginning of the take and may be cut off"
                : "the word runs to the end of the take and may be cut off");

    const long pad = std::lround(o.padSec * kSampleRate);
    const size_t from = size_t(std::max<long>(0, long(a) - pad));
    const size_t to = std::min(x.size(), b + size_t(pad));
    t.trimmed.assign(x.begin() + long(from), x.begin() + long(to));
    return t;
}

} // namespace tkd
