// Shared helpers of the libFuzzer targets (scripts/fuzz.sh builds and runs them).
//
// A target feeds one input to one parser. tkd::Error is the parser's clean rejection and is
// caught; anything else escapes and is a finding: another exception type ends in
// std::terminate (abort), and crashes, sanitizer reports, timeouts and memory over the limit are
// reported by libFuzzer itself.
#pragma once

#include "core/util/Error.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <string>

#include <fcntl.h>
#include <unistd.h>

namespace tkd::fuzz {

inline std::string text(const uint8_t *data, size_t size)
{
    return std::string(reinterpret_cast<const char *>(data), size);
}

// A private scratch folder for targets whose parser reads files, made once per process (in
// /dev/shm when there is one: every input is written to it) and removed at exit.
inline const std::string &scratchDir()
{
    // Never destroyed, so the exit handler can still read it.
    static const std::string &dir = *new std::string([] {
        const char *base = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : nullptr;
        if (!base)
            base = std::getenv("TMPDIR") ? std::getenv("TMPDIR") : "/tmp";
        std::string tmpl = std::string(base) + "/tkd-fuzz-XXXXXX";
        if (!mkdtemp(tmpl.data())) {
            std::perror("mkdtemp");
            std::abort();
        }
        std::atexit([] {
            std::error_code ec;
            std::filesystem::remove_all(scratchDir(), ec);
        });
        return tmpl;
    }());
    return dir;
}

inline void writeFile(const std::string &path, const uint8_t *data, size_t size)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        std::perror(path.c_str());
        std::abort();
    }
    size_t done = 0;
    while (done < size) {
        const ssize_t n = ::write(fd, data + done, size - done);
        if (n <= 0) {
            std::perror(path.c_str());
            std::abort();
        }
        done += size_t(n);
    }
    ::close(fd);
}

inline void writeFile(const std::string &path, const std::string &s)
{
    writeFile(path, reinterpret_cast<const uint8_t *>(s.data()), s.size());
}

// A broken invariant the parser did not report as an error: a finding.
[[noreturn]] inline void fail(const char *what, const std::string &detail = {})
{
    std::fprintf(stderr, "FUZZ FINDING: %s %s\n", what, detail.c_str());
    std::abort();
}

} // namespace tkd::fuzz
