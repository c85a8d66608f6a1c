#include "core/models/StudentModel.h"

#include "core/models/ModelStats.h"

namespace tkd {

StudentOutput StudentModel::forward(const torch::Tensor &features) const
{
    TORCH_CHECK(m_network, "StudentModel::forward on a null model");
    return m_network->forward(features);
}

std::vector<torch::Tensor> StudentModel::parameters() const
{
    return m_module->parameters();
}

torch::OrderedDict<std::string, torch::Tensor> StudentModel::namedParameters() const
{
    return m_module->named_parameters();
}

torch::OrderedDict<std::string, torch::Tensor> StudentModel::namedBuffers() const
{
    return m_module->named_buffers();
}

void StudentModel::to(const torch::Device &device)
{
    m_module->to(device);
}

void StudentModel::train(bool on)
{
    m_module->train(on);
}

bool StudentModel::isTraining() const
{
    return m_module->is_training();
}

void StudentModel::zeroGrad()
{
    m_module->zero_grad();
}

int64_t StudentModel::parameterCount() const
{
    return ModelStats::parameterCount(*m_module);
}

} // namespace tkd
