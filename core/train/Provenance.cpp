#include "core/train/Provenance.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/util/BuildInfo.h"
#include "core/util/Error.h"

#include <espeak-ng/speak_lib.h>
#include <nlohmann/json.hpp>
#include <sndfile.h>
#include <torch/version.h>

#include <ctime>
#include <unistd.h>

namespace tkd {

namespace {

using json = nlohmann::json;

std::string utcNow()
{
    const std::time_t now = std::time(nullptr);
    std::tm tm {};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return buf;
}

std::string hostName()
{
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) != 0)
        return "unknown";
    return buf;
}

} // namespace

Provenance Provenance::collect(
    const ExperimentConfig &config, const std::vector<std::string> &commandLine)
{
    Provenance p;
    p.configHash = config.hash();
    p.sourceRevision = build::kSourceRevision;
    p.tkdVersion = build::kVersion;
    p.buildType = build::kBuildType;
    p.seeds.push_back(config.seed);
    for (uint64_t s : config.studentSeeds())
        p.seeds.push_back(s);
    p.torchVersion = TORCH_VERSION;
    p.sndfileVersion = sf_version_string();
    // espeak_Info only reports the version string; it needs no initialised engine.
    const char *espeak = espeak_Info(nullptr);
    p.espeakVersion = espeak ? espeak : "unknown";
    p.host = hostName();
    p.startTime = utcNow();
    p.pid = int64_t(::getpid());
    p.commandLine = commandLine;
    return p;
}

std::string Provenance::toJson() const
{
    json j;
    j["config_hash"] = configHash;
    j["data_hash"] = dataHash;
    j["teacher_hash"] = teacherHash;
    j["source_revision"] = sourceRevision;
    j["tkd_version"] = tkdVersion;
    j["build_type"] = buildType;
    j["seeds"] = seeds;
    j["libraries"] = { { "libtorch", torchVersion }, { "libsndfile", sndfileVersion },
        { "espeak-ng", espeakVersion } };
    j["host"] = host;
    j["start_time"] = startTime;
    j["pid"] = pid;
    j["command_line"] = commandLine;
    return j.dump(2, ' ', false, json::error_handler_t::replace) + "\n";
}

Provenance Provenance::fromJson(const std::string &text, const std::string &source)
{
    json j;
    try {
        j = json::parse(text);
    } catch (const json::exception &e) {
        throw Error(source, std::string("not JSON: ") + e.what());
    }
    if (!j.is_object())
        throw Error(source, "expected a JSON object");
    Provenance p;
    auto str = [&](const json &obj, const char *key, std::string &out) {
        auto it = obj.find(key);
        if (it == obj.end())
            return;
        if (!it->is_string())
            throw Error(source, std::string("'") + key + "' must be a string");
        out = it->get<std::string>();
    };
    try {
        str(j, "config_hash", p.configHash);
        str(j, "data_hash", p.dataHash);
        str(j, "teacher_hash", p.teacherHash);
        str(j, "source_revision", p.sourceRevision);
        str(j, "tkd_version", p.tkdVersion);
        str(j, "build_type", p.buildType);
        str(j, "host", p.host);
        str(j, "start_time", p.startTime);
        if (j.contains("seeds"))
            p.seeds = j.at("seeds").get<std::vector<uint64_t>>();
        if (j.contains("libraries")) {
            const json &lib = j.at("libraries");
            if (!lib.is_object())
                throw Error(source, "'libraries' must be an object");
            str(lib, "libtorch", p.torchVersion);
            str(lib, "libsndfile", p.sndfileVersion);
            str(lib, "espeak-ng", p.espeakVersion);
        }
        if (j.contains("pid"))
            p.pid = j.at("pid").get<int64_t>();
        if (j.contains("command_line"))
            p.commandLine = j.at("command_line").get<std::vector<std::string>>();
    } catch (const json::exception &e) {
        throw Error(source, std::string("malformed provenance: ") + e.what());
    }
    return p;
}

bool Provenance::operator==(const Provenance &o) const
{
    return configHash == o.configHash && dataHash == o.dataHash && teacherHash == o.teacherHash
        && sourceRevision == o.sourceRevision && tkdVersion == o.tkdVersion
        && buildType == o.buildType && seeds == o.seeds && torchVersion == o.torchVersion
        && sndfileVersion == o.sndfileVersion && espeakVersion == o.espeakVersion && host == o.host
        && startTime == o.startTime && pid == o.pid && commandLine == o.commandLine;
}

} // namespace tkd
