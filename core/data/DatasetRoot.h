#pragma once

#include <filesystem>
#include <string>

namespace tkd {

// The top folder of a dataset on disk, checked once for every loader: `path` made absolute and
// normalised, `display` the same without a trailing '/', for messages. Throws
// tkd::Error("dataset.path", "no <kind> folder given") when empty, and tkd::Error(display,
// "no such folder" / "not a folder").
struct DatasetRoot
{
    std::filesystem::path path;
    std::string display;

    // kind: "" for any folder, or "FSD50K", "Speech Commands" (named in the empty-path message).
    static DatasetRoot open(const std::string &path, const std::string &kind = {});
};

} // namespace tkd
