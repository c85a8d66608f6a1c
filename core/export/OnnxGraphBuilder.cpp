#include "core/export/OnnxGraphBuilder.h"

namespace tkd {

namespace {

void setShape(onnx::ValueInfoProto *v, const std::vector<int64_t> &dims,
    const std::vector<std::string> &dimNames, int elemType)
{
    auto *tensor = v->mutable_type()->mutable_tensor_type();
    tensor->set_elem_type(elemType);
    auto *shape = tensor->mutable_shape();
    for (size_t i = 0; i < dims.size(); ++i) {
        auto *d = shape->add_dim();
        if (dims[i] >= 0)
            d->set_dim_value(dims[i]);
        else
            d->set_dim_param(i < dimNames.size() && !dimNames[i].empty() ? dimNames[i]
                                                                         : "d" + std::to_string(i));
    }
}

} // namespace

OnnxNode &OnnxNode::attr(const std::string &name, int64_t value)
{
    auto *a = m_node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INT);
    a->set_i(value);
    return *this;
}

OnnxNode &OnnxNode::attr(const std::string &name, float value)
{
    auto *a = m_node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::FLOAT);
    a->set_f(value);
    return *this;
}

OnnxNode &OnnxNode::attr(const std::string &name, const std::vector<int64_t> &values)
{
    auto *a = m_node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::INTS);
    for (int64_t v : values)
        a->add_ints(v);
    return *this;
}

OnnxNode &OnnxNode::attr(const std::string &name, const std::string &value)
{
    auto *a = m_node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::STRING);
    a->set_s(value);
    return *this;
}

OnnxNode &OnnxNode::attr(const std::string &name, const onnx::GraphProto &graph)
{
    auto *a = m_node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::GRAPH);
    *a->mutable_g() = graph;
    return *this;
}

OnnxNode &OnnxNode::attrTensor(const std::string &name, const onnx::TensorProto &value)
{
    auto *a = m_node->add_attribute();
    a->set_name(name);
    a->set_type(onnx::AttributeProto::TENSOR);
    *a->mutable_t() = value;
    return *this;
}

OnnxGraphBuilder::OnnxGraphBuilder(onnx::GraphProto *graph, std::string prefix)
    : m_graph(graph)
    , m_prefix(std::move(prefix))
{ }

std::string OnnxGraphBuilder::uniqueName(const std::string &hint)
{
    const std::string base = m_prefix + (hint.empty() ? std::string("v") : hint);
    const int n = m_used[base]++;
    return n == 0 ? base : base + "_" + std::to_string(n);
}

void OnnxGraphBuilder::addInput(const std::string &name, const std::vector<int64_t> &dims,
    const std::vector<std::string> &dimNames, int elemType)
{
    auto *v = m_graph->add_input();
    v->set_name(name);
    setShape(v, dims, dimNames, elemType);
    m_used[name]++;
}

void OnnxGraphBuilder::addOutput(const std::string &name, const std::vector<int64_t> &dims,
    const std::vector<std::string> &dimNames, int elemType)
{
    auto *v = m_graph->add_output();
    v->set_name(name);
    setShape(v, dims, dimNames, elemType);
}

std::string OnnxGraphBuilder::floats(
    const std::string &hint, const std::vector<int64_t> &dims, const float *data)
{
    int64_t n = 1;
    for (int64_t d : dims)
        n *= d;
    auto *t = m_graph->add_initializer();
    const std::string name = uniqueName(hint);
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::FLOAT);
    for (int64_t d : dims)
        t->add_dims(d);
    t->set_raw_data(std::string(reinterpret_cast<const char *>(data), size_t(n) * sizeof(float)));
    return name;
}

std::string OnnxGraphBuilder::int64s(
    const std::string &hint, const std::vector<int64_t> &values, bool scalarShape)
{
    auto *t = m_graph->add_initializer();
    const std::string name = uniqueName(hint);
    t->set_name(name);
    t->set_data_type(onnx::TensorProto::INT64);
    if (!scalarShape)
        t->add_dims(int64_t(values.size()));
    for (int64_t v : values)
        t->add_int64_data(v);
    return name;
}

std::string OnnxGraphBuilder::raw(const std::string &hint, int elemType,
    const std::vector<int64_t> &dims, const std::string &bytes)
{
    auto *t = m_graph->add_initializer();
    const std::string name = uniqueName(hint);
    t->set_name(name);
    t->set_data_type(elemType);
    for (int64_t d : dims)
        t->add_dims(d);
    t->set_raw_data(bytes);
    return name;
}

OnnxNode OnnxGraphBuilder::op(const std::string &type, const std::vector<std::string> &inputs,
    int outputs, const std::string &hint)
{
    auto *n = m_graph->add_node();
    n->set_op_type(type);
    const std::string base = hint.empty() ? type : hint;
    n->set_name(uniqueName(base + "_node"));
    for (const auto &i : inputs)
        n->add_input(i);
    for (int o = 0; o < outputs; ++o)
        n->add_output(uniqueName(base));
    return OnnxNode(n);
}

OnnxNode OnnxGraphBuilder::opTo(const std::string &type, const std::vector<std::string> &inputs,
    const std::vector<std::string> &outputs)
{
    auto *n = m_graph->add_node();
    n->set_op_type(type);
    n->set_name(uniqueName(type + "_node"));
    for (const auto &i : inputs)
        n->add_input(i);
    for (const auto &o : outputs) {
        n->add_output(o);
        m_used[o]++;
    }
    return OnnxNode(n);
}

} // namespace tkd
