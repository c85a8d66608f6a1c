#include "core/util/AtomicFile.h"

#include "core/util/Error.h"

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <unistd.h>

namespace tkd {

AtomicFile::AtomicFile(std::string path, bool sync)
    : m_path(std::move(path))
    , m_sync(sync)
{
    // pid + counter: two threads (or processes) writing the same path never share a temp file.
    static std::atomic<uint64_t> counter { 0 };
    m_tmp = m_path + ".tmp-" + std::to_string(::getpid()) + "-"
        + std::to_string(counter.fetch_add(1));
    m_fd = ::open(m_tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw Error(m_path, std::string("cannot write: ") + std::strerror(errno));
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
