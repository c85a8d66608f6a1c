#include "core/data/SpeechCommandsDataset.h"

#include "core/audio/AudioFile.h"
#include "core/data/DatasetRoot.h"
#include "core/util/DirEntry.h"
#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <algorithm>
#include <cctype>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace tkd {

namespace {

bool hasWavExtension(const fs::path &p)
{
    std::string ext = p.extension().string();
    std::transform(
        ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return ext == ".wav";
}

std::vector<std::string> sortedWavFiles(const fs::path &folder)
{
    std::vector<std::string> names;
    std::error_code ec;
    for (fs::directory_iterator it(folder, ec), end; !ec && it != end; it.increment(ec))
        if (entryKind(*it) == EntryKind::RegularFile && hasWavExtension(it->path()))
            names.push_back(it->path().filename().string());
    if (ec)
        throw Error(folder.string(), "cannot list folder: " + ec.message());
    std::sort(names.begin(), names.end());
    return names;
}

std::string trimmed(const std::string &s)
{
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b])))
        ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1])))
        --e;
    return s.substr(b, e - b);
}

// Reads validation_list.txt / testing_list.txt into relative path -> line number.
std::map<std::string, int> readList(
    const fs::path &root, const char *name, const std::set<std::string> &clips)
{
    const fs::path listPath = root / name;
    std::ifstream in(listPath);
    if (!in)
        throw Error(listPath.string(),
            fs::exists(listPath) ? "cannot open for reading"
                                 : "missing: Speech Commands defines its splits with "
                                   "validation_list.txt and testing_list.txt");
    std::map<std::string, int> out;
    std::string line;
    int lineNo = 0;
    while (std::getline(in, line)) {
        ++lineNo;
        const std::string rel = fs::path(trimmed(line)).lexically_normal().generic_string();
        if (rel.empty() || rel == ".")
            continue;
        const std::string where = listPath.string() + ":" + std::to_string(lineNo);
        if (!clips.count(rel)) {
            std::error_code ec; // a line longer than NAME_MAX is an error, not an exception
            if (!fs::exists(root / rel, ec))
                throw Error(where, "names '" + rel + "', which does not exist");
            throw Error(where, "names '" + rel + "', which is not a .wav clip in a word folder");
        }
        if (!out.emplace(rel, lineNo).second)
            throw Error(where,
                "names '" + rel + "' twice (first on line " + std::to_string(out[rel]) + ")");
    }
    return out;
}

struct NoiseRecording
{
    std::string path;
    double durationSec;
};

// Cuts `count` 1 s segments for one split. Each recording is divided in time - the first 80%
// for train, the next 10% validation, the last 10% test - so the same noise never appears in two
// splits; segments go round-robin over the recordings at seeded random offsets.
void addSilenceClips(DatasetIndex &index, Split split, int count, int label,
    const std::vector<NoiseRecording> &noise, uint64_t seed, const std::string &noiseFolder)
{
    if (count <= 0)
        return;
    const double from = split == Split::Train ? 0.0 : split == Split::Validation ? 0.8 : 0.9;
    const double to = split == Split::Train ? 0.8 : split == Split::Validation ? 0.9 : 1.0;
    std::vector<std::pair<const NoiseRecording *, std::pair<double, double>>> regions;
    for (const auto &n : noise) {
        const double a = from * n.durationSec, b = to * n.durationSec;
        if (b - a >= 1.0)
            regions.push_back({ &n, { a, b } });
    }
    if (regions.empty())
        throw Error(noiseFolder,
            std::string("no recording is long enough to cut 1 s ") + splitName(split)
                + " silence clips from (each split uses its own part of each "
                  "recording, so a recording needs >= 10 s)");
    Rng rng({ seed, uint64_t(split), 0x51e4ce5ull });
    for (int k = 0; k < count; ++k) {
        const auto &[rec, region] = regions[size_t(k) % regions.size()];
        const double span = region.second - region.first - 1.0;
        double start = region.first + rng.uniform() * span;
        start = std::floor(start * kSampleRate) / kSampleRate; // a whole sample
        ClipRef c;
        c.path = rec->path;
        c.labels = { label };
        c.split = split;
        c.word = kSilenceLabel;
        c.startSec = start;
        c.durationSec = 1.0;
        index.clips.push_back(std::move(c));
    }
}

} // namespace

std::string SpeechCommandsDataset::speakerOf(const std::string &fileName)
{
    const std::string stem = fs::path(fileName).stem().string();
    if (auto p = stem.find("_nohash_"); p != std::string::npos)
        return stem.substr(0, p);
    return stem.substr(0, stem.find('_'));
}

