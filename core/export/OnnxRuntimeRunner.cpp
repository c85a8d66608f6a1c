#include "core/export/OnnxRuntimeRunner.h"

#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <random>
#include <sys/wait.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace tkd {

namespace {

std::string shellQuote(const std::string &s)
{
    std::string out = "'";
    for (char c : s)
        out += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return out + "'";
}

// Runs a shell command; returns its exit status and combined output.
int runCommand(const std::string &command, std::string *output)
{
    FILE *p = ::popen((command + " 2>&1").c_str(), "r");
    if (!p)
        return -1;
    char buf[4096];
    size_t n;
    while ((n = std::fread(buf, 1, sizeof buf, p)) > 0)
        output->append(buf, n);
    const int status = ::pclose(p);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string freshDir()
{
    static std::atomic<int> counter { 0 };
    const fs::path dir = fs::temp_directory_path()
        / ("tkd-ort-" + std::to_string(::getpid()) + "-" + std::to_string(counter++));
    fs::create_directories(dir);
    return dir.string();
}

} // namespace

std::string OnnxRuntimeRunner::scriptPath()
{
    if (const char *env = std::getenv("TKD_ORT_RUN_SCRIPT"); env && *env)
        return env;
    return std::string(TKD_TOOLS_SOURCE_DIR) + "/scripts/ort-run.js";
}

std::string OnnxRuntimeRunner::unavailableReason()
{
    std::string out;
    if (runCommand("node --version", &out) != 0)
        return "node is not installed (scripts/install-deps.sh installs nodejs)";
    if (!fs::exists(scriptPath()))
        return scriptPath() + " is missing";
    const fs::path moduleDir = fs::path(scriptPath()).parent_path().parent_path() / ".cache"
        / "onnxruntime-node" / "node_modules" / "onnxruntime-node";
    const char *env = std::getenv("TKD_ORT_NODE_MODULES");
    if (!fs::exists(moduleDir) && !(env && fs::exists(fs::path(env) / "onnxruntime-node")))
        return "npm onnxruntime-node is not installed in " + moduleDir.parent_path().string()
            + " (scripts/install-deps.sh installs it)";
    return {};
}

OnnxRuntimeRunner::Result OnnxRuntimeRunner::run(
    const std::string &model, const std::map<std::string, Tensor> &inputs, int threads, int repeats)
{
    const std::string dir = freshDir();
    nlohmann::json request = { { "model", fs::absolute(model).string() },
        { "outDir", dir + "/out" }, { "threads", threads }, { "repeats", repeats },
        { "inputs", nlohmann::json::object() } };
    for (const auto &[name, t] : inputs) {
        const std::string file = dir + "/" + name + ".f32";
        writeFileAtomic(file,
            std::string(
                reinterpret_cast<const char *>(t.data.data()), t.data.size() * sizeof(float)));
        request["inputs"][name] = { { "dims", t.dims }, { "file", file } };
    }
    writeFileAtomic(dir + "/request.json", request.dump());
    std::string log;
    const int rc = runCommand(
        "node " + shellQuote(scriptPath()) + " " + shellQuote(dir + "/request.json"), &log);
    if (rc != 0) {
        fs::remove_all(dir);
        throw Error(model, "ONNX Runtime failed (exit " + std::to_string(rc) + "): " + log);
    }
    const nlohmann::json result = nlohmann::json::parse(readFile(dir + "/out/result.json"));
    Result r;
    for (const auto &[name, o] : result["outputs"].items()) {
        Tensor t;
        t.dims = o["dims"].get<std::vector<int64_t>>();
        const std::string bytes = readFile(o["file"].get<std::string>());
        t.data.resize(bytes.size() / sizeof(float));
        std::memcpy(t.data.data(), bytes.data(), t.data.size() * sizeof(float));
        r.outputs[name] = std::move(t);
    }
    if (result.contains("medianMs"))
        r.medianMs = result["medianMs"].get<double>();
    fs::remove_all(dir);
    return r;
}

} // namespace tkd
