#include "core/models/Wav2Vec2Pretrained.h"

#include "core/io/SafeTensors.h"
#include "core/util/Error.h"

#include <algorithm>
#include <filesystem>

namespace tkd {

Wav2Vec2Pretrained::Inspection Wav2Vec2Pretrained::inspect(
    const std::string &path, int64_t numLabels)
{
    Inspection in;
    in.files = io::locateHfModel(path);
    in.hf = io::HfConfig::fromFile(in.files.config);
    in.config = Wav2Vec2Config::fromHf(in.hf);
    if (numLabels >= 0 && numLabels != in.config.numLabels())
        in.config.numLabels(numLabels).labels({});
    try {
        in.config.validate();
    } catch (const Error &e) {
        throw Error(in.files.config, e.subject() + ": " + e.reason());
    }
    const safetensors::Header header = safetensors::readHeader(in.files.weights);
    io::ShapeList source;
    for (const auto &e : header.entries)
        source.emplace_back(e.name, e.shape);
    in.fileTensorCount = int64_t(header.entries.size());
    std::error_code ec;
    in.fileBytes = std::filesystem::file_size(in.files.weights, ec);
    in.report = io::planHfImport(source, in.config.expectedParameters()).report;
    in.report.sourcePath = in.files.weights;
    return in;
}

Wav2Vec2Model Wav2Vec2Pretrained::load(
    const std::string &path, int64_t numLabels, io::MappingReport *report)
{
    Inspection in = inspect(path, numLabels);
    if (report)
        *report = in.report;
    if (!in.report.complete())
        throw Error(in.files.weights, "weights cannot be imported completely\n" + in.report.text());

    // Plan again from the loaded tensors' actual names and shapes (the same header), then apply.
    std::map<std::string, torch::Tensor> tensors = safetensors::load(in.files.weights);
    io::ShapeList source;
    for (const auto &[name, t] : tensors)
        source.emplace_back(name, t.sizes().vec());
    io::ImportPlan plan = io::planHfImport(source, in.config.expectedParameters());
    plan.report.sourcePath = in.files.weights;
    std::map<std::string, torch::Tensor> mapped
        = io::applyHfImport(plan, tensors, in.files.weights);
    tensors.clear(); // release the file's copies before building (XLSR: 1.2 GB each)

    std::vector<std::string> fresh;
    for (const auto *e : plan.report.with(io::MappingEntry::Status::FreshInit))
        fresh.push_back(e->target);
    Wav2Vec2Model model(in.config);
    assign(model, mapped, fresh, in.files.weights);
    model->eval();
    return model;
}

void Wav2Vec2Pretrained::loadInto(
    Wav2Vec2Model &model, const std::string &safetensorsPath, io::MappingReport *report)
{
    std::map<std::string, torch::Tensor> tensors = safetensors::load(safetensorsPath);
    io::ShapeList source;
    for (const auto &[name, t] : tensors)
        source.emplace_back(name, t.sizes().vec());
    io::ImportPlan plan
        = io::planHfImport(source, model->config.expectedParameters(), /*freshAllowed=*/ {});
    plan.report.sourcePath = safetensorsPath;
    if (report)
        *report = plan.report;
    std::map<std::string, torch::Tensor> mapped = io::applyHfImport(plan, tensors, safetensorsPath);
    assign(model, mapped, {}, safetensorsPath);
}

void Wav2Vec2Pretrained::assign(Wav2Vec2Model &model,
    const std::map<std::string, torch::Tensor> &tensors, const std::vector<std::string> &fresh,
    const std::string &subject)
{
    torch::NoGradGuard noGrad;
    auto params = model->named_parameters(/*recurse=*/true);
    for (auto &p : params) {
        auto it = tensors.find(p.key());
        if (it == tensors.end()) {
            if (std::find(fresh.begin(), fresh.end(), p.key()) != fresh.end())
                continue;
            throw Error(subject, "no tensor for model parameter \"" + p.key() + "\"");
        }
        if (it->second.sizes() != p.value().sizes())
            throw Error(subject, "tensor \"" + p.key() + "\" has the wrong shape");
        p.value().copy_(it->second);
    }
    for (const auto &[name, t] : tensors)
        if (!params.contains(name))
            throw Error(subject, "tensor \"" + name + "\" matches no model parameter");
}

} // namespace tkd
