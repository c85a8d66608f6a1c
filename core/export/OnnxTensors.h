#pragma once

// Private to core/export: torch tensors into an ONNX graph, and the layers several students
// share (batch-norm folding, PyTorch RNNs as ONNX RNN ops).
#include "core/export/OnnxGraphBuilder.h"

#include <torch/torch.h>

namespace tkd::onnxexport {

// A float initializer holding `t` (any float tensor: copied, contiguous, on the CPU).
std::string weight(OnnxGraphBuilder &b, const std::string &hint, const torch::Tensor &t);

// Conv over `x` with weight w (bias b may be undefined) and ONNX Conv attributes.
std::string conv(OnnxGraphBuilder &b, const std::string &hint, const std::string &x,
    const torch::Tensor &w, const torch::Tensor &bias, const std::vector<int64_t> &strides,
    const std::vector<int64_t> &pads);

// Eval-mode BatchNorm as (scale, shift) per channel: y = x * scale + shift.
std::pair<torch::Tensor, torch::Tensor> batchNormAffine(const torch::Tensor &runningMean,
    const torch::Tensor &runningVar, const torch::Tensor &gamma, const torch::Tensor &beta,
    double eps);

// Linear layer on [B, in] -> [B, out] (Gemm with the weight as stored, transB = 1).
std::string linear(
    OnnxGraphBuilder &b, const std::string &hint, const std::string &x, torch::nn::Linear &layer);

// PyTorch's (stacked, optionally bidirectional) GRU or LSTM as ONNX GRU / LSTM ops, gates reordered
// (GRU r z n -> z r h with linear_before_reset = 1; LSTM i f g o -> i o f c), exact in float.
// x: time-major [T, B, F]. Returns the last layer's sequence, time-major [T, B, dirs * H], and
// (lastHidden) the last layer's final hidden state of the forward direction [B, H].
struct RecurrentOutputs
{
    std::string sequence;
    std::string lastHidden;
};
RecurrentOutputs gruLayers(
    OnnxGraphBuilder &b, const std::string &hint, const std::string &x, torch::nn::GRU &gru);
RecurrentOutputs lstmLayers(
    OnnxGraphBuilder &b, const std::string &hint, const std::string &x, torch::nn::LSTM &lstm);

} // namespace tkd::onnxexport
