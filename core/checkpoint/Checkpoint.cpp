#include "core/checkpoint/Checkpoint.h"

#include "core/io/SafeTensors.h"
#include "core/util/Error.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <set>

namespace tkd {

namespace {

std::string exactText(double v)
{
    char buf[40];
    for (int precision = 1; precision <= 17; ++precision) {
        std::snprintf(buf, sizeof buf, "%.*g", precision, v);
        if (std::strtod(buf, nullptr) == v)
            break;
    }
    return buf;
}

bool parseDouble(const std::string &s, double &out)
{
    if (s.empty())
        return false;
    char *end = nullptr;
    out = std::strtod(s.c_str(), &end);
    return end && *end == '\0';
}

bool parseInt(const std::string &s, int64_t &out)
{
    if (s.empty())
        return false;
    errno = 0;
    char *end = nullptr;
    out = std::strtoll(s.c_str(), &end, 10);
    return end && *end == '\0' && errno == 0;
}

torch::Tensor snapshot(const torch::Tensor &t)
{
    return t.detach().to(torch::kCPU).clone().contiguous();
}

std::string shapeText(c10::IntArrayRef shape)
{
    std::string s = "[";
    for (size_t i = 0; i < shape.size(); ++i)
        s += (i ? ", " : "") + std::to_string(shape[i]);
    return s + "]";
}

std::string paramKey(const torch::Tensor &p)
{
    // LibTorch 1.13 keys optimiser state by the parameter's TensorImpl address, as text.
    return c10::guts::to_string(p.unsafeGetTensorImpl());
}

} // namespace

std::string Checkpoint::where() const
{
    return m_source.empty() ? std::string("checkpoint") : m_source;
}

std::string Checkpoint::meta(const std::string &key) const
{
    auto it = m_metadata.find(key);
    if (it == m_metadata.end())
        throw Error(where(), "has no '" + key + "' entry");
    return it->second;
}

// ---------------------------------------------------------------------------------------------
// Model

void Checkpoint::setModule(const torch::nn::Module &module, const std::string &prefix)
{
    for (const auto &p : module.named_parameters(true))
        m_tensors[prefix + "." + p.key()] = snapshot(p.value());
    for (const auto &b : module.named_buffers(true))
        if (b.value().defined())
            m_tensors[prefix + "." + b.key()] = snapshot(b.value());
}

void Checkpoint::loadModule(torch::nn::Module &module, const std::string &prefix) const
{
    std::vector<std::pair<torch::Tensor, torch::Tensor>> copies; // destination, source
    std::set<std::string> used;
    auto match = [&](const std::string &name, const torch::Tensor &dst) {
        const std::string key = prefix + "." + name;
        auto it = m_tensors.find(key);
        if (it == m_tensors.end())
            throw Error(
                where(), "has no tensor '" + key + "': it was saved from a different model");
        if (it->second.sizes() != dst.sizes())
            throw Error(where(),
                "tensor '" + key + "' has shape " + shapeText(it->second.sizes())
                    + " but the model expects " + shapeText(dst.sizes()));
        if (it->second.scalar_type() != dst.scalar_type())
            throw Error(where(),
                "tensor '" + key + "' is " + std::string(c10::toString(it->second.scalar_type()))
                    + " but the model expects " + c10::toString(dst.scalar_type()));
        // A model that diverged (or a damaged file) is refused here, once for every consumer:
        // export, live, analysis and resume would otherwise run on NaN weights.
        if (it->second.is_floating_point() && !torch::isfinite(it->second).all().item<bool>())
            throw Error(where(),
                "tensor '" + key
                    + "' holds NaN or infinite values (a diverged model or a damaged file)");
        used.insert(key);
        copies.emplace_back(dst, it->second);
    };
    for (const auto &p : module.named_parameters(true))
        match(p.key(), p.value());
    for (const auto &b : module.named_buffers(true))
        if (b.value().defined())
            match(b.key(), b.value());
    for (const auto &[key, t] : m_tensors)
        if (key.compare(0, prefix.size() + 1, prefix + ".") == 0 && !used.count(key))
            throw Error(where(),
                "tensor '" + key
                    + "' has no place in this model: it was saved from a different model");
    torch::NoGradGuard noGrad;
    for (auto &[dst, src] : copies)
        dst.copy_(src);
}

// ---------------------------------------------------------------------------------------------
// Optimiser

void Checkpoint::setOptimizer(torch::optim::Optimizer &optimizer, const std::string &prefix)
{
    const bool adam = dynamic_cast<torch::optim::Adam *>(&optimizer) != nullptr;
    const bool sgd = dynamic_cast<torch::optim::SGD *>(&optimizer) != nullptr;
    if (!adam && !sgd)
        throw Error("optimizer", "checkpoints support Adam and SGD only");
    m_metadata[prefix + ".type"] = adam ? "adam" : "sgd";
    const auto &groups = optimizer.param_groups();
    m_metadata[prefix + ".groups"] = std::to_string(groups.size());
    auto &state = optimizer.state();
    for (size_t g = 0; g < groups.size(); ++g) {
        const std::string gp = prefix + ".g" + std::to_string(g);
        const auto &group = groups[g];
        m_metadata[gp + ".params"] = std::to_string(group.params().size());
        if (adam) {
            const auto &o = static_cast<const torch::optim::AdamOptions &>(group.options());
            m_metadata[gp + ".lr"] = exactText(o.lr());
            m_metadata[gp + ".beta1"] = exactText(std::get<0>(o.betas()));
            m_metadata[gp + ".beta2"] = exactText(std::get<1>(o.betas()));
            m_metadata[gp + ".eps"] = exactText(o.eps());
            m_metadata[gp + ".weight_decay"] = exactText(o.weight_decay());
            m_metadata[gp + ".amsgrad"] = o.amsgrad() ? "1" : "0";
        } else {
            const auto &o = static_cast<const torch::optim::SGDOptions &>(group.options());
            m_metadata[gp + ".lr"] = exactText(o.lr());
            m_metadata[gp + ".momentum"] = exactText(o.momentum());
            m_metadata[gp + ".dampening"] = exactText(o.dampening());
            m_metadata[gp + ".weight_decay"] = exactText(o.weight_decay());
            m_metadata[gp + ".nesterov"] = o.nesterov() ? "1" : "0";
        }
        for (size_t i = 0; i < group.params().size(); ++i) {
            auto it = state.find(paramKey(group.params()[i]));
            if (it == state.end())
                continue; // no step taken for this parameter yet
            const std::string pp = gp + ".p" + std::to_string(i);
            if (adam) {
                const auto &s = static_cast<const torch::optim::AdamParamState &>(*it->second);
                m_tensors[pp + ".step"] = torch::tensor(s.step(), torch::kInt64).reshape({});
                m_tensors[pp + ".exp_avg"] = snapshot(s.exp_avg());
                m_tensors[pp + ".exp_avg_sq"] = snapshot(s.exp_avg_sq());
                if (s.max_exp_avg_sq().defined())
                    m_tensors[pp + ".max_exp_avg_sq"] = snapshot(s.max_exp_avg_sq());
            } else {
                const auto &s = static_cast<const torch::optim::SGDParamState &>(*it->second);
                if (s.momentum_buffer().defined())
                    m_tensors[pp + ".momentum_buffer"] = snapshot(s.momentum_buffer());
            }
        }
    }
}

void Checkpoint::loadOptimizer(torch::optim::Optimizer &optimizer, const std::string &prefix) const
{
    const bool adam = dynamic_cast<torch::optim::Adam *>(&optimizer) != nullptr;
    const bool sgd = dynamic_cast<torch::optim::SGD *>(&optimizer) != nullptr;
    if (!adam && !sgd)
        throw Error("optimizer", "checkpoints support Adam and SGD only");
    const std::string type = meta(prefix + ".type");
    if (type != (adam ? "adam" : "sgd"))
        throw Error(where(),
            "holds " + type + " optimiser state, but the optimiser is " + (adam ? "adam" : "sgd"));
    auto &groups = optimizer.param_groups();
    if (meta(prefix + ".groups") != std::to_string(groups.size()))
        throw Error(where(),
            "optimiser has " + meta(prefix + ".groups") + " parameter groups, not "
                + std::to_string(groups.size()));
    auto number = [&](const std::string &key) {
        double v = 0;
        if (!parseDouble(meta(key), v))
            throw Error(where(), "entry '" + key + "' is not a number");
        return v;
    };
    auto tensorFor = [&](const std::string &key, const torch::Tensor &param) {
        const torch::Tensor t = tensor(key);
        if (t.sizes() != param.sizes() || t.scalar_type() != param.scalar_type())
            throw Error(where(),
                "optimiser tensor '" + key + "' has shape " + shapeText(t.sizes())
                    + " but its parameter has " + shapeText(param.sizes()));
        return t.clone().to(param.device());
    };

    // Build everything first so a mismatch leaves the optimiser untouched.
    std::vector<std::pair<std::string, std::unique_ptr<torch::optim::OptimizerParamState>>> states;
    for (size_t g = 0; g < groups.size(); ++g) {
        const std::string gp = prefix + ".g" + std::to_string(g);
        const auto &params = groups[g].params();
        if (meta(gp + ".params") != std::to_string(params.size()))
            throw Error(where(),
                "optimiser group " + std::to_string(g) + " has " + meta(gp + ".params")
                    + " parameters, not " + std::to_string(params.size()));
        for (size_t i = 0; i < params.size(); ++i) {
            const std::string pp = gp + ".p" + std::to_string(i);
            if (adam) {
                if (!hasTensor(pp + ".step"))
                    continue;
                auto s = std::make_unique<torch::optim::AdamParamState>();
                s->step(tensor(pp + ".step").item<int64_t>());
                s->exp_avg(tensorFor(pp + ".exp_avg", params[i]));
                s->exp_avg_sq(tensorFor(pp + ".exp_avg_sq", params[i]));
                if (hasTensor(pp + ".max_exp_avg_sq"))
                    s->max_exp_avg_sq(tensorFor(pp + ".max_exp_avg_sq", params[i]));
                states.emplace_back(paramKey(params[i]), std::move(s));
            } else if (hasTensor(pp + ".momentum_buffer")) {
                auto s = std::make_unique<torch::optim::SGDParamState>();
                s->momentum_buffer(tensorFor(pp + ".momentum_buffer", params[i]));
                states.emplace_back(paramKey(params[i]), std::move(s));
            }
        }
    }
    std::vector<std::vector<double>> options(groups.size());
    for (size_t g = 0; g < groups.size(); ++g) {
        const std::string gp = prefix + ".g" + std::to_string(g);
        if (adam)
            options[g] = { number(gp + ".lr"), number(gp + ".beta1"), number(gp + ".beta2"),
                number(gp + ".eps"), number(gp + ".weight_decay"), number(gp + ".amsgrad") };
        else
            options[g] = { number(gp + ".lr"), number(gp + ".momentum"), number(gp + ".dampening"),
                number(gp + ".weight_decay"), number(gp + ".nesterov") };
    }

    auto &state = optimizer.state();
    for (auto &group : groups)
        for (const auto &p : group.params())
            state.erase(paramKey(p));
    for (auto &[key, s] : states)
        state[key] = std::move(s);
    for (size_t g = 0; g < groups.size(); ++g) {
        const auto &v = options[g];
        if (adam) {
            auto &o = static_cast<torch::optim::AdamOptions &>(groups[g].options());
            o.lr(v[0])
                .betas(std::make_tuple(v[1], v[2]))
                .eps(v[3])
                .weight_decay(v[4])
                .amsgrad(v[5] != 0.0);
        } else {
            auto &o = static_cast<torch::optim::SGDOptions &>(groups[g].options());
            o.lr(v[0]).momentum(v[1]).dampening(v[2]).weight_decay(v[3]).nesterov(v[4] != 0.0);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// RNG

void Checkpoint::captureTorchRng()
{
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    m_tensors["rng.torch"] = gen.get_state().clone();
}

void Checkpoint::restoreTorchRng() const
{
    const torch::Tensor state = tensor("rng.torch");
    if (state.scalar_type() != torch::kUInt8)
        throw Error(where(), "tensor 'rng.torch' must be uint8");
    auto gen = at::detail::getDefaultCPUGenerator();
    std::lock_guard<std::mutex> lock(gen.mutex());
    try {
        gen.set_state(state);
    } catch (const c10::Error &e) {
        throw Error(where(),
            std::string("tensor 'rng.torch' is not a generator state: ")
                + e.what_without_backtrace());
    }
}

// ---------------------------------------------------------------------------------------------
// Values and tensors

void Checkpoint::setValue(const std::string &key, double value)
{
    m_metadata["value." + key] = exactText(value);
}

void Checkpoint::setInt(const std::string &key, int64_t value)
{
    m_metadata["value." + key] = std::to_string(value);
}

void Checkpoint::setText(const std::string &key, const std::string &value)
{
    m_metadata["text." + key] = value;
}

bool Checkpoint::hasValue(const std::string &key) const
{
    return m_metadata.count("value." + key) || m_metadata.count("text." + key);
}

double Checkpoint::value(const std::string &key) const
{
    double v = 0;
    if (!parseDouble(meta("value." + key), v))
        throw Error(where(), "value '" + key + "' is not a number");
    return v;
}

int64_t Checkpoint::intValue(const std::string &key) const
{
    int64_t v = 0;
    if (!parseInt(meta("value." + key), v))
        throw Error(where(), "value '" + key + "' is not a whole number");
    return v;
}

std::string Checkpoint::text(const std::string &key) const
{
    return meta("text." + key);
}

void Checkpoint::setTensor(const std::string &name, const torch::Tensor &tensor)
{
    m_tensors[name] = snapshot(tensor);
}

bool Checkpoint::hasTensor(const std::string &name) const
{
    return m_tensors.count(name) != 0;
}

torch::Tensor Checkpoint::tensor(const std::string &name) const
{
    auto it = m_tensors.find(name);
    if (it == m_tensors.end())
        throw Error(where(), "has no tensor '" + name + "'");
    return it->second;
}

// ---------------------------------------------------------------------------------------------
// Files

void Checkpoint::save(const std::string &path) const
{
    std::map<std::string, std::string> metadata = m_metadata;
    metadata["format"] = kFormat;
    metadata["step"] = std::to_string(step);
    metadata["epoch"] = std::to_string(epoch);
    metadata["config_hash"] = configHash;
    std::vector<std::pair<std::string, torch::Tensor>> tensors(m_tensors.begin(), m_tensors.end());
    safetensors::save(path, tensors, metadata);
}

Checkpoint Checkpoint::load(const std::string &path)
{
    Checkpoint c;
    c.m_source = path;
    // The header first: a multi-GB file that is not a checkpoint is refused before its data is
    // read (it used to be loaded whole, 8 GB for a sparse file, and then refused).
    std::map<std::string, std::string> metadata = safetensors::readHeader(path).metadata;
    if (auto f = metadata.find("format"); f != metadata.end() && f->second == kFormat)
        c.m_tensors = safetensors::load(path, &metadata);
    auto format = metadata.find("format");
    if (format == metadata.end() || format->second != kFormat)
        throw Error(path,
            std::string("is not a TKD checkpoint (metadata 'format' is ")
                + (format == metadata.end() ? std::string("missing") : "'" + format->second + "'")
                + ", expected '" + kFormat + "')");
    c.m_metadata = metadata;
    if (!parseInt(c.meta("step"), c.step) || !parseInt(c.meta("epoch"), c.epoch))
        throw Error(path, "metadata 'step'/'epoch' are not whole numbers");
    c.configHash = c.meta("config_hash");
    for (const char *k : { "format", "step", "epoch", "config_hash" })
        c.m_metadata.erase(k);
    return c;
}

} // namespace tkd
