#include "core/data/DatasetRoot.h"

#include "core/util/Error.h"

namespace tkd {

namespace fs = std::filesystem;

DatasetRoot DatasetRoot::open(const std::string &path, const std::string &kind)
{
    if (path.empty())
        throw Error(
            "dataset.path", "no " + (kind.empty() ? std::string() : kind + " ") + "folder given");
    DatasetRoot r;
    r.path = fs::absolute(path).lexically_normal();
    r.display = r.path.string();
    while (r.display.size() > 1 && r.display.back() == '/')
        r.display.pop_back();
    if (!fs::exists(r.path))
        throw Error(r.display, "no such folder");
    if (!fs::is_directory(r.path))
        throw Error(r.display, "not a folder");
    return r;
}

} // namespace tkd
