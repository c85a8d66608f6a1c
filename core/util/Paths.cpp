#include "core/util/Paths.h"

#include "core/util/Error.h"

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <fcntl.h>
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
    return "/tmp/tkd-studio-cache";
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
    const std::string tmp = path + ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(path, std::string("cannot write: ") + std::strerror(errno));
    size_t off = 0;
    while (off < bytes.size()) {
        const ssize_t w = ::write(fd, bytes.data() + off, bytes.size() - off);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            const std::string why = std::strerror(errno);
            ::close(fd);
            ::unlink(tmp.c_str());
            throw Error(path, "write failed: " + why);
        }
        off += size_t(w);
    }
    if (::fsync(fd) != 0 || ::close(fd) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw Error(path, "cannot flush to disk: " + why);
    }
    if (std::rename(tmp.c_str(), path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(tmp.c_str());
        throw Error(path, "cannot move into place: " + why);
    }
}

std::string readFile(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw Error(path, std::filesystem::exists(path) ? "cannot open for reading"
                                                        : "no such file");
    std::ostringstream ss;
    ss << in.rdbuf();
    if (in.bad())
        throw Error(path, "read error");
    return ss.str();
}

} // namespace tkd
