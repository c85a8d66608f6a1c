#include "core/experiment/OptimiserKind.h"

#include "core/util/EnumNames.h"

namespace tkd {

namespace {
const EnumName<OptimiserKind> kNames[]
    = { { OptimiserKind::Adam, "adam" }, { OptimiserKind::Sgd, "sgd" } };
} // namespace

const char *optimiserName(OptimiserKind kind)
{
    return enumName(kNames, kind);
}
std::vector<std::string> optimiserNames()
{
    return enumNames(kNames);
}
OptimiserKind optimiserFromName(const std::string &name)
{
    return enumFromName(kNames, name, "train.optimizer");
}

} // namespace tkd
