#include "core/train/GridTable.h"

#include "core/data/DatasetSource.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/train/PaperTable.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <limits>
#include <set>
#include <sstream>

namespace tkd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

double valueOf(const std::map<std::string, double> &m, const std::string &k)
{
    const auto it = m.find(k);
    return it == m.end() ? kNaN : it->second;
}

// Mean over the finite values; NaN when there are none.
double finiteMean(const std::vector<double> &v)
{
    double sum = 0.0;
    int n = 0;
    for (double x : v)
        if (std::isfinite(x)) {
            sum += x;
            ++n;
        }
    return n ? sum / n : kNaN;
}

std::string fmt(const char *f, double v)
{
    if (!std::isfinite(v))
        return "-";
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

std::string num(double v)
{
    return fmt("%g", v);
}

bool usable(const CellResult &c)
{
    return c.status == "completed" || c.status == "early-stopped";
}

nlohmann::json finiteOrNull(double v)
{
    return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
}
} // namespace

GridTable::GridTable(std::vector<PipelineResult> results)
    : m_results(std::move(results))
{
    build();
}

GridTable GridTable::fromRunDirs(const std::vector<std::string> &dirs)
{
    if (dirs.empty())
        throw Error("grid", "no run folders given");
    std::vector<PipelineResult> results;
    bool multiLabel = false;
    for (const std::string &dir : dirs) {
        const std::string path = dir + "/metrics.json";
        if (!std::filesystem::is_regular_file(path))
            throw Error(dir, "is not a run folder (no metrics.json)");
        nlohmann::json j;
        try {
            j = nlohmann::json::parse(readFile(path));
        } catch (const nlohmann::json::exception &e) {
            throw Error(path, std::string("is not valid JSON: ") + e.what());
        }
        PipelineResult r;
        try {
            r = PipelineResult::fromJson(j);
        } catch (const Error &e) {
            throw Error(path, e.what());
        }
        r.runDir = dir; // the folder may have moved since it was written
        for (auto &l : r.lengths)
            for (auto &c : l.cells)
                c.runDir = dir;
        const std::string configPath = dir + "/config.yaml";
        if (std::filesystem::is_regular_file(configPath))
            multiLabel = multiLabel
                || DatasetSource::isMultiLabel(
                    ExperimentConfig::load(configPath).datasetSource().kind);
        results.push_back(std::move(r));
    }
    GridTable t(std::move(results));
    if (multiLabel) {
        t.m_metric = "map";
        t.build();
    }
    return t;
}

void GridTable::build()
{
    m_entries.clear();
    m_teachers.clear();
    m_students.clear();
    m_lambdas.clear();
    m_lengths.clear();
    std::set<double> lambdas, lengths;
    auto addStudent = [this](const std::string &s) {
        if (std::find(m_students.begin(), m_students.end(), s) == m_students.end())
            m_students.push_back(s);
    };
    for (const PipelineResult &r : m_results)
        for (const LengthResult &l : r.lengths) {
            lengths.insert(l.lengthSec);
            // One teacher per length: the first run that has one (shards share it).
            const bool known = std::any_of(m_teachers.begin(), m_teachers.end(),
                [&](const Teacher &t) { return t.lengthSec == l.lengthSec; });
            if (!known && !l.teacherKind.empty()) {
                Teacher t;
                t.lengthSec = l.lengthSec;
                t.kind = l.teacherKind;
                t.metric = valueOf(l.teacherTest, m_metric);
                t.localisation = valueOf(l.teacherTest, "localisation");
                t.baseline = valueOf(l.teacherTest, "localisation_baseline");
                t.seconds = l.teacherSeconds;
                m_teachers.push_back(t);
            }
            for (const CellResult &c : l.cells) {
                addStudent(c.student);
                lambdas.insert(c.lambda);
                Entry *e = nullptr;
                for (Entry &x : m_entries)
                    if (x.student == c.student && x.lambda == c.lambda
                        && x.lengthSec == c.lengthSec)
                        e = &x;
                if (!e) {
                    m_entries.push_back({});
                    e = &m_entries.back();
                    e->student = c.student;
                    e->lambda = c.lambda;
                    e->lengthSec = c.lengthSec;
                }
                e->wallSeconds += c.wallSeconds;
                if (usable(c)) {
                    e->runs.push_back(c);
                } else {
                    ++e->failed;
                    e->cancelled += c.status == "cancelled";
                }
            }
        }
    m_lambdas.assign(lambdas.begin(), lambdas.end());
    m_lengths.assign(lengths.begin(), lengths.end());
    std::sort(m_teachers.begin(), m_teachers.end(),
        [](const Teacher &a, const Teacher &b) { return a.lengthSec < b.lengthSec; });

    for (Entry &e : m_entries) {
        std::vector<double> v, val, lb, ln, base;
        for (const CellResult &c : e.runs) {
            v.push_back(valueOf(c.test, m_metric));
            val.push_back(valueOf(c.validation, m_metric));
            lb.push_back(valueOf(c.test, "localisation_branch"));
            ln.push_back(valueOf(c.test, "localisation_native"));
            base.push_back(valueOf(c.test, "localisation_baseline"));
        }
        e.mean = finiteMean(v);
        double ss = 0.0;
        int n = 0;
        for (double x : v)
            if (std::isfinite(x)) {
                ss += (x - e.mean) * (x - e.mean);
                ++n;
            }
        e.spread = n > 1 ? std::sqrt(ss / (n - 1)) : (n == 1 ? 0.0 : kNaN);
        e.validation = finiteMean(val);
        e.locBranch = finiteMean(lb);
        e.locNative = finiteMean(ln);
        e.locBaseline = finiteMean(base);
    }
    // Best lambda per (student, L) on validation, as the paper picks it: the test split decides
    // nothing.
    for (const std::string &s : m_students)
        for (double L : m_lengths) {
            Entry *best = nullptr;
            for (Entry &e : m_entries)
                if (e.student == s && e.lengthSec == L && std::isfinite(e.selectionScore())
                    && (!best || e.selectionScore() > best->selectionScore()))
                    best = &e;
            if (best)
                best->best = true;
        }
    std::sort(m_entries.begin(), m_entries.end(), [this](const Entry &a, const Entry &b) {
        const auto ia = std::find(m_students.begin(), m_students.end(), a.student);
        const auto ib = std::find(m_students.begin(), m_students.end(), b.student);
        if (ia != ib)
            return ia < ib;
        if (a.lambda != b.lambda)
            return a.lambda < b.lambda;
        return a.lengthSec < b.lengthSec;
    });
}

