#pragma once

#include "core/train/Pipeline.h"

#include <nlohmann/json_fwd.hpp>

#include <string>
#include <vector>

namespace tkd {

// The paper's kind of table over one or several run folders (a grid may be split across shards
// that ran side by side): students x lambda x clip length, mean and spread over seeds, the best
// lambda of each student and length marked. Everything here is computed from metrics.json files;
// nothing is trained.
class GridTable
{
public:
    // One (student, lambda, L) entry: its seeds' runs.
    struct Entry
    {
        std::string student;
        double lambda = 0.0;
        double lengthSec = 0.0;
        std::vector<CellResult> runs; // completed or early-stopped runs only
        int failed = 0; // runs that diverged or were cancelled
        int cancelled = 0; // of those, the ones stopped before they finished
        double mean = 0.0, spread = 0.0; // of the test metric; spread: sample std (0 for n = 1)
        double validation = 0.0; // mean of the best epochs' validation metric (NaN if absent)
        double locBranch = 0.0, locNative = 0.0, locBaseline = 0.0; // means; NaN when absent
        double wallSeconds = 0.0; // sum over the runs
        // Best of this student's lambdas at this L, chosen as the paper does: on validation (the
        // test mean only where no validation figure was recorded).
        bool best = false;
        double selectionScore() const;
        int count() const { return int(runs.size()); }
    };
    struct Teacher
    {
        double lengthSec = 0.0;
        std::string kind;
        double metric = 0.0; // test accuracy or mAP (NaN for the oracle)
        double localisation = 0.0; // share of attention mass in the keyword window
        double baseline = 0.0; // the same for uniform attention
        double seconds = 0.0;
    };

    GridTable() = default;
    explicit GridTable(std::vector<PipelineResult> results);
    // Reads <dir>/metrics.json of each run folder; errors name the folder.
    static GridTable fromRunDirs(const std::vector<std::string> &dirs);

    const std::vector<Entry> &entries() const { return m_entries; }
    const std::vector<Teacher> &teachers() const { return m_teachers; }
    const std::vector<std::string> &students() const { return m_students; }
    const std::vector<double> &lambdas() const { return m_lambdas; }
    const std::vector<double> &lengths() const { return m_lengths; }
    const std::vector<PipelineResult> &results() const { return m_results; }
    // "accuracy" (single-label) or "map" (multi-label).
    const std::string &metric() const { return m_metric; }
    const Entry *find(const std::string &student, double lambda, double lengthSec) const;
    // The student's KD entry (lambda > 0) at this L with the best validation score; nullptr if
    // none.
    const Entry *bestKd(const std::string &student, double lengthSec) const;

    // Paper-style summary (rows L; teacher, then each student as "best KD (vanilla)"), the full
    // table (rows student x lambda, columns L: mean +- spread, n, best in bold), the teachers, then
    // the paper's Table 2 beside ours and its claims checked (PaperTable.h).
    std::string markdown() const;
    // One row per (student, lambda, L): mean, spread, n, localisation, best flag, wall seconds.
    std::string csv() const;
    // relativeTo: write run folders relative to this folder (grid.json's own), so a grid folder
    // and its runs can move together; empty: as they were given.
    nlohmann::json json(const std::string &relativeTo = {}) const;
    // Writes grid.md, grid.csv and grid.json into dir (atomically, each); run folders in grid.json
    // are relative to dir.
    void write(const std::string &dir) const;

private:
    void build();

    std::vector<PipelineResult> m_results;
    std::vector<Entry> m_entries;
    std::vector<Teacher> m_teachers;
    std::vector<std::string> m_students;
    std::vector<double> m_lambdas, m_lengths;
    std::string m_metric = "accuracy";
};

} // namespace tkd
