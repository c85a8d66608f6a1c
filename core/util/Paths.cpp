#include "core/util/Paths.h"

#include "core/util/AtomicFile.h"

#include "core/util/Error.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
#include <pwd.h>
#include <unistd.h>

namespace tkd {

std::string cacheRoot()
{
    if (const char *d = std::getenv("TKD_CACHE_DIR"); d && *d)
        return d;
    if (const char *x = std::getenv("XDG_CACHE_HOME"); x && *x)
        return std::string(x) + "/tkd-studio";
    if (const char *h = std::getenv("HOME"); h && *h)
        return std::string(h) + "/.cache/tkd-studio";
    // No fixed /tmp fallback: another user could create (or symlink) it first and feed us
    // their clips and features. The account's home from the password database, or an error.
    if (const passwd *pw = ::getpwuid(::getuid());
        pw && pw->pw_dir && *pw->pw_dir && std::string(pw->pw_dir) != "/nonexistent")
        return std::string(pw->pw_dir) + "/.cache/tkd-studio";
    throw Error("TKD_CACHE_DIR",
        "no cache folder: HOME is unset and this user has no home folder; set TKD_CACHE_DIR");
}

void makeDirs(const std::string &path)
{
    std::error_code ec;
    std::filesystem::create_directories(path, ec);
    if (ec)
        throw Error(path, "cannot create folder: " + ec.message());
}

void writeFileAtomic(const std::string &path, const std::string &bytes)
{
    AtomicFile file(path);
    file.write(bytes.data(), bytes.size());
    file.commit();
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(
            path, std::filesystem::exists(path) ? "cannot open for reading" : "no such file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad())
        throw Error(path, "read error");
    return ss.str();
}

} // namespace tkd
