#include "core/io/HfConfig.h"

#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

namespace tkd::io {

namespace {

using nlohmann::json;

class Reader
{
public:
    Reader(const json &j, std::string subject)
        : m_j(j)
        , m_subject(std::move(subject))
    { }

    [[noreturn]] void fail(const std::string &key, const std::string &what) const
    {
        throw Error(m_subject, key + ": " + what);
    }

    void integer(const char *key, int64_t &out, int64_t minValue, int64_t maxValue) const
    {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null())
            return;
        if (!it->is_number_integer())
            fail(key, "expected an integer, got " + it->dump());
        int64_t v = it->get<int64_t>();
        if (v < minValue || v > maxValue)
            fail(key,
                std::to_string(v) + " is outside [" + std::to_string(minValue) + ", "
                    + std::to_string(maxValue) + "]");
        out = v;
    }

    void number(const char *key, double &out, double minValue, double maxValue) const
    {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null())
            return;
        if (!it->is_number())
            fail(key, "expected a number, got " + it->dump());
        double v = it->get<double>();
        if (!std::isfinite(v) || v < minValue || v > maxValue)
            fail(key,
                it->dump() + " is outside [" + std::to_string(minValue) + ", "
                    + std::to_string(maxValue) + "]");
        out = v;
    }

    void boolean(const char *key, bool &out) const
    {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null())
            return;
        if (!it->is_boolean())
            fail(key, "expected true or false, got " + it->dump());
        out = it->get<bool>();
    }

    void string(const char *key, std::string &out) const
    {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null())
            return;
        if (!it->is_string())
            fail(key, "expected a string, got " + it->dump());
        out = it->get<std::string>();
    }

    void intList(
        const char *key, std::vector<int64_t> &out, int64_t minValue, int64_t maxValue) const
    {
        auto it = m_j.find(key);
        if (it == m_j.end() || it->is_null())
            return;
        if (!it->is_array() || it->empty())
            fail(key, "expected a non-empty list of integers, got " + it->dump());
        std::vector<int64_t> v;
        for (const auto &e : *it) {
            if (!e.is_number_integer() || e.get<int64_t>() < minValue
                || e.get<int64_t>() > maxValue)
                fail(key,
                    "every entry must be an integer in [" + std::to_string(minValue) + ", "
                        + std::to_string(maxValue) + "], got " + e.dump());
            v.push_back(e.get<int64_t>());
        }
        out = std::move(v);
    }

    const json &raw() const { return m_j; }

private:
    const json &m_j;
    std::string m_subject;
};

} // namespace

HfConfig HfConfig::fromFile(const std::string &path)
{
    HfConfig c = fromJson(readFile(path), path);
    c.path = path;
    return c;
}

