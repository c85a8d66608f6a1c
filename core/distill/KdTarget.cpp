#include "core/distill/KdTarget.h"

#include "core/util/EnumNames.h"

namespace tkd {

namespace {
const EnumName<KdTarget> kNames[]
    = { { KdTarget::Branch, "branch" }, { KdTarget::Native, "native" } };
} // namespace

const char *kdTargetName(KdTarget target)
{
    return enumName(kNames, target);
}
std::vector<std::string> kdTargetNames()
{
    return enumNames(kNames);
}
KdTarget kdTargetFromName(const std::string &name)
{
    return enumFromName(kNames, name, "kd.target");
}

} // namespace tkd
