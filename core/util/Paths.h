#pragma once

#include <string>

namespace tkd {

// Root of every on-disk cache (built-in corpus, feature cache, teacher cache):
// $TKD_CACHE_DIR, else $XDG_CACHE_HOME/tkd-studio, else ~/.cache/tkd-studio ($HOME, else the
// home in the password database). Never a shared fixed path; throws tkd::Error("TKD_CACHE_DIR",
// ...) when there is no home at all. Not created here.
std::string cacheRoot();

// Creates a folder and its parents; throws tkd::Error(path, reason) on failure.
void makeDirs(const std::string &path);

// Writes bytes to path atomically: a temp file in the same folder, fsync, then rename, so a
// reader (or a crash) never sees half a file. Throws tkd::Error(path, reason).
void writeFileAtomic(const std::string &path, const std::string &bytes);

// Reads a whole file; throws tkd::Error(path, reason).
std::string readFile(const std::string &path);

} // namespace tkd
