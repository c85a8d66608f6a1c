#pragma once

#include <string>
#include <vector>

namespace tkd {

// The stage choices of an experiment that are modes, not numbers: one enum and one name table
// each (DESIGN.md rule 11), read by the schema, the trainers and the tests alike.

// teacher.fine_tune: what adapting a teacher trains.
//   head  the classifier only, on the frozen encoder (a linear probe for a pretrained teacher)
//   all   every layer
enum class TeacherFineTune { Head, All };
const char *teacherFineTuneName(TeacherFineTune f);
// Throws tkd::Error("teacher.fine_tune", ...) listing the names.
TeacherFineTune teacherFineTuneFromName(const std::string &name);
std::vector<std::string> teacherFineTuneNames();

// train.schedule: the learning-rate schedule after warm-up (see core/train/LrSchedule.h).
enum class ScheduleKind { Constant, Cosine, OneCycle, Step };
const char *scheduleKindName(ScheduleKind k);
// Throws tkd::Error("train.schedule", ...). "warmup" is read as constant (an older spelling).
ScheduleKind scheduleKindFromName(const std::string &name);
std::vector<std::string> scheduleKindNames();

} // namespace tkd
