#pragma once

#include "core/experiment/ExperimentConfig.h"
#include "core/train/Provenance.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tkd {

class Checkpoint;
class EventLog;

// One run on disk:
//   <runs_dir>/<YYYYMMDD-HHMMSS>-<name>-<config hash 8>[-N]/
//     config.yaml        the resolved experiment (ExperimentConfig::toYaml)
//     provenance.json    Provenance
//     events.jsonl       EventLog
//     metrics.json       final/summary metrics
//     checkpoints/       step-<12 digits>.safetensors (last N kept), last.safetensors,
//     best.safetensors lock               held with flock() by the one process training into the
//     folder
// The lock is an flock on an open descriptor, so the kernel drops it when the process exits for
// any reason, kill -9 included: a crashed run never leaves a stale lock behind.
class RunDirectory
{
public:
    enum class Access {
        ReadOnly, // viewing: no lock, no event log writer (a trainer may be writing meanwhile)
        Exclusive // resuming: takes the lock (tkd::Error if another process holds it)
    };

    // Validates the config, creates a new uniquely named folder (mkdir, retried with a suffix on
    // collision, so runs started in the same second never share one), takes the lock, writes
    // config.yaml and provenance.json and opens the event log. Errors name the folder and the
    // config key ("output.runs_dir") at fault.
    static RunDirectory create(const ExperimentConfig &config, const Provenance &provenance);
    // Opens an existing run; reads and validates its config.yaml and provenance.json.
    static RunDirectory open(const std::string &dir, Access access = Access::ReadOnly);
    // Whether some process holds the run's lock now (a run in progress).
    static bool inUse(const std::string &dir);

    RunDirectory(RunDirectory &&other) noexcept;
    RunDirectory &operator=(RunDirectory &&other) noexcept;
    ~RunDirectory(); // releases the lock
    RunDirectory(const RunDirectory &) = delete;
    RunDirectory &operator=(const RunDirectory &) = delete;

    const std::string &path() const { return m_path; }
    std::string name() const; // the folder's own name
    bool exclusive() const { return m_lockFd >= 0; }
    const ExperimentConfig &config() const { return m_config; }
    const Provenance &provenance() const { return m_provenance; }

    std::string configPath() const;
    std::string provenancePath() const;
    std::string eventLogPath() const;
    std::string metricsPath() const;
    std::string checkpointDir() const;

    // Exclusive only (tkd::Error otherwise).
    EventLog &events();
    // Rewrites provenance.json atomically, e.g. once the data and teacher hashes are known.
    void writeProvenance(const Provenance &provenance);
    void writeMetrics(const nlohmann::json &metrics);
    nlohmann::json readMetrics() const; // tkd::Error if absent or malformed

    // Writes checkpoints/step-<step>.safetensors atomically, points last.safetensors (and, when
    // `best`, best.safetensors) at it by an atomic hard-link swap, then deletes all but the newest
    // `keepLast` step files. A failure leaves every checkpoint already saved intact.
    std::string saveCheckpoint(const Checkpoint &checkpoint, bool best, int keepLast = 3);
    // Paths, or "" when there is none yet.
    std::string lastCheckpointPath() const;
    std::string bestCheckpointPath() const;
    // The step checkpoints kept, oldest first.
    std::vector<std::string> stepCheckpoints() const;

private:
    RunDirectory() = default;
    void lock();
    void release();

    std::string m_path;
    ExperimentConfig m_config;
    Provenance m_provenance;
    int m_lockFd = -1;
    std::unique_ptr<EventLog> m_events;
};

} // namespace tkd
