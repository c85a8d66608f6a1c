#include "core/experiment/PipelineResult.h"

#include "core/models/TeacherKind.h"
#include "core/util/Error.h"
#include "core/util/Format.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <cstdio>
#include <limits>
#include <sstream>
#include <type_traits>

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
    j["status"] = statusName(status);
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
        if (!l.unseenVoices.empty())
            lj["unseen_voices"] = l.unseenVoices;
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

namespace {

// Typed reads of metrics.json that name the key at fault ("lengths[0].cells[2].lambda must be a
// number, got a string"), where nlohmann's own errors say only "type must be number".
class JsonReader
{
public:
    using Json = nlohmann::json;

    template <class T> T get(const Json &obj, const std::string &where, const char *key) const
    {
        const auto it = obj.find(key);
        if (it == obj.end())
            fail(where + key, "is missing");
        return as<T>(*it, where + key);
    }
    template <class T>
    T value(const Json &obj, const std::string &where, const char *key, T fallback) const
    {
        const auto it = obj.find(key);
        return it == obj.end() || it->is_null() ? fallback : as<T>(*it, where + key);
    }
    const Json &object(const Json &obj, const std::string &where, const char *key) const
    {
        static const Json empty = Json::object();
        const auto it = obj.find(key);
        if (it == obj.end() || it->is_null())
            return empty;
        if (!it->is_object())
            fail(where + key, std::string("must be an object, got ") + it->type_name());
        return *it;
    }
    const Json &array(const Json &obj, const std::string &where, const char *key) const
    {
        const auto it = obj.find(key);
        if (it == obj.end())
            fail(where + key, "is missing");
        if (!it->is_array())
            fail(where + key, std::string("must be a list, got ") + it->type_name());
        return *it;
    }
    [[noreturn]] static void fail(const std::string &key, const std::string &why)
    {
        throw Error("metrics.json", "'" + key + "' " + why);
    }

private:
    template <class T> static T as(const Json &v, const std::string &key)
    {
        if constexpr (std::is_same_v<T, bool>) {
            if (!v.is_boolean())
                fail(key, std::string("must be true or false, got ") + v.type_name());
        } else if constexpr (std::is_same_v<T, std::string>) {
            if (!v.is_string())
                fail(key, std::string("must be a string, got ") + v.type_name());
        } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
            if (!v.is_array())
                fail(key, std::string("must be a list of strings, got ") + v.type_name());
            for (const auto &e : v)
                if (!e.is_string())
                    fail(key, "must be a list of strings");
        } else if constexpr (std::is_unsigned_v<T>) {
            if (!v.is_number_unsigned())
                fail(key, std::string("must be a whole number >= 0, got ") + v.type_name());
        } else if constexpr (std::is_integral_v<T>) {
            if (!v.is_number_integer())
                fail(key, std::string("must be a whole number, got ") + v.type_name());
        } else if (!v.is_number()) {
            fail(key, std::string("must be a number, got ") + v.type_name());
        }
        return v.get<T>();
    }
};

} // namespace

PipelineResult PipelineResult::fromJson(const nlohmann::json &j)
{
    const JsonReader r;
    if (!j.is_object())
        JsonReader::fail("", std::string("must hold an object, got ") + j.type_name());
    PipelineResult out;
    out.runDir = r.value<std::string>(j, "", "run_dir", "");
    out.cancelled = r.value<bool>(j, "", "cancelled", false);
    out.status = out.cancelled ? Status::Cancelled : Status::Finished;
    if (j.contains("status")) {
        const std::string name = r.get<std::string>(j, "", "status");
        bool known = false;
        for (Status st : { Status::Running, Status::Finished, Status::Incomplete, Status::Cancelled,
                 Status::Failed })
            if (name == statusName(st)) {
                out.status = st;
                known = true;
            }
        if (!known)
            JsonReader::fail("status", "'" + name + "' is not a run status");
    }
    const auto &lengths = r.array(j, "", "lengths");
    for (size_t li = 0; li < lengths.size(); ++li) {
        const auto &lj = lengths[li];
        const std::string at = "lengths[" + std::to_string(li) + "].";
        if (!lj.is_object())
            JsonReader::fail(at.substr(0, at.size() - 1), "must be an object");
        LengthResult l;
        l.lengthSec = r.get<double>(lj, at, "length_sec");
        const auto &clips = r.object(lj, at, "clips");
        l.trainClips = r.value<int64_t>(clips, at + "clips.", "train", 0);
        l.validationClips = r.value<int64_t>(clips, at + "clips.", "validation", 0);
        l.testClips = r.value<int64_t>(clips, at + "clips.", "test", 0);
        const auto &t = r.object(lj, at, "teacher");
        const std::string tat = at + "teacher.";
        l.teacherKind = r.value<std::string>(t, tat, "kind", "");
        l.teacherValidation = jsonMap(r.object(t, tat, "validation"));
        l.teacherTest = jsonMap(r.object(t, tat, "test"));
        l.warnings = r.value<std::vector<std::string>>(t, tat, "warnings", {});
        l.teacherCheckpoint = r.value<std::string>(t, tat, "checkpoint", "");
        l.teacherHash = r.value<std::string>(t, tat, "hash", "");
        l.teacherSeconds = r.value<double>(t, tat, "seconds", 0.0);
        l.dataHash = r.value<std::string>(lj, at, "data_hash", "");
        l.unseenVoices = r.value<std::string>(lj, at, "unseen_voices", "");
        const auto &cells = r.array(lj, at, "cells");
        for (size_t ci = 0; ci < cells.size(); ++ci) {
            const auto &cj = cells[ci];
            const std::string cat = at + "cells[" + std::to_string(ci) + "].";
            if (!cj.is_object())
                JsonReader::fail(cat.substr(0, cat.size() - 1), "must be an object");
            CellResult c;
            c.student = r.get<std::string>(cj, cat, "student");
            c.lambda = r.get<double>(cj, cat, "lambda");
            c.lengthSec = r.value<double>(cj, cat, "length_sec", l.lengthSec);
            c.seed = r.value<uint64_t>(cj, cat, "seed", 1);
            c.status = r.value<std::string>(cj, cat, "status", "");
            c.message = r.value<std::string>(cj, cat, "message", "");
            c.validation = jsonMap(r.object(cj, cat, "validation"));
            c.test = jsonMap(r.object(cj, cat, "test"));
            c.bestEpoch = r.value<int64_t>(cj, cat, "best_epoch", 0);
            c.epochsRun = r.value<int64_t>(cj, cat, "epochs_run", 0);
            c.trainSecondsPerEpoch = r.value<double>(cj, cat, "train_seconds_per_epoch", 0.0);
            c.wallSeconds = r.value<double>(cj, cat, "wall_seconds", 0.0);
            c.checkpoint = r.value<std::string>(cj, cat, "checkpoint", "");
            c.runDir = out.runDir;
            l.cells.push_back(c);
        }
        out.lengths.push_back(l);
    }
    return out;
}

