#include "core/data/Dataset.h"

#include "core/util/Error.h"
#include "core/util/Hash.h"

#include <cstdio>
#include <filesystem>

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

uint64_t fileSizeOf(const std::string &path)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (ec)
        throw Error(path, "cannot read file size: " + ec.message());
    return size;
}

} // namespace

std::string listingHash(const DatasetIndex &index)
{
    Sha256 h;
    auto line = [&h](const std::string &text) { h.update(text).update("\n", 1); };
    line("tkd-listing-v1");
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
        line("clip\t" + relativePath(index.root, c.path) + "\t" + std::to_string(fileSizeOf(c.path))
            + "\t" + labels + "\t" + splitName(c.split) + "\t" + seg);
    }
    for (const auto &n : index.noiseFiles)
        line("noise\t" + relativePath(index.root, n) + "\t" + std::to_string(fileSizeOf(n)));
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
