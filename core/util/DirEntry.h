#pragma once

#include "core/util/Error.h"

#include <filesystem>
#include <system_error>

namespace tkd {

// The type of a listed folder entry, as directory_entry::is_directory() / is_regular_file()
// but throwing tkd::Error naming the entry when its type cannot be read (a symlink loop:
// "Too many levels of symbolic links"), where the std:: forms throw filesystem_error. A broken
// symlink is neither, as in std::.
enum class EntryKind { Directory, RegularFile, Other };

inline EntryKind entryKind(const std::filesystem::directory_entry &entry)
{
    std::error_code ec;
    const std::filesystem::file_status st = entry.status(ec);
    if (ec && ec != std::errc::no_such_file_or_directory)
        throw Error(entry.path().string(), "cannot read: " + ec.message());
    if (std::filesystem::is_directory(st))
        return EntryKind::Directory;
    return std::filesystem::is_regular_file(st) ? EntryKind::RegularFile : EntryKind::Other;
}

} // namespace tkd
