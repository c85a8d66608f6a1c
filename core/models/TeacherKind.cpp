#include "core/models/TeacherKind.h"

#include "core/util/EnumNames.h"

namespace tkd {

namespace {
const EnumName<TeacherKind> kNames[] = { { TeacherKind::Pretrained, "pretrained" },
    { TeacherKind::Tiny, "tiny" }, { TeacherKind::Small, "small" }, { TeacherKind::Base, "base" },
    { TeacherKind::Xlsr300m, "xlsr-300m" }, { TeacherKind::Imported, "imported" },
    { TeacherKind::Oracle, "oracle" } };
} // namespace

const char *teacherKindName(TeacherKind kind)
{
    return enumName(kNames, kind);
}
std::vector<std::string> teacherKindNames()
{
    return enumNames(kNames);
}
TeacherKind teacherKindFromName(const std::string &name)
{
    return enumFromName(kNames, name, "teacher.kind");
}

} // namespace tkd
