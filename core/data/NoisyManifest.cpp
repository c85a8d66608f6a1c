#include "core/data/NoisyManifest.h"

#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <filesystem>

namespace tkd {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {
constexpr const char *kFormat = "tkd-noisy-dataset";
}

bool isNoisyManifestFolder(const std::string &dir)
{
    const fs::path manifest = fs::path(dir) / "manifest.json";
    std::error_code ec;
    if (!fs::is_regular_file(manifest, ec))
        return false;
    try {
        const json j = json::parse(readFile(manifest.string()));
        return j.is_object() && j.value("format", std::string()) == kFormat;
    } catch (const std::exception &) {
        return false;
    }
}

DatasetIndex readNoisyManifest(const std::string &dir)
{
    const std::string manifestPath = (fs::path(dir) / "manifest.json").string();
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw Error(dir, "no such folder");
    json j;
    const std::string manifestBytes = readFile(manifestPath);
    try {
        j = json::parse(manifestBytes);
    } catch (const Error &) {
        throw;
    } catch (const std::exception &e) {
        throw Error(manifestPath, std::string("not valid JSON: ") + e.what());
    }
    const auto format = j.is_object() ? j.find("format") : j.end();
    if (!j.is_object() || format == j.end() || !format->is_string() || *format != kFormat)
        throw Error(manifestPath,
            std::string("not a noisy-set manifest (expected \"format\": \"") + kFormat + "\")");
    DatasetIndex index;
    index.root = fs::absolute(dir).lexically_normal().string();
    try {
        index.name = "noisy-" + j.at("dataset").get<std::string>();
        index.classes = j.at("classes").get<std::vector<std::string>>();
        index.contentHash = j.at("content_hash").get<std::string>();
        const json &items = j.at("items");
        if (!items.is_array())
            throw Error(manifestPath, "\"items\" must be an array");
        index.clips.reserve(items.size());
        for (size_t n = 0; n < items.size(); ++n) {
            const json &it = items[n];
            const std::string where = manifestPath + ": items[" + std::to_string(n) + "]";
            ClipRef c;
            // Items live inside the set's folder: a path that is absolute or climbs out with
            // ".." (../../etc/passwd) is refused, as the Speech Commands and FSD50K loaders do.
            const fs::path rel = it.at("path").get<std::string>();
            bool climbs = false;
            for (const auto &part : rel)
                climbs = climbs || part == "..";
            if (rel.empty() || rel.is_absolute() || climbs)
                throw Error(where + ".path",
                    "'" + rel.string() + "' is not a path inside the set's folder");
            c.path = (fs::path(index.root) / rel).string();
            if (!fs::is_regular_file(c.path, ec))
                throw Error(where, "names a missing file: " + c.path);
            c.split = splitFromName(it.at("split").get<std::string>());
            for (const auto &label : it.at("labels")) {
                const int k = index.classIndex(label.get<std::string>());
                if (k < 0)
                    throw Error(where, "unknown label '" + label.get<std::string>() + "'");
                c.labels.push_back(k);
            }
            c.word = it.value("word", std::string());
            c.speaker = it.value("speaker", std::string());
            c.speechOnsetSec = it.value("keyword_onset_sec", -1.0);
            c.speechOffsetSec = it.value("keyword_offset_sec", -1.0);
            index.clips.push_back(std::move(c));
        }
    } catch (const Error &) {
        throw;
    } catch (const json::exception &e) {
        throw Error(manifestPath, std::string("malformed manifest: ") + e.what());
    }
    index.multiLabel = false;
    // The recorded hash names the set as written; the key also covers the manifest's bytes and
    // the clips' listing (sizes and times), so an edited manifest or a replaced clip is never
    // served from the caches of the set as it was.
    index.contentHash = Sha256::ofString(
        index.contentHash + "|" + Sha256::ofString(manifestBytes) + "|" + listingHash(index));
    return index;
}

} // namespace tkd
