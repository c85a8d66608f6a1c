#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tkd {

class Rng;

enum class NoiseColour { White, Pink, Brown };

// Synthetic background noise, drawn from a caller-seeded tkd::Rng so a noisy item stays a pure
// function of its seed. Output has zero mean and unit RMS; callers scale it to the wanted level.
class NoiseGenerator
{
public:
    static std::vector<float> generate(NoiseColour colour, size_t n, Rng &rng);

    static const char *name(NoiseColour colour); // "white", "pink", "brown"
    // Throws tkd::Error(key, ...) for an unknown name.
    static NoiseColour fromName(const std::string &name, const std::string &key = "noise.kind");
};

// Scales x in place to the given RMS (no-op for an all-zero signal).
void scaleToRms(std::vector<float> &x, double rms);

} // namespace tkd
