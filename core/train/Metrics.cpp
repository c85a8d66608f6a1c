#include "core/train/Metrics.h"

#include "core/util/Error.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace tkd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

std::string shapeOf(const torch::Tensor &t)
{
    std::string s = "[";
    for (int64_t d = 0; d < t.dim(); ++d)
        s += (d ? ", " : "") + std::to_string(t.size(d));
    return s + "]";
}
} // namespace

std::map<std::string, double> ClassificationMetrics::summary() const
{
    return { { "accuracy", accuracy }, { "map", meanAveragePrecision } };
}

std::vector<int64_t> Metrics::confusionMatrix(
    const std::vector<int64_t> &truth, const std::vector<int64_t> &predicted, int64_t numClasses)
{
    if (truth.size() != predicted.size())
        throw Error("metrics", "truth and predictions differ in length");
    if (numClasses < 1)
        throw Error("metrics", "needs at least one class");
    std::vector<int64_t> m(size_t(numClasses * numClasses), 0);
    for (size_t i = 0; i < truth.size(); ++i) {
        if (truth[i] < 0 || truth[i] >= numClasses || predicted[i] < 0
            || predicted[i] >= numClasses)
            throw Error("metrics",
                "label " + std::to_string(truth[i]) + " / prediction "
                    + std::to_string(predicted[i]) + " outside 0.."
                    + std::to_string(numClasses - 1));
        ++m[size_t(truth[i] * numClasses + predicted[i])];
    }
    return m;
}

double Metrics::averagePrecision(const torch::Tensor &scores, const torch::Tensor &positives)
{
    const torch::Tensor s = scores.detach().to(torch::kCPU, torch::kDouble).contiguous().view(-1);
    const torch::Tensor p = positives.detach().to(torch::kCPU).ne(0).contiguous().view(-1);
    if (s.numel() != p.numel())
        throw Error("metrics", "scores and positives differ in length");
    const int64_t n = s.numel();
    const double *sv = s.data_ptr<double>();
    const bool *pv = p.data_ptr<bool>();
    const int64_t totalPos = std::count(pv, pv + n, true);
    if (totalPos == 0)
        return kNaN;
    std::vector<int64_t> order(static_cast<size_t>(n));
    std::iota(order.begin(), order.end(), int64_t(0));
    std::stable_sort(
        order.begin(), order.end(), [&](int64_t a, int64_t b) { return sv[a] > sv[b]; });
    double ap = 0.0, prevRecall = 0.0;
    int64_t tp = 0, seen = 0;
    for (int64_t k = 0; k < n;) {
        // One threshold per distinct score: tied items enter together.
        int64_t j = k;
        while (j < n && sv[order[size_t(j)]] == sv[order[size_t(k)]]) {
            tp += pv[order[size_t(j)]] ? 1 : 0;
            ++j;
        }
        seen = j;
        const double recall = double(tp) / double(totalPos);
        const double precision = double(tp) / double(seen);
        ap += (recall - prevRecall) * precision;
        prevRecall = recall;
        k = j;
    }
    return ap;
}

double Metrics::macroAveragePrecision(const torch::Tensor &scores, const torch::Tensor &targets)
{
    if (scores.dim() != 2 || targets.sizes() != scores.sizes())
        throw Error("metrics",
            "mAP needs scores and targets of the same [N, C] shape, got " + shapeOf(scores)
                + " and " + shapeOf(targets));
    double sum = 0.0;
    int64_t used = 0;
    for (int64_t c = 0; c < scores.size(1); ++c) {
        const double ap = averagePrecision(scores.select(1, c), targets.select(1, c));
        if (!std::isnan(ap)) {
            sum += ap;
            ++used;
        }
    }
    return used ? sum / double(used) : kNaN;
}

ClassificationMetrics Metrics::classification(
    const torch::Tensor &logits, const torch::Tensor &targets, bool multiLabel)
{
    if (!logits.defined() || logits.dim() != 2 || logits.size(1) < 1)
        throw Error("metrics",
            "logits must be [N, C], got " + (logits.defined() ? shapeOf(logits) : "nothing"));
    const int64_t n = logits.size(0), c = logits.size(1);
    ClassificationMetrics m;
    m.count = n;
    m.numClasses = c;
    m.multiLabel = multiLabel;
    const torch::Tensor scores = logits.detach().to(torch::kCPU, torch::kFloat);
    if (n == 0) {
        m.accuracy = kNaN;
        m.meanAveragePrecision = kNaN;
        return m;
    }
    const torch::Tensor top = scores.argmax(1).contiguous();
    const int64_t *tp = top.data_ptr<int64_t>();

    torch::Tensor hot; // [N, C] multi-hot
    if (multiLabel) {
        if (targets.dim() != 2 || targets.size(0) != n || targets.size(1) != c)
            throw Error("metrics",
                "multi-label targets must be [N, C] = [" + std::to_string(n) + ", "
                    + std::to_string(c) + "], got " + shapeOf(targets));
        hot = targets.detach().to(torch::kCPU).ne(0);
        int64_t hits = 0;
        for (int64_t i = 0; i < n; ++i)
            hits += hot[i][tp[i]].item<bool>() ? 1 : 0;
        m.accuracy = double(hits) / double(n);
        const torch::Tensor pred = scores.sigmoid().ge(0.5);
        const torch::Tensor tpc = (pred & hot).sum(0).to(torch::kDouble);
        const torch::Tensor predc = pred.sum(0).to(torch::kDouble);
        const torch::Tensor posc = hot.sum(0).to(torch::kDouble);
        for (int64_t k = 0; k < c; ++k) {
            const double tpk = tpc[k].item<double>(), pk = predc[k].item<double>(),
                         ak = posc[k].item<double>();
            m.precision.push_back(pk > 0 ? tpk / pk : kNaN);
            m.recall.push_back(ak > 0 ? tpk / ak : kNaN);
        }
    } else {
        if (targets.dim() != 1 || targets.size(0) != n)
            throw Error("metrics",
                "single-label targets must be [N] = [" + std::to_string(n) + "], got "
                    + shapeOf(targets));
        const torch::Tensor t = targets.detach().to(torch::kCPU, torch::kLong).contiguous();
        std::vector<int64_t> truth(t.data_ptr<int64_t>(), t.data_ptr<int64_t>() + n);
        std::vector<int64_t> pred(tp, tp + n);
        m.confusion = confusionMatrix(truth, pred, c);
        int64_t hits = 0;
        for (int64_t i = 0; i < n; ++i)
            hits += truth[size_t(i)] == pred[size_t(i)] ? 1 : 0;
        m.accuracy = double(hits) / double(n);
        for (int64_t k = 0; k < c; ++k) {
            int64_t predicted = 0, actual = 0;
            for (int64_t j = 0; j < c; ++j) {
                predicted += m.confusionAt(j, k);
                actual += m.confusionAt(k, j);
            }
            const double hit = double(m.confusionAt(k, k));
            m.precision.push_back(predicted ? hit / double(predicted) : kNaN);
            m.recall.push_back(actual ? hit / double(actual) : kNaN);
        }
        hot = torch::zeros({ n, c }, torch::kBool);
        hot.scatter_(1, t.unsqueeze(1), true);
    }
    m.meanAveragePrecision = macroAveragePrecision(scores, hot);
    return m;
}

} // namespace tkd
