// `tkd analyse RUN`: one clip of a run's noisy dataset through its teacher and students - the
// studio's attention view as text or JSON (core/infer/ClipAnalysis does the work for both).
#include "Cli.h"

#include "core/infer/ClipAnalysis.h"
#include "core/util/Error.h"
#include "core/util/Format.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <iostream>

namespace {

struct AnalyseOptions
{
    std::string run;
    double length = 0.0; // 0: the run's first length
    std::string split = "test";
    int64_t clip = 0;
    uint64_t seed = 0;
    bool json = false;
};

std::string score(double v)
{
    return tkd::formatFixed(v, 3);
}

double peakSec(const tkd::ClipAttentionCurve &c)
{
    if (c.weights.empty())
        return -1.0;
    const auto at = std::max_element(c.weights.begin(), c.weights.end()) - c.weights.begin();
    return c.timesSec[size_t(at)];
}

void printTable(const tkd::ClipAnalysisResult &r)
{
    std::printf("clip:      %s\n", r.title.c_str());
    std::string labels;
    for (const auto &l : r.labels)
        labels += (labels.empty() ? "" : ",") + l;
    std::printf("label:     %s\n", labels.c_str());
    if (r.onsetSec >= 0)
        std::printf("keyword:   %.2f - %.2f s of %.2f s (uniform attention scores %s)\n",
            r.onsetSec, r.offsetSec, r.clipSec, score(r.baseline).c_str());
    else
        std::printf("keyword:   none in this %.2f s clip\n", r.clipSec);
    std::printf("\n  %-16s %-8s %7s %5s %13s %9s  %s\n", "model", "kind", "lambda", "seed",
        "localisation", "peak (s)", "prediction");
    for (const auto &c : r.curves) {
        const bool teacher = c.model == "teacher";
        char lambda[32] = "-", seed[32] = "-", peak[32] = "-";
        if (!teacher) {
            std::snprintf(lambda, sizeof lambda, "%g", c.lambda);
            std::snprintf(seed, sizeof seed, "%llu", (unsigned long long)c.seed);
        }
        if (peakSec(c) >= 0)
            std::snprintf(peak, sizeof peak, "%.2f", peakSec(c));
        std::string prediction = c.prediction;
        if (!prediction.empty()) {
            char conf[32];
            std::snprintf(conf, sizeof conf, " (%.2f)", c.confidence);
            prediction += conf;
        }
        std::printf("  %-16s %-8s %7s %5s %13s %9s  %s\n",
            (teacher ? "teacher " + c.teacherKind : c.model).c_str(), c.kind.c_str(), lambda, seed,
            score(c.score).c_str(), peak, prediction.c_str());
    }
}

int runAnalyse(const AnalyseOptions &o)
{
    tkd::ClipAnalysis analysis(o.run);
    const std::vector<double> lengths = analysis.lengths();
    if (lengths.empty())
        throw tkd::Error(o.run + "/metrics.json", "has no finished clip length yet");
    double length = lengths.front();
    if (o.length > 0) {
        const auto it = std::find_if(lengths.begin(), lengths.end(),
            [&](double l) { return std::abs(l - o.length) < 1e-9; });
        if (it == lengths.end())
            throw tkd::Error(
                "--length", "the run has no results for L = " + std::to_string(o.length) + " s");
        length = *it;
    }
    const tkd::ClipAnalysisResult r
        = analysis.analyse(length, tkd::splitFromName(o.split), o.clip, o.seed);
    if (o.json)
        std::cout << r.toJson().dump(2) << "\n";
    else
        printTable(r);
    return 0;
}

const tkd::cli::Registrar reg("analyse",
    "one clip through a run's teacher and students: attention and localisation",
    "Rebuilds clip N of a split of the run's noisy dataset (exactly the one it trained on), runs "
    "the run's "
    "teacher (rollout, or the oracle window) and every student of that length and seed (attention "
    "branch, "
    "native attention), and prints each curve's localisation score - the mass inside the keyword's "
    "true "
    "window - with its peak and the model's prediction. What the studio's attention view shows.",
    [](CLI::App &app) {
        auto o = std::make_shared<AnalyseOptions>();
        app.add_option("run", o->run, "run folder written by tkd train")->required();
        app.add_option("--length", o->length, "clip length L in seconds (default: the run's first)")
            ->check(CLI::NonNegativeNumber);
        app.add_option("--split", o->split, "train | validation | test")
            ->capture_default_str()
            ->check(CLI::IsMember({ "train", "validation", "test" }));
        app.add_option("--clip", o->clip, "clip index within the split")
            ->capture_default_str()
            ->check(CLI::NonNegativeNumber);
        app.add_option("--seed", o->seed, "students trained with this seed (0: the run's first)")
            ->capture_default_str();
        app.add_flag("--json", o->json,
            "print JSON (curves with weights and frame times) instead of a table");
        return [o] { return runAnalyse(*o); };
    });

} // namespace
