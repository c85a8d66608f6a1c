#include "core/io/WeightImport.h"

#include "core/util/Error.h"

#include <algorithm>
#include <filesystem>
#include <set>
#include <sstream>

namespace tkd::io {

namespace fs = std::filesystem;
using Status = MappingEntry::Status;

namespace {

std::string shapeText(const std::vector<int64_t> &shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

int64_t numel(const std::vector<int64_t> &shape)
{
    int64_t n = 1;
    for (int64_t d : shape)
        n *= d;
    return n;
}

bool startsWith(const std::string &s, const std::string &prefix)
{
    return s.compare(0, prefix.size(), prefix) == 0;
}

void replaceOnce(std::string &s, const std::string &from, const std::string &to)
{
    if (auto pos = s.find(from); pos != std::string::npos)
        s.replace(pos, from.size(), to);
}

// HF key -> the model's key: drop the task wrapper's prefix, and map weight norm stored as
// torch.nn.utils.parametrizations (newer transformers) onto the weight_g / weight_v pair.
std::string normaliseKey(const std::string &key)
{
    std::string k = key;
    if (startsWith(k, "wav2vec2."))
        k = k.substr(9);
    replaceOnce(
        k, "pos_conv_embed.conv.parametrizations.weight.original0", "pos_conv_embed.conv.weight_g");
    replaceOnce(
        k, "pos_conv_embed.conv.parametrizations.weight.original1", "pos_conv_embed.conv.weight_v");
    return k;
}

// Keys a real checkpoint carries that the teacher does not use, and why.
const char *ignoreReason(const std::string &k)
{
    if (k == "masked_spec_embed")
        return "training-time span-masking embedding (SpecAugment), unused at inference";
    if (startsWith(k, "quantizer."))
        return "pretraining-only quantizer";
    if (startsWith(k, "project_q.") || startsWith(k, "project_hid."))
        return "pretraining-only contrastive projection";
    if (startsWith(k, "lm_head."))
        return "CTC head (speech recognition), not a classification head";
    if (k == "layer_weights")
        return "weighted layer sum of HF's classifier; this head reads the last layer";
    return nullptr;
}

} // namespace

const char *MappingReport::statusName(Status status)
{
    switch (status) {
    case Status::Mapped:
        return "mapped";
    case Status::Composed:
        return "composed";
    case Status::Ignored:
        return "ignored";
    case Status::FreshInit:
        return "fresh init";
    case Status::Unknown:
        return "unknown";
    case Status::Missing:
        return "missing";
    case Status::Misshaped:
        return "mis-shaped";
    }
    return "?";
}

bool MappingReport::complete() const
{
    return count(Status::Unknown) == 0 && count(Status::Missing) == 0
        && count(Status::Misshaped) == 0;
}

int MappingReport::count(Status status) const
{
    return int(std::count_if(entries.begin(), entries.end(),
        [status](const MappingEntry &e) { return e.status == status; }));
}

std::vector<const MappingEntry *> MappingReport::with(Status status) const
{
    std::vector<const MappingEntry *> out;
    for (const auto &e : entries)
        if (e.status == status)
            out.push_back(&e);
    return out;
}

std::string MappingReport::text(bool verbose) const
{
    std::ostringstream s;
    s << "MAPPING REPORT";
    if (!sourcePath.empty())
        s << " for " << sourcePath;
    s << "\n";
    int64_t mappedParams = 0;
    for (const auto &e : entries)
        if (e.status == Status::Mapped || e.status == Status::Composed)
            mappedParams += numel(e.targetShape);
    const Status order[] = { Status::Mapped, Status::Composed, Status::Ignored, Status::FreshInit,
        Status::Unknown, Status::Missing, Status::Misshaped };
    for (Status st : order) {
        s << "  " << statusName(st) << std::string(12 - std::string(statusName(st)).size(), ' ')
          << count(st);
        if (st == Status::Mapped)
            s << "  (" << mappedParams << " parameters loaded, incl. composed)";
        s << "\n";
    }
    s << (complete() ? "  verdict: COMPLETE - every model parameter comes from the file"
                     : "  verdict: INCOMPLETE - refusing to load a half-initialised model");
    if (complete() && count(Status::FreshInit) > 0)
        s << " (except the freshly initialised head)";
    s << "\n";

    auto section = [&](Status st, const char *title) {
        auto list = with(st);
        if (list.empty())
            return;
        s << title << ":\n";
        for (const auto *e : list) {
            switch (st) {
            case Status::Unknown:
                s << "  " << e->source << " " << shapeText(e->sourceShape);
                break;
            case Status::Missing:
                s << "  " << e->target << " " << shapeText(e->targetShape);
                break;
            case Status::Misshaped:
                s << "  " << e->source << ": file " << shapeText(e->sourceShape) << ", model "
                  << shapeText(e->targetShape) << " (" << e->target << ")";
                break;
            case Status::Ignored:
                s << "  " << e->source << " " << shapeText(e->sourceShape);
                break;
            case Status::FreshInit:
                s << "  " << e->target << " " << shapeText(e->targetShape);
                break;
            case Status::Composed:
                s << "  " << e->target << " " << shapeText(e->targetShape) << " <- " << e->source;
                break;
            case Status::Mapped:
                s << "  " << e->target << " " << shapeText(e->targetShape) << " <- " << e->source;
                break;
            }
            if (!e->note.empty())
                s << "  -- " << e->note;
            s << "\n";
        }
    };
    section(Status::Unknown, "unknown keys (in the file, not in the model)");
    section(Status::Missing, "missing keys (in the model, not in the file)");
    section(Status::Misshaped, "mis-shaped keys");
    section(Status::FreshInit, "freshly initialised");
    section(Status::Composed, "composed");
    section(Status::Ignored, "ignored keys");
    if (verbose)
        section(Status::Mapped, "mapped keys");
    return s.str();
}

ImportPlan planHfImport(const ShapeList &source, const ShapeList &expected,
    const std::vector<std::string> &freshAllowed)
{
    ImportPlan plan;
    std::map<std::string, std::vector<int64_t>> want(expected.begin(), expected.end());
    std::set<std::string> covered;
    // HF classification head pieces, by role.
    std::map<std::string, std::pair<std::string, std::vector<int64_t>>> headParts;

    for (const auto &[key, shape] : source) {
        const std::string k = normaliseKey(key);
        MappingEntry e;
        e.source = key;
        e.sourceShape = shape;
        if (auto it = want.find(k); it != want.end()) {
            e.target = k;
            e.targetShape = it->second;
            if (covered.count(k)) {
                e.status = Status::Unknown;
                e.note = "a second tensor for " + k;
            } else if (shape != it->second) {
                e.status = Status::Misshaped;
                covered.insert(k); // reported once, not also as missing
            } else {
                e.status = Status::Mapped;
                covered.insert(k);
                plan.copies.emplace_back(k, key);
            }
        } else if (k == "projector.weight" || k == "projector.bias" || k == "classifier.weight"
            || k == "classifier.bias") {
            headParts[k] = { key, shape };
            continue; // decided below, once all parts are known
        } else if (const char *why = ignoreReason(k)) {
            e.status = Status::Ignored;
            e.note = why;
        } else {
            e.status = Status::Unknown;
        }
        plan.report.entries.push_back(std::move(e));
    }

    // The head: "head.weight" [N, H] + "head.bias" [N] on frame 1.
    const bool wantHead = want.count("head.weight") && want.count("head.bias");
    const bool haveAll = headParts.size() == 4;
    auto headEntry = [&](const std::string &role, Status st, const std::string &note) {
        const auto &[key, shape] = headParts.at(role);
        MappingEntry e;
        e.status = st;
        e.source = key;
        e.sourceShape = shape;
        e.note = note;
        plan.report.entries.push_back(std::move(e));
    };
    if (!headParts.empty() && (!wantHead || covered.count("head.weight"))) {
        for (const auto &[role, ks] : headParts)
            headEntry(role, Status::Ignored,
                wantHead ? "the file also holds a head.* layer, which is used"
                         : "HF classification head; no head requested (num_labels 0)");
    } else if (!headParts.empty() && wantHead && haveAll) {
        const auto &hw = want.at("head.weight");
        const auto &pw = headParts.at("projector.weight").second;
        const auto &pb = headParts.at("projector.bias").second;
        const auto &cw = headParts.at("classifier.weight").second;
        const auto &cb = headParts.at("classifier.bias").second;
        const int64_t n = hw[0], h = hw[1];
        const bool fits = pw.size() == 2 && pw[1] == h && pb == std::vector<int64_t> { pw[0] }
            && cw.size() == 2 && cw[0] == n && cw[1] == pw[0] && cb == std::vector<int64_t> { n };
        if (fits) {
            plan.composeHead = true;
            plan.headWeight = "head.weight";
            plan.headBias = "head.bias";
            plan.projectorWeight = headParts.at("projector.weight").first;
            plan.projectorBias = headParts.at("projector.bias").first;
            plan.classifierWeight = headParts.at("classifier.weight").first;
            plan.classifierBias = headParts.at("classifier.bias").first;
            const std::string note
                = "HF's projector and classifier are both linear, so they fold into one layer; HF "
                  "mean-pools the frames, this head reads frame 1 (c_1): fine-tune before trusting "
                  "it";
            for (const char *t : { "head.weight", "head.bias" }) {
                MappingEntry e;
                e.status = Status::Composed;
                e.target = t;
                e.targetShape = want.at(t);
                e.source = std::string(t) == "head.weight"
                    ? plan.classifierWeight + " . " + plan.projectorWeight
                    : plan.classifierWeight + " . " + plan.projectorBias + " + "
                        + plan.classifierBias;
                e.note = note;
                plan.report.entries.push_back(std::move(e));
                covered.insert(t);
            }
        } else {
            for (const auto &[role, ks] : headParts) {
                MappingEntry e;
                e.status = Status::Misshaped;
                e.source = ks.first;
                e.sourceShape = ks.second;
                e.target = "head";
                e.targetShape = { n, h };
                e.note = "HF head does not fit " + std::to_string(n) + " labels x width "
                    + std::to_string(h);
                plan.report.entries.push_back(std::move(e));
            }
            covered.insert("head.weight");
            covered.insert("head.bias");
        }
    } else if (!headParts.empty()) {
        for (const auto &[role, ks] : headParts)
            headEntry(role, Status::Unknown, "incomplete HF head (needs projector and classifier)");
    }

    for (const auto &[name, shape] : expected) {
        if (covered.count(name))
            continue;
        MappingEntry e;
        e.target = name;
        e.targetShape = shape;
        if (std::find(freshAllowed.begin(), freshAllowed.end(), name) != freshAllowed.end()) {
            e.status = Status::FreshInit;
            e.note = "no classification head in the file: starts from random init (train it)";
        } else {
            e.status = Status::Missing;
            e.note = "HF name: wav2vec2." + name;
        }
        plan.report.entries.push_back(std::move(e));
    }
    return plan;
}

std::map<std::string, torch::Tensor> applyHfImport(const ImportPlan &plan,
    const std::map<std::string, torch::Tensor> &source, const std::string &subject)
{
    if (!plan.report.complete())
        throw Error(subject, "weights cannot be imported completely\n" + plan.report.text());
    auto get = [&](const std::string &key) -> torch::Tensor {
        auto it = source.find(key);
        if (it == source.end())
            throw Error(subject, "tensor \"" + key + "\" listed in the header was not loaded");
        return it->second;
    };
    std::map<std::string, torch::Tensor> out;
    for (const auto &[target, key] : plan.copies)
        out[target] = get(key).to(torch::kFloat32).contiguous();
    if (plan.composeHead) {
        // In float64 so the folded layer matches projector-then-classifier to float32 precision.
        torch::Tensor pw = get(plan.projectorWeight).to(torch::kFloat64);
        torch::Tensor pb = get(plan.projectorBias).to(torch::kFloat64);
        torch::Tensor cw = get(plan.classifierWeight).to(torch::kFloat64);
        torch::Tensor cb = get(plan.classifierBias).to(torch::kFloat64);
        out[plan.headWeight] = torch::matmul(cw, pw).to(torch::kFloat32).contiguous();
        out[plan.headBias] = (torch::matmul(cw, pb) + cb).to(torch::kFloat32).contiguous();
    }
    return out;
}

HfModelFiles locateHfModel(const std::string &pathIn)
{
    std::error_code ec;
    fs::path path(pathIn);
    if (!fs::exists(path, ec))
        throw Error(pathIn, "no such file or folder");
    HfModelFiles f;
    fs::path weights;
    if (fs::is_directory(path, ec)) {
        f.folder = path.string();
        weights = path / "model.safetensors";
        if (!fs::exists(weights, ec)) {
            if (fs::exists(path / "model.safetensors.index.json", ec))
                throw Error((path / "model.safetensors.index.json").string(),
                    "sharded checkpoints are not supported; merge the shards into one "
                    "model.safetensors");
            if (fs::exists(path / "pytorch_model.bin", ec))
                weights = path / "pytorch_model.bin"; // refused below, with advice
            else
                throw Error(pathIn, "no model.safetensors in this folder");
        }
    } else {
        weights = path;
        f.folder = path.parent_path().empty() ? "." : path.parent_path().string();
        if (path.filename() == "config.json")
            weights = path.parent_path() / "model.safetensors";
    }
    const std::string ext = weights.extension().string();
    if (ext == ".bin" || ext == ".pt" || ext == ".pth" || ext == ".ckpt")
        throw Error(weights.string(),
            "PyTorch pickle checkpoints are not read (unpickling can run arbitrary code). "
            "Convert it to safetensors first, e.g. with Python: from safetensors.torch import "
            "save_file; import torch; save_file(torch.load('pytorch_model.bin', "
            "map_location='cpu'), 'model.safetensors') - or save_pretrained(..., "
            "safe_serialization=True) in transformers");
    if (ext != ".safetensors")
        throw Error(weights.string(), "expected a .safetensors file or a model folder");
    if (!fs::exists(weights, ec))
        throw Error(weights.string(), "no such file");
    f.weights = weights.string();
    f.config = (fs::path(f.folder) / "config.json").string();
    if (!fs::exists(f.config, ec))
        throw Error(
            f.config, "missing: the architecture is read from the config.json beside the weights");
    return f;
}

} // namespace tkd::io