const char *PipelineResult::statusName(Status s)
{
    switch (s) {
    case Status::Running:
        return "running";
    case Status::Finished:
        return "finished";
    case Status::Incomplete:
        return "incomplete";
    case Status::Cancelled:
        return "cancelled";
    case Status::Failed:
        return "failed";
    }
    return "?";
}

std::vector<const CellResult *> PipelineResult::failedCells() const
{
    std::vector<const CellResult *> out;
    for (const auto &l : lengths)
        for (const auto &c : l.cells)
            if (c.status == "failed")
                out.push_back(&c);
    return out;
}

std::string PipelineResult::failureSummary() const
{
    std::string s;
    for (const CellResult *c : failedCells())
        s += cellName(c->student, c->lengthSec, c->lambda, c->seed) + ": "
            + (c->message.empty() ? std::string("no reason recorded") : c->message) + "\n";
    return s;
}

std::string PipelineResult::incompleteMark(bool stillRunning) const
{
    const size_t failed = failedCells().size();
    const std::string cells = failed
        ? ", " + std::to_string(failed) + " failed cell" + (failed == 1 ? "" : "s")
        : std::string();
    switch (status) {
    case Status::Running:
        return stillRunning
            ? "[still running]"
            : "[incomplete: the run stopped before it finished (killed?)" + cells + "]";
    case Status::Cancelled:
        return "[cancelled" + cells + "]";
    case Status::Failed:
        return "[incomplete: stopped by an error" + cells + "]";
    case Status::Incomplete:
    case Status::Finished:
        return failed ? "[incomplete:" + cells.substr(1) + "]" : "";
    }
    return "";
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
            ("teacher " + l.teacherKind
                + (l.teacherKind == teacherKindName(TeacherKind::Oracle) ? " (upper bound)" : ""))
                .c_str(),
            "-", "-", formatPercent(metric(l.teacherValidation, "accuracy")).c_str(),
            formatPercent(metric(l.teacherTest, "accuracy")).c_str(),
            fixed3(metric(l.teacherTest, "localisation")).c_str(), "-",
            fixed3(metric(l.teacherTest, "localisation_baseline")).c_str(), "-");
        s << row;
        for (const auto &c : l.cells) {
            char perEpoch[32];
            std::snprintf(perEpoch, sizeof perEpoch, "%.2f", c.trainSecondsPerEpoch);
            std::snprintf(row, sizeof row, "  %-24s %7s %6llu %9s %9s %13s %13s %9s %9s%s\n",
                c.student.c_str(), formatNumber(c.lambda).c_str(), (unsigned long long)c.seed,
                formatPercent(metric(c.validation, "accuracy")).c_str(),
                formatPercent(metric(c.test, "accuracy")).c_str(),
                fixed3(metric(c.test, "localisation_branch")).c_str(),
                fixed3(metric(c.test, "localisation_native")).c_str(),
                fixed3(metric(c.test, "localisation_baseline")).c_str(), perEpoch,
                c.status == "completed" || c.status == "early-stopped"
                    ? ""
                    : ("  [" + c.status + "]").c_str());
            s << row;
        }
        if (!l.unseenVoices.empty()) {
            s << "  unseen voices (" << l.unseenVoices << ", a voice family the corpus left out):";
            for (const auto &c : l.cells)
                s << "  " << c.student << " lambda " << formatNumber(c.lambda) << " "
                  << formatPercent(metric(c.test, "unseen_voices_accuracy"));
            s << "\n";
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
