#include "core/distill/TeacherAttentionCache.h"

#include "core/io/SafeTensors.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"

#include <filesystem>
#include <sstream>

namespace tkd {

namespace {
constexpr const char *kFormat = "tkd-teacher-cache-v2";

std::string shortest(double v)
{
    std::ostringstream s;
    s.precision(17);
    s << v;
    return s.str();
}
} // namespace

torch::Tensor TeacherCacheEntry::attentionFor(
    int64_t studentLength, RowResampling mode, bool alignCorners) const
{
    if (!attention.defined())
        throw Error("teacher cache", "no attention loaded");
    return AttentionRollout::resampleRow(attention, studentLength, mode, alignCorners);
}

TeacherAttentionCache::TeacherAttentionCache(std::string folder)
    : m_folder(folder.empty() ? cacheRoot() + "/teacher-cache" : std::move(folder))
{ }

std::string TeacherAttentionCache::rolloutCanonical(const RolloutOptions &r)
{
    std::string s = std::string("head_fusion=") + headFusionName(r.headFusion)
        + ";residual=" + shortest(r.residualWeight) + ";query_row=" + std::to_string(r.queryRow);
    if (r.layers.empty()) {
        s += ";first_layer=" + std::to_string(r.firstLayer)
            + ";last_layer=" + std::to_string(r.lastLayer);
    } else {
        s += ";layers=";
        for (size_t i = 0; i < r.layers.size(); ++i)
            s += (i ? "," : "") + std::to_string(r.layers[i]);
    }
    return s;
}

std::string TeacherAttentionCache::key(const std::string &dataHash, const std::string &teacherHash,
    const RolloutOptions &rollout, const std::string &extraKey)
{
    const std::string roll = rolloutCanonical(rollout);
    // Length-prefixed parts, so no two different tuples hash the same text.
    std::string text = kFormat;
    for (const std::string *part : { &dataHash, &teacherHash, &roll, &extraKey })
        text += "\n" + std::to_string(part->size()) + ":" + *part;
    return Sha256::ofString(text);
}

std::string TeacherAttentionCache::weightsHash(
    const torch::nn::Module &teacher, const std::string &architecture)
{
    Sha256 h;
    h.update(architecture);
    auto add = [&](const std::string &name, const torch::Tensor &value) {
        const torch::Tensor t = value.detach().to(torch::kCPU).contiguous();
        std::string head = "\n" + name + ":" + std::string(c10::toString(t.scalar_type())) + "[";
        for (int64_t d = 0; d < t.dim(); ++d)
            head += std::to_string(t.size(d)) + ",";
        h.update(head + "]");
        h.update(t.data_ptr(), size_t(t.numel()) * t.element_size());
    };
    for (const auto &p : teacher.named_parameters())
        add(p.key(), p.value());
    for (const auto &b : teacher.named_buffers())
        add(b.key(), b.value());
    return h.hexDigest();
}

bool TeacherAttentionCache::contains(const std::string &key) const
{
    const std::string path = pathFor(key);
    if (!std::filesystem::exists(path))
        return false;
    try {
        const auto header = safetensors::readHeader(path);
        auto it = header.metadata.find("key");
        return it != header.metadata.end() && it->second == key;
    } catch (const Error &) {
        return false;
    }
}

bool TeacherAttentionCache::tryLoad(
    const std::string &path, const std::string &key, int64_t count, TeacherCacheEntry &out) const
{
    if (!std::filesystem::exists(path))
        return false;
    std::string problem;
    try {
        std::map<std::string, std::string> meta;
        auto tensors = safetensors::load(path, &meta);
        auto a = tensors.find("attention");
        auto l = tensors.find("logits");
        if (a == tensors.end() || l == tensors.end())
            problem = "lacks the attention/logits tensors";
        else if (meta["format"] != kFormat || meta["key"] != key)
            problem = "was written for another key or format";
        else if (a->second.scalar_type() != torch::kFloat32 || a->second.dim() != 2
            || a->second.size(0) != count)
            problem = "attention is not [" + std::to_string(count) + ", T] float32";
        else if (l->second.scalar_type() != torch::kFloat32 || l->second.dim() != 2
            || l->second.size(0) != count)
            problem = "logits are not [" + std::to_string(count) + ", C] float32";
        else if (meta["checksum"] != safetensors::checksum(tensors))
            problem = "does not match its checksum (corrupted or edited)";
        else if (!torch::isfinite(a->second).all().item<bool>()
            || !torch::isfinite(l->second).all().item<bool>())
            problem = "holds non-finite values";
        if (problem.empty()) {
            out.attention = a->second;
            out.logits = l->second;
            return true;
        }
    } catch (const Error &e) {
        problem = e.reason();
    }
    if (m_onMessage)
        m_onMessage("rebuilding teacher cache file " + path + ": it " + problem);
    return false;
}

TeacherCacheEntry TeacherAttentionCache::get(const Source &source, Wav2Vec2Model &teacher,
    const std::string &teacherHash, const RolloutOptions &rollout, const Progress &progress,
    torch::Device device, int64_t batchSize) const
{
    if (source.count < 0)
        throw Error("teacher cache", "negative item count");
    if (source.dataHash.empty() || teacherHash.empty())
        throw Error("teacher cache", "needs both a data hash and a teacher hash for its key");
    if (!source.inputs)
        throw Error("teacher cache", "no input function");
    if (batchSize < 1)
        throw Error("teacher cache", "batch size must be at least 1");
    rollout.validate();

    TeacherCacheEntry out;
    out.key = key(source.dataHash, teacherHash, rollout, source.extraKey);
    out.path = pathFor(out.key);
    const bool found = tryLoad(out.path, out.key, source.count, out);
    if (m_shard ? m_shard->agree(found) : found) {
        out.fromCache = true;
        return out;
    }
    const int64_t begin = m_shard ? m_shard->first : 0;
    const int64_t end = m_shard ? m_shard->first + m_shard->count : source.count;

    const bool wasTraining = teacher->is_training();
    teacher->eval();
    torch::NoGradGuard noGrad;
    const AttentionRollout roll(rollout);
    std::vector<torch::Tensor> rows, logits;
    progress.report("teacher attention", 0, source.count);
    try {
        for (int64_t first = begin; first < end; first += batchSize) {
            progress.throwIfCancelled();
            const int64_t n = std::min(batchSize, end - first);
            const torch::Tensor input = source.inputs(first, n);
            if (!input.defined() || input.size(0) != n)
                throw Error("teacher cache",
                    "the input function returned the wrong batch for items " + std::to_string(first)
                        + ".." + std::to_string(first + n - 1));
            Wav2Vec2Output o = teacher->forward(input.to(device));
            rows.push_back(roll.rolloutRow(o.attentions).to(torch::kCPU, torch::kFloat));
            logits.push_back(o.logits.defined() ? o.logits.to(torch::kCPU, torch::kFloat)
                                                : torch::zeros({ n, 0 }, torch::kFloat));
            progress.report("teacher attention", first + n, source.count);
        }
    } catch (...) {
        teacher->train(wasTraining);
        throw;
    }
    teacher->train(wasTraining);
    out.attention
        = rows.size() ? torch::cat(rows, 0).contiguous() : torch::zeros({ 0, 0 }, torch::kFloat);
    out.logits = logits.size() ? torch::cat(logits, 0).contiguous()
                               : torch::zeros({ 0, 0 }, torch::kFloat);
    if (m_shard)
        m_shard->gather(out.attention, out.logits);
    if (!torch::isfinite(out.attention).all().item<bool>()
        || !torch::isfinite(out.logits).all().item<bool>())
        throw Error("teacher", "produced non-finite attention or logits; nothing was cached");

    out.fromCache = false;
    if (m_shard && !m_shard->write)
        return out;
    makeDirs(m_folder);
    const std::map<std::string, torch::Tensor> tensors
        = { { "attention", out.attention }, { "logits", out.logits } };
    safetensors::save(out.path, { tensors.begin(), tensors.end() },
        { { "format", kFormat }, { "key", out.key }, { "checksum", safetensors::checksum(tensors) },
            { "data_hash", source.dataHash }, { "teacher_hash", teacherHash },
            { "rollout", rolloutCanonical(rollout) }, { "extra_key", source.extraKey },
            { "count", std::to_string(source.count) } });
    out.fromCache = false;
    return out;
}

} // namespace tkd
