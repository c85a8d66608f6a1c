#include "core/export/OnnxStudentExporter.h"

#include "core/export/OnnxStudentGraphs.h"
#include "core/export/OnnxTensors.h"
#include "core/models/StudentRegistry.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <onnx/checker.h>
#include <onnx/shape_inference/implementation.h>

#include <nlohmann/json.hpp>

#include <sstream>

namespace tkd {

namespace {

std::string jsonFloats(const torch::Tensor &t)
{
    const torch::Tensor c = t.detach().to(torch::kCPU, torch::kFloat).contiguous().view(-1);
    nlohmann::json a = nlohmann::json::array();
    for (int64_t i = 0; i < c.numel(); ++i)
        a.push_back(c.data_ptr<float>()[i]);
    return a.dump();
}

void addMeta(onnx::ModelProto &m, const std::string &key, const std::string &value)
{
    auto *p = m.add_metadata_props();
    p->set_key(key);
    p->set_value(value);
}

} // namespace

bool OnnxStudentExporter::supports(const StudentModel &model)
{
    return !model.isNull() && onnxexport::findStudentGraph(model) != nullptr;
}

std::string OnnxStudentExporter::serialize(
    const StudentModel &model, const OnnxExportOptions &options, OnnxExportSummary *summary)
{
    if (model.isNull())
        throw Error("onnx export", "no student");
    const auto *graphBuilder = onnxexport::findStudentGraph(model);
    if (!graphBuilder)
        throw Error(model.name(), "no ONNX graph builder knows this student's architecture");
    if (options.opset < 13 || options.opset > 17)
        throw Error("--opset",
            "must be 13..17 (the ONNX library here checks up to opset 17), got "
                + std::to_string(options.opset));
    if (!options.dynamicTime && options.frames < model.minFrames())
        throw Error("frames",
            model.name() + " needs at least " + std::to_string(model.minFrames()) + " frames, got "
                + std::to_string(options.frames));
    const int64_t f = model.featureDim();
    const int64_t classes = model.numClasses();

    onnx::ModelProto m;
    m.set_ir_version(8);
    m.set_producer_name("tkd");
    m.set_producer_version("0.1.0");
    m.set_model_version(1);
    m.set_doc_string("TKD Studio student " + model.name() + " (" + model.spec().summary + ")");
    auto *opset = m.add_opset_import();
    opset->set_domain("");
    opset->set_version(options.opset);

    auto *graph = m.mutable_graph();
    graph->set_name(model.name());
    OnnxGraphBuilder b(graph);
    const int64_t frames = options.dynamicTime ? -1 : options.frames;
    b.addInput("features", { -1, frames, f }, { "batch", "frames" });

    // The training standardisation, as ops, so the model takes raw front-end frames.
    std::string x = "features";
    const bool standardise = options.featureMean.defined() && options.featureStd.defined();
    if (standardise) {
        if (options.featureMean.numel() != f || options.featureStd.numel() != f)
            throw Error("feature standardisation",
                "has " + std::to_string(options.featureMean.numel()) + " values, the student reads "
                    + std::to_string(f) + " features");
        x = b.div(b.sub(x, onnxexport::weight(b, "feature_mean", options.featureMean.view(-1))),
            onnxexport::weight(b, "feature_std", options.featureStd.view(-1)));
    }
    torch::NoGradGuard noGrad;
    const std::string logitsOut = graphBuilder->build(b, model, { x, frames });
    b.opTo("Identity", { logitsOut }, { "logits" });
    b.opTo("Softmax", { "logits" }, { "probabilities" }).attr("axis", int64_t(1));
    b.addOutput("logits", { -1, classes }, { "batch" });
    b.addOutput("probabilities", { -1, classes }, { "batch" });

    // Metadata: everything a deployment needs to feed the model.
    const FeatureConfig &fc = options.features;
    addMeta(m, "tkd.student", model.name());
    addMeta(m, "tkd.family", StudentRegistry::spec(model.name()).family);
    nlohmann::json cls = nlohmann::json::array();
    for (int64_t c = 0; c < classes; ++c)
        cls.push_back(size_t(c) < options.classes.size() ? options.classes[size_t(c)]
                                                         : "class " + std::to_string(c));
    addMeta(m, "tkd.classes", cls.dump());
    addMeta(m, "tkd.input",
        "features [batch, frames, " + std::to_string(f) + "] float32: raw " + fc.kindName()
            + " frames (standardisation is inside the graph)");
    addMeta(m, "tkd.frames", options.dynamicTime ? "dynamic" : std::to_string(options.frames));
    addMeta(m, "tkd.window_seconds", std::to_string(options.windowSec));
    addMeta(m, "tkd.front_end", fc.canonicalString());
    nlohmann::json fe = { { "kind", fc.kindName() }, { "sample_rate", fc.sampleRate },
        { "window_ms", fc.windowMs }, { "hop_ms", fc.hopMs }, { "fft_size", fc.fftSize() },
        { "mel_bins", fc.melBins }, { "f_min_hz", fc.fMinHz }, { "f_max_hz", fc.fMaxHz },
        { "mfcc_count", fc.mfccCount }, { "log_floor", fc.logFloor },
        { "window", "hann (periodic)" }, { "mel_scale", "htk, no filter normalisation" },
        { "magnitude_power", 1 }, { "dct", "DCT-II orthonormal" }, { "centre_padding", false } };
    addMeta(m, "tkd.front_end_json", fe.dump());
    addMeta(m, "tkd.standardisation",
        standardise ? "in graph: (x - feature_mean) / feature_std" : "none");
    if (standardise) {
        addMeta(m, "tkd.feature_mean", jsonFloats(options.featureMean));
        addMeta(m, "tkd.feature_std", jsonFloats(options.featureStd));
    }
    for (const auto &[k, v] : options.metadata)
        addMeta(m, k, v);

    try {
        onnx::checker::check_model(m);
        onnx::shape_inference::InferShapes(m, onnx::OpSchemaRegistry::Instance(),
            onnx::ShapeInferenceOptions(/*check_type=*/true, /*strict=*/1, /*data_prop=*/false));
    } catch (const std::exception &e) {
        throw Error(
            model.name() + " ONNX graph", std::string("fails the ONNX checker: ") + e.what());
    }
    if (summary) {
        summary->family = StudentRegistry::spec(model.name()).family; // the registry's name for it
        summary->opset = options.opset;
        summary->nodes = graph->node_size();
        int64_t bytes = 0;
        for (const auto &t : graph->initializer())
            bytes += int64_t(t.raw_data().size()) + int64_t(t.int64_data_size()) * 8;
        summary->initializerBytes = bytes;
    }
    std::string out;
    if (!m.SerializeToString(&out))
        throw Error(model.name(), "could not serialize the ONNX model");
    return out;
}

OnnxExportSummary OnnxStudentExporter::write(
    const StudentModel &model, const OnnxExportOptions &options, const std::string &path)
{
    OnnxExportSummary s;
    writeFileAtomic(path, serialize(model, options, &s));
    return s;
}

void OnnxStudentExporter::check(const std::string &path)
{
    onnx::ModelProto m;
    const std::string bytes = readFile(path);
    if (!m.ParseFromString(bytes))
        throw Error(path, "is not an ONNX model");
    try {
        onnx::checker::check_model(m);
    } catch (const std::exception &e) {
        throw Error(path, std::string("fails the ONNX checker: ") + e.what());
    }
}

std::map<std::string, std::string> OnnxStudentExporter::metadata(const std::string &path)
{
    onnx::ModelProto m;
    if (!m.ParseFromString(readFile(path)))
        throw Error(path, "is not an ONNX model");
    std::map<std::string, std::string> out;
    for (const auto &p : m.metadata_props())
        out[p.key()] = p.value();
    return out;
}

} // namespace tkd
