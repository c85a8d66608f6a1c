#include "core/train/GridFolder.h"

#include "core/train/RunDirectory.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>

namespace fs = std::filesystem;

namespace tkd {

namespace {

bool hasResults(const std::string &dir)
{
    return fs::is_regular_file(fs::path(dir) / "metrics.json");
}

// shard-K.log files of dir, by K.
std::vector<std::pair<int, std::string>> shardLogs(const std::string &dir)
{
    static const std::regex name(R"(shard-(\d+)\.log)");
    std::vector<std::pair<int, std::string>> logs;
    std::error_code ec;
    for (const auto &e : fs::directory_iterator(dir, ec)) {
        std::smatch m;
        const std::string file = e.path().filename().string();
        if (std::regex_match(file, m, name))
            logs.emplace_back(std::stoi(m[1]), e.path().string());
    }
    std::sort(logs.begin(), logs.end());
    return logs;
}

void addOnce(std::vector<std::string> &runs, const fs::path &dir)
{
    std::string d = dir.lexically_normal().string(); // "grid/." -> "grid/": drop the slash
    if (d.size() > 1 && d.back() == '/')
        d.pop_back();
    if (std::find(runs.begin(), runs.end(), d) == runs.end())
        runs.push_back(d);
}

} // namespace

bool isGridFolder(const std::string &dir)
{
    return fs::is_regular_file(fs::path(dir) / "grid.json")
        || fs::is_regular_file(fs::path(dir) / "slurm.json") || !shardLogs(dir).empty();
}

std::string announcedRunFolder(const std::string &logPath)
{
    std::ifstream in(logPath);
    std::string line;
    const std::string key = "run folder ";
    while (std::getline(in, line)) {
        const auto at = line.find(key);
        if (at != std::string::npos)
            return line.substr(at + key.size());
    }
    return {};
}

std::vector<GridShard> gridShards(const std::string &dir)
{
    std::vector<GridShard> shards;
    const fs::path grid(dir);
    for (const auto &[k, log] : shardLogs(dir)) {
        GridShard s { k, log, announcedRunFolder(log) };
        if (!s.runDir.empty()) {
            // A shard's run is a sibling of the grid folder (same config, same runs_dir); the log
            // may name it relative to the shard's own working directory, so look there first.
            const fs::path sibling = grid.parent_path() / fs::path(s.runDir).filename();
            if (fs::is_directory(sibling))
                s.runDir = sibling.string();
        }
        shards.push_back(s);
    }
    return shards;
}

GridFolderRuns gridFolderRuns(const std::string &dir)
{
    GridFolderRuns out;
    const fs::path grid(dir);
    const fs::path table = grid / "grid.json";
    if (fs::is_regular_file(table)) {
        try {
            const nlohmann::json j = nlohmann::json::parse(readFile(table.string()));
            for (const auto &r : j.at("run_dirs")) {
                // Relative to the grid folder (how GridTable::write stores them).
                const fs::path p(r.get<std::string>());
                addOnce(out.runs, p.is_absolute() ? p : grid / p);
            }
        } catch (const nlohmann::json::exception &e) {
            throw Error(table.string(), std::string("is not a grid table: ") + e.what());
        }
    }
    if (hasResults(dir))
        addOnce(out.runs, grid);
    else if (fs::is_regular_file(grid / "slurm.json"))
        out.pending.push_back("no teachers yet: the teacher job has not finished (see "
            + (grid / "slurm-teacher.log").string() + ")");
    for (const GridShard &shard : gridShards(dir)) {
        const std::string shown = fs::path(shard.log).filename().string();
        if (shard.runDir.empty()) {
            out.pending.push_back(shown + ": no run folder yet (not started, or failed early)");
            continue;
        }
        const fs::path run(shard.runDir);
        if (fs::is_directory(run))
            addOnce(out.started, run);
        if (!hasResults(run.string())) {
            out.pending.push_back(shown + ": " + run.string() + " has no results yet");
            continue;
        }
        if (RunDirectory::inUse(run.string()))
            out.pending.push_back(
                shown + ": " + run.string() + " is still running (its finished cells count)");
        addOnce(out.runs, run);
    }
    return out;
}

} // namespace tkd
