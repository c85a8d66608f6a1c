#pragma once

#include <string>
#include <vector>

namespace tkd {

// Which teacher an experiment distils from: one enum, one name table (the config's
// teacher.kind, checkpoints' teacher_kind, metrics.json).
//   pretrained  a teacher checkpoint, by default the one shipped in resources/teachers/
//   tiny, small small log-mel wav2vec 2.0s trained from scratch (small: the shipped shape)
//   base, xlsr-300m   the published raw-waveform architectures, from scratch
//   imported  pretrained Hugging Face weights (teacher.weights)
//   oracle    no model: the keyword's true window (an upper bound / ablation)
enum class TeacherKind { Pretrained, Tiny, Small, Base, Xlsr300m, Imported, Oracle };
// tiny and small read log-mel frames (a pretrained checkpoint may be either).
inline bool isSpectralTeacher(TeacherKind k)
{
    return k == TeacherKind::Tiny || k == TeacherKind::Small;
}

const char *teacherKindName(TeacherKind kind);
// Throws tkd::Error("teacher.kind", ...) listing the names.
TeacherKind teacherKindFromName(const std::string &name);
std::vector<std::string> teacherKindNames();

} // namespace tkd
