#pragma once

#include "core/distill/HeadFusion.h"

#include <torch/torch.h>

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

// How the rolled-out teacher row is brought to the student's time length.
enum class RowResampling {
    Linear, // the paper: linear interpolation, then renormalised to sum to 1
    Area // mass-preserving: each target cell receives the source mass it covers
};
const char *rowResamplingName(RowResampling r); // "linear" | "area"
RowResampling rowResamplingFromName(
    const std::string &name); // throws tkd::Error("rollout.resampling", ...)

// Attention rollout (Abnar & Zuidema 2020) as in paper notes section 2. Defaults are the
// standard recipe: mean over heads, A' = 0.5 A + 0.5 I, all layers, row 0.
struct RolloutOptions
{
    HeadFusion headFusion = HeadFusion::Mean;
    double residualWeight = 0.5; // r in A' = (1 - r) A + r I; in [0, 1]
    int64_t queryRow = 0; // which row of R is the 1-D attention; negative counts from the end
    // Layers used, inclusive range; negative indices count from the end (-1 = the last layer).
    int64_t firstLayer = 0;
    int64_t lastLayer = -1;
    // When non-empty, exactly these layers (same index rules) replace the range. They are
    // multiplied in increasing layer order whatever order they are listed in.
    std::vector<int64_t> layers;
    RowResampling resampling = RowResampling::Linear;
    // Linear resampling's corner convention. false (default): every frame is a cell of equal
    // width spanning the clip, the same proportional frame-to-time mapping the oracle and the
    // localisation score use, and lengths that match give the identity exactly.
    bool alignCorners = false;

    // Throws tkd::Error("rollout.<field>", ...) for values that can never be valid.
    void validate() const;
};

class AttentionRollout
{
public:
    explicit AttentionRollout(RolloutOptions options = {});

    const RolloutOptions &options() const { return m_options; }

    // The layer indices (ascending, non-negative) used for a teacher with `numLayers` layers.
    // Throws tkd::Error("rollout.layers" / "rollout.first_layer" / ...) when out of range.
    std::vector<int64_t> selectedLayers(int64_t numLayers) const;

    // layers[l]: softmax attention of layer l, [B, heads, T, T] (same B and T in every layer).
    // Returns R = A'_last ... A'_first, [B, T, T]; every row is a distribution.
    torch::Tensor rolloutMatrix(torch::TensorList layers) const;
    // R[queryRow, :] for each batch item: [B, T].
    torch::Tensor rolloutRow(torch::TensorList layers) const;
    // rolloutRow resampled to `targetLength` student frames: [B, targetLength], rows sum to 1.
    // This is a_T.
    torch::Tensor teacherAttention(torch::TensorList layers, int64_t targetLength) const;

    // Resample distributions [B, T] (or [T]) to [B, targetLength] (or [targetLength]) and
    // renormalise every row to sum to 1. A row whose linear interpolation carries no mass
    // at all (e.g. a spike falling between the sample points of a strong downsampling) falls
    // back to area resampling rather than dividing by zero.
    static torch::Tensor resampleRow(const torch::Tensor &rows, int64_t targetLength,
        RowResampling mode = RowResampling::Linear, bool alignCorners = false);

private:
    torch::Tensor fuseHeads(const torch::Tensor &layer) const;

    RolloutOptions m_options;
};

} // namespace tkd
