#include "core/util/Format.h"

#include <cmath>
#include <cstdio>

namespace tkd {

std::string formatNumber(double v)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", v);
    return buf;
}

std::string humanCount(int64_t n)
{
    char buf[32];
    if (n >= 1000000)
        std::snprintf(buf, sizeof buf, "%.2fM", double(n) / 1e6);
    else if (n >= 1000)
        std::snprintf(buf, sizeof buf, "%.1fK", double(n) / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
    return buf;
}

std::string formatPercent(double fraction)
{
    return std::isfinite(fraction) ? formatFixed(100.0 * fraction, 1) + "%" : "-";
}

std::string formatFixed(double v, int decimals)
{
    if (!std::isfinite(v))
        return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string humanBytes(uint64_t n)
{
    char buf[64];
    if (n >= (1ull << 30))
        std::snprintf(buf, sizeof buf, "%.2f GiB", double(n) / double(1ull << 30));
    else if (n >= (1ull << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB", double(n) / double(1ull << 20));
    else
        std::snprintf(buf, sizeof buf, "%.1f KiB", double(n) / 1024.0);
    return buf;
}

} // namespace tkd
