#include "core/data/FolderDataset.h"

#include "core/data/DatasetRoot.h"
#include "core/util/DirEntry.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <map>
#include <optional>
#include <set>

namespace fs = std::filesystem;

namespace tkd {

namespace {

bool isAudioFile(const fs::path &p)
{
    static const std::set<std::string> exts
        = { ".wav", ".flac", ".ogg", ".oga", ".mp3", ".aif", ".aiff", ".au" };
    std::string ext = p.extension().string();
    std::transform(
        ext.begin(), ext.end(), ext.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return exts.count(ext) > 0;
}

bool skipped(const std::string &name)
{
    return name.empty() || name[0] == '.' || name[0] == '_';
}

std::vector<std::string> subfolders(const fs::path &dir)
{
    std::vector<std::string> out;
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (entryKind(*it) == EntryKind::Directory && !skipped(name))
            out.push_back(name);
    }
    if (ec)
        throw Error(dir.string(), "cannot list folder: " + ec.message());
    std::sort(out.begin(), out.end());
    return out;
}

// Audio files under dir (recursively, skipping hidden / _-prefixed folders), relative to base.
void collectAudio(const fs::path &dir, const fs::path &base, std::vector<std::string> &out)
{
    std::error_code ec;
    fs::recursive_directory_iterator it(dir, fs::directory_options::skip_permission_denied, ec),
        end;
    for (; !ec && it != end; it.increment(ec)) {
        const std::string name = it->path().filename().string();
        if (entryKind(*it) == EntryKind::Directory && skipped(name)) {
            it.disable_recursion_pending();
            continue;
        }
        if (entryKind(*it) == EntryKind::RegularFile && !skipped(name) && isAudioFile(it->path()))
            out.push_back(it->path().lexically_relative(base).generic_string());
    }
    if (ec)
        throw Error(dir.string(), "cannot list folder: " + ec.message());
}

std::optional<Split> splitFolder(const std::string &name)
{
    try { // the split names splitFromName knows, and nothing else
        return splitFromName(name);
    } catch (const Error &) {
        return std::nullopt;
    }
}

} // namespace

Split FolderDataset::hashSplit(const std::string &relativePath)
{
    const std::string digest = Sha256::ofString(relativePath);
    const uint64_t bucket = std::stoull(digest.substr(0, 12), nullptr, 16) % 100;
    return bucket < 80 ? Split::Train : bucket < 90 ? Split::Validation : Split::Test;
}

DatasetIndex FolderDataset::load(const std::string &rootArg, const Progress &progress)
{
    const DatasetRoot checked = DatasetRoot::open(rootArg);
    const fs::path &root = checked.path;
    const std::string &rootStr = checked.display;

    const auto top = subfolders(root);
    std::vector<std::string> splitDirs, classDirs;
    for (const auto &name : top)
        (splitFolder(name) ? splitDirs : classDirs).push_back(name);
    const bool splitLayout = !splitDirs.empty();
    if (splitLayout && !classDirs.empty())
        throw Error(rootStr,
            "mixes split folders (" + splitDirs.front() + "/) with class folders ("
                + classDirs.front() + "/); use one layout");

    // (relative path, class name, split)
    struct Found
    {
        std::string rel, cls;
        Split split;
    };
    std::vector<Found> found;
    std::set<std::string> classSet;
    std::vector<std::string> scanDirs;
    if (splitLayout) {
        for (const auto &s : splitDirs)
            for (const auto &c : subfolders(root / s))
                scanDirs.push_back(s + "/" + c);
    } else {
        scanDirs = classDirs;
    }
    for (size_t d = 0; d < scanDirs.size(); ++d) {
        progress.throwIfCancelled();
        progress.report("scan", int64_t(d), int64_t(scanDirs.size()));
        const std::string &sub = scanDirs[d];
        const auto slash = sub.find('/');
        const std::string cls = splitLayout ? sub.substr(slash + 1) : sub;
        classSet.insert(cls);
        std::vector<std::string> rels;
        collectAudio(root / sub, root, rels);
        // An empty class folder would become a class the model never hears in training, yet
        // must predict: refuse it by name (issue 15) instead of training on it.
        if (rels.empty() && (!splitLayout || splitFolder(sub.substr(0, slash)) == Split::Train))
            throw Error((root / sub).string(),
                "class folder holds no audio files (.wav .flac .ogg .mp3 .aiff .au); add clips "
                "or remove it");
        for (auto &rel : rels) {
            const Split split = splitLayout ? *splitFolder(sub.substr(0, slash)) : hashSplit(rel);
            found.push_back({ std::move(rel), cls, split });
        }
    }
    progress.report("scan", int64_t(scanDirs.size()), int64_t(scanDirs.size()));
    if (classSet.empty())
        throw Error(rootStr,
            splitLayout ? "split folders hold no class folders"
                        : "no class folders (expected root/<class>/<audio files>)");
    if (found.empty())
        throw Error(
            rootStr, "no audio files (.wav .flac .ogg .mp3 .aiff .au) in the class folders");
    std::sort(
        found.begin(), found.end(), [](const Found &a, const Found &b) { return a.rel < b.rel; });

    DatasetIndex index;
    index.name = "folder:" + fs::path(rootStr).filename().string();
    index.root = rootStr;
    index.classes.assign(classSet.begin(), classSet.end());
    for (const auto &f : found) {
        ClipRef c;
        c.path = rootStr + "/" + f.rel;
        c.labels = { index.classIndex(f.cls) };
        c.split = f.split;
        c.word = f.cls;
        index.clips.push_back(std::move(c));
    }
    index.contentHash = listingHash(index);
    return index;
}

} // namespace tkd
