#pragma once

#include "core/distill/AttentionRollout.h"
#include "core/models/Wav2Vec2Model.h"
#include "core/util/Progress.h"

#include <torch/torch.h>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>

namespace tkd {

// What the frozen teacher says about every clip of a fixed dataset split, computed once.
struct TeacherCacheEntry
{
    torch::Tensor attention; // [N, T_teacher] float32: rollout row 0 at the teacher's frame rate
    torch::Tensor logits; // [N, C] float32 (C = 0 for a teacher without a head)
    std::string key; // hex SHA-256
    std::string path; // the .safetensors file
    bool fromCache = false; // true: loaded, nothing was computed

    int64_t size() const { return attention.defined() ? attention.size(0) : 0; }
    // a_T at the student's length T' (paper notes section 2: linear interpolation, renormalised).
    torch::Tensor attentionFor(int64_t studentLength, RowResampling mode = RowResampling::Linear,
        bool alignCorners = false) const;
};

// The teacher attention cache (paper notes section 2: the teacher is frozen, so a_T is computed
// once per clip). Files live at <folder>/<key>.safetensors with
//   key = sha256(data hash, teacher weights hash, rollout options, extra key)
// so a changed teacher, dataset or rollout gives a new key and an unchanged one is never
// recomputed. The row is stored at the teacher's frame rate, so any student length can use it.
// Writes are atomic; a file that fails validation is reported through the message handler and
// rebuilt.
class TeacherAttentionCache
{
public:
    // Teacher input for items [first, first + count), batched as the teacher's forward() wants it
    // ([count, samples] raw waveform or [count, frames, bins] spectral frames).
    using InputFn = std::function<torch::Tensor(int64_t first, int64_t count)>;

    struct Source
    {
        std::string dataHash; // identifies the items (the noisy dataset's content hash)
        std::string extraKey; // anything else they depend on (the split name)
        int64_t count = 0;
        InputFn inputs;
    };

    // folder: where files go (empty: cacheRoot()/teacher-cache).
    explicit TeacherAttentionCache(std::string folder = {});

    const std::string &folder() const { return m_folder; }
    std::string pathFor(const std::string &key) const
    {
        return m_folder + "/" + key + ".safetensors";
    }

    static std::string key(const std::string &dataHash, const std::string &teacherHash,
        const RolloutOptions &rollout, const std::string &extraKey);
    // The rollout fields that change the stored row (resampling happens at use, so not those).
    static std::string rolloutCanonical(const RolloutOptions &rollout);
    // SHA-256 over the architecture text and every parameter and buffer (name, shape, bytes).
    static std::string weightsHash(
        const torch::nn::Module &teacher, const std::string &architecture);

    // Whether a valid file for the key is there (cheap: header only).
    bool contains(const std::string &key) const;

    // Loads the entry or runs the teacher (eval mode, no gradients, batches of batchSize on
    // `device`) over every item, rolls out its attention and stores the result. Throws
    // tkd::Error for bad input, tkd::Cancelled on cancel (nothing is written then).
    TeacherCacheEntry get(const Source &source, Wav2Vec2Model &teacher,
        const std::string &teacherHash, const RolloutOptions &rollout,
        const Progress &progress = {}, torch::Device device = torch::kCPU,
        int64_t batchSize = 16) const;

    // Computing a missing entry on several processes (data-parallel ranks): this one runs the
    // teacher over items [first, first + count) only; `agree` turns this process's "found it"
    // into the decision of all (found by every one), `gather` turns this process's rows into all
    // rows, in order; only a shard with `write` stores the file. No shard: everything here.
    struct Shard
    {
        int64_t first = 0;
        int64_t count = 0;
        bool write = true;
        std::function<bool(bool found)> agree;
        std::function<void(torch::Tensor &attention, torch::Tensor &logits)> gather;
    };
    void setShard(std::shared_ptr<const Shard> shard) { m_shard = std::move(shard); }

    void setMessageHandler(std::function<void(const std::string &)> handler)
    {
        m_onMessage = std::move(handler);
    }

private:
    bool tryLoad(const std::string &path, const std::string &key, int64_t count,
        TeacherCacheEntry &out) const;

    std::string m_folder;
    std::function<void(const std::string &)> m_onMessage;
    std::shared_ptr<const Shard> m_shard;
};

} // namespace tkd
