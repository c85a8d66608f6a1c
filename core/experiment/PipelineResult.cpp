#include "core/experiment/PipelineResult.h"

#include "core/util/Error.h"
#include "core/util/Format.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>

namespace tkd {

namespace {
constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

nlohmann::json mapJson(const std::map<std::string, double> &m)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto &[k, v] : m)
        j[k] = std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(nullptr);
    return j;
}

std::map<std::string, double> jsonMap(const nlohmann::json &j)
{
    std::map<std::string, double> m;
    if (j.is_object())
        for (auto it = j.begin(); it != j.end(); ++it)
            m[it.key()] = it.value().is_number() ? it.value().get<double>() : kNaN;
    return m;
}

std::string percent(double v)
{
    if (!std::isfinite(v))
        return "-";
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f%%", 100.0 * v);
    return buf;
}

std::string fixed3(double v)
{
    return formatFixed(v, 3);
}

} // namespace

nlohmann::json PipelineResult::toJson() const
{
    nlohmann::json j;
    j["run_dir"] = runDir;
    j["cancelled"] = cancelled;
    j["lengths"] = nlohmann::json::array();
    for (const auto &l : lengths) {
        nlohmann::json lj;
        lj["length_sec"] = l.lengthSec;
        lj["clips"] = { { "train", l.trainClips }, { "validation", l.validationClips },
            { "test", l.testClips } };
        lj["teacher"] = { { "kind", l.teacherKind }, { "validation", mapJson(l.teacherValidation) },
            { "test", mapJson(l.teacherTest) }, { "warnings", l.warnings },
            { "checkpoint", l.teacherCheckpoint }, { "hash", l.teacherHash },
            { "seconds", l.teacherSeconds } };
        lj["data_hash"] = l.dataHash;
        lj["cache"] = { { "hit", l.cacheHit }, { "path", l.cachePath } };
        lj["cells"] = nlohmann::json::array();
        for (const auto &c : l.cells)
            lj["cells"].push_back(
                { { "student", c.student }, { "lambda", c.lambda }, { "length_sec", c.lengthSec },
                    { "seed", c.seed }, { "status", c.status }, { "message", c.message },
                    { "validation", mapJson(c.validation) }, { "test", mapJson(c.test) },
                    { "best_epoch", c.bestEpoch }, { "epochs_run", c.epochsRun },
                    { "train_seconds_per_epoch", c.trainSecondsPerEpoch },
                    { "wall_seconds", c.wallSeconds }, { "checkpoint", c.checkpoint } });
        j["lengths"].push_back(lj);
    }
    return j;
}

PipelineResult PipelineResult::fromJson(const nlohmann::json &j)
{
    PipelineResult r;
    try {
        r.runDir = j.value("run_dir", "");
        r.cancelled = j.value("cancelled", false);
        for (const auto &lj : j.at("lengths")) {
            LengthResult l;
            l.lengthSec = lj.at("length_sec").get<double>();
            if (lj.contains("clips")) {
                l.trainClips = lj["clips"].value("train", 0);
                l.validationClips = lj["clips"].value("validation", 0);
                l.testClips = lj["clips"].value("test", 0);
            }
            const auto &t = lj.at("teacher");
            l.teacherKind = t.value("kind", "");
            l.teacherValidation = jsonMap(t.value("validation", nlohmann::json::object()));
            l.teacherTest = jsonMap(t.value("test", nlohmann::json::object()));
            l.warnings = t.value("warnings", std::vector<std::string> {});
            l.teacherCheckpoint = t.value("checkpoint", "");
            l.teacherHash = t.value("hash", "");
            l.teacherSeconds = t.value("seconds", 0.0);
            l.dataHash = lj.value("data_hash", "");
            for (const auto &cj : lj.at("cells")) {
                CellResult c;
                c.student = cj.at("student").get<std::string>();
                c.lambda = cj.at("lambda").get<double>();
                c.lengthSec = cj.value("length_sec", l.lengthSec);
                c.seed = cj.value("seed", uint64_t(1));
                c.status = cj.value("status", "");
                c.message = cj.value("message", "");
                c.validation = jsonMap(cj.value("validation", nlohmann::json::object()));
                c.test = jsonMap(cj.value("test", nlohmann::json::object()));
                c.bestEpoch = cj.value("best_epoch", int64_t(0));
                c.epochsRun = cj.value("epochs_run", int64_t(0));
                c.trainSecondsPerEpoch = cj.value("train_seconds_per_epoch", 0.0);
                c.wallSeconds = cj.value("wall_seconds", 0.0);
                c.checkpoint = cj.value("checkpoint", "");
                c.runDir = r.runDir;
                l.cells.push_back(c);
            }
            r.lengths.push_back(l);
        }
    } catch (const nlohmann::json::exception &e) {
        throw Error("metrics.json", std::string("is not a pipeline result: ") + e.what());
    }
    return r;
}

