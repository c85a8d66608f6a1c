#pragma once

#include <cstddef>
#include <string>
#include <vector>

namespace tkd {

class Rng;

// The backgrounds of the noisy construction: one enum, one name table. The first three are
// synthetic colours NoiseGenerator makes; babble (overlapping words) and folder (noise
// recordings) are mixed by NoisyDataset.
enum class NoiseKind { White, Pink, Brown, Babble, Folder };
const char *noiseKindName(NoiseKind kind); // "white", "pink", "brown", "babble", "folder"
// Throws tkd::Error("noise.kinds", ...) for an unknown name.
NoiseKind noiseKindFromName(const std::string &name);

// Synthetic background noise, drawn from a caller-seeded tkd::Rng so a noisy item stays a pure
// function of its seed. Output has zero mean and unit RMS; callers scale it to the wanted level.
class NoiseGenerator
{
public:
    // White, Pink or Brown; throws tkd::Error("noise.kinds", ...) for the others.
    static std::vector<float> generate(NoiseKind colour, size_t n, Rng &rng);
};

// Scales x in place to the given RMS (no-op for an all-zero signal).
void scaleToRms(std::vector<float> &x, double rms);

} // namespace tkd
