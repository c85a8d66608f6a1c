#pragma once

#include "core/data/Dataset.h"
#include "core/util/Progress.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

namespace tkd {

class FeatureExtractor;

// Features of every item of a source, variable length: item i is frames[offsets[i]:offsets[i+1]].
struct CachedFeatures
{
    torch::Tensor frames; // [total frames, C] float32
    torch::Tensor offsets; // [count + 1] int64, offsets[0] = 0, last = total frames
    std::string key; // cache key (hex SHA-256)
    std::string path; // the .safetensors file it lives in
    bool fromCache = false; // loaded as is; false: computed now (and written)

    int64_t size() const { return offsets.defined() ? offsets.size(0) - 1 : 0; }
    int64_t featureDim() const { return frames.defined() ? frames.size(1) : 0; }
    torch::Tensor item(int64_t i) const; // [T_i, C] view into frames
};

// Precomputed student features for a whole dataset (or a noisy construction of one), stored as
// <folder>/<sha256(content hash + feature canonicalString + extra key)>.safetensors and written
// atomically, so training never recomputes them and a killed build never leaves half a file.
// The key covers everything the features depend on, so an unchanged key is never recomputed and
// any change (data, feature parameters, noise config via the extra key) gets a new file. A cache
// file that fails validation is reported through onMessage and rebuilt.
class FeatureCache
{
public:
    // Item i as 16 kHz mono samples. Called once per item, in order, from the calling thread.
    using WaveformFn = std::function<std::vector<float>(int64_t i)>;
    // [B, N] float32 -> [B, T, C] (FeatureExtractor::compute's contract).
    using ComputeFn = std::function<torch::Tensor(const torch::Tensor &wave)>;

    struct Source
    {
        std::string contentHash; // identifies the items (DatasetIndex / NoisyDataset contentHash)
        std::string extraKey; // anything else the items depend on (e.g. a split name); may be ""
        int64_t count = 0;
        WaveformFn waveform;
    };

    // folder: where cache files go (empty: cacheRoot()/features; created on first write).
    explicit FeatureCache(std::string folder = {});

    const std::string &folder() const { return m_folder; }
    std::string pathFor(const std::string &key) const
    {
        return m_folder + "/" + key + ".safetensors";
    }
    static std::string key(const std::string &contentHash, const std::string &featureCanonical,
        const std::string &extraKey);

    // Loads the cached features or computes and stores them. Equal-length neighbours are batched
    // (up to batchSize) into one compute call. Throws tkd::Error for bad input, tkd::Cancelled
    // on cancel (nothing is written then).
    CachedFeatures get(const Source &source, const std::string &featureCanonical,
        const ComputeFn &compute, const Progress &progress = {}) const;
    CachedFeatures get(const Source &source, const FeatureExtractor &extractor,
        const Progress &progress = {}) const;

    // Every clip of an index (segments cut out), keyed by index.contentHash.
    static Source datasetSource(const DatasetIndex &index);

    // Notes such as "rebuilding a corrupt cache file" (default: none).
    void setMessageHandler(std::function<void(const std::string &)> handler)
    {
        m_onMessage = std::move(handler);
    }
    void setBatchSize(int n) { m_batchSize = n < 1 ? 1 : n; }

private:
    bool tryLoad(
        const std::string &path, const std::string &key, int64_t count, CachedFeatures &out) const;

    std::string m_folder;
    int m_batchSize = 64;
    std::function<void(const std::string &)> m_onMessage;
};

} // namespace tkd
