#include "core/util/AtomicFile.h"

#include "core/util/Error.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

namespace tkd {

namespace {

// 64 random bits as hex. getrandom() never blocks once the kernel's pool is seeded (at boot).
std::string randomSuffix()
{
    uint64_t bits = 0;
    if (::getrandom(&bits, sizeof bits, 0) != ssize_t(sizeof bits)) {
        // Unreachable on Linux >= 3.17; O_EXCL alone still keeps the write safe, the name is
        // only guessable.
        bits = uint64_t(::getpid()) * 0x9E3779B97F4A7C15ull ^ uint64_t(::clock());
    }
    static const char *hex = "0123456789abcdef";
    std::string out(16, '0');
    for (int i = 0; i < 16; ++i)
        out[size_t(i)] = hex[(bits >> (4 * i)) & 15];
    return out;
}

} // namespace

int createTempBeside(const std::string &target, std::string &tmpPath)
{
    const std::string stem = target + ".tmp-" + std::to_string(::getpid()) + "-";
    for (int attempt = 0; attempt < 64; ++attempt) {
        tmpPath = stem + randomSuffix();
        const int fd
            = ::open(tmpPath.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
        if (fd >= 0)
            return fd;
        if (errno != EEXIST && errno != ELOOP && errno != EINTR)
            throw Error(target, std::string("cannot write: ") + std::strerror(errno));
    }
    throw Error(target, "cannot write: no free temporary name beside it after 64 tries");
}

AtomicFile::AtomicFile(std::string path, bool sync)
    : m_path(std::move(path))
    , m_sync(sync)
{
    m_fd = createTempBeside(m_path, m_tmp);
}

AtomicFile::~AtomicFile()
{
    if (m_fd >= 0) {
        ::close(m_fd);
        ::unlink(m_tmp.c_str());
    }
}

void AtomicFile::fail(const std::string &what)
{
    const std::string why = std::strerror(errno);
    if (m_fd >= 0)
        ::close(m_fd);
    m_fd = -1;
    ::unlink(m_tmp.c_str());
    throw Error(m_path, what + ": " + why);
}

void AtomicFile::write(const void *data, size_t n)
{
    const char *p = static_cast<const char *>(data);
    while (n > 0) {
        const ssize_t w = ::write(m_fd, p, n);
        if (w < 0) {
            if (errno == EINTR)
                continue;
            fail("write failed");
        }
        p += w;
        n -= size_t(w);
    }
}

void AtomicFile::commit()
{
    if (m_sync && ::fsync(m_fd) != 0)
        fail("cannot flush to disk");
    const int fd = m_fd;
    m_fd = -1;
    if (::close(fd) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(m_tmp.c_str());
        throw Error(m_path, "cannot flush to disk: " + why);
    }
    if (std::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
        const std::string why = std::strerror(errno);
        ::unlink(m_tmp.c_str());
        throw Error(m_path, "cannot move into place: " + why);
    }
}

} // namespace tkd
