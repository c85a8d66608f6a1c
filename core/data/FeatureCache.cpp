#include "core/data/FeatureCache.h"

#include "core/audio/AudioFile.h"
#include "core/features/FeatureExtractor.h"
#include "core/io/SafeTensors.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"

#include <cmath>
#include <cstring>
#include <filesystem>
#include <memory>

namespace tkd {

namespace {
constexpr const char *kFormat = "tkd-feature-cache-v2";
}

torch::Tensor CachedFeatures::item(int64_t i) const
{
    if (i < 0 || i >= size())
        throw Error(
            "features", "item " + std::to_string(i) + " outside 0.." + std::to_string(size() - 1));
    const int64_t a = offsets[i].item<int64_t>(), b = offsets[i + 1].item<int64_t>();
    return frames.narrow(0, a, b - a);
}

FeatureCache::FeatureCache(std::string folder)
    : m_folder(folder.empty() ? cacheRoot() + "/features" : std::move(folder))
{ }

std::string FeatureCache::key(const std::string &contentHash, const std::string &featureCanonical,
    const std::string &extraKey)
{
    // Length-prefixed parts: no two different triples can produce the same hashed text.
    std::string text = kFormat;
    for (const std::string *part : { &contentHash, &featureCanonical, &extraKey })
        text += "\n" + std::to_string(part->size()) + ":" + *part;
    return Sha256::ofString(text);
}

bool FeatureCache::tryLoad(
    const std::string &path, const std::string &key, int64_t count, CachedFeatures &out) const
{
    if (!std::filesystem::exists(path))
        return false;
    std::string problem;
    try {
        std::map<std::string, std::string> meta;
        // Mapped, not read: a noisy-set cache can be several GB and pages in as training touches
        // it.
        auto tensors = safetensors::loadMapped(path, &meta);
        auto f = tensors.find("features");
        auto o = tensors.find("offsets");
        if (f == tensors.end() || o == tensors.end())
            problem = "lacks the features/offsets tensors";
        else if (meta["format"] != kFormat || meta["key"] != key)
            problem = "was written for another key or format";
        else if (f->second.scalar_type() != torch::kFloat32 || f->second.dim() != 2)
            problem = "features are not a 2-D float32 tensor";
        else if (o->second.scalar_type() != torch::kInt64 || o->second.dim() != 1
            || o->second.size(0) != count + 1)
            problem = "offsets do not match the " + std::to_string(count) + " items";
        else if (meta["checksum"] != safetensors::checksum(tensors))
            problem = "its bytes do not match its checksum (corrupted or edited)";
        else {
            const auto &off = o->second;
            const bool ok = off[0].item<int64_t>() == 0
                && off[count].item<int64_t>() == f->second.size(0)
                && (count == 0
                    || (off.slice(0, 1) - off.slice(0, 0, count)).min().item<int64_t>() >= 0);
            if (!ok)
                problem = "offsets are not a valid partition of the frames";
        }
        if (problem.empty()) {
            out.frames = f->second;
            out.offsets = o->second;
            return true;
        }
    } catch (const Error &e) {
        problem = e.reason();
    }
    if (m_onMessage)
        m_onMessage("feature cache " + path + " is unusable (" + problem + "); rebuilding it");
    return false;
}

CachedFeatures FeatureCache::get(const Source &source, const std::string &featureCanonical,
    const ComputeFn &compute, const Progress &progress) const
{
    if (source.count < 0)
        throw Error("features", "negative item count");
    if (source.contentHash.empty())
        throw Error("features", "the source has no content hash, so its features cannot be cached");
    if (!source.waveform || !compute)
        throw Error("features", "no waveform or feature function given");

    CachedFeatures out;
    out.key = key(source.contentHash, featureCanonical, source.extraKey);
    out.path = pathFor(out.key);
    if (tryLoad(out.path, out.key, source.count, out)) {
        out.fromCache = true;
        return out;
    }

    std::vector<torch::Tensor> parts;
    std::vector<int64_t> offsets { 0 };
    offsets.reserve(size_t(source.count) + 1);
    int64_t featureDim = -1;
    int64_t done = 0;
    // Equal-length neighbours go through one compute call (batches of up to m_batchSize).
    auto flush = [&](std::vector<std::vector<float>> &batch) {
        const int64_t n = int64_t(batch.size()), len = int64_t(batch.front().size());
        auto wav = torch::empty({ n, len }, torch::kFloat32);
        if (len > 0)
            for (int64_t b = 0; b < n; ++b)
                std::memcpy(
                    wav[b].data_ptr<float>(), batch[size_t(b)].data(), size_t(len) * sizeof(float));
        batch.clear();
        const torch::Tensor feats = compute(wav);
        if (!feats.defined() || feats.dim() != 3 || feats.size(0) != n)
            throw Error(
                "features", "the feature function must return [B, T, C] for a [B, N] batch");
        if (featureDim < 0)
            featureDim = feats.size(2);
        if (feats.size(2) != featureDim)
            throw Error("features", "the feature function changed its feature dimension");
        const torch::Tensor f32 = feats.to(torch::kFloat32);
        for (int64_t b = 0; b < n; ++b) {
            parts.push_back(f32[b].contiguous());
            offsets.push_back(offsets.back() + feats.size(1));
        }
        done += n;
        progress.report("features", done, source.count);
    };
    progress.report("features", 0, source.count);
    std::vector<std::vector<float>> batch;
    for (int64_t next = 0; next < source.count; ++next) {
        progress.throwIfCancelled();
        std::vector<float> wave = source.waveform(next);
        if (!batch.empty()
            && (wave.size() != batch.front().size() || int64_t(batch.size()) >= m_batchSize))
            flush(batch);
        batch.push_back(std::move(wave));
    }
    if (!batch.empty())
        flush(batch);
    out.frames = parts.empty()
        ? torch::zeros({ 0, std::max<int64_t>(featureDim, 0) }, torch::kFloat32)
        : torch::cat(parts, 0);
    out.offsets = torch::tensor(offsets, torch::kInt64);
    makeDirs(m_folder);
    const std::map<std::string, torch::Tensor> tensors
        = { { "features", out.frames }, { "offsets", out.offsets } };
    safetensors::save(out.path, { tensors.begin(), tensors.end() },
        { { "format", kFormat }, { "key", out.key }, { "checksum", safetensors::checksum(tensors) },
            { "content_hash", source.contentHash }, { "features", featureCanonical },
            { "extra", source.extraKey }, { "count", std::to_string(source.count) } });
    return out;
}

CachedFeatures FeatureCache::get(
    const Source &source, const FeatureExtractor &extractor, const Progress &progress) const
{
    return get(
        source, extractor.config().canonicalString(),
        [&extractor](const torch::Tensor &wave) { return extractor.compute(wave); }, progress);
}

FeatureCache::Source FeatureCache::datasetSource(const DatasetIndex &index)
{
    Source s;
    s.contentHash = index.contentHash;
    s.count = int64_t(index.clips.size());
    // Copies the clip list so the source stays valid on its own.
    auto clips = std::make_shared<std::vector<ClipRef>>(index.clips);
    s.waveform = [clips](int64_t i) {
        const ClipRef &c = (*clips)[size_t(i)];
        std::vector<float> wave = loadAudio(c.path);
        if (c.startSec > 0.0 || c.durationSec > 0.0) {
            const size_t from
                = std::min(wave.size(), size_t(std::llround(c.startSec * kSampleRate)));
            size_t to = c.durationSec > 0.0
                ? from + size_t(std::llround(c.durationSec * kSampleRate))
                : wave.size();
            if (to > wave.size())
                throw Error(c.path,
                    "segment " + std::to_string(c.startSec) + " s + "
                        + std::to_string(c.durationSec) + " s runs past the end of the file");
            wave = std::vector<float>(
                wave.begin() + std::ptrdiff_t(from), wave.begin() + std::ptrdiff_t(to));
        }
        return wave;
    };
    return s;
}

} // namespace tkd
