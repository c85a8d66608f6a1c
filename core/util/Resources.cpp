#include "core/util/Resources.h"

#include "core/util/BuildInfo.h"
#include "core/util/Error.h"

#include <cstdlib>
#include <filesystem>

namespace tkd {

std::vector<std::string> resourceSearchPath()
{
    std::vector<std::string> dirs;
    if (const char *env = std::getenv("TKD_RESOURCE_DIR"); env && *env)
        dirs.push_back(env);
    dirs.push_back(std::string(build::kSourceDir) + "/resources");
    dirs.push_back(build::kInstallDataDir);
    return dirs;
}

std::string findResource(const std::string &relative)
{
    std::string tried;
    for (const std::string &dir : resourceSearchPath()) {
        const std::string path = dir + "/" + relative;
        std::error_code ec;
        if (std::filesystem::is_regular_file(path, ec))
            return path;
        tried += (tried.empty() ? "" : ", ") + dir;
    }
    throw Error(relative, "is not shipped with this installation (looked in " + tried + ")");
}

} // namespace tkd
