#pragma once

#include "core/data/Dataset.h"
#include "core/util/Progress.h"

#include <array>
#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

// What a dataset holds, for `tkd data describe` and the studio's dataset page: classes, clip
// counts per split and per class, and clip durations (from file headers; for big sets from a
// deterministic sample so describing 100k clips stays quick).
struct DatasetDescription
{
    std::string name, root, contentHash;
    bool multiLabel = false;
    std::vector<std::string> classes;
    std::vector<std::array<int64_t, 3>> classCounts; // [class][train, validation, test]
    std::array<int64_t, 3> splitCounts {}; // clips per split
    int64_t clipCount = 0;
    int64_t noiseFileCount = 0;
    double meanLabelsPerClip = 0.0;

    // Durations in seconds over the probed clips; totalSec is scaled up to all clips when sampled.
    int64_t probedClips = 0;
    bool sampled = false;
    double totalSec = 0.0, minSec = 0.0, maxSec = 0.0, meanSec = 0.0;
    // Clips whose header could not be read (counted, a few reasons kept) instead of failing the
    // whole description: a broken file is exactly what a user runs describe to find.
    int64_t unreadableClips = 0;
    std::vector<std::string> unreadableExamples; // "path: reason", at most 5

    // maxProbe: clips whose duration is read (0: all). Segments (durationSec > 0) need no probe.
    static DatasetDescription describe(
        const DatasetIndex &index, int64_t maxProbe = 2000, const Progress &progress = {});

    std::string toTable() const; // human-readable, fixed-width
    std::string toJson() const; // pretty-printed JSON object
};

} // namespace tkd