double GridTable::Entry::selectionScore() const
{
    return std::isfinite(validation) ? validation : mean;
}

const GridTable::Entry *GridTable::bestKd(const std::string &student, double lengthSec) const
{
    const Entry *best = nullptr;
    for (const Entry &e : m_entries)
        if (e.student == student && e.lengthSec == lengthSec && e.lambda > 0.0
            && std::isfinite(e.selectionScore())
            && (!best || e.selectionScore() > best->selectionScore()))
            best = &e;
    return best;
}

const GridTable::Entry *GridTable::find(
    const std::string &student, double lambda, double lengthSec) const
{
    for (const Entry &e : m_entries)
        if (e.student == student && e.lambda == lambda && e.lengthSec == lengthSec)
            return &e;
    return nullptr;
}

std::string GridTable::markdown() const
{
    const bool pct = m_metric == "accuracy";
    auto value = [pct](double v) { return pct ? fmt("%.1f", 100.0 * v) : fmt("%.4f", v); };
    auto meanSpread = [&](const Entry &e) {
        if (!e.count())
            return std::string(e.cancelled == e.failed && e.failed ? "not finished"
                    : e.failed                                     ? "failed"
                                                                   : "-");
        std::string s = value(e.mean);
        if (e.count() > 1)
            s += " ± " + value(e.spread);
        return s;
    };
    std::ostringstream s;
    const std::string metricName = pct ? "test accuracy (%)" : "test mAP";

    // Paper-style: each student's best KD entry, its vanilla entry in brackets.
    s << "### Summary: " << metricName
      << ", best KD lambda on validation (vanilla in brackets)\n\n| L | teacher |";
    for (const auto &st : m_students)
        s << " " << st << " |";
    s << "\n|---|---|";
    for (size_t i = 0; i < m_students.size(); ++i)
        s << "---|";
    s << "\n";
    for (double L : m_lengths) {
        s << "| " << num(L) << " s | ";
        const auto t = std::find_if(m_teachers.begin(), m_teachers.end(),
            [L](const Teacher &x) { return x.lengthSec == L; });
        if (t == m_teachers.end())
            s << "-";
        else
            s << t->kind << (std::isfinite(t->metric) ? " " + value(t->metric) : std::string());
        s << " |";
        for (const auto &st : m_students) {
            const Entry *vanilla = find(st, 0.0, L);
            const Entry *kd = bestKd(st, L);
            std::string cell = kd ? value(kd->mean) + " (λ " + num(kd->lambda) + ")" : "-";
            cell += " (" + (vanilla && vanilla->count() ? value(vanilla->mean) : std::string("-"))
                + ")";
            s << " " << cell << " |";
        }
        s << "\n";
    }

    s << "\n### All runs: " << metricName
      << ", mean ± sample std over seeds (n), best lambda per student and L "
      << "in bold\n\n| student | lambda |";
    for (double L : m_lengths)
        s << " L = " << num(L) << " s |";
    s << " attention in keyword (branch / native) |\n|---|---|";
    for (size_t i = 0; i < m_lengths.size(); ++i)
        s << "---|";
    s << "---|\n";
    for (const auto &st : m_students)
        for (double lam : m_lambdas) {
            bool any = false;
            for (double L : m_lengths)
                any = any || find(st, lam, L);
            if (!any)
                continue;
            s << "| " << st << " | " << num(lam) << " |";
            std::string loc;
            for (double L : m_lengths) {
                const Entry *e = find(st, lam, L);
                if (!e) {
                    s << " |";
                    continue;
                }
                std::string c = meanSpread(*e) + " (" + std::to_string(e->count()) + ")";
                s << " " << (e->best ? "**" + c + "**" : c) << " |";
                if (std::isfinite(e->locBranch) || std::isfinite(e->locNative))
                    loc += (loc.empty() ? "" : "; ") + fmt("%.3f", e->locBranch) + " / "
                        + fmt("%.3f", e->locNative);
            }
            s << " " << (loc.empty() ? "-" : loc) << " |\n";
        }

    if (!m_teachers.empty()) {
        s << "\n### Teachers\n\n| L | kind | " << metricName
          << " | attention in keyword | uniform would give | time (s) "
             "|\n|---|---|---|---|---|---|\n";
        for (const Teacher &t : m_teachers)
            s << "| " << num(t.lengthSec) << " s | " << t.kind << " | " << value(t.metric) << " | "
              << fmt("%.3f", t.localisation) << " | " << fmt("%.3f", t.baseline) << " | "
              << fmt("%.0f", t.seconds) << " |\n";
    }
    s << paper::markdown(*this);
    return s.str();
}

