#pragma once

#include "core/data/Dataset.h"
#include "core/data/KeywordWindow.h"
#include "core/data/NoisyDataset.h"
#include "core/util/Progress.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

class FeatureCache;
class FeatureExtractor;

// One split of a fixed noisy dataset, ready for training: every clip's features stacked (all
// clips share the length L), its targets and the keyword's true window.
struct PreparedSplit
{
    Split split = Split::Train;
    torch::Tensor features; // [N, T, C] float32 on the CPU (possibly a read-only file mapping)
    torch::Tensor targets; // [N] int64 class index, or [N, C] float32 multi-hot
    std::vector<KeywordWindow> windows; // absent window: silence
    double clipSec = 0.0;
    double frameWindowSec = 0.040; // the front end's frame timing (for localisation scores)
    double frameHopSec = 0.020;
    int64_t numClasses = 0;
    bool multiLabel = false;
    std::string featureKey; // FeatureCache key
    bool featuresFromCache = false;

    int64_t size() const { return features.defined() ? features.size(0) : 0; }
    int64_t frames() const { return features.defined() ? features.size(1) : 0; }
    // The first n items (n >= size(): everything), sharing storage.
    PreparedSplit head(int64_t n) const;
};

// Labels and keyword windows of a split, without the audio.
struct SplitItems
{
    torch::Tensor targets;
    std::vector<KeywordWindow> windows;
};

// Turns a NoisyDataset split into a PreparedSplit through the FeatureCache (features are
// computed once per (dataset, feature config) and never again) and a small items file
// (<folder>/<sha256(dataset hash, split)>.safetensors: labels and keyword windows), so a cache
// hit touches no audio at all. Items are built on `threads` threads ahead of the cache's
// in-order consumer; NoisyDataset::item is a pure function, so the result does not depend on it.
class PreparedData
{
public:
    // itemFolder: where items files go (empty: cacheRoot()/items).
    explicit PreparedData(const NoisyDataset &data, std::string itemFolder = {}, int threads = 2);

    const NoisyDataset &dataset() const { return m_data; }
    bool multiLabel() const { return m_data.index().multiLabel; }
    int64_t numClasses() const { return int64_t(m_data.index().classes.size()); }
    double clipSec() const;

    // Throws tkd::Error for unreadable sources, tkd::Cancelled on cancel.
    PreparedSplit split(Split split, const FeatureExtractor &extractor, const FeatureCache &cache,
        const Progress &progress = {}) const;
    SplitItems items(Split split, const Progress &progress = {}) const;

    // Items [0, n) of `split` built with any NoisyDataset over the same index (e.g. fresh noise
    // for a teacher epoch), on the worker threads, in order.
    static std::vector<NoisyItem> buildItems(const NoisyDataset &data, Split split, int64_t n,
        int threads, const Progress &progress = {});
    // Targets of items as a tensor ([N] int64 or [N, C] multi-hot).
    static torch::Tensor targetsOf(
        const std::vector<std::vector<int>> &labels, int64_t numClasses, bool multiLabel);

private:
    std::string itemsPath(Split split) const;
    bool loadItems(Split split, SplitItems &out) const;
    void saveItems(Split split, const SplitItems &items) const;

    const NoisyDataset &m_data;
    std::string m_itemFolder;
    int m_threads;
};

} // namespace tkd