std::string PipelineResult::table() const
{
    std::ostringstream s;
    for (const auto &l : lengths) {
        char head[256];
        std::snprintf(head, sizeof head,
            "L = %g s (train %lld, validation %lld, test %lld clips)\n", l.lengthSec,
            (long long)l.trainClips, (long long)l.validationClips, (long long)l.testClips);
        s << head;
        char row[512];
        std::snprintf(row, sizeof row, "  %-24s %7s %6s %9s %9s %13s %13s %9s %9s\n", "model",
            "lambda", "seed", "val acc", "test acc", "loc (branch)", "loc (native)", "uniform",
            "s/epoch");
        s << row;
        std::snprintf(row, sizeof row, "  %-24s %7s %6s %9s %9s %13s %13s %9s %9s\n",
            ("teacher " + l.teacherKind + (l.teacherKind == "oracle" ? " (upper bound)" : ""))
                .c_str(),
            "-", "-", percent(metric(l.teacherValidation, "accuracy")).c_str(),
            percent(metric(l.teacherTest, "accuracy")).c_str(),
            fixed3(metric(l.teacherTest, "localisation")).c_str(), "-",
            fixed3(metric(l.teacherTest, "localisation_baseline")).c_str(), "-");
        s << row;
        for (const auto &c : l.cells) {
            char perEpoch[32];
            std::snprintf(perEpoch, sizeof perEpoch, "%.2f", c.trainSecondsPerEpoch);
            std::snprintf(row, sizeof row, "  %-24s %7s %6llu %9s %9s %13s %13s %9s %9s%s\n",
                c.student.c_str(), formatNumber(c.lambda).c_str(), (unsigned long long)c.seed,
                percent(metric(c.validation, "accuracy")).c_str(),
                percent(metric(c.test, "accuracy")).c_str(),
                fixed3(metric(c.test, "localisation_branch")).c_str(),
                fixed3(metric(c.test, "localisation_native")).c_str(),
                fixed3(metric(c.test, "localisation_baseline")).c_str(), perEpoch,
                c.status == "completed" || c.status == "early-stopped"
                    ? ""
                    : ("  [" + c.status + "]").c_str());
            s << row;
        }
        for (const auto &w : l.warnings)
            s << "  warning: " << w << "\n";
    }
    return s.str();
}

std::string PipelineResult::cellName(
    const std::string &student, double lengthSec, double lambda, uint64_t seed)
{
    return student + "-L" + formatNumber(lengthSec) + "-lambda" + formatNumber(lambda) + "-seed"
        + std::to_string(seed);
}

double PipelineResult::metric(const std::map<std::string, double> &m, const std::string &key)
{
    const auto it = m.find(key);
    return it == m.end() ? std::numeric_limits<double>::quiet_NaN() : it->second;
}

PipelineResult PipelineResult::read(const std::string &dir)
{
    const std::string path = dir + "/metrics.json";
    nlohmann::json j;
    try {
        j = nlohmann::json::parse(readFile(path));
    } catch (const nlohmann::json::exception &e) {
        throw Error(path, std::string("is not valid JSON: ") + e.what());
    }
    PipelineResult r = fromJson(j);
    r.runDir = dir; // the folder may have moved since it was written
    for (auto &l : r.lengths)
        for (auto &c : l.cells)
            c.runDir = dir;
    return r;
}

} // namespace tkd
