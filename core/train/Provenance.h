#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

struct ExperimentConfig;

// Where a run came from (DESIGN.md rule 6), stored as <run>/provenance.json beside the config:
// enough to tell two runs apart and to rebuild one - the config's hash, the data and teacher
// content hashes, the source revision, the seeds, library versions, host, time and command line.
struct Provenance
{
    std::string configHash; // ExperimentConfig::hash()
    std::string dataHash; // dataset/noisy-construction content hash ("" until known)
    std::string teacherHash; // SHA-256 of the teacher weights ("" until known)
    std::string sourceRevision; // git revision the binary was built from
    std::string tkdVersion;
    std::string buildType;
    std::vector<uint64_t> seeds; // the experiment seed, then the student seeds
    std::string torchVersion;
    std::string sndfileVersion;
    std::string espeakVersion;
    std::string host;
    std::string startTime; // ISO 8601 UTC, "2024-06-07T12:15:30Z"
    int64_t pid = 0;
    std::vector<std::string> commandLine;

    // Fills everything this process can know: build, libraries, host, time, pid, config hash and
    // seeds. Data and teacher hashes are left for the caller, which computes them.
    static Provenance collect(
        const ExperimentConfig &config, const std::vector<std::string> &commandLine = {});

    std::string toJson() const; // pretty-printed object
    // Throws tkd::Error(source, reason) for text that is not a provenance object.
    static Provenance fromJson(
        const std::string &text, const std::string &source = "provenance.json");

    bool operator==(const Provenance &o) const;
    bool operator!=(const Provenance &o) const { return !(*this == o); }
};

} // namespace tkd
