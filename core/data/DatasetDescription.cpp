#include "core/data/DatasetDescription.h"

#include "core/audio/AudioFile.h"
#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdio>
#include <limits>
#include <numeric>
#include <sstream>

namespace tkd {

namespace {

std::string formatSeconds(double s)
{
    char buf[64];
    if (s < 60.0) {
        std::snprintf(buf, sizeof buf, "%.2f s", s);
    } else {
        const int64_t t = int64_t(s + 0.5);
        if (t >= 3600)
            std::snprintf(buf, sizeof buf, "%lldh %02lldm %02llds", (long long)(t / 3600),
                (long long)(t / 60 % 60), (long long)(t % 60));
        else
            std::snprintf(
                buf, sizeof buf, "%lldm %02llds", (long long)(t / 60), (long long)(t % 60));
    }
    return buf;
}

std::string padRight(const std::string &s, size_t w)
{
    return s.size() >= w ? s : s + std::string(w - s.size(), ' ');
}
std::string padLeft(const std::string &s, size_t w)
{
    return s.size() >= w ? s : std::string(w - s.size(), ' ') + s;
}

} // namespace

DatasetDescription DatasetDescription::describe(
    const DatasetIndex &index, int64_t maxProbe, const Progress &progress)
{
    DatasetDescription d;
    d.name = index.name;
    d.root = index.root;
    d.contentHash = index.contentHash;
    d.multiLabel = index.multiLabel;
    d.classes = index.classes;
    d.classCounts.assign(index.classes.size(), { 0, 0, 0 });
    d.clipCount = int64_t(index.clips.size());
    d.noiseFileCount = int64_t(index.noiseFiles.size());
    int64_t labelTotal = 0;
    for (const auto &c : index.clips) {
        const int s = int(c.split);
        ++d.splitCounts[size_t(s)];
        for (int l : c.labels) {
            if (l < 0 || size_t(l) >= index.classes.size())
                throw Error(c.path,
                    "label index " + std::to_string(l) + " outside the "
                        + std::to_string(index.classes.size()) + " classes");
            ++d.classCounts[size_t(l)][size_t(s)];
        }
        labelTotal += int64_t(c.labels.size());
    }
    d.meanLabelsPerClip = d.clipCount ? double(labelTotal) / double(d.clipCount) : 0.0;

    // Which clips to probe: all, or a seeded sample (sorted back into index order, which is
    // folder order, so the disk is read roughly sequentially).
    std::vector<size_t> order(index.clips.size());
    std::iota(order.begin(), order.end(), size_t(0));
    if (maxProbe > 0 && int64_t(order.size()) > maxProbe) {
        Rng rng({ 0xd35c21be5ull, uint64_t(order.size()) });
        for (size_t i = 0; i < size_t(maxProbe); ++i)
            std::swap(order[i], order[i + size_t(rng.below(order.size() - i))]);
        order.resize(size_t(maxProbe));
        std::sort(order.begin(), order.end());
        d.sampled = true;
    }
    double sum = 0.0, lo = std::numeric_limits<double>::infinity(), hi = 0.0;
    for (size_t k = 0; k < order.size(); ++k) {
        if (k % 256 == 0) {
            progress.throwIfCancelled();
            progress.report("probe", int64_t(k), int64_t(order.size()));
        }
        const ClipRef &c = index.clips[order[k]];
        double sec = c.durationSec;
        if (sec <= 0.0) {
            try {
                sec = probeAudio(c.path).durationSec() - c.startSec;
            } catch (const Error &e) {
                ++d.unreadableClips;
                if (d.unreadableExamples.size() < 5)
                    d.unreadableExamples.push_back(e.what());
                continue;
            }
        }
        sum += sec;
        lo = std::min(lo, sec);
        hi = std::max(hi, sec);
        ++d.probedClips;
    }
    progress.report("probe", int64_t(order.size()), int64_t(order.size()));
    if (d.probedClips > 0) {
        d.meanSec = sum / double(d.probedClips);
        d.minSec = lo;
        d.maxSec = hi;
        d.totalSec = d.sampled ? d.meanSec * double(d.clipCount) : sum;
    }
    return d;
}

std::string DatasetDescription::toTable() const
{
    std::ostringstream o;
    o << "Dataset       " << name << "  (" << (multiLabel ? "multi-label" : "single-label") << ", "
      << classes.size() << " classes)\n";
    o << "Root          " << root << "\n";
    o << "Content hash  " << contentHash << "\n";
    o << "Clips         " << clipCount << "  (train " << splitCounts[0] << ", validation "
      << splitCounts[1] << ", test " << splitCounts[2] << ")\n";
    if (noiseFileCount > 0)
        o << "Noise files   " << noiseFileCount << "\n";
    if (multiLabel) {
        char buf[32];
        std::snprintf(buf, sizeof buf, "%.2f", meanLabelsPerClip);
        o << "Labels/clip   " << buf << "\n";
    }
    if (probedClips > 0) {
        o << "Duration      " << (sampled ? "~" : "") << formatSeconds(totalSec) << " total; min "
          << formatSeconds(minSec) << ", max " << formatSeconds(maxSec) << ", mean "
          << formatSeconds(meanSec);
        if (sampled)
            o << "  (from a sample of " << probedClips << " clips)";
        o << "\n";
    }
    if (unreadableClips > 0) {
        o << "Unreadable    " << unreadableClips << " clip(s), e.g.\n";
        for (const auto &e : unreadableExamples)
            o << "              " << e << "\n";
    }
    size_t w = 5;
    for (const auto &c : classes)
        w = std::max(w, c.size());
    w += 2;
    o << "\n"
      << padRight("class", w) << padLeft("train", 8) << padLeft("validation", 12)
      << padLeft("test", 8) << padLeft("total", 9) << "\n";
    o << std::string(w + 37, '-') << "\n";
    for (size_t i = 0; i < classes.size(); ++i) {
        const auto &n = classCounts[i];
        o << padRight(classes[i], w) << padLeft(std::to_string(n[0]), 8)
          << padLeft(std::to_string(n[1]), 12) << padLeft(std::to_string(n[2]), 8)
          << padLeft(std::to_string(n[0] + n[1] + n[2]), 9) << "\n";
    }
    o << std::string(w + 37, '-') << "\n";
    o << padRight(multiLabel ? "clips" : "total", w) << padLeft(std::to_string(splitCounts[0]), 8)
      << padLeft(std::to_string(splitCounts[1]), 12) << padLeft(std::to_string(splitCounts[2]), 8)
      << padLeft(std::to_string(clipCount), 9) << "\n";
    return o.str();
}

std::string DatasetDescription::toJson() const
{
    nlohmann::ordered_json j;
    j["name"] = name;
    j["root"] = root;
    j["content_hash"] = contentHash;
    j["multi_label"] = multiLabel;
    j["clips"] = { { "total", clipCount }, { "train", splitCounts[0] },
        { "validation", splitCounts[1] }, { "test", splitCounts[2] } };
    j["noise_files"] = noiseFileCount;
    j["mean_labels_per_clip"] = meanLabelsPerClip;
    auto cls = nlohmann::ordered_json::array();
    for (size_t i = 0; i < classes.size(); ++i)
        cls.push_back({ { "name", classes[i] }, { "train", classCounts[i][0] },
            { "validation", classCounts[i][1] }, { "test", classCounts[i][2] } });
    j["classes"] = cls;
    j["duration"]
        = { { "probed_clips", probedClips }, { "sampled", sampled }, { "total_sec", totalSec },
              { "min_sec", minSec }, { "max_sec", maxSec }, { "mean_sec", meanSec } };
    j["unreadable"] = { { "count", unreadableClips }, { "examples", unreadableExamples } };
    return j.dump(2) + "\n";
}

} // namespace tkd
