#pragma once

#include <cstdint>
#include <string>

namespace tkd {

// Numbers as people read them, the same in every table, log and file name.
std::string formatNumber(double v); // shortest "%g": 0.25, 8, 1e-05 (cell names: "-L8-lambda0.25")
std::string humanCount(int64_t n); // 66000 -> "66.0K", 2450000 -> "2.45M"
std::string humanBytes(uint64_t n); // "12.3 MiB"
// "0.734" with `decimals` places; "-" when not finite (a metric that is not there).
std::string formatFixed(double v, int decimals);
// A fraction as a percentage with one decimal: 0.734 -> "73.4%"; "-" when not finite.
std::string formatPercent(double fraction);

} // namespace tkd
