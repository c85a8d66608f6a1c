#pragma once

#include "core/models/StudentNetwork.h"
#include "core/models/StudentSpec.h"

#include <memory>

namespace tkd {

// One student of any architecture behind one interface, so the trainer, the evaluator and the
// streaming classifier treat LSTM-P, TC-ResNet, CRNN, Att-RNN and MHAtt-RNN alike. Copies share
// the same module (like a torch ModuleHolder). Made by StudentRegistry::create().
class StudentModel
{
public:
    StudentModel() = default;

    // Wraps a TORCH_MODULE holder whose Impl is both a Module and a StudentNetwork.
    template <class Holder> static StudentModel wrap(StudentSpec spec, const Holder &holder)
    {
        StudentModel m;
        m.m_spec = std::move(spec);
        m.m_module = holder.ptr();
        m.m_network = holder.ptr();
        return m;
    }

    bool isNull() const { return !m_module; }
    const StudentSpec &spec() const { return m_spec; }
    const std::string &name() const { return m_spec.name; }

    // features [batch, frames, featureDim()] -> logits, context c', native attention.
    // Throws tkd::Error naming the student on a badly shaped input.
    StudentOutput forward(const torch::Tensor &features) const;

    std::vector<torch::Tensor> parameters() const;
    torch::OrderedDict<std::string, torch::Tensor> namedParameters() const;
    // BN running statistics: part of a checkpoint, not of the optimiser.
    torch::OrderedDict<std::string, torch::Tensor> namedBuffers() const;
    void to(const torch::Device &device);
    void train(bool on = true);
    void eval() { train(false); }
    bool isTraining() const;
    void zeroGrad();

    int64_t parameterCount() const;
    int64_t featureDim() const { return m_network->featureDim(); }
    int64_t numClasses() const { return m_network->numClasses(); }
    int64_t contextDim() const { return m_network->contextDim(); }
    int64_t contextLength(int64_t frames) const { return m_network->contextLength(frames); }
    int64_t minFrames() const { return m_network->minFrames(); }
    int64_t nativeHeads() const { return m_network->nativeHeads(); }
    int64_t macs(int64_t frames) const { return m_network->macs(frames); }

    // The underlying module, for optimisers, serialisation and module-specific inspection.
    std::shared_ptr<torch::nn::Module> module() const { return m_module; }

private:
    StudentSpec m_spec;
    std::shared_ptr<torch::nn::Module> m_module;
    std::shared_ptr<StudentNetwork> m_network; // the same object as m_module
};

} // namespace tkd
