#pragma once

// The models shipped with TKD Studio, by their path below resources/ (tkd::findResource).
namespace tkd {

// The pretrained teacher: the default teacher of new experiments and of the quick-start.
inline constexpr const char *kShippedTeacherResource = "teachers/kws12-small.safetensors";
// The demo student (a run folder pruned to its one student): what the Live view and `tkd live`
// use when no run is chosen.
inline constexpr const char *kShippedDemoStudent = "students/kws12-demo";

} // namespace tkd
