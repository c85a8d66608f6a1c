#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tkd {

// Everything needed to resume training exactly, in ONE safetensors file (DESIGN.md rule 8):
//   model.<name>              every parameter and buffer of the model
//   optim.g<G>.p<I>.<field>   optimiser state per parameter (Adam: exp_avg, exp_avg_sq,
//                             max_exp_avg_sq, step as a 0-d int64; SGD: momentum_buffer)
//   rng.torch                 LibTorch's default CPU generator state (uint8)
//   <any name>                extra tensors (setTensor)
// and in the string metadata: format, step, epoch, config_hash, the optimiser's type and
// per-group options (lr, betas, ...), plus named values and texts (scheduler state, best score),
// numbers written as shortest round-trip text so they come back bit-exact.
// Files are written atomically (safetensors::save: temp file + fsync + rename), and Python can
// read them with the safetensors package.
class Checkpoint
{
public:
    static constexpr const char *kFormat = "tkd-checkpoint/1";

    int64_t step = 0;
    int64_t epoch = 0;
    std::string configHash;

    // named_parameters + named_buffers, snapshotted (cloned to CPU) now.
    void setModule(const torch::nn::Module &module, const std::string &prefix = "model");
    // Copies the stored tensors into the module. Strict: a missing, extra or differently shaped
    // tensor is a tkd::Error naming the checkpoint file and the tensor; the module is only
    // changed when everything matches.
    void loadModule(torch::nn::Module &module, const std::string &prefix = "model") const;

    // torch::optim::Adam or SGD (anything else: tkd::Error). Parameters are identified by their
    // position in the param groups, so the optimiser must be built over the same parameters in
    // the same order (as it is when built from the same model's parameters()).
    void setOptimizer(torch::optim::Optimizer &optimizer, const std::string &prefix = "optim");
    void loadOptimizer(
        torch::optim::Optimizer &optimizer, const std::string &prefix = "optim") const;

    // LibTorch's default CPU generator (dropout masks, shuffles drawn with torch::randperm).
    void captureTorchRng();
    void restoreTorchRng() const; // tkd::Error if the checkpoint holds none

    // Named scalars and strings (scheduler state, best validation score, tkd::Rng seeds ...).
    void setValue(const std::string &key, double value);
    void setInt(const std::string &key, int64_t value);
    void setText(const std::string &key, const std::string &value);
    bool hasValue(const std::string &key) const;
    // Missing or malformed: tkd::Error naming the file and key.
    double value(const std::string &key) const;
    int64_t intValue(const std::string &key) const;
    std::string text(const std::string &key) const;

    void setTensor(const std::string &name, const torch::Tensor &tensor);
    bool hasTensor(const std::string &name) const;
    torch::Tensor tensor(const std::string &name) const; // tkd::Error when missing

    const std::map<std::string, torch::Tensor> &tensors() const { return m_tensors; }
    const std::map<std::string, std::string> &metadata() const { return m_metadata; }

    // Atomic write; tkd::Error(path, reason) on failure, leaving any previous file intact.
    void save(const std::string &path) const;
    // Validated read: a damaged file or one that is not a TKD checkpoint is a tkd::Error(path,
    // ...).
    static Checkpoint load(const std::string &path);
    // The file it came from ("" for one built in memory); used in error messages.
    const std::string &source() const { return m_source; }

private:
    std::string where() const;
    std::string meta(const std::string &key) const;

    std::map<std::string, torch::Tensor> m_tensors;
    std::map<std::string, std::string> m_metadata; // user values under "value." / "text."
    std::string m_source;
};

} // namespace tkd
