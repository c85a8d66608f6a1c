#include "core/data/Dataset.h"

#include "core/util/Error.h"

namespace tkd {

const char *splitName(Split s)
{
    switch (s) {
    case Split::Train: return "train";
    case Split::Validation: return "validation";
    case Split::Test: return "test";
    }
    return "?";
}

Split splitFromName(const std::string &name)
{
    if (name == "train") return Split::Train;
    if (name == "validation" || name == "val" || name == "valid") return Split::Validation;
    if (name == "test") return Split::Test;
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

const std::vector<std::string> &speechCommandsWords35()
{
    static const std::vector<std::string> words = {
        "backward", "bed",   "bird", "cat",   "dog",   "down",   "eight", "five",  "follow",
        "forward",  "four",  "go",   "happy", "house", "learn",  "left",  "marvin", "nine",
        "no",       "off",   "on",   "one",   "right", "seven",  "sheila", "six",   "stop",
        "three",    "tree",  "two",  "up",    "visual", "wow",   "yes",   "zero"};
    return words;
}

const std::vector<std::string> &keywords10()
{
    static const std::vector<std::string> words = {"yes",  "no",  "up", "down", "left",
                                                   "right", "on", "off", "stop", "go"};
    return words;
}

} // namespace tkd
