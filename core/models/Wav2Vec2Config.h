#pragma once

#include <torch/arg.h>

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tkd {

namespace io {
struct HfConfig;
}

// Hyper-parameters of the wav2vec 2.0 teacher (paper notes section 2). Two front ends feed the
// same transformer: the published raw-waveform conv feature encoder (base, xlsr-300m, imported
// Hugging Face weights) and a spectral one (log-mel frames -> LayerNorm + Linear) for the "tiny"
// teacher that must train from scratch on 2 CPU cores (calibration notes: the raw-waveform
// encoder does not learn from a few thousand clips).
struct Wav2Vec2Config
{
    enum class FrontEnd { RawWaveform, Spectral };
    enum class FeatureNorm {
        Group,
        Layer
    }; // HF feat_extract_norm: "group" (base) / "layer" (large)

    // Named presets: "tiny" (spectral), "base", "xlsr-300m". Throws tkd::Error("teacher.model",
    // ...).
    static Wav2Vec2Config preset(const std::string &name, int64_t numLabels = 0);
    static Wav2Vec2Config tiny(int64_t numLabels = 0, int64_t melBins = 40);
    // The shipped, pretrained teacher's shape: tiny's transformer widened (d 128, 4 layers) over
    // 2x-stacked log-mel frames (resources/teachers/).
    static Wav2Vec2Config small(int64_t numLabels = 0, int64_t melBins = 40);
    static Wav2Vec2Config base(int64_t numLabels = 0);
    static Wav2Vec2Config xlsr300m(int64_t numLabels = 0);
    static std::vector<std::string> presetNames();
    // From a parsed Hugging Face config.json (raw-waveform front end).
    static Wav2Vec2Config fromHf(const io::HfConfig &hf);

    TORCH_ARG(std::string, name) = "custom";
    TORCH_ARG(FrontEnd, frontEnd) = FrontEnd::RawWaveform;
    // Raw-waveform conv feature encoder (HF conv_dim / conv_kernel / conv_stride / conv_bias).
    TORCH_ARG(std::vector<int64_t>, convDim) = std::vector<int64_t>(7, 512);
    TORCH_ARG(std::vector<int64_t>, convKernel) = std::vector<int64_t>({ 10, 3, 3, 3, 3, 2, 2 });
    TORCH_ARG(std::vector<int64_t>, convStride) = std::vector<int64_t>({ 5, 2, 2, 2, 2, 2, 2 });
    TORCH_ARG(bool, convBias) = false;
    TORCH_ARG(FeatureNorm, featureNorm) = FeatureNorm::Group;
    // Spectral front end: feature bins per input frame and integer frame subsampling (k frames
    // are stacked into one, so an 8 s clip of 399 frames becomes 199 at k = 2).
    TORCH_ARG(int64_t, spectralBins) = 40;
    TORCH_ARG(int64_t, spectralSubsampling) = 1;
    // Optional conv stack on the spectral front end (0 channels: none): per-frame LayerNorm over
    // the stacked bins, then spectralConvLayers x (Conv1d, same padding, GELU) before the
    // projection, so the transformer starts from local spectro-temporal patterns rather than
    // raw bins. Frame count and timing are unchanged.
    TORCH_ARG(int64_t, spectralConvChannels) = 0;
    TORCH_ARG(int64_t, spectralConvKernel) = 5;
    TORCH_ARG(int64_t, spectralConvLayers) = 2;
    // Transformer.
    TORCH_ARG(int64_t, hiddenSize) = 768;
    TORCH_ARG(int64_t, numLayers) = 12;
    TORCH_ARG(int64_t, numHeads) = 12;
    TORCH_ARG(int64_t, intermediateSize) = 3072;
    TORCH_ARG(int64_t, posConvKernel) = 128;
    TORCH_ARG(int64_t, posConvGroups) = 16;
    // HF do_stable_layer_norm: true = pre-LN layers + final LayerNorm (large / XLSR);
    // false = post-LN layers, LayerNorm before the first layer (base).
    TORCH_ARG(bool, stableLayerNorm) = false;
    TORCH_ARG(double, layerNormEps) = 1e-5;
    TORCH_ARG(double, hiddenDropout) = 0.1;
    TORCH_ARG(double, attentionDropout) = 0.1;
    TORCH_ARG(double, activationDropout) = 0.0;
    TORCH_ARG(double, featProjDropout) = 0.0;
    // Classification head on the first output frame; 0 = no head (logits left undefined).
    TORCH_ARG(int64_t, numLabels) = 0;
    TORCH_ARG(std::vector<std::string>, labels) = std::vector<std::string>();

public: // TORCH_ARG leaves the section private
    // Throws tkd::Error("teacher.<field>", what is wrong).
    void validate() const;

    // Output frames for an input of `inputLength` samples (raw) or feature frames (spectral);
    // 0 when too short. 16000 samples -> 49 for the published encoder.
    int64_t numFrames(int64_t inputLength) const;
    // Width of the vectors entering feature_projection.
    int64_t projectionInputSize() const;
    // Seconds of audio one output frame spans, and between output frames (the teacher's frame
    // timing, for rollout localisation). Raw waveform: the conv encoder's receptive field and
    // stride at 16 kHz (25 ms / 20 ms for the published kernels). Spectral: k =
    // spectralSubsampling stacked log-mel frames of melWindowSec / melHopSec.
    double frameWindowSec(double melWindowSec, double melHopSec) const;
    double frameHopSec(double melHopSec) const;

    // Every parameter the model registers (names as in named_parameters(), which are the Hugging
    // Face names without the "wav2vec2." prefix, plus "head.*"), with shapes, computed without
    // building the model, so a 300M-parameter file can be inspected cheaply.
    std::vector<std::pair<std::string, std::vector<int64_t>>> expectedParameters() const;
    int64_t parameterCount() const;

    // Human-readable one-paragraph summary (inspect, GUI tooltips).
    std::string summary() const;
    // Stable text of every architecture field: part of teacher-cache keys.
    std::string canonicalString() const;
};

} // namespace tkd