DatasetIndex SpeechCommandsDataset::load(
    const std::string &rootArg, const SpeechCommandsOptions &options, const Progress &progress)
{
    if (options.labelCount != 12 && options.labelCount != 35)
        throw Error("dataset.task",
            "Speech Commands has a 12-label and a 35-label task, not "
                + std::to_string(options.labelCount));
    const DatasetRoot checked = DatasetRoot::open(rootArg, "Speech Commands");
    const fs::path &root = checked.path;
    const std::string &rootStr = checked.display;

    // Word folders: every sub-folder holding .wav files, except _background_noise_ and other
    // _-prefixed or hidden ones.
    std::vector<std::string> folders;
    std::error_code ec;
    for (fs::directory_iterator it(root, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (entryKind(*it) == EntryKind::Directory && !name.empty() && name[0] != '_'
            && name[0] != '.')
            folders.push_back(name);
    }
    if (ec)
        throw Error(rootStr, "cannot list folder: " + ec.message());
    std::sort(folders.begin(), folders.end());

    std::vector<std::string> words;
    std::vector<std::pair<std::string, std::string>> files; // (word, relative path)
    std::set<std::string> relSet;
    for (size_t f = 0; f < folders.size(); ++f) {
        progress.throwIfCancelled();
        progress.report("scan", int64_t(f), int64_t(folders.size()));
        const auto names = sortedWavFiles(root / folders[f]);
        if (names.empty())
            continue;
        words.push_back(folders[f]);
        for (const auto &n : names) {
            files.emplace_back(folders[f], folders[f] + "/" + n);
            relSet.insert(folders[f] + "/" + n);
        }
    }
    progress.report("scan", int64_t(folders.size()), int64_t(folders.size()));
    if (words.empty())
        throw Error(rootStr,
            "no word folders with .wav files (expected the Speech Commands layout: "
            "one folder per word, e.g. yes/0a7c2a8d_nohash_0.wav)");

    const auto validation = readList(root, kValidationList, relSet);
    const auto testing = readList(root, kTestingList, relSet);
    for (const auto &[rel, line] : testing)
        if (auto v = validation.find(rel); v != validation.end())
            throw Error(rootStr + "/" + kTestingList + ":" + std::to_string(line),
                "'" + rel + "' is also in " + kValidationList + " (line "
                    + std::to_string(v->second) + ")");

    DatasetIndex index;
    index.root = rootStr;
    index.multiLabel = false;
    const bool twelve = options.labelCount == 12;
    index.name = twelve ? "speech-commands-v2-12" : "speech-commands-v2-35";
    if (twelve) {
        index.classes = keywords10();
        index.classes.push_back(kUnknownLabel);
        index.classes.push_back(kSilenceLabel);
    } else {
        index.classes = words;
    }
    std::map<std::string, int> labelOf;
    for (const auto &w : words) {
        int l = index.classIndex(w);
        labelOf[w] = l >= 0 ? l : index.classIndex(kUnknownLabel);
    }

    index.clips.reserve(files.size());
    for (const auto &[word, rel] : files) {
        ClipRef c;
        c.path = rootStr + "/" + rel;
        c.labels = { labelOf.at(word) };
        c.split = testing.count(rel) ? Split::Test
            : validation.count(rel)  ? Split::Validation
                                     : Split::Train;
        c.speaker = speakerOf(rel);
        c.word = word;
        index.clips.push_back(std::move(c));
    }

    const fs::path noiseDir = root / kNoiseFolder;
    if (fs::is_directory(noiseDir))
        for (const auto &n : sortedWavFiles(noiseDir))
            index.noiseFiles.push_back((noiseDir / n).string());

    if (twelve && options.silenceClipsPerSplit != 0) {
        if (index.noiseFiles.empty())
            throw Error(noiseDir.string(),
                "missing or without .wav files: the 12-label task cuts its "
                "_silence_ clips from these recordings (or use 0 silence clips)");
        std::vector<NoiseRecording> noise;
        for (const auto &path : index.noiseFiles)
            noise.push_back({ path, probeAudio(path).durationSec() });
        const int silence = index.classIndex(kSilenceLabel);
        for (Split s : { Split::Train, Split::Validation, Split::Test }) {
            int count = options.silenceClipsPerSplit;
            if (count < 0) {
                int64_t keywordClips = 0;
                for (const auto &c : index.clips)
                    if (c.split == s && c.labels[0] < 10)
                        ++keywordClips;
                count = int(std::lround(double(keywordClips) / 10.0));
            }
            addSilenceClips(
                index, s, count, silence, noise, options.silenceSeed, noiseDir.string());
        }
    }
    index.contentHash = listingHash(index);
    return index;
}

} // namespace tkd
