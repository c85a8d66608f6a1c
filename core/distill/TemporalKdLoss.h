#pragma once

#include <torch/torch.h>

namespace tkd {

struct TemporalKdLossOptions
{
    // lambda in L = L_task + lambda * KL(a_T || a_S); the paper sweeps {0, 0.1, 0.25, 0.5}.
    TORCH_ARG(double, lambda) = 0.0;
    // false: cross-entropy over classes (keyword spotting); true: BCE-with-logits (FSD50K).
    TORCH_ARG(bool, multiLabel) = false;
    // Logit KD baseline (not part of the method): weight and temperature. The term is scaled by
    // T^2 so its gradient size does not shrink as the temperature grows (Hinton et al.).
    TORCH_ARG(double, logitKdWeight) = 0.0;
    TORCH_ARG(double, temperature) = 1.0;
};

// The separate terms, so the engine can log each. All are scalars; kd and logitKd are zero
// when their teacher input is absent. total = task + lambda * kd + logitKdWeight * logitKd.
struct KdLossTerms
{
    torch::Tensor task;
    torch::Tensor kd;
    torch::Tensor logitKd;
    torch::Tensor total;
};

// Task loss + temporal KD (paper notes section 4), with optional logit KD.
class TemporalKdLoss
{
public:
    // Throws tkd::Error("loss.lambda" / "loss.temperature" / ...) for invalid options.
    explicit TemporalKdLoss(TemporalKdLossOptions options = {});

    const TemporalKdLossOptions &options() const { return m_options; }

    // logits [B, C]; targets: [B] class indices (single-label) or [B, C] multi-hot (multi-label);
    // studentScores [B, T'] (AttentionBranch::scores, -inf on padding) and teacherAttention
    // [B, T'] (a_T, rows summing to 1, zero on padding) may both be undefined to skip the KD
    // term; teacherLogits [B, C] may be undefined to skip logit KD.
    KdLossTerms operator()(const torch::Tensor &logits, const torch::Tensor &targets,
        const torch::Tensor &studentScores, const torch::Tensor &teacherAttention,
        const torch::Tensor &teacherLogits = {}) const;

    // KL(a_T || a_S) = sum_t a_T (log a_T - log a_S), mean over the batch. Terms with a_T = 0
    // contribute 0 (0 log 0 = 0), also where log a_S = -inf. `studentLogAttention` is
    // log a_S [B, T'], e.g. log_softmax of the scores, or the log of a student's native
    // attention for the ablation. Throws tkd::Error when a_T puts mass where a_S has none.
    static torch::Tensor klDivergence(
        const torch::Tensor &teacherAttention, const torch::Tensor &studentLogAttention);
    // The temporal KD term from raw scores: klDivergence(a_T, log_softmax(scores)).
    static torch::Tensor temporalKd(
        const torch::Tensor &teacherAttention, const torch::Tensor &studentScores);

    torch::Tensor taskLoss(const torch::Tensor &logits, const torch::Tensor &targets) const;
    // Single-label: T^2 * KL(softmax(t/T) || softmax(s/T)), batch mean. Multi-label: T^2 * the
    // per-class binary KL between sigmoid(t/T) and sigmoid(s/T), mean over batch and classes.
    torch::Tensor logitKd(
        const torch::Tensor &studentLogits, const torch::Tensor &teacherLogits) const;

private:
    TemporalKdLossOptions m_options;
};

} // namespace tkd
