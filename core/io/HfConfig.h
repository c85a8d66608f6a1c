#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tkd::io {

// The fields of a Hugging Face wav2vec 2.0 config.json that decide the architecture, with the
// library's defaults for keys a file leaves out. Parsing validates types and ranges and names the
// offending key; nothing here knows torch.
struct HfConfig
{
    std::string path; // where it was read from ("" when parsed from text)
    std::string modelType = "wav2vec2";
    std::vector<std::string> architectures; // e.g. "Wav2Vec2ForSequenceClassification"

    int64_t hiddenSize = 768;
    int64_t numHiddenLayers = 12;
    int64_t numAttentionHeads = 12;
    int64_t intermediateSize = 3072;
    std::string hiddenAct = "gelu";
    double layerNormEps = 1e-5;
    double hiddenDropout = 0.1;
    double attentionDropout = 0.1;
    double activationDropout = 0.1;
    double featProjDropout = 0.0;

    std::vector<int64_t> convDim = std::vector<int64_t>(7, 512);
    std::vector<int64_t> convKernel = { 10, 3, 3, 3, 3, 2, 2 };
    std::vector<int64_t> convStride = { 5, 2, 2, 2, 2, 2, 2 };
    bool convBias = false;
    std::string featExtractNorm = "group"; // "group" | "layer"
    std::string featExtractActivation = "gelu";
    bool doStableLayerNorm = false;
    int64_t numConvPosEmbeddings = 128;
    int64_t numConvPosEmbeddingGroups = 16;

    // Labels: from id2label when present (ordered by id), else num_labels generic names; a file
    // with neither has no head (numLabels 0).
    int64_t numLabels = 0;
    std::vector<std::string> labels;
    int64_t classifierProjSize = 256;
    bool useWeightedLayerSum = false;

    // Throws tkd::Error(path, "<key>: <what is wrong>").
    static HfConfig fromFile(const std::string &path);
    static HfConfig fromJson(const std::string &text, const std::string &subject = "config.json");
};

} // namespace tkd::io
