#pragma once

#include <string>
#include <vector>

namespace tkd {

// Which student attention the teacher's a_T is distilled into (kd.target): the training-only
// attention branch every student gets, or the student's own (native) attention.
enum class KdTarget { Branch, Native };

const char *kdTargetName(KdTarget target); // "branch", "native"
// Throws tkd::Error("kd.target", ...).
KdTarget kdTargetFromName(const std::string &name);
std::vector<std::string> kdTargetNames();

} // namespace tkd
