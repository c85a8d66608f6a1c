#pragma once

#include "core/io/HfConfig.h"
#include "core/io/WeightImport.h"
#include "core/models/Wav2Vec2Config.h"
#include "core/models/Wav2Vec2Model.h"

#include <string>

namespace tkd {

// Hugging Face wav2vec 2.0 checkpoints on disk (a folder with config.json + model.safetensors, or
// the weights file) turned into a Wav2Vec2Model through io::WeightImport.
class Wav2Vec2Pretrained
{
public:
    struct Inspection
    {
        io::HfModelFiles files;
        io::HfConfig hf;
        Wav2Vec2Config config;
        io::MappingReport report;
        int64_t fileTensorCount = 0;
        uint64_t fileBytes = 0;
    };

    // Reads config.json and the safetensors HEADER only (cheap for a 1.2 GB XLSR file) and plans
    // the mapping. numLabels >= 0 overrides the head size from config.json (0 = no head).
    static Inspection inspect(const std::string &path, int64_t numLabels = -1);

    // Builds the model and loads every tensor. Throws tkd::Error(weights file, mapping report)
    // when the load would be incomplete; the head alone may start fresh (reported).
    static Wav2Vec2Model load(
        const std::string &path, int64_t numLabels = -1, io::MappingReport *report = nullptr);

    // Loads a safetensors file of this model's own parameter names (e.g. a trained tiny teacher
    // saved with safetensors::save(model->named_parameters())) or an HF file for the same
    // architecture, through the same mapping and checks; nothing may be missing, not even the head.
    static void loadInto(Wav2Vec2Model &model, const std::string &safetensorsPath,
        io::MappingReport *report = nullptr);

    // Copies named tensors into a built model; every parameter must be given unless listed in
    // `fresh`. Throws tkd::Error(subject, ...) naming what does not fit.
    static void assign(Wav2Vec2Model &model, const std::map<std::string, torch::Tensor> &tensors,
        const std::vector<std::string> &fresh, const std::string &subject);
};

} // namespace tkd
