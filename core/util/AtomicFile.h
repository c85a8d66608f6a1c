#pragma once

#include <cstddef>
#include <string>

namespace tkd {

// A file written atomically (DESIGN.md rule 8): writes go to a temp file beside `path` (unique
// per process and object), commit() fsyncs it and renames it into place. Destroyed without
// commit() - an exception on the way - the temp file is removed, so a crash or an error never
// leaves a half-written `path`. Errors throw tkd::Error naming `path`.
//
// The temp file is created safely in a folder other users may write to (a sticky /tmp, a shared
// project folder): its name ends in random bytes, and it is opened with O_CREAT | O_EXCL |
// O_NOFOLLOW, so a file or symlink planted under that name is never opened or written through.
class AtomicFile
{
public:
    // sync = false skips the fsync before the rename: for many small files whose completeness
    // another file (written with sync) records, e.g. the built-in corpus's clips.
    explicit AtomicFile(std::string path, bool sync = true);
    ~AtomicFile();
    AtomicFile(const AtomicFile &) = delete;
    AtomicFile &operator=(const AtomicFile &) = delete;

    void write(const void *data, size_t bytes);
    void commit();

private:
    void fail(const std::string &what);

    std::string m_path;
    std::string m_tmp;
    int m_fd = -1;
    bool m_sync = true;
};

// Creates a new, empty temp file beside `target` ("<target>.tmp-<pid>-<random>") as above and
// returns its open descriptor (O_WRONLY | O_CLOEXEC); its name goes to `tmpPath`. Retries on a
// name collision; throws tkd::Error(target, reason) when the folder refuses.
int createTempBeside(const std::string &target, std::string &tmpPath);

} // namespace tkd
