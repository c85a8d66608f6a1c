#include "core/distill/AttentionRollout.h"

#include "core/util/EnumNames.h"
#include "core/util/Error.h"

#include <cmath>
#include <sstream>

namespace tkd {

namespace {

std::string shapeText(const torch::Tensor &t)
{
    std::ostringstream s;
    s << '[';
    for (int64_t i = 0; i < t.dim(); ++i)
        s << (i ? ", " : "") << t.size(i);
    s << ']';
    return s.str();
}

// Resolves a possibly negative layer index; returns -1 when out of range.
int64_t resolveIndex(int64_t index, int64_t count)
{
    const int64_t i = index < 0 ? index + count : index;
    return (i >= 0 && i < count) ? i : -1;
}

// Rows of `t` (last dimension) divided by their sums; zero rows stay zero instead of NaN.
torch::Tensor normaliseRows(const torch::Tensor &t)
{
    return t / t.sum(-1, true).clamp_min(1e-30);
}

// Mass-preserving resampling: treat row i as constant density over the cell [i, i+1) of a
// T-long axis and integrate it over each of the targetLength equal cells.
torch::Tensor areaResample(const torch::Tensor &rows, int64_t targetLength)
{
    const int64_t t = rows.size(1);
    const auto opts = rows.options();
    const torch::Tensor cdf
        = torch::cat({ torch::zeros({ rows.size(0), 1 }, opts), rows.cumsum(1) }, 1);
    // Edges j * T / T' of the target cells, j = 0..T', in source-cell units.
    const torch::Tensor edges = torch::arange(targetLength + 1, opts.dtype(torch::kFloat64))
        * (double(t) / double(targetLength));
    const torch::Tensor lo = edges.floor().clamp(0, double(t - 1)).to(torch::kLong);
    const torch::Tensor frac = (edges - lo.to(torch::kFloat64)).to(rows.scalar_type());
    const torch::Tensor loB = lo.unsqueeze(0).expand({ rows.size(0), targetLength + 1 });
    const torch::Tensor cdfAtEdges = cdf.gather(1, loB) + rows.gather(1, loB) * frac.unsqueeze(0);
    return (cdfAtEdges.slice(1, 1) - cdfAtEdges.slice(1, 0, targetLength)).clamp_min(0.0);
}

} // namespace

namespace {
const EnumName<HeadFusion> kHeadFusionNames[]
    = { { HeadFusion::Mean, "mean" }, { HeadFusion::Max, "max" }, { HeadFusion::Min, "min" } };
} // namespace

const char *headFusionName(HeadFusion f)
{
    return enumName(kHeadFusionNames, f);
}
HeadFusion headFusionFromName(const std::string &name)
{
    return enumFromName(kHeadFusionNames, name, "rollout.head_fusion");
}
std::vector<std::string> headFusionNames()
{
    return enumNames(kHeadFusionNames);
}

const char *rowResamplingName(RowResampling r)
{
    return r == RowResampling::Area ? "area" : "linear";
}

RowResampling rowResamplingFromName(const std::string &name)
{
    if (name == "linear")
        return RowResampling::Linear;
    if (name == "area")
        return RowResampling::Area;
    throw Error(
        "rollout.resampling", "unknown resampling '" + name + "' (expected linear or area)");
}

void RolloutOptions::validate() const
{
    if (!(residualWeight >= 0.0 && residualWeight <= 1.0))
        throw Error(
            "rollout.residual_weight", "must be in [0, 1], got " + std::to_string(residualWeight));
}

AttentionRollout::AttentionRollout(RolloutOptions options)
    : m_options(std::move(options))
{
    m_options.validate();
}

std::vector<int64_t> AttentionRollout::selectedLayers(int64_t numLayers) const
{
    if (numLayers <= 0)
        throw Error("teacher attention", "no layers to roll out");
    std::vector<int64_t> out;
    if (!m_options.layers.empty()) {
        for (int64_t requested : m_options.layers) {
            const int64_t i = resolveIndex(requested, numLayers);
            if (i < 0)
                throw Error("rollout.layers",
                    "layer " + std::to_string(requested) + " does not exist (the teacher has "
                        + std::to_string(numLayers) + " layers)");
            out.push_back(i);
        }
        std::sort(out.begin(), out.end());
        if (std::adjacent_find(out.begin(), out.end()) != out.end())
            throw Error("rollout.layers", "a layer is listed twice");
        return out;
    }
    const int64_t first = resolveIndex(m_options.firstLayer, numLayers);
    const int64_t last = resolveIndex(m_options.lastLayer, numLayers);
    if (first < 0)
        throw Error("rollout.first_layer",
            "layer " + std::to_string(m_options.firstLayer) + " does not exist (the teacher has "
                + std::to_string(numLayers) + " layers)");
    if (last < 0)
        throw Error("rollout.last_layer",
            "layer " + std::to_string(m_options.lastLayer) + " does not exist (the teacher has "
                + std::to_string(numLayers) + " layers)");
    if (first > last)
        throw Error("rollout.first_layer",
            "first layer " + std::to_string(first) + " comes after last layer "
                + std::to_string(last));
    for (int64_t i = first; i <= last; ++i)
        out.push_back(i);
    return out;
}

torch::Tensor AttentionRollout::fuseHeads(const torch::Tensor &layer) const
{
    switch (m_options.headFusion) {
    case HeadFusion::Max:
        return layer.amax(1);
    case HeadFusion::Min:
        return layer.amin(1);
    case HeadFusion::Mean:
        break;
    }
    return layer.mean(1);
}

namespace {

// Checks every layer is [B, heads, T, T] floating point with one shared shape.
void checkLayers(torch::TensorList layers)
{
    if (layers.empty())
        throw Error("teacher attention", "no layers to roll out");
    const torch::Tensor &ref = layers[0];
    for (size_t l = 0; l < layers.size(); ++l) {
        const torch::Tensor &a = layers[l];
        const std::string subject = "teacher attention layer " + std::to_string(l);
        if (!a.defined())
            throw Error(subject, "is empty");
        if (a.dim() != 4 || a.size(2) != a.size(3) || a.size(2) == 0 || a.size(1) == 0)
            throw Error(subject, "expected [batch, heads, T, T], got " + shapeText(a));
        if (!a.is_floating_point())
            throw Error(subject, "expected floating-point probabilities");
        // Head counts may differ (heads are fused per layer); batch and frames may not.
        if (a.size(0) != ref.size(0) || a.size(2) != ref.size(2))
            throw Error(subject,
                "shape " + shapeText(a) + " does not match layer 0's " + shapeText(ref)
                    + " in batch or frames");
    }
}

} // namespace

torch::Tensor AttentionRollout::rolloutMatrix(torch::TensorList layers) const
{
    checkLayers(layers);
    const std::vector<int64_t> chosen = selectedLayers(int64_t(layers.size()));
    const double r = m_options.residualWeight;
    const int64_t t = layers[0].size(2);
    const torch::Tensor eye = torch::eye(t, layers[0].options());
    torch::Tensor rollout;
    for (int64_t l : chosen) {
        const torch::Tensor a = normaliseRows((1.0 - r) * fuseHeads(layers[size_t(l)]) + r * eye);
        // Later layers multiply from the left: R = A'_L ... A'_1.
        rollout = rollout.defined() ? torch::bmm(a, rollout) : a;
    }
    return rollout;
}

torch::Tensor AttentionRollout::rolloutRow(torch::TensorList layers) const
{
    checkLayers(layers);
    const std::vector<int64_t> chosen = selectedLayers(int64_t(layers.size()));
    const int64_t t = layers[0].size(2);
    const int64_t q = m_options.queryRow < 0 ? m_options.queryRow + t : m_options.queryRow;
    if (q < 0 || q >= t)
        throw Error("rollout.query_row",
            "row " + std::to_string(m_options.queryRow) + " does not exist (the attention has "
                + std::to_string(t) + " frames)");
    const double r = m_options.residualWeight;
    // Only one row of R is wanted, so multiply a row vector down through the layers
    // (e_q^T A'_L) A'_{L-1} ... : O(T^2) per layer instead of O(T^3).
    torch::Tensor row;
    for (auto it = chosen.rbegin(); it != chosen.rend(); ++it) {
        const torch::Tensor fused = fuseHeads(layers[size_t(*it)]);
        if (!row.defined()) {
            torch::Tensor top = (1.0 - r) * fused.select(1, q);
            top.select(1, q).add_(r);
            row = normaliseRows(top).unsqueeze(1); // [B, 1, T]
            continue;
        }
        // v A' without building A': A'_ij = ((1 - r) F_ij + r [i == j]) / n_i with row sums
        // n_i = (1 - r) sum_j F_ij + r, so v A' = (1 - r) (v / n) F + r (v / n). Saves three
        // passes over a [B, T, T] tensor per layer (the rollout is memory-bound).
        const torch::Tensor n = ((1.0 - r) * fused.sum(-1) + r).clamp_min(1e-30).unsqueeze(1);
        const torch::Tensor w = row / n;
        row = (1.0 - r) * torch::bmm(w, fused) + r * w;
    }
    // Renormalise once more: products of stochastic matrices drift from 1 in float32.
    return normaliseRows(row.squeeze(1));
}

torch::Tensor AttentionRollout::teacherAttention(
    torch::TensorList layers, int64_t targetLength) const
{
    return resampleRow(
        rolloutRow(layers), targetLength, m_options.resampling, m_options.alignCorners);
}

torch::Tensor AttentionRollout::resampleRow(
    const torch::Tensor &rows, int64_t targetLength, RowResampling mode, bool alignCorners)
{
    if (!rows.defined() || (rows.dim() != 1 && rows.dim() != 2) || rows.size(-1) == 0)
        throw Error("attention row",
            "expected [T] or [batch, T] with T > 0, got "
                + (rows.defined() ? shapeText(rows) : std::string("nothing")));
    if (!rows.is_floating_point())
        throw Error("attention row", "expected floating-point values");
    if (targetLength <= 0)
        throw Error("student length", "must be positive, got " + std::to_string(targetLength));
    const bool single = rows.dim() == 1;
    const torch::Tensor in = single ? rows.unsqueeze(0) : rows;

    torch::Tensor out;
    if (mode == RowResampling::Area) {
        out = areaResample(in, targetLength);
    } else {
        namespace F = torch::nn::functional;
        auto opts = F::InterpolateFuncOptions()
                        .size(std::vector<int64_t> { targetLength })
                        .mode(torch::kLinear)
                        .align_corners(alignCorners);
        out = F::interpolate(in.unsqueeze(1), opts).squeeze(1);
        // A strong downsampling can sample only the zeros of a peaked row: keep its mass.
        const torch::Tensor empty = out.sum(1, true) <= 0;
        if (empty.any().item<bool>())
            out = torch::where(empty, areaResample(in, targetLength), out);
    }
    out = normaliseRows(out);
    return single ? out.squeeze(0) : out;
}

} // namespace tkd
