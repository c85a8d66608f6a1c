#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tkd {

// Classification quality of one split.
struct ClassificationMetrics
{
    int64_t count = 0;
    int64_t numClasses = 0;
    bool multiLabel = false;
    // Single-label: argmax == label. Multi-label: the top-scoring class is one of the labels.
    double accuracy = 0.0;
    // Macro mean over classes of one-vs-rest average precision (classes without a positive
    // example are left out). The FSD50K metric; reported for single-label tasks too.
    double meanAveragePrecision = 0.0;
    // Single-label: [true class][predicted class], row-major numClasses x numClasses. Empty for
    // multi-label.
    std::vector<int64_t> confusion;
    // Per class; NaN where undefined (nothing predicted / no example of the class). Multi-label:
    // sigmoid >= 0.5 decides a prediction.
    std::vector<double> precision;
    std::vector<double> recall;

    int64_t confusionAt(int64_t truth, int64_t predicted) const
    {
        return confusion[size_t(truth * numClasses + predicted)];
    }
    // {"accuracy": ..., "map": ...}
    std::map<std::string, double> summary() const;
};

class Metrics
{
public:
    // logits [N, C]; targets [N] class indices (single-label) or [N, C] multi-hot (multi-label).
    // Throws tkd::Error("metrics", ...) for mismatched shapes or labels outside [0, C).
    static ClassificationMetrics classification(
        const torch::Tensor &logits, const torch::Tensor &targets, bool multiLabel);

    // Average precision of one class (scikit-learn's definition: sum over distinct score
    // thresholds of (R_k - R_{k-1}) P_k, ties grouped). scores [N], positives [N] (nonzero =
    // positive). NaN when there is no positive.
    static double averagePrecision(const torch::Tensor &scores, const torch::Tensor &positives);
    // Mean of averagePrecision over the classes (columns) that have a positive; NaN if none has.
    static double macroAveragePrecision(const torch::Tensor &scores, const torch::Tensor &targets);

    // [C x C] row-major counts, rows = truth. Throws tkd::Error("metrics", ...) on a bad label.
    static std::vector<int64_t> confusionMatrix(const std::vector<int64_t> &truth,
        const std::vector<int64_t> &predicted, int64_t numClasses);
};

} // namespace tkd
