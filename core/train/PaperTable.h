#pragma once

// The paper's Table 2 (ICASSP 2022: Noisy Speech Commands v2, 12 labels, test accuracy) and its
// four claims, checked against a grid of ours. Grid tables show both beside their own numbers;
// the corpora differ (ours is synthetic), so the comparison is of shape, not of digits.

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <string>
#include <vector>

namespace tkd {

class GridTable;

namespace paper {

// A student's cell of Table 2 as fractions: best lambda with KD, and without KD.
struct Figure
{
    double kd = 0.0;
    double vanilla = 0.0;
};

// nullopt where the table has no such cell (its lengths are 2, 4, 6 and 8 s; its students are
// lstm-p, tc-resnet8, crnn, att-rnn and mhatt-rnn).
std::optional<double> teacherAccuracy(double lengthSec);
std::optional<Figure> studentAccuracy(const std::string &student, double lengthSec);

// One of the paper's claims, judged on a grid: "met", "missed" or "open" (the grid lacks the runs
// that would decide it), with the figures that decided it.
struct Claim
{
    std::string key; // "kd-helps-every-student"
    std::string statement; // the claim in words
    std::string verdict;
    std::string evidence;
};

// The four claims: at the longest L the best KD lambda beats vanilla by >= 1 point for every
// student; KD's gain grows with L for the recurrent students; with KD an attention student
// matches or beats the teacher; KD raises every student's in-window attention mass. Empty for a
// grid whose metric is not accuracy.
std::vector<Claim> checkClaims(const GridTable &t);

// "Beside the paper" and "The paper's claims" sections of grid.md; "" when neither applies.
std::string markdown(const GridTable &t);
// {"table2": [...], "claims": [...]} for grid.json; null when neither applies.
nlohmann::json json(const GridTable &t);

} // namespace paper
} // namespace tkd
