#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

enum class Split { Train, Validation, Test };
const char *splitName(Split s); // "train", "validation", "test"
Split splitFromName(const std::string &); // throws tkd::Error("split", ...)

// One labelled clip on disk. Keyword sources (built-in corpus, Speech Commands, folder-per-class)
// and multi-label sets (FSD50K) all index into this one shape.
struct ClipRef
{
    std::string path; // absolute path to an audio file
    std::vector<int> labels; // class indices; one for single-label tasks
    Split split = Split::Train;
    std::string speaker; // speaker / source id ("" when unknown); splits never share one
    std::string word; // the spoken word or original folder name (before label mapping)
    // A segment of a longer file (e.g. a "silence" clip cut from a background-noise recording);
    // durationSec == 0 means the whole file.
    double startSec = 0.0;
    double durationSec = 0.0;
    // Where the speech is inside the clip (seconds from the clip start), when known: the
    // built-in corpus records it, real recordings get it from an energy detector. < 0: unknown.
    double speechOnsetSec = -1.0;
    double speechOffsetSec = -1.0;
};

// A whole dataset as the engine sees it: classes, clips with splits, and optional noise
// recordings for the noisy construction. contentHash identifies the index (paths, labels,
// splits, and the generator config where the data is synthesised) for caches.
struct DatasetIndex
{
    std::string name; // "builtin-kws12", "speech-commands-v2-35", "fsd50k", ...
    std::string root; // folder it was read from
    std::vector<std::string> classes;
    bool multiLabel = false;
    std::vector<ClipRef> clips;
    std::vector<std::string> noiseFiles; // e.g. Speech Commands' _background_noise_/*.wav
    std::string contentHash;

    std::vector<const ClipRef *> clipsIn(Split s) const;
    int classIndex(const std::string &name) const; // -1 when absent
};

// contentHash for an index read from disk (Speech Commands, FSD50K, folder-per-class): SHA-256
// over a canonical listing - name, classes, then per clip in index order its path relative to
// root, file size, modification and change times (ns), labels, split and segment, then the
// noise files. File *contents* are not read (hashing 100k clips would take minutes), but any
// rewrite of a file changes its change time, which no copy tool can set back; moving the whole
// folder (a rename) keeps the hash. Throws tkd::Error(path) for a file it cannot stat.
std::string listingHash(const DatasetIndex &index);

// The common 12-label keyword task: 10 keywords + "_unknown_" + "_silence_".
const std::vector<std::string> &speechCommandsWords35();
const std::vector<std::string> &keywords10();
inline constexpr const char *kUnknownLabel = "_unknown_";
inline constexpr const char *kSilenceLabel = "_silence_";

} // namespace tkd
