#pragma once

#include <string>
#include <vector>

namespace tkd {

// How the heads of one layer become one T x T matrix before the rollout's residual is added
// (teacher.rollout.head_fusion). Apart from AttentionRollout.h so the experiment config can
// hold it without torch.
enum class HeadFusion { Mean, Max, Min };
const char *headFusionName(HeadFusion f); // "mean" | "max" | "min"
// Throws tkd::Error("rollout.head_fusion", ...) listing the names.
HeadFusion headFusionFromName(const std::string &name);
std::vector<std::string> headFusionNames();

} // namespace tkd
