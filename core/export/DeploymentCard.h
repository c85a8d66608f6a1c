#pragma once

#include <cstdint>
#include <string>

namespace tkd {

// What a phone or microcontroller toolchain needs to know about one exported student, written
// beside the ONNX file as <cell>.card.md and <cell>.card.json. Negative numbers and empty
// strings mean "not measured" and print as such, with the command that measures them.
struct DeploymentCard
{
    std::string student; // registry name
    std::string family;
    std::string cell; // run cell it came from
    int64_t parameters = 0;
    int64_t classes = 0;
    std::string frontEnd; // "20 MFCC: 16 kHz, 40 ms Hann window, 20 ms hop, ..."
    std::string frontEndCanonical;
    int64_t featureDim = 0;
    double windowSec = 1.0;
    int64_t frames = 49;
    bool dynamicTime = false;
    int opset = 17;
    int64_t macsPerWindow = 0;
    double macsPerSecond = 0.0; // of audio, streaming at hopSec: MACs per window / hop
    double hopSec = 0.1;

    std::string floatFile, int8File;
    int64_t floatBytes = -1, int8Bytes = -1;
    double maxAbsDiffVsLibTorch = -1.0; // ONNX Runtime vs LibTorch logits, random + real frames
    double floatLatencyMs = -1.0, int8LatencyMs = -1.0; // per window, ONNX Runtime, 1 thread
    double libtorchLatencyMs = -1.0; // per window, LibTorch, 1 thread
    double floatAccuracy = -1.0, int8Accuracy = -1.0; // test split
    // Streaming (tkd eval RUN --stream): at `threshold` over `streamHours` of synthetic stream.
    double faPerHour = -1.0, missRate = -1.0, threshold = -1.0, streamHours = 0.0;

    std::string markdown() const;
    std::string json() const;
};

} // namespace tkd
