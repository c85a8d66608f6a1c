#pragma once

#include "core/models/Wav2Vec2Config.h"
#include "core/models/Wav2Vec2Encoder.h"
#include "core/models/Wav2Vec2FeatureEncoder.h"

#include <torch/torch.h>

#include <vector>

namespace tkd {

struct Wav2Vec2Output
{
    torch::Tensor logits; // [B, numLabels] from the head on frame 1; undefined without a head
    torch::Tensor lastHiddenState; // [B, T, D] (= hiddenStates.back())
    std::vector<torch::Tensor> hiddenStates; // numLayers + 1, see Wav2Vec2EncoderOutput
    std::vector<torch::Tensor> attentions; // numLayers x [B, heads, T, T] softmax probabilities
    torch::Tensor frameLengths; // [B] int64, valid output frames per item
};

// The wav2vec 2.0 teacher (paper notes section 2): a front end (raw-waveform conv feature encoder
// or log-mel frames), feature projection, the transformer, and a linear classification head on the
// FIRST output frame. Returns logits only: softmax / sigmoid belong to the caller's loss.
// Parameter names are Hugging Face's without "wav2vec2." (see Wav2Vec2Config::expectedParameters).
class Wav2Vec2ModelImpl : public torch::nn::Module
{
public:
    explicit Wav2Vec2ModelImpl(const Wav2Vec2Config &config);
    void reset();

    // Raw front end: input [B, samples] (or [samples]) float at 16 kHz; lengths in samples.
    // Spectral front end: input [B, frames, bins] (or [frames, bins]); lengths in input frames.
    // lengths ([B] integer, optional) marks valid input per item of a padded batch: padded frames
    // are zeroed and masked out of attention as keys. With the group-norm (base) encoder the
    // padding still enters layer 0's normalisation, as in HF/fairseq (base models are meant to
    // run unpadded). The spectral front end wants log-mel frames from core/features with
    // spectralBins bins. Throws tkd::Error on a malformed input.
    Wav2Vec2Output forward(const torch::Tensor &input, const torch::Tensor &lengths = {});

    int64_t numFrames(int64_t inputLength) const { return config.numFrames(inputLength); }
    // A fresh classification head for another label set (adapting a pretrained teacher); the
    // rest of the model is untouched.
    void resetHead(int64_t numLabels);

    Wav2Vec2Config config;

private:
    Wav2Vec2FeatureEncoder m_featureEncoder { nullptr }; // raw front end only
    SpectralConvStack m_spectralConv { nullptr }; // spectral front end with a conv stack only
    Wav2Vec2FeatureProjection m_projection { nullptr };
    Wav2Vec2Encoder m_encoder { nullptr };
    torch::nn::Linear m_head { nullptr };
};
TORCH_MODULE(Wav2Vec2Model);

} // namespace tkd
