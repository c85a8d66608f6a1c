#pragma once

#include <cmath>
#include <cstdint>
#include <initializer_list>

namespace tkd {

// Deterministic, portable random numbers. std::*_distribution differ between standard libraries,
// so nothing that must be reproducible (dataset items, corpus speakers) may use them: every
// random choice in core draws from Rng, and item i of a dataset seeds its own Rng from
// (config hash, seed, i) so items are pure functions of those and can be built in any order.
class Rng
{
public:
    explicit Rng(uint64_t seed = 0) { reseed(seed); }
    // Seed from several values (e.g. config hash, seed, item index) mixed together.
    Rng(std::initializer_list<uint64_t> keys);

    void reseed(uint64_t seed);

    uint64_t nextU64();
    // Uniform in [0, 1) with 53 random bits.
    double uniform() { return double(nextU64() >> 11) * (1.0 / 9007199254740992.0); }
    double uniform(double lo, double hi) { return lo + (hi - lo) * uniform(); }
    // Uniform integer in [0, n); n > 0. Unbiased (rejection sampling).
    uint64_t below(uint64_t n);
    // Standard normal (Box-Muller, both values used).
    double normal();
    // Standard normal by Marsaglia and Tsang's ziggurat (128 layers, one 64-bit draw per value
    // ~99% of the time): about 5x cheaper than normal(), for bulk noise where Box-Muller's log +
    // sincos per pair was 45% of a training run's CPU. A different sequence from normal().
    double normalFast();

    static uint64_t mix(uint64_t x); // splitmix64 finaliser

private:
    uint64_t m_s[4];
    bool m_hasSpare = false;
    double m_spare = 0.0;
};

} // namespace tkd
