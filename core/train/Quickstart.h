#pragma once

#include "core/experiment/ExperimentConfig.h"
#include "core/train/Pipeline.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

// The quick-start, one definition for `tkd quickstart` and the studio's Run > Quick-start: the
// built-in corpus, keywords hidden in L = 8 s of noise (where temporal KD shows), the pretrained
// teacher shipped in resources/teachers/ (learned from clip labels on speakers no experiment uses;
// nothing to train), and TC-ResNet8 trained with lambda 0 and 0.25. The oracle (the keyword's true
// window) and a tiny teacher trained from scratch are explicit choices, never fallbacks.
struct QuickstartSettings
{
    int speakers = 300; // corpus speakers (12 clips each; 80% train)
    double lengthSec = 8.0; // clip length L
    // pretrained | oracle (upper bound / ablation) | tiny (from scratch)
    TeacherKind teacher = TeacherKind::Pretrained;
    int teacherEpochs = 6; // tiny only
    int epochs = 30; // student epochs
    uint64_t seed = 1; // student seed
    std::string runsDir = "runs";
    int threads = 0; // torch threads (0: every core)

    // Throws tkd::Error("--teacher", ...) for any other teacher kind.
    ExperimentConfig config() const;
    PipelineOptions options(std::vector<std::string> commandLine) const;
};

} // namespace tkd
