// DatasetEvaluation as a file (RUN/eval/<slug>.json) and as the text table `tkd eval --data`
// prints.
#include "core/infer/DatasetEvaluation.h"

#include "core/util/Error.h"
#include "core/util/Format.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <filesystem>

namespace tkd {

namespace {

std::string pad(const std::string &s, size_t w, bool right = false)
{
    if (s.size() >= w)
        return s;
    return right ? std::string(w - s.size(), ' ') + s : s + std::string(w - s.size(), ' ');
}

// Rows: true classes with clips. Columns: those and every class predicted at least once, so a
// 35-class run's matrix stays readable when the data has a handful of classes.
std::string matrixText(const ModelEvaluation &m, const std::vector<std::string> &classes)
{
    const size_t k = classes.size();
    std::vector<size_t> rows, cols;
    for (size_t i = 0; i < k; ++i) {
        int64_t row = 0, col = 0;
        for (size_t j = 0; j < k; ++j) {
            row += m.confusion[i][j];
            col += m.confusion[j][i];
        }
        if (row > 0)
            rows.push_back(i);
        if (row > 0 || col > 0)
            cols.push_back(i);
    }
    size_t first = 12, w = 6;
    for (size_t i : cols) {
        first = std::max(first, classes[i].size() + 2);
        w = std::max(w, classes[i].size() + 1);
    }
    std::string out = "  " + pad("true \\ predicted", first);
    for (size_t j : cols)
        out += pad(classes[j], w, true);
    out += pad("recall", 9, true) + "\n";
    for (size_t i : rows) {
        out += "  " + pad(classes[i], first);
        for (size_t j : cols)
            out += pad(std::to_string(m.confusion[i][j]), w, true);
        out += pad(formatPercent(m.recall(i)), 9, true) + "\n";
    }
    return out;
}

} // namespace

nlohmann::json DatasetEvaluation::toJson() const
{
    using nlohmann::json;
    json j = { { "run", runDir }, { "data", data }, { "slug", slug }, { "dataset", datasetName },
        { "split", split }, { "placement", placement }, { "snr_db", snrDb }, { "classes", classes },
        { "clips", clips }, { "skipped", skipped }, { "notes", notes } };
    j["mapping"] = json::array();
    for (const auto &m : mapping)
        j["mapping"].push_back({ { "dataset_class", m.datasetClass },
            { "run_class", m.runClass.empty() ? json(nullptr) : json(m.runClass) },
            { "clips", m.clips } });
    j["models"] = json::array();
    for (const auto &m : models) {
        json recall = json::object();
        for (size_t k = 0; k < classes.size(); ++k)
            recall[classes[k]] = std::isfinite(m.recall(k)) ? json(m.recall(k)) : json(nullptr);
        j["models"].push_back({ { "name", m.name }, { "kind", m.kind }, { "student", m.student },
            { "length_sec", m.lengthSec }, { "lambda", m.lambda }, { "clips", m.clips },
            { "correct", m.correct }, { "accuracy", m.accuracy() }, { "recall", recall },
            { "confusion", m.confusion } });
    }
    return j;
}

DatasetEvaluation DatasetEvaluation::fromJson(const nlohmann::json &j)
{
    DatasetEvaluation r;
    try {
        r.runDir = j.at("run").get<std::string>();
        r.data = j.at("data").get<std::string>();
        r.slug = j.value("slug", std::string());
        r.datasetName = j.value("dataset", std::string());
        r.split = j.at("split").get<std::string>();
        r.placement = j.value("placement", std::string());
        r.snrDb = j.value("snr_db", 0.0);
        r.classes = j.at("classes").get<std::vector<std::string>>();
        r.clips = j.at("clips").get<int64_t>();
        r.skipped = j.value("skipped", int64_t(0));
        r.notes = j.value("notes", std::vector<std::string>());
        for (const auto &m : j.at("mapping"))
            r.mapping.push_back({ m.at("dataset_class").get<std::string>(),
                m.at("run_class").is_null() ? std::string() : m["run_class"].get<std::string>(),
                m.at("clips").get<int64_t>() });
        for (const auto &m : j.at("models")) {
            ModelEvaluation e;
            e.name = m.at("name").get<std::string>();
            e.kind = m.at("kind").get<std::string>();
            e.student = m.value("student", std::string());
            e.lengthSec = m.at("length_sec").get<double>();
            e.lambda = m.value("lambda", -1.0);
            e.clips = m.at("clips").get<int64_t>();
            e.correct = m.at("correct").get<int64_t>();
            e.confusion = m.at("confusion").get<std::vector<std::vector<int64_t>>>();
            if (e.confusion.size() != r.classes.size())
                throw Error("eval", e.name + ": the confusion matrix does not match the classes");
            for (const auto &row : e.confusion)
                if (row.size() != r.classes.size())
                    throw Error("eval", e.name + ": a confusion matrix row has the wrong length");
            r.models.push_back(std::move(e));
        }
    } catch (const nlohmann::json::exception &e) {
        throw Error("eval", std::string("not an evaluation file: ") + e.what());
    }
    return r;
}

std::string DatasetEvaluation::table() const
{
    std::string out = "run: " + runDir + "\ndata: " + data + " (" + datasetName + ", split " + split
        + ")\nplacement: " + placement + "\nclasses:";
    for (const auto &m : mapping)
        out += " " + m.datasetClass + (m.runClass.empty() ? " -> skipped" : "")
            + (m.runClass.empty() || m.runClass == m.datasetClass ? "" : " -> " + m.runClass) + " ("
            + std::to_string(m.clips) + ")";
    out += "\nscored: " + std::to_string(clips) + " clips";
    if (skipped > 0)
        out += "; skipped " + std::to_string(skipped)
            + " clips of classes the run does not know (it has no " + kUnknownLabel + ")";
    out += "\n";
    for (const auto &n : notes)
        out += "note: " + n + "\n";
    size_t w = 8;
    for (const auto &m : models)
        w = std::max(w, m.name.size() + 2);
    out += "\n" + pad("model", w) + pad("L (s)", 7, true) + pad("clips", 8, true)
        + pad("correct", 9, true) + pad("accuracy", 10, true) + "\n";
    for (const auto &m : models)
        out += pad(m.name, w) + pad(formatNumber(m.lengthSec), 7, true)
            + pad(std::to_string(m.clips), 8, true) + pad(std::to_string(m.correct), 9, true)
            + pad(formatPercent(m.accuracy()), 10, true) + "\n";
    for (const auto &m : models)
        out += "\n" + m.name + ": accuracy " + formatPercent(m.accuracy()) + " ("
            + std::to_string(m.correct) + "/" + std::to_string(m.clips) + ")\n"
            + matrixText(m, classes);
    return out;
}

std::string DatasetEvaluation::save() const
{
    const std::string name = slug + "-" + split + ".json", text = toJson().dump(2) + "\n";
    try {
        makeDirs(runDir + "/eval");
        writeFileAtomic(runDir + "/eval/" + name, text);
        return runDir + "/eval/" + name;
    } catch (const Error &) {
        // Not writable here: the user's cache, under the run folder's own name.
        std::string run = std::filesystem::path(runDir).lexically_normal().string();
        while (run.size() > 1 && run.back() == '/')
            run.pop_back();
        const std::string dir
            = cacheRoot() + "/eval/" + std::filesystem::path(run).filename().string();
        makeDirs(dir);
        writeFileAtomic(dir + "/" + name, text);
        return dir + "/" + name;
    }
}

} // namespace tkd
