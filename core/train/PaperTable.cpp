#include "core/train/PaperTable.h"

#include "core/train/GridTable.h"
#include "core/util/Format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <sstream>

namespace tkd::paper {

namespace {

constexpr double kLengths[] = { 2.0, 4.0, 6.0, 8.0 };
constexpr double kTeacher[] = { 90.59, 91.22, 90.93, 90.95 }; // wav2vec 2.0 (XLSR), per L

struct Row
{
    const char *student;
    Figure byLength[4]; // percent: {KD, vanilla} at 2, 4, 6, 8 s
};

// Table 2 of the paper, as printed (percent).
constexpr Row kTable[] = {
    { "lstm-p", { { 89.31, 88.73 }, { 89.08, 85.19 }, { 85.58, 45.27 }, { 82.19, 78.44 } } },
    { "tc-resnet8", { { 88.08, 87.77 }, { 88.33, 87.60 }, { 86.85, 86.00 }, { 85.79, 77.81 } } },
    { "crnn", { { 90.06, 89.96 }, { 90.21, 89.69 }, { 89.88, 88.58 }, { 89.79, 88.94 } } },
    { "att-rnn", { { 91.67, 89.88 }, { 91.98, 90.65 }, { 91.19, 90.88 }, { 90.98, 88.81 } } },
    { "mhatt-rnn", { { 91.75, 89.75 }, { 92.12, 91.19 }, { 91.67, 90.58 }, { 91.79, 88.33 } } },
};

// The students whose KD gain the paper finds growing with L.
constexpr const char *kRecurrent[] = { "lstm-p", "crnn", "att-rnn", "mhatt-rnn" };
constexpr const char *kAttention[] = { "att-rnn", "mhatt-rnn" };

int lengthIndex(double L)
{
    for (int i = 0; i < 4; ++i)
        if (std::abs(kLengths[i] - L) < 1e-9)
            return i;
    return -1;
}

// A fraction as percent without the sign: 0.734 -> "73.4" ("-" when not finite).
std::string pct(double v)
{
    return formatFixed(100.0 * v, 1);
}

std::string points(double v)
{
    char b[32];
    std::snprintf(b, sizeof b, "%+.1f", 100.0 * v);
    return b;
}

template <size_t N> bool among(const char *const (&set)[N], const std::string &s)
{
    return std::find(std::begin(set), std::end(set), s) != std::end(set);
}

// KD's gain for (student, L): best KD lambda (chosen on validation) minus vanilla, over the means
// of their seeds; NaN when either is missing.
struct Gain
{
    const GridTable::Entry *kd = nullptr, *vanilla = nullptr;
    double value() const
    {
        return kd && vanilla && kd->count() && vanilla->count() ? kd->mean - vanilla->mean
                                                                : std::nan("");
    }
    std::string text(const std::string &student) const
    {
        if (!std::isfinite(value()))
            return student + " not run";
        return student + " " + points(value()) + " (λ " + formatNumber(kd->lambda) + ", n "
            + std::to_string(kd->count()) + "/" + std::to_string(vanilla->count()) + ")";
    }
};

Gain gainOf(const GridTable &t, const std::string &student, double L)
{
    return { t.bestKd(student, L), t.find(student, 0.0, L) };
}

Claim everyStudentGains(const GridTable &t)
{
    Claim c { "kd-helps-every-student",
        "at the longest L, the best KD lambda beats vanilla by >= 1 point for every student", "",
        "" };
    const double L = t.lengths().back();
    bool allRun = true, anyMissed = false; // one student short of the mark decides it
    std::string ev = "L = " + formatNumber(L) + " s: ";
    for (size_t i = 0; i < t.students().size(); ++i) {
        const Gain g = gainOf(t, t.students()[i], L);
        ev += (i ? "; " : "") + g.text(t.students()[i]);
        allRun = allRun && std::isfinite(g.value());
        anyMissed = anyMissed || (std::isfinite(g.value()) && g.value() < 0.01 - 1e-12);
    }
    c.verdict = anyMissed ? "missed" : (allRun ? "met" : "open");
    c.evidence = ev;
    return c;
}

Claim gainGrowsWithLength(const GridTable &t)
{
    Claim c { "gain-grows-with-length",
        "KD's gain grows with L (shortest to longest) for the recurrent students", "", "" };
    const auto &Ls = t.lengths();
    if (Ls.size() < 2) {
        c.verdict = "open";
        c.evidence = "one clip length only (" + formatNumber(Ls.front()) + " s)";
        return c;
    }
    bool any = false, allRun = true, anyMissed = false;
    std::string ev;
    for (const std::string &s : t.students()) {
        if (!among(kRecurrent, s))
            continue;
        any = true;
        const double lo = gainOf(t, s, Ls.front()).value(), hi = gainOf(t, s, Ls.back()).value();
        ev += (ev.empty() ? "" : "; ") + s + " " + (std::isfinite(lo) ? points(lo) : "-") + " at "
            + formatNumber(Ls.front()) + " s, " + (std::isfinite(hi) ? points(hi) : "-") + " at "
            + formatNumber(Ls.back()) + " s";
        const bool run = std::isfinite(lo) && std::isfinite(hi);
        allRun = allRun && run;
        anyMissed = anyMissed || (run && hi <= lo);
    }
    c.verdict = !any ? "open" : anyMissed ? "missed" : (allRun ? "met" : "open");
    c.evidence = any ? ev : "no recurrent student in the grid";
    return c;
}

Claim attentionStudentBeatsTeacher(const GridTable &t)
{
    Claim c { "attention-student-beats-teacher",
        "with KD, an attention student (Att-RNN or MHAtt-RNN) matches or beats the teacher", "",
        "" };
    bool met = false, any = false;
    std::string ev;
    for (const GridTable::Teacher &teacher : t.teachers()) {
        if (!std::isfinite(teacher.metric))
            continue; // the oracle has no accuracy
        for (const std::string &s : t.students()) {
            if (!among(kAttention, s))
                continue;
            const GridTable::Entry *kd = t.bestKd(s, teacher.lengthSec);
            if (!kd || !kd->count())
                continue;
            any = true;
            met = met || kd->mean >= teacher.metric;
            ev += (ev.empty() ? "" : "; ") + s + " " + pct(kd->mean) + " against the teacher's "
                + pct(teacher.metric) + " at " + formatNumber(teacher.lengthSec) + " s";
        }
    }
    c.verdict = met ? "met" : (any ? "missed" : "open");
    c.evidence = any ? ev : "no attention student with KD beside a scored teacher";
    return c;
}

// The student's in-window attention mass with KD against without. The branch (what KD trains
// with kd.target branch) is compared with uniform attention, since a vanilla student's branch
// learns nothing; with kd.target native, the student's own attention with KD against vanilla's.
Claim kdRaisesAttentionMass(const GridTable &t)
{
    Claim c { "kd-raises-attention-mass", "KD raises every student's in-window attention mass", "",
        "" };
    bool allRun = true, allMet = true;
    std::string ev;
    for (const std::string &s : t.students())
        for (double L : t.lengths()) {
            const Gain g = gainOf(t, s, L);
            if (!g.kd || !g.vanilla || !g.kd->count() || !g.vanilla->count()) {
                allRun = false;
                continue;
            }
            const bool branch = std::isfinite(g.kd->locBranch);
            const double with = branch ? g.kd->locBranch : g.kd->locNative;
            const double without = branch ? g.kd->locBaseline : g.vanilla->locNative;
            ev += (ev.empty() ? "" : "; ") + s + " " + formatNumber(L)
                + " s: " + (branch ? "branch " : "native ") + formatPercent(with) + " against "
                + (branch ? "uniform " : "vanilla's ") + formatPercent(without);
            if (branch && std::isfinite(g.kd->locNative) && std::isfinite(g.vanilla->locNative))
                ev += " (native " + formatPercent(g.vanilla->locNative) + " -> "
                    + formatPercent(g.kd->locNative) + ")";
            allMet = allMet && std::isfinite(with) && std::isfinite(without) && with > without;
        }
    c.verdict = ev.empty() ? "open" : !allMet ? "missed" : (allRun ? "met" : "open");
    c.evidence = ev.empty() ? "no student with both KD and vanilla runs" : ev;
    return c;
}

} // namespace

std::optional<double> teacherAccuracy(double lengthSec)
{
    const int i = lengthIndex(lengthSec);
    if (i < 0)
        return std::nullopt;
    return kTeacher[i] / 100.0;
}

std::optional<Figure> studentAccuracy(const std::string &student, double lengthSec)
{
    const int i = lengthIndex(lengthSec);
    for (const Row &r : kTable)
        if (i >= 0 && student == r.student)
            return Figure { r.byLength[i].kd / 100.0, r.byLength[i].vanilla / 100.0 };
    return std::nullopt;
}

std::vector<Claim> checkClaims(const GridTable &t)
{
    if (t.metric() != "accuracy" || t.lengths().empty() || t.students().empty())
        return {};
    return { everyStudentGains(t), gainGrowsWithLength(t), attentionStudentBeatsTeacher(t),
        kdRaisesAttentionMass(t) };
}

std::string markdown(const GridTable &t)
{
    const std::vector<Claim> claims = checkClaims(t);
    if (claims.empty())
        return {};
    std::ostringstream s;
    s << "\n### Beside the paper: ours, then Table 2's (Noisy Speech Commands v2), best KD "
         "(vanilla)\n\n| L | teacher |";
    for (const auto &st : t.students())
        s << " " << st << " |";
    s << "\n|---|---|";
    for (size_t i = 0; i < t.students().size(); ++i)
        s << "---|";
    s << "\n";
    for (double L : t.lengths()) {
        s << "| " << formatNumber(L) << " s | ";
        const auto teacher = std::find_if(t.teachers().begin(), t.teachers().end(),
            [L](const GridTable::Teacher &x) { return x.lengthSec == L; });
        s << (teacher == t.teachers().end() ? "-" : pct(teacher->metric)) << " / "
          << (teacherAccuracy(L) ? pct(*teacherAccuracy(L)) : "-") << " |";
        for (const auto &st : t.students()) {
            const Gain g = gainOf(t, st, L);
            const std::string ours = (g.kd && g.kd->count() ? pct(g.kd->mean) : "-") + " ("
                + (g.vanilla && g.vanilla->count() ? pct(g.vanilla->mean) : "-") + ")";
            const auto p = studentAccuracy(st, L);
            s << " " << ours << " / "
              << (p ? pct(p->kd) + " (" + pct(p->vanilla) + ")" : std::string("-")) << " |";
        }
        s << "\n";
    }
    s << "\n### The paper's claims on this grid\n\n| claim | verdict | evidence |\n|---|---|---|\n";
    for (const Claim &c : claims)
        s << "| " << c.statement << " | **" << c.verdict << "** | " << c.evidence << " |\n";
    return s.str();
}

nlohmann::json json(const GridTable &t)
{
    const std::vector<Claim> claims = checkClaims(t);
    if (claims.empty())
        return nullptr;
    nlohmann::json j;
    j["table2"] = nlohmann::json::array();
    for (double L : t.lengths()) {
        nlohmann::json row = { { "length_sec", L } };
        if (const auto a = teacherAccuracy(L))
            row["teacher"] = *a;
        for (const auto &st : t.students())
            if (const auto p = studentAccuracy(st, L))
                row["students"][st] = { { "kd", p->kd }, { "vanilla", p->vanilla } };
        j["table2"].push_back(row);
    }
    j["claims"] = nlohmann::json::array();
    for (const Claim &c : claims)
        j["claims"].push_back({ { "key", c.key }, { "statement", c.statement },
            { "verdict", c.verdict }, { "evidence", c.evidence } });
    return j;
}

} // namespace tkd::paper