std::string GridTable::csv() const
{
    std::ostringstream s;
    s << "student,lambda,length_sec,metric,mean,spread,n,failed,best,localisation_branch,"
         "localisation_native,"
         "localisation_baseline,wall_seconds\n";
    for (const Entry &e : m_entries)
        s << e.student << "," << num(e.lambda) << "," << num(e.lengthSec) << "," << m_metric << ","
          << fmt("%.6f", e.mean) << "," << fmt("%.6f", e.spread) << "," << e.count() << ","
          << e.failed << "," << (e.best ? 1 : 0) << "," << fmt("%.6f", e.locBranch) << ","
          << fmt("%.6f", e.locNative) << "," << fmt("%.6f", e.locBaseline) << ","
          << fmt("%.1f", e.wallSeconds) << "\n";
    return s.str();
}

nlohmann::json GridTable::json(const std::string &relativeTo) const
{
    auto where = [&](const std::string &dir) {
        if (relativeTo.empty() || dir.empty())
            return dir;
        std::error_code ec;
        const auto rel = std::filesystem::relative(
            std::filesystem::absolute(dir), std::filesystem::absolute(relativeTo), ec);
        return ec || rel.empty() ? dir : rel.string();
    };
    nlohmann::json j;
    j["metric"] = m_metric;
    j["students"] = m_students;
    j["lambdas"] = m_lambdas;
    j["lengths_sec"] = m_lengths;
    j["teachers"] = nlohmann::json::array();
    for (const Teacher &t : m_teachers)
        j["teachers"].push_back({ { "length_sec", t.lengthSec }, { "kind", t.kind },
            { "test", finiteOrNull(t.metric) }, { "localisation", finiteOrNull(t.localisation) },
            { "localisation_baseline", finiteOrNull(t.baseline) }, { "seconds", t.seconds } });
    j["entries"] = nlohmann::json::array();
    for (const Entry &e : m_entries) {
        nlohmann::json runs = nlohmann::json::array();
        for (const CellResult &c : e.runs)
            runs.push_back(
                { { "seed", c.seed }, { "test", finiteOrNull(valueOf(c.test, m_metric)) },
                    { "validation", finiteOrNull(valueOf(c.validation, m_metric)) },
                    { "best_epoch", c.bestEpoch }, { "epochs_run", c.epochsRun },
                    { "wall_seconds", c.wallSeconds },
                    { "train_seconds_per_epoch", c.trainSecondsPerEpoch },
                    { "run_dir", where(c.runDir) }, { "checkpoint", c.checkpoint } });
        j["entries"].push_back({ { "student", e.student }, { "lambda", e.lambda },
            { "length_sec", e.lengthSec }, { "mean", finiteOrNull(e.mean) },
            { "spread", finiteOrNull(e.spread) }, { "validation", finiteOrNull(e.validation) },
            { "n", e.count() }, { "failed", e.failed }, { "best", e.best },
            { "localisation_branch", finiteOrNull(e.locBranch) },
            { "localisation_native", finiteOrNull(e.locNative) },
            { "localisation_baseline", finiteOrNull(e.locBaseline) },
            { "wall_seconds", e.wallSeconds }, { "runs", runs } });
    }
    if (const nlohmann::json p = paper::json(*this); !p.is_null())
        j["paper"] = p;
    j["run_dirs"] = nlohmann::json::array();
    for (const PipelineResult &r : m_results)
        j["run_dirs"].push_back(where(r.runDir));
    return j;
}

void GridTable::write(const std::string &dir) const
{
    makeDirs(dir);
    writeFileAtomic(dir + "/grid.md", markdown());
    writeFileAtomic(dir + "/grid.csv", csv());
    writeFileAtomic(dir + "/grid.json", json(dir).dump(2) + "\n");
}

} // namespace tkd
