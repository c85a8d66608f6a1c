#include "core/experiment/TrainingChoices.h"

#include "core/util/EnumNames.h"

namespace tkd {

namespace {
const EnumName<TeacherFineTune> kFineTuneNames[]
    = { { TeacherFineTune::Head, "head" }, { TeacherFineTune::All, "all" } };
const EnumName<ScheduleKind> kScheduleNames[]
    = { { ScheduleKind::Constant, "constant" }, { ScheduleKind::Cosine, "cosine" },
          { ScheduleKind::OneCycle, "onecycle" }, { ScheduleKind::Step, "step" } };
} // namespace

const char *teacherFineTuneName(TeacherFineTune f)
{
    return enumName(kFineTuneNames, f);
}
TeacherFineTune teacherFineTuneFromName(const std::string &name)
{
    return enumFromName(kFineTuneNames, name, "teacher.fine_tune");
}
std::vector<std::string> teacherFineTuneNames()
{
    return enumNames(kFineTuneNames);
}

const char *scheduleKindName(ScheduleKind k)
{
    return enumName(kScheduleNames, k);
}
ScheduleKind scheduleKindFromName(const std::string &name)
{
    if (name == "warmup")
        return ScheduleKind::Constant;
    return enumFromName(kScheduleNames, name, "train.schedule");
}
std::vector<std::string> scheduleKindNames()
{
    return enumNames(kScheduleNames);
}

} // namespace tkd
