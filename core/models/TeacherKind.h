#pragma once

#include <string>
#include <vector>

namespace tkd {

// Which teacher an experiment distils from: one enum, one name table (the config's
// teacher.kind, checkpoints' teacher_kind, metrics.json).
//   tiny      a small log-mel wav2vec 2.0 trained from scratch
//   base, xlsr-300m   the published raw-waveform architectures, from scratch
//   imported  pretrained Hugging Face weights (teacher.weights)
//   oracle    no model: the keyword's true window (an upper bound / ablation)
enum class TeacherKind { Tiny, Base, Xlsr300m, Imported, Oracle };

const char *teacherKindName(TeacherKind kind);
// Throws tkd::Error("teacher.kind", ...) listing the names.
TeacherKind teacherKindFromName(const std::string &name);
std::vector<std::string> teacherKindNames();

} // namespace tkd
