#pragma once

#include "core/experiment/ExperimentConfig.h"
#include "core/train/Pipeline.h"

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

// The quick-start, one definition for `tkd quickstart` and the studio's Run > Quick-start: the
// built-in corpus, keywords hidden in L = 8 s of noise (where temporal KD shows), a tiny wav2vec
// 2.0 teacher when it fits the time budget (else the oracle, with a warning saying why), and
// TC-ResNet8 trained with lambda 0 and 0.25.
struct QuickstartSettings
{
    int speakers = 300;           // corpus speakers (12 clips each; 80% train)
    double lengthSec = 8.0;       // clip length L
    std::string teacher = "auto"; // tiny | oracle | auto (tiny if it fits budgetSec)
    int teacherEpochs = 6;
    int epochs = 30;              // student epochs
    double budgetSec = 240.0;     // time allowed for the tiny teacher (auto)
    uint64_t seed = 1;            // student seed
    std::string runsDir = "runs";
    int threads = 0;              // torch threads (0: every core)

    // Throws tkd::Error("--teacher", ...) for an unknown teacher choice.
    ExperimentConfig config() const;
    PipelineOptions options(std::vector<std::string> commandLine) const;
};

} // namespace tkd
