#include "core/data/NoiseGenerator.h"

#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <cmath>

namespace tkd {

void scaleToRms(std::vector<float> &x, double rms)
{
    double e = 0.0;
    for (float v : x)
        e += double(v) * v;
    if (x.empty() || e <= 0.0)
        return;
    const double g = rms / std::sqrt(e / double(x.size()));
    for (float &v : x)
        v = float(v * g);
}

std::vector<float> NoiseGenerator::generate(NoiseKind colour, size_t n, Rng &rng)
{
    if (colour != NoiseKind::White && colour != NoiseKind::Pink && colour != NoiseKind::Brown)
        throw Error("noise.kinds",
            std::string("'") + noiseKindName(colour) + "' is not a synthetic noise colour");
    std::vector<float> out(n);
    if (n == 0)
        return out;
    // The filters start from rest; run them a while first so the output is stationary from
    // sample 0 (otherwise brown noise would ramp up from silence at the clip start).
    const size_t warmup = colour == NoiseKind::White ? 0 : 4096;
    double b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0, b6 = 0, y = 0;
    for (size_t i = 0; i < warmup + n; ++i) {
        const double w = rng.normalFast();
        double v = w;
        if (colour == NoiseKind::Pink) {
            // Paul Kellet's refined pink filter: -3 dB/octave within 0.05 dB above ~10 Hz.
            b0 = 0.99886 * b0 + w * 0.0555179;
            b1 = 0.99332 * b1 + w * 0.0750759;
            b2 = 0.96900 * b2 + w * 0.1538520;
            b3 = 0.86650 * b3 + w * 0.3104856;
            b4 = 0.55000 * b4 + w * 0.5329522;
            b5 = -0.7616 * b5 - w * 0.0168980;
            v = b0 + b1 + b2 + b3 + b4 + b5 + b6 + w * 0.5362;
            b6 = w * 0.115926;
        } else if (colour == NoiseKind::Brown) {
            // Leaky integrator: -6 dB/octave above ~13 Hz, no unbounded drift.
            y = 0.995 * y + w;
            v = y;
        }
        if (i >= warmup)
            out[i - warmup] = float(v);
    }
    double mean = 0.0;
    for (float v : out)
        mean += v;
    mean /= double(n);
    for (float &v : out)
        v = float(v - mean);
    scaleToRms(out, 1.0);
    return out;
}

const char *noiseKindName(NoiseKind kind)
{
    switch (kind) {
    case NoiseKind::White:
        return "white";
    case NoiseKind::Pink:
        return "pink";
    case NoiseKind::Brown:
        return "brown";
    case NoiseKind::Babble:
        return "babble";
    case NoiseKind::Folder:
        return "folder";
    }
    return "?";
}

NoiseKind noiseKindFromName(const std::string &name)
{
    for (NoiseKind k : { NoiseKind::White, NoiseKind::Pink, NoiseKind::Brown, NoiseKind::Babble,
             NoiseKind::Folder })
        if (name == noiseKindName(k))
            return k;
    throw Error("noise.kinds",
        "unknown noise kind '" + name + "' (expected white, pink, brown, babble or folder)");
}

} // namespace tkd