HfConfig HfConfig::fromJson(const std::string &text, const std::string &subject)
{
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception &e) { // parse_error, and out_of_range for -1e309
        throw Error(subject, std::string("not valid JSON: ") + e.what());
    }
    if (!j.is_object())
        throw Error(subject, "expected a JSON object at the top level");

    HfConfig c;
    Reader r(j, subject);
    r.string("model_type", c.modelType);
    if (c.modelType != "wav2vec2")
        r.fail("model_type", "\"" + c.modelType + "\" is not supported (only \"wav2vec2\")");
    if (auto it = j.find("architectures"); it != j.end() && it->is_array())
        for (const auto &a : *it)
            if (a.is_string())
                c.architectures.push_back(a.get<std::string>());

    constexpr int64_t kBig = 1 << 20;
    r.integer("hidden_size", c.hiddenSize, 1, kBig);
    r.integer("num_hidden_layers", c.numHiddenLayers, 1, 1024);
    r.integer("num_attention_heads", c.numAttentionHeads, 1, 4096);
    r.integer("intermediate_size", c.intermediateSize, 1, kBig);
    r.string("hidden_act", c.hiddenAct);
    r.number("layer_norm_eps", c.layerNormEps, 0.0, 1.0);
    r.number("hidden_dropout", c.hiddenDropout, 0.0, 1.0);
    r.number("attention_dropout", c.attentionDropout, 0.0, 1.0);
    r.number("activation_dropout", c.activationDropout, 0.0, 1.0);
    r.number("feat_proj_dropout", c.featProjDropout, 0.0, 1.0);
    r.intList("conv_dim", c.convDim, 1, kBig);
    r.intList("conv_kernel", c.convKernel, 1, 4096);
    r.intList("conv_stride", c.convStride, 1, 4096);
    r.boolean("conv_bias", c.convBias);
    r.string("feat_extract_norm", c.featExtractNorm);
    r.string("feat_extract_activation", c.featExtractActivation);
    r.boolean("do_stable_layer_norm", c.doStableLayerNorm);
    r.integer("num_conv_pos_embeddings", c.numConvPosEmbeddings, 1, 4096);
    r.integer("num_conv_pos_embedding_groups", c.numConvPosEmbeddingGroups, 1, 4096);
    r.integer("classifier_proj_size", c.classifierProjSize, 1, kBig);
    r.boolean("use_weighted_layer_sum", c.useWeightedLayerSum);

    if (c.hiddenAct != "gelu")
        r.fail("hidden_act", "\"" + c.hiddenAct + "\" is not supported (only \"gelu\")");
    if (c.featExtractActivation != "gelu")
        r.fail("feat_extract_activation",
            "\"" + c.featExtractActivation + "\" is not supported (only \"gelu\")");
    if (c.featExtractNorm != "group" && c.featExtractNorm != "layer")
        r.fail("feat_extract_norm", "\"" + c.featExtractNorm + "\" must be \"group\" or \"layer\"");
    if (c.convKernel.size() != c.convDim.size() || c.convStride.size() != c.convDim.size())
        r.fail("conv_dim",
            "conv_dim, conv_kernel and conv_stride must have the same length ("
                + std::to_string(c.convDim.size()) + ", " + std::to_string(c.convKernel.size())
                + ", " + std::to_string(c.convStride.size()) + ")");
    if (c.hiddenSize % c.numAttentionHeads != 0)
        r.fail("num_attention_heads",
            std::to_string(c.numAttentionHeads) + " does not divide hidden_size "
                + std::to_string(c.hiddenSize));
    if (c.hiddenSize % c.numConvPosEmbeddingGroups != 0)
        r.fail("num_conv_pos_embedding_groups",
            std::to_string(c.numConvPosEmbeddingGroups) + " does not divide hidden_size "
                + std::to_string(c.hiddenSize));

    // Labels: id2label ({"0": "yes", ...}) decides, num_labels otherwise.
    if (auto it = j.find("id2label"); it != j.end() && !it->is_null()) {
        if (!it->is_object())
            r.fail("id2label", "expected an object {\"0\": \"name\", ...}");
        std::map<int64_t, std::string> byId;
        for (auto e = it->begin(); e != it->end(); ++e) {
            int64_t id = -1;
            try {
                size_t used = 0;
                id = std::stoll(e.key(), &used);
                if (used != e.key().size())
                    id = -1;
            } catch (...) {
                id = -1;
            }
            if (id < 0 || !e.value().is_string())
                r.fail("id2label",
                    "entry \"" + e.key()
                        + "\" must map a non-negative integer id "
                          "to a string");
            byId[id] = e.value().get<std::string>();
        }
        int64_t expect = 0;
        for (const auto &[id, name] : byId) {
            if (id != expect)
                r.fail("id2label",
                    "ids must be 0.." + std::to_string(byId.size() - 1) + " without gaps (missing "
                        + std::to_string(expect) + ")");
            c.labels.push_back(name);
            ++expect;
        }
        c.numLabels = int64_t(c.labels.size());
    }
    int64_t numLabels = -1;
    r.integer("num_labels", numLabels, 1, kBig);
    if (numLabels > 0) {
        if (!c.labels.empty() && numLabels != c.numLabels)
            r.fail("num_labels",
                std::to_string(numLabels) + " disagrees with id2label ("
                    + std::to_string(c.numLabels) + " labels)");
        if (c.labels.empty()) {
            c.numLabels = numLabels;
            for (int64_t i = 0; i < numLabels; ++i)
                c.labels.push_back("LABEL_" + std::to_string(i));
        }
    }
    return c;
}

} // namespace tkd::io
