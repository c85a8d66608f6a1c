#pragma once

#include <torch/torch.h>

#include <string>

namespace tkd {

struct OnnxQuantizeReport
{
    int64_t quantizedNodes = 0; // Conv / Gemm / MatMul with int8 weights
    bool activationsQuantized = false;
    int64_t calibrationClips = 0;
    std::string note; // why activations stayed float, when they did
};

// Post-training int8 quantisation of an exported student, written as ONNX QDQ: every Conv, Gemm
// and MatMul of the top-level graph gets symmetric per-channel int8 weights
// (DequantizeLinear over an int8 initializer); where the graph is one OnnxInterpreter runs (the
// convolutional students), activations are calibrated on `calibration` frames ([N, T, F], raw
// features as the model takes them: min/max over the clips) and each such op's input gets a
// uint8 QuantizeLinear -> DequantizeLinear pair, its bias int32 at input scale x weight scale.
// Recurrent students keep float activations and float recurrent weights inside their RNN ops
// (report.note says so). The result passes onnx::checker and shape inference.
std::string quantizeOnnxInt8(const std::string &floatModel, const torch::Tensor &calibration,
    OnnxQuantizeReport *report = nullptr);

} // namespace tkd
