#include "core/infer/LiveModel.h"

#include "core/checkpoint/TrainedModels.h"
#include "core/data/Dataset.h"
#include "core/data/DatasetSource.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/infer/LiveModelImpl.h"
#include "core/models/ShippedModels.h"
#include "core/util/Error.h"
#include "core/util/Resources.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <regex>

namespace fs = std::filesystem;

namespace tkd {

namespace {

bool isRunDir(const fs::path &p)
{
    return fs::is_regular_file(p / "config.yaml") && fs::is_directory(p / "students");
}

// "tc-resnet8-L2-lambda0.25-seed1" -> student, L, lambda (Pipeline::cellName's layout).
void parseCellName(LiveCell &c)
{
    static const std::regex re(R"(^(.+)-L([0-9.]+)-lambda([0-9.eE+-]+)-seed([0-9]+)$)");
    std::smatch m;
    if (std::regex_match(c.name, m, re)) {
        c.student = m[1];
        c.lengthSec = std::stod(m[2]);
        c.lambda = std::stod(m[3]);
    } else {
        c.student = c.name;
    }
}

void addMetrics(const fs::path &runDir, std::vector<LiveCell> &cells)
{
    std::ifstream in(runDir / "metrics.json");
    if (!in)
        return;
    nlohmann::json j;
    try {
        in >> j;
        for (const auto &l : j.at("lengths"))
            for (const auto &c : l.at("cells")) {
                const std::string ck = c.value("checkpoint", std::string());
                const std::string name = fs::path(ck).parent_path().filename().string();
                for (auto &cell : cells)
                    if (cell.name == name && c.contains("test") && c["test"].contains("accuracy")
                        && c["test"]["accuracy"].is_number())
                        cell.testAccuracy = c["test"]["accuracy"].get<double>();
            }
    } catch (const std::exception &) {
        // metrics.json is a summary only: a run still being written has none worth reading
    }
}

std::string formatLength(double sec)
{
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", sec);
    return buf;
}

} // namespace

std::vector<LiveCell> listLiveCells(const std::string &runDir)
{
    const fs::path run(runDir);
    if (!fs::is_directory(run))
        throw Error(runDir, "no such folder");
    if (!isRunDir(run))
        throw Error(runDir,
            "is not a run folder (expected config.yaml and students/ written by tkd train)");
    std::vector<LiveCell> cells;
    for (const auto &e : fs::directory_iterator(run / "students")) {
        if (!e.is_directory())
            continue;
        LiveCell c;
        c.name = e.path().filename().string();
        if (fs::is_regular_file(e.path() / "best.safetensors"))
            c.checkpoint = (e.path() / "best.safetensors").string();
        else if (fs::is_regular_file(e.path() / "last.safetensors"))
            c.checkpoint = (e.path() / "last.safetensors").string();
        else
            continue;
        parseCellName(c);
        cells.push_back(c);
    }
    if (cells.empty())
        throw Error(runDir, "has no trained student yet (no students/*/best.safetensors)");
    std::sort(cells.begin(), cells.end(),
        [](const LiveCell &a, const LiveCell &b) { return a.name < b.name; });
    addMetrics(run, cells);
    return cells;
}

std::vector<std::string> runClassNames(const std::string &runDir, int64_t numClasses)
{
    std::vector<std::string> names;
    try {
        const ExperimentConfig config
            = ExperimentConfig::load((fs::path(runDir) / "config.yaml").string());
        const DatasetSource::Kind source = config.datasetSource().kind;
        if (DatasetSource::isKeywordTask(source)) {
            if (config.data.task == 12) {
                names = keywords10();
                names.push_back(kUnknownLabel);
                names.push_back(kSilenceLabel);
            } else {
                names = speechCommandsWords35();
            }
        } else if (source == DatasetSource::Kind::Folder && fs::is_directory(config.data.path)) {
            for (const auto &e : fs::directory_iterator(config.data.path))
                if (e.is_directory() && e.path().filename().string()[0] != '.')
                    names.push_back(e.path().filename().string());
            std::sort(names.begin(), names.end());
        } else {
            names = config.datasetSource().open().classes;
        }
    } catch (const std::exception &) {
        names.clear();
    }
    if (int64_t(names.size()) != numClasses) {
        names.clear();
        for (int64_t i = 0; i < numClasses; ++i)
            names.push_back("class " + std::to_string(i));
    }
    return names;
}

std::string shippedDemoStudent()
{
    try {
        return fs::path(findResource(std::string(kShippedDemoStudent) + "/config.yaml"))
            .parent_path()
            .string();
    } catch (const Error &) {
        return {};
    }
}

LiveModelInfo resolveLiveModel(const std::string &path)
{
    if (path.empty())
        throw Error("--model",
            "no model given (a run folder written by tkd train, or <run>/students/<cell>)");
    fs::path p(path);
    if (!fs::exists(p))
        throw Error(path, "no such file or folder");
    fs::path cellDir, runDir;
    std::string checkpoint;
    if (fs::is_regular_file(p)) {
        checkpoint = p.string();
        cellDir = p.parent_path();
        runDir = cellDir.parent_path().parent_path();
    } else if (isRunDir(p)) {
        runDir = p;
    } else if (p.parent_path().filename() == "students"
        && isRunDir(p.parent_path().parent_path())) {
        cellDir = p;
        runDir = p.parent_path().parent_path();
    } else {
        throw Error(path,
            "is neither a run folder (config.yaml + students/) nor a student folder "
            "<run>/students/<cell>");
    }
    if (!isRunDir(runDir))
        throw Error(
            path, "is not inside a run folder (no config.yaml and students/ two levels up)");

    LiveModelInfo info;
    info.runDir = runDir.string();
    const std::vector<LiveCell> cells = listLiveCells(info.runDir);
    if (cellDir.empty()) {
        // The best student by test accuracy; the first by name when no metrics say otherwise.
        info.cell = cells.front();
        for (const auto &c : cells)
            if (c.testAccuracy > info.cell.testAccuracy)
                info.cell = c;
    } else {
        const std::string name = cellDir.filename().string();
        auto it = std::find_if(
            cells.begin(), cells.end(), [&](const LiveCell &c) { return c.name == name; });
        if (it == cells.end())
            throw Error(
                cellDir.string(), "has no checkpoint (best.safetensors or last.safetensors)");
        info.cell = *it;
    }
    if (!checkpoint.empty())
        info.cell.checkpoint = checkpoint;

    const ExperimentConfig config = ExperimentConfig::load((runDir / "config.yaml").string());
    info.features = config.features;
    info.windowSec = info.cell.lengthSec > 0.0 ? info.cell.lengthSec : config.clipLengths().front();
    info.teacherKind = teacherKindName(config.teacher.kind);
    if (config.teacher.kind == TeacherKind::Oracle) {
        info.teacherNote
            = "the run used the oracle teacher (the keyword's true window), which has no "
              "model to run on live audio";
    } else {
        const fs::path t
            = runDir / ("teacher-L" + formatLength(info.windowSec)) / "best.safetensors";
        if (fs::is_regular_file(t)) {
            info.teacherCheckpoint = t.string();
        } else if (config.teacher.kind == TeacherKind::Pretrained
            && config.teacher.weights.empty()) {
            // A run folder pruned to its student (the shipped demo student): the shipped teacher.
            try {
                info.teacherCheckpoint = findResource(kShippedTeacherResource);
            } catch (const Error &e) {
                info.teacherNote = e.what();
            }
        } else {
            info.teacherNote = "no teacher checkpoint at " + t.string();
        }
    }
    return info;
}

LiveModel::LiveModel()
    : m_impl(std::make_unique<Impl>())
{ }
LiveModel::~LiveModel() = default;

std::shared_ptr<LiveModel> LiveModel::fromImpl(std::unique_ptr<Impl> impl)
{
    if (!impl || impl->student.isNull())
        throw Error("live.model", "no student");
    if (int64_t(impl->info.classes.size()) != impl->student.numClasses())
        throw Error("live.model", "class names do not match the student's outputs");
    std::shared_ptr<LiveModel> m(new LiveModel());
    m->m_impl = std::move(impl);
    m->m_impl->student.eval();
    if (!m->m_impl->teacher.is_empty())
        m->m_impl->teacher->eval();
    return m;
}

std::shared_ptr<LiveModel> LiveModel::load(const LiveModelInfo &info, bool loadTeacher)
{
    std::shared_ptr<LiveModel> m(new LiveModel());
    Impl &d = *m->m_impl;
    d.info = info;
    std::vector<std::string> stored; // an adapted student names its own classes
    d.student = TrainedModels::loadStudent(info.cell.checkpoint, &d.branch, &d.norm, &stored);
    d.student.eval();
    if (d.student.featureDim() != info.features.featureDim())
        throw Error(info.cell.checkpoint,
            "expects " + std::to_string(d.student.featureDim())
                + " features per frame but the run's config.yaml gives "
                + std::to_string(info.features.featureDim()));
    if (d.info.classes.empty())
        d.info.classes = int64_t(stored.size()) == d.student.numClasses()
            ? stored
            : runClassNames(info.runDir, d.student.numClasses());
    if (loadTeacher && !info.teacherCheckpoint.empty()) {
        d.teacher = TrainedModels::loadTeacher(info.teacherCheckpoint);
        d.teacherSpectral = d.teacher->config.frontEnd() != Wav2Vec2Config::FrontEnd::RawWaveform;
        try {
            d.rollout = ExperimentConfig::load(info.runDir + "/config.yaml").rolloutOptions();
        } catch (const std::exception &) {
            d.rollout = RolloutOptions();
        }
    } else if (!loadTeacher && !info.teacherCheckpoint.empty()) {
        d.info.teacherNote = "teacher not loaded (turned off)";
    }
    return m;
}

const LiveModelInfo &LiveModel::info() const
{
    return m_impl->info;
}
bool LiveModel::hasTeacher() const
{
    return !m_impl->teacher.is_empty();
}
int64_t LiveModel::numClasses() const
{
    return m_impl->student.numClasses();
}
int64_t LiveModel::parameterCount() const
{
    return m_impl->student.parameterCount();
}

std::string LiveModel::studentAttentionSource() const
{
    if (!m_impl->branch.is_empty())
        return "branch";
    if (m_impl->student.nativeHeads() > 0)
        return "native";
    return "";
}

} // namespace tkd
