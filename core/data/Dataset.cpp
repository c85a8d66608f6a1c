#include "core/data/Dataset.h"

#include "core/util/Error.h"
#include "core/util/Hash.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include <sys/stat.h>

namespace tkd {

const char *splitName(Split s)
{
    switch (s) {
    case Split::Train:
        return "train";
    case Split::Validation:
        return "validation";
    case Split::Test:
        return "test";
    }
    return "?";
}

Split splitFromName(const std::string &name)
{
    if (name == "train")
        return Split::Train;
    if (name == "validation" || name == "val" || name == "valid")
        return Split::Validation;
    if (name == "test")
        return Split::Test;
    throw Error("split", "unknown split '" + name + "' (expected train, validation or test)");
}

std::vector<const ClipRef *> DatasetIndex::clipsIn(Split s) const
{
    std::vector<const ClipRef *> out;
    for (const auto &c : clips)
        if (c.split == s)
            out.push_back(&c);
    return out;
}

int DatasetIndex::classIndex(const std::string &name) const
{
    for (size_t i = 0; i < classes.size(); ++i)
        if (classes[i] == name)
            return int(i);
    return -1;
}

namespace {

std::string relativePath(const std::string &root, const std::string &path)
{
    const std::string rel = std::filesystem::path(path).lexically_relative(root).generic_string();
    // Outside root (or unrelated): keep the absolute path so the listing stays unambiguous.
    return rel.empty() || rel.rfind("..", 0) == 0 ? path : rel;
}

// What the listing records of a file: its size and its modification and change times in
// nanoseconds. A clip replaced by another of the same size changes the times (and the change
// time cannot be set back by cp -p, rsync -t or touch), so cached features are never served for
// content they were not computed from. Reading every byte of a 100k-clip dataset at each open
// would cost minutes; stat() costs milliseconds.
std::string fileStamp(const std::string &path)
{
    struct stat st;
    if (::stat(path.c_str(), &st) != 0)
        throw Error(path, std::string("cannot read file status: ") + std::strerror(errno));
    auto ns = [](const timespec &t) {
        return std::to_string(int64_t(t.tv_sec) * 1000000000 + int64_t(t.tv_nsec));
    };
    return std::to_string(uint64_t(st.st_size)) + "\t" + ns(st.st_mtim) + "\t" + ns(st.st_ctim);
}

} // namespace

std::string listingHash(const DatasetIndex &index)
{
    Sha256 h;
    auto line = [&h](const std::string &text) { h.update(text).update("\n", 1); };
    line("tkd-listing-v2");
    line(index.name);
    line(index.multiLabel ? "multi" : "single");
    for (const auto &c : index.classes)
        line("class\t" + c);
    char seg[64];
    for (const auto &c : index.clips) {
        std::string labels;
        for (int l : c.labels)
            labels += (labels.empty() ? "" : ",") + std::to_string(l);
        std::snprintf(seg, sizeof seg, "%.6f\t%.6f", c.startSec, c.durationSec);
        line("clip\t" + relativePath(index.root, c.path) + "\t" + fileStamp(c.path) + "\t" + labels
            + "\t" + splitName(c.split) + "\t" + seg);
    }
    for (const auto &n : index.noiseFiles)
        line("noise\t" + relativePath(index.root, n) + "\t" + fileStamp(n));
    return h.hexDigest();
}

const std::vector<std::string> &speechCommandsWords35()
{
    static const std::vector<std::string> words = { "backward", "bed", "bird", "cat", "dog", "down",
        "eight", "five", "follow", "forward", "four", "go", "happy", "house", "learn", "left",
        "marvin", "nine", "no", "off", "on", "one", "right", "seven", "sheila", "six", "stop",
        "three", "tree", "two", "up", "visual", "wow", "yes", "zero" };
    return words;
}

const std::vector<std::string> &keywords10()
{
    static const std::vector<std::string> words
        = { "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go" };
    return words;
}

} // namespace tkd
