#include "core/util/Rng.h"

namespace tkd {

uint64_t Rng::mix(uint64_t x)
{
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

Rng::Rng(std::initializer_list<uint64_t> keys)
{
    uint64_t h = 0x6a09e667f3bcc909ULL;
    for (uint64_t k : keys)
        h = mix(h ^ mix(k));
    reseed(h);
}

void Rng::reseed(uint64_t seed)
{
    uint64_t x = seed;
    for (auto &s : m_s) {
        x = mix(x);
        s = x;
    }
    m_hasSpare = false;
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t Rng::nextU64()
{
    // xoshiro256**
    const uint64_t result = rotl(m_s[1] * 5, 7) * 9;
    const uint64_t t = m_s[1] << 17;
    m_s[2] ^= m_s[0];
    m_s[3] ^= m_s[1];
    m_s[1] ^= m_s[2];
    m_s[0] ^= m_s[3];
    m_s[2] ^= t;
    m_s[3] = rotl(m_s[3], 45);
    return result;
}

uint64_t Rng::below(uint64_t n)
{
    const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t r;
    do {
        r = nextU64();
    } while (r >= limit);
    return r % n;
}

double Rng::normal()
{
    if (m_hasSpare) {
        m_hasSpare = false;
        return m_spare;
    }
    double u1;
    do {
        u1 = uniform();
    } while (u1 <= 0.0);
    const double u2 = uniform();
    const double r = std::sqrt(-2.0 * std::log(u1));
    const double a = 6.283185307179586 * u2;
    m_spare = r * std::sin(a);
    m_hasSpare = true;
    return r * std::cos(a);
}

namespace {
// Ziggurat tables for the standard normal (Marsaglia & Tsang 2000, 128 layers): layer i spans
// |x| < x_i; k[i] is the integer threshold under which a draw is accepted at once.
struct Ziggurat
{
    static constexpr double kR = 3.442619855899; // start of the tail
    static constexpr double kV = 9.91256303526217e-3; // area of each layer
    uint32_t k[128];
    double w[128], f[128];
    Ziggurat()
    {
        const double m = 2147483648.0; // 2^31
        double dn = kR, tn = kR;
        const double q = kV / std::exp(-0.5 * dn * dn);
        k[0] = uint32_t((dn / q) * m);
        k[1] = 0;
        w[0] = q / m;
        w[127] = dn / m;
        f[0] = 1.0;
        f[127] = std::exp(-0.5 * dn * dn);
        for (int i = 126; i >= 1; --i) {
            dn = std::sqrt(-2.0 * std::log(kV / dn + std::exp(-0.5 * dn * dn)));
            k[i + 1] = uint32_t((dn / tn) * m);
            tn = dn;
            f[i] = std::exp(-0.5 * dn * dn);
            w[i] = dn / m;
        }
    }
};
const Ziggurat &ziggurat()
{
    static const Ziggurat z;
    return z;
}
} // namespace

double Rng::normalFast()
{
    const Ziggurat &z = ziggurat();
    for (;;) {
        const uint64_t bits = nextU64();
        const int32_t hz = int32_t(uint32_t(bits >> 32));
        const unsigned iz = unsigned(bits) & 127u;
        const uint32_t mag = hz < 0 ? uint32_t(-int64_t(hz)) : uint32_t(hz);
        const double x = double(hz) * z.w[iz];
        if (mag < z.k[iz])
            return x; // inside the layer's rectangle: the common case
        if (iz == 0) { // the tail beyond R, by Marsaglia's exponential method
            double tx, ty;
            do {
                double u1, u2;
                do
                    u1 = uniform();
                while (u1 <= 0.0);
                do
                    u2 = uniform();
                while (u2 <= 0.0);
                tx = -std::log(u1) / Ziggurat::kR;
                ty = -std::log(u2);
            } while (ty + ty < tx * tx);
            return hz > 0 ? Ziggurat::kR + tx : -Ziggurat::kR - tx;
        }
        // In the wedge between the rectangle and the curve: accept under the density.
        if (z.f[iz] + uniform() * (z.f[iz - 1] - z.f[iz]) < std::exp(-0.5 * x * x))
            return x;
    }
}

} // namespace tkd
