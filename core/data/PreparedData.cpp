#include "core/data/PreparedData.h"

#include "core/util/ParallelFor.h"

#include "core/data/FeatureCache.h"
#include "core/features/FeatureExtractor.h"
#include "core/io/SafeTensors.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"

#include <algorithm>
#include <atomic>
#include <exception>
#include <filesystem>
#include <mutex>
#include <thread>

namespace tkd {

namespace {
constexpr const char *kItemsFormat = "tkd-items-v1";
constexpr int64_t kPrefetch = 32; // items built per parallel round
} // namespace

PreparedSplit PreparedSplit::head(int64_t n) const
{
    if (n >= size())
        return *this;
    PreparedSplit out = *this;
    out.features = features.narrow(0, 0, n);
    out.targets = targets.narrow(0, 0, n);
    out.windows.resize(size_t(n));
    return out;
}

PreparedData::PreparedData(const NoisyDataset &data, std::string itemFolder, int threads)
    : m_data(data)
    , m_itemFolder(itemFolder.empty() ? cacheRoot() + "/items" : std::move(itemFolder))
    , m_threads(std::max(1, threads))
{ }

double PreparedData::clipSec() const
{
    return double(m_data.lengthSamples()) / 16000.0;
}

std::vector<NoisyItem> PreparedData::buildItems(
    const NoisyDataset &data, Split split, int64_t n, int threads, const Progress &progress)
{
    std::vector<NoisyItem> out(static_cast<size_t>(n));
    parallelFor(
        n, threads, [&](int64_t i) { out[size_t(i)] = data.item(split, size_t(i)); }, progress);
    return out;
}

torch::Tensor PreparedData::targetsOf(
    const std::vector<std::vector<int>> &labels, int64_t numClasses, bool multiLabel)
{
    const int64_t n = int64_t(labels.size());
    if (multiLabel) {
        torch::Tensor t = torch::zeros({ n, numClasses }, torch::kFloat);
        auto a = t.accessor<float, 2>();
        for (int64_t i = 0; i < n; ++i)
            for (int l : labels[size_t(i)]) {
                if (l < 0 || l >= numClasses)
                    throw Error("dataset",
                        "label " + std::to_string(l) + " outside the " + std::to_string(numClasses)
                            + " classes");
                a[i][l] = 1.0f;
            }
        return t;
    }
    torch::Tensor t = torch::empty({ n }, torch::kLong);
    auto a = t.accessor<int64_t, 1>();
    for (int64_t i = 0; i < n; ++i) {
        const auto &l = labels[size_t(i)];
        if (l.size() != 1 || l[0] < 0 || l[0] >= numClasses)
            throw Error("dataset",
                "item " + std::to_string(i)
                    + " of a single-label task needs exactly one label in 0.."
                    + std::to_string(numClasses - 1));
        a[i] = l[0];
    }
    return t;
}

std::string PreparedData::itemsPath(Split split) const
{
    return m_itemFolder + "/"
        + Sha256::ofString(
            std::string(kItemsFormat) + "\n" + m_data.contentHash() + "\n" + splitName(split))
        + ".safetensors";
}

bool PreparedData::loadItems(Split split, SplitItems &out) const
{
    const std::string path = itemsPath(split);
    if (!std::filesystem::exists(path))
        return false;
    try {
        std::map<std::string, std::string> meta;
        auto t = safetensors::load(path, &meta);
        const int64_t n = int64_t(m_data.size(split));
        auto tg = t.find("targets");
        auto w = t.find("windows");
        if (meta["format"] != kItemsFormat || meta["dataset"] != m_data.contentHash()
            || tg == t.end() || w == t.end() || tg->second.size(0) != n || w->second.dim() != 2
            || w->second.size(0) != n || w->second.size(1) != 2
            || w->second.scalar_type() != torch::kDouble)
            return false;
        out.targets = tg->second;
        out.windows.resize(size_t(n));
        auto a = w->second.accessor<double, 2>();
        for (int64_t i = 0; i < n; ++i)
            out.windows[size_t(i)] = KeywordWindow { a[i][0], a[i][1] };
        return true;
    } catch (const Error &) {
        return false; // rebuilt below
    }
}

void PreparedData::saveItems(Split split, const SplitItems &items) const
{
    const int64_t n = int64_t(items.windows.size());
    torch::Tensor w = torch::empty({ n, 2 }, torch::kDouble);
    auto a = w.accessor<double, 2>();
    for (int64_t i = 0; i < n; ++i) {
        a[i][0] = items.windows[size_t(i)].onsetSec;
        a[i][1] = items.windows[size_t(i)].offsetSec;
    }
    makeDirs(m_itemFolder);
    safetensors::save(itemsPath(split), { { "targets", items.targets }, { "windows", w } },
        { { "format", kItemsFormat }, { "dataset", m_data.contentHash() },
            { "split", splitName(split) } });
}

SplitItems PreparedData::items(Split split, const Progress &progress) const
{
    SplitItems out;
    if (loadItems(split, out))
        return out;
    const int64_t n = int64_t(m_data.size(split));
    std::vector<std::vector<int>> labels(static_cast<size_t>(n));
    out.windows.resize(size_t(n));
    for (int64_t first = 0; first < n; first += kPrefetch) {
        const int64_t count = std::min(kPrefetch, n - first);
        // Only the metadata is kept; the audio is dropped as soon as it is built.
        std::vector<NoisyItem> batch(static_cast<size_t>(count));
        parallelFor(count, m_threads, [&](int64_t k) {
            NoisyItem it = m_data.item(split, size_t(first + k));
            it.samples.clear();
            it.samples.shrink_to_fit();
            batch[size_t(k)] = std::move(it);
        });
        for (int64_t k = 0; k < count; ++k) {
            labels[size_t(first + k)] = batch[size_t(k)].labels;
            out.windows[size_t(first + k)]
                = { batch[size_t(k)].keywordOnsetSec, batch[size_t(k)].keywordOffsetSec };
        }
        progress.throwIfCancelled();
        progress.report("items", first + count, n);
    }
    out.targets = targetsOf(labels, numClasses(), multiLabel());
    saveItems(split, out);
    return out;
}

PreparedSplit PreparedData::split(Split split, const FeatureExtractor &extractor,
    const FeatureCache &cache, const Progress &progress) const
{
    const int64_t n = int64_t(m_data.size(split));
    if (n == 0)
        throw Error(std::string("dataset ") + splitName(split) + " split", "has no clips");

    // Waveforms come from a prefetch window built in parallel; labels and windows are recorded
    // on the way, so a cache miss builds each item exactly once.
    SplitItems items;
    const bool haveItems = loadItems(split, items);
    std::vector<std::vector<int>> labels(static_cast<size_t>(n));
    std::vector<KeywordWindow> windows(static_cast<size_t>(n));
    std::vector<NoisyItem> window;
    int64_t windowStart = 0;
    FeatureCache::Source source;
    source.contentHash = m_data.contentHash();
    source.extraKey = splitName(split);
    source.count = n;
    source.waveform = [&](int64_t i) {
        if (i < windowStart || i >= windowStart + int64_t(window.size())) {
            windowStart = i;
            const int64_t count = std::min<int64_t>(kPrefetch * m_threads, n - i);
            window.assign(size_t(count), NoisyItem {});
            parallelFor(count, m_threads,
                [&](int64_t k) { window[size_t(k)] = m_data.item(split, size_t(i + k)); });
        }
        NoisyItem &it = window[size_t(i - windowStart)];
        labels[size_t(i)] = it.labels;
        windows[size_t(i)] = { it.keywordOnsetSec, it.keywordOffsetSec };
        return std::move(it.samples);
    };
    Progress p = progress;
    const std::string stage = std::string("features ") + splitName(split);
    p.onProgress = [&](const std::string &, int64_t done, int64_t total) {
        progress.report(stage, done, total);
    };
    CachedFeatures cf = cache.get(source, extractor, p);

    PreparedSplit out;
    out.split = split;
    out.clipSec = clipSec();
    out.frameWindowSec = extractor.config().windowMs / 1000.0;
    out.frameHopSec = extractor.config().hopMs / 1000.0;
    out.numClasses = numClasses();
    out.multiLabel = multiLabel();
    out.featureKey = cf.key;
    out.featuresFromCache = cf.fromCache;
    if (cf.fromCache) {
        if (!haveItems)
            items = this->items(split, progress);
        out.targets = items.targets;
        out.windows = items.windows;
    } else {
        out.targets = targetsOf(labels, numClasses(), multiLabel());
        out.windows = windows;
        if (!haveItems)
            saveItems(split, SplitItems { out.targets, out.windows });
    }
    // Every clip has length L, so the variable-length store is really [N, T, C].
    const int64_t total = cf.frames.size(0);
    if (total % n != 0
        || (cf.offsets.slice(0, 1) - cf.offsets.slice(0, 0, n)).ne(total / n).any().item<bool>())
        throw Error(cf.path,
            "cached clips differ in length; the noisy dataset should give every clip L seconds");
    out.features = cf.frames.view({ n, total / n, cf.frames.size(1) });
    return out;
}

} // namespace tkd
