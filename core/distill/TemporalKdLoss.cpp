#include "core/distill/TemporalKdLoss.h"

#include "core/util/Error.h"

#include <cmath>

namespace tkd {

namespace {

std::string shapeText(const torch::Tensor &t)
{
    if (!t.defined())
        return "nothing";
    std::string s = "[";
    for (int64_t i = 0; i < t.dim(); ++i)
        s += (i ? ", " : "") + std::to_string(t.size(i));
    return s + "]";
}

void checkDistributionRows(const torch::Tensor &a, const char *subject)
{
    if (!a.is_floating_point())
        throw Error(subject, "expected floating-point probabilities");
    if ((a < 0).any().item<bool>())
        throw Error(subject, "has negative values (expected probabilities, not scores)");
    // Loose on purpose: float32 rollouts drift from 1 by ~1e-6, scores passed by mistake do not.
    const double worst = (a.sum(1) - 1.0).abs().max().item<double>();
    if (!(worst <= 1e-3))
        throw Error(subject, "rows must sum to 1 (one is off by " + std::to_string(worst) + ")");
}

} // namespace

TemporalKdLoss::TemporalKdLoss(TemporalKdLossOptions options)
    : m_options(options)
{
    if (!(m_options.lambda() >= 0.0) || !std::isfinite(m_options.lambda()))
        throw Error("loss.lambda", "must be a finite number >= 0");
    if (!(m_options.logitKdWeight() >= 0.0) || !std::isfinite(m_options.logitKdWeight()))
        throw Error("loss.logit_kd_weight", "must be a finite number >= 0");
    if (!(m_options.temperature() > 0.0) || !std::isfinite(m_options.temperature()))
        throw Error("loss.temperature", "must be a finite number > 0");
}

torch::Tensor TemporalKdLoss::klDivergence(
    const torch::Tensor &teacherAttention, const torch::Tensor &studentLogAttention)
{
    if (!teacherAttention.defined() || teacherAttention.dim() != 2 || teacherAttention.size(1) == 0)
        throw Error(
            "teacher attention", "expected [batch, T'], got " + shapeText(teacherAttention));
    if (!studentLogAttention.defined() || studentLogAttention.sizes() != teacherAttention.sizes())
        throw Error("student attention",
            "expected " + shapeText(teacherAttention) + " like the teacher's, got "
                + shapeText(studentLogAttention));
    const torch::Tensor aT = teacherAttention.detach().to(studentLogAttention.scalar_type());
    checkDistributionRows(aT, "teacher attention");
    const torch::Tensor positive = aT > 0;
    if ((positive & torch::isinf(studentLogAttention)).any().item<bool>())
        throw Error("teacher attention", "puts mass on frames the student masks out (padding)");
    // 0 log 0 = 0: select before multiplying so neither log 0 nor -inf scores reach a product
    // (0 * -inf would be NaN in the value and in the gradient).
    const torch::Tensor logT = torch::where(positive, aT, torch::ones_like(aT)).log();
    const torch::Tensor logS = torch::where(positive, studentLogAttention, torch::zeros_like(aT));
    const torch::Tensor terms = torch::where(positive, aT * (logT - logS), torch::zeros_like(aT));
    return terms.sum(1).mean();
}

torch::Tensor TemporalKdLoss::temporalKd(
    const torch::Tensor &teacherAttention, const torch::Tensor &studentScores)
{
    if (!studentScores.defined() || studentScores.dim() != 2 || studentScores.size(1) == 0)
        throw Error("student scores", "expected [batch, T'], got " + shapeText(studentScores));
    return klDivergence(teacherAttention, torch::log_softmax(studentScores, 1));
}

torch::Tensor TemporalKdLoss::taskLoss(
    const torch::Tensor &logits, const torch::Tensor &targets) const
{
    if (!logits.defined() || logits.dim() != 2 || logits.size(1) == 0)
        throw Error("logits", "expected [batch, classes], got " + shapeText(logits));
    const int64_t batch = logits.size(0);
    const int64_t classes = logits.size(1);
    if (!targets.defined())
        throw Error("targets", "missing");
    if (m_options.multiLabel()) {
        if (targets.dim() != 2 || targets.size(0) != batch || targets.size(1) != classes)
            throw Error("targets",
                "multi-label targets must be [batch, classes] = [" + std::to_string(batch) + ", "
                    + std::to_string(classes) + "], got " + shapeText(targets));
        const torch::Tensor y = targets.to(logits.scalar_type());
        if (((y < 0) | (y > 1)).any().item<bool>())
            throw Error("targets", "multi-label targets must lie in [0, 1]");
        return torch::binary_cross_entropy_with_logits(logits, y);
    }
    if (targets.dim() != 1 || targets.size(0) != batch)
        throw Error("targets",
            "single-label targets must be [batch] = [" + std::to_string(batch)
                + "] class indices, got " + shapeText(targets));
    if (targets.is_floating_point())
        throw Error("targets", "single-label targets must be integer class indices");
    const torch::Tensor y = targets.to(torch::kLong);
    if (batch > 0 && (y.min().item<int64_t>() < 0 || y.max().item<int64_t>() >= classes))
        throw Error("targets", "class index out of range 0.." + std::to_string(classes - 1));
    return torch::nn::functional::cross_entropy(logits, y);
}

torch::Tensor TemporalKdLoss::logitKd(
    const torch::Tensor &studentLogits, const torch::Tensor &teacherLogits) const
{
    if (!teacherLogits.defined() || teacherLogits.sizes() != studentLogits.sizes())
        throw Error("teacher logits",
            "expected " + shapeText(studentLogits) + " like the student's, got "
                + shapeText(teacherLogits));
    const double t = m_options.temperature();
    const torch::Tensor zs = studentLogits / t;
    const torch::Tensor zt = teacherLogits.detach().to(studentLogits.scalar_type()) / t;
    torch::Tensor kl;
    if (m_options.multiLabel()) {
        // Binary KL per class: BCE(student, p) minus the teacher's own binary entropy.
        const torch::Tensor p = torch::sigmoid(zt);
        const torch::Tensor negEntropy
            = p * torch::log_sigmoid(zt) + (1 - p) * torch::log_sigmoid(-zt);
        const torch::Tensor crossEntropy
            = torch::binary_cross_entropy_with_logits(zs, p, {}, {}, at::Reduction::None);
        kl = (crossEntropy + negEntropy).mean();
    } else {
        const torch::Tensor logPt = torch::log_softmax(zt, 1);
        kl = (logPt.exp() * (logPt - torch::log_softmax(zs, 1))).sum(1).mean();
    }
    return kl * (t * t);
}

KdLossTerms TemporalKdLoss::operator()(const torch::Tensor &logits, const torch::Tensor &targets,
    const torch::Tensor &studentScores, const torch::Tensor &teacherAttention,
    const torch::Tensor &teacherLogits) const
{
    KdLossTerms out;
    out.task = taskLoss(logits, targets);
    const torch::Tensor zero = torch::zeros({}, out.task.options());

    if (studentScores.defined() != teacherAttention.defined())
        throw Error(studentScores.defined() ? "teacher attention" : "student scores",
            "the temporal KD term needs both the student's scores and the teacher's attention");
    if (teacherAttention.defined()) {
        if (studentScores.dim() != 2 || studentScores.size(0) != logits.size(0))
            throw Error("student scores",
                "expected [batch, T'] with batch " + std::to_string(logits.size(0)) + ", got "
                    + shapeText(studentScores));
        out.kd = temporalKd(teacherAttention, studentScores);
    } else if (m_options.lambda() > 0.0) {
        throw Error("teacher attention", "required when loss.lambda > 0");
    } else {
        out.kd = zero;
    }

    if (teacherLogits.defined())
        out.logitKd = logitKd(logits, teacherLogits);
    else if (m_options.logitKdWeight() > 0.0)
        throw Error("teacher logits", "required when loss.logit_kd_weight > 0");
    else
        out.logitKd = zero;

    out.total = out.task + m_options.lambda() * out.kd + m_options.logitKdWeight() * out.logitKd;
    return out;
}

} // namespace tkd
