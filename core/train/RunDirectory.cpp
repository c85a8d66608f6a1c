#include "core/train/RunDirectory.h"

#include "core/checkpoint/Checkpoint.h"
#include "core/train/EventLog.h"
#include "core/util/AtomicFile.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <filesystem>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

namespace fs = std::filesystem;

namespace tkd {

namespace {

constexpr const char *kStepPrefix = "step-";
constexpr const char *kSuffix = ".safetensors";

std::string sysError()
{
    return std::strerror(errno);
}

std::string folderSafe(const std::string &name)
{
    std::string out;
    for (char c : name) {
        const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9')
            || c == '.' || c == '_' || c == '-';
        out += ok ? c : '-';
        if (out.size() >= 40)
            break;
    }
    while (!out.empty() && out.front() == '.')
        out.erase(out.begin()); // never a hidden folder
    return out.empty() ? std::string("run") : out;
}

std::string utcStamp()
{
    const std::time_t now = std::time(nullptr);
    std::tm tm {};
    gmtime_r(&now, &tm);
    char buf[32];
    std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", &tm);
    return buf;
}

std::string join(const std::string &dir, const std::string &name)
{
    return (fs::path(dir) / name).string();
}

// Points `link` at `target` atomically: a hard link under a temporary name renamed over `link`
// (a reader sees the old file or the new one, never none). Copies where hard links are refused.
void swapLink(const std::string &target, const std::string &link)
{
    // A fresh random name: link() never replaces an existing name, so nothing planted there is
    // followed or clobbered; the rename then replaces `link` itself, never what it points to.
    std::string tmp;
    ::close(createTempBeside(link, tmp));
    ::unlink(tmp.c_str());
    if (::link(target.c_str(), tmp.c_str()) != 0) {
        writeFileAtomic(link, readFile(target));
        return;
    }
    if (std::rename(tmp.c_str(), link.c_str()) != 0) {
        const std::string why = sysError();
        ::unlink(tmp.c_str());
        throw Error(link, "cannot replace checkpoint link: " + why);
    }
}

} // namespace

RunDirectory::RunDirectory(RunDirectory &&other) noexcept
    : m_path(std::move(other.m_path))
    , m_config(std::move(other.m_config))
    , m_provenance(std::move(other.m_provenance))
    , m_lockFd(other.m_lockFd)
    , m_events(std::move(other.m_events))
{
    other.m_lockFd = -1;
}

RunDirectory &RunDirectory::operator=(RunDirectory &&other) noexcept
{
    if (this != &other) {
        release();
        m_path = std::move(other.m_path);
        m_config = std::move(other.m_config);
        m_provenance = std::move(other.m_provenance);
        m_lockFd = other.m_lockFd;
        m_events = std::move(other.m_events);
        other.m_lockFd = -1;
    }
    return *this;
}

RunDirectory::~RunDirectory()
{
    release();
}

void RunDirectory::release()
{
    m_events.reset();
    if (m_lockFd >= 0) {
        ::close(m_lockFd); // closing the descriptor drops the flock
        m_lockFd = -1;
    }
}

void RunDirectory::lock()
{
    const std::string lockPath = join(m_path, "lock");
    const int fd = ::open(lockPath.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0)
        throw Error(m_path, "cannot create the run's lock file: " + sysError());
    if (::flock(fd, LOCK_EX | LOCK_NB) != 0) {
        const int err = errno;
        std::string holder;
        char buf[256] = {};
        const ssize_t n = ::pread(fd, buf, sizeof buf - 1, 0);
        if (n > 0) {
            holder = std::string(buf, size_t(n));
            while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' '))
                holder.pop_back();
        }
        ::close(fd);
        if (err == EWOULDBLOCK)
            throw Error(m_path,
                "is in use by another process"
                    + (holder.empty() ? std::string() : " (" + holder + ")")
                    + ": one run folder takes one trainer at a time");
        throw Error(m_path, std::string("cannot lock the run folder: ") + std::strerror(err));
    }
    // Who holds it, for the message a second process gets. Informational only: the flock is
    // the lock, this text may be stale.
    char host[128] = {};
    ::gethostname(host, sizeof host - 1);
    const std::string who = "pid " + std::to_string(::getpid()) + " on " + host + "\n";
    if (::ftruncate(fd, 0) == 0 && ::pwrite(fd, who.data(), who.size(), 0) < 0) {
        // harmless: the message just lacks the holder
    }
    m_lockFd = fd;
}

RunDirectory RunDirectory::create(const ExperimentConfig &config, const Provenance &provenance)
{
    config.validate();
    const std::string &runsDir = config.output.runsDir;
    try {
        makeDirs(runsDir);
    } catch (const Error &e) {
        throw Error(runsDir, e.reason() + " (output.runs_dir)");
    }
    const std::string base
        = utcStamp() + "-" + folderSafe(config.name) + "-" + config.hash().substr(0, 8);
    std::string dir;
    for (int attempt = 1;; ++attempt) {
        const std::string candidate
            = join(runsDir, attempt == 1 ? base : base + "-" + std::to_string(attempt));
        if (::mkdir(candidate.c_str(), 0755) == 0) {
            dir = candidate;
            break;
        }
        if (errno != EEXIST || attempt >= 10000)
            throw Error(
                runsDir, "cannot create a run folder in it: " + sysError() + " (output.runs_dir)");
    }

    RunDirectory run;
    run.m_path = dir;
    run.m_config = config;
    run.m_provenance = provenance;
    try {
        run.lock();
        makeDirs(run.checkpointDir());
        writeFileAtomic(run.configPath(), config.toYaml());
        writeFileAtomic(run.provenancePath(), provenance.toJson());
        run.m_events = std::make_unique<EventLog>(run.eventLogPath());
    } catch (...) {
        // A folder without its config is no run: do not leave it for the studio to trip on.
        run.release();
        std::error_code ec;
        fs::remove_all(dir, ec);
        throw;
    }
    return run;
}

RunDirectory RunDirectory::open(const std::string &dir, Access access)
{
    std::error_code ec;
    if (!fs::is_directory(dir, ec))
        throw Error(dir, "is not a run folder (no such folder)");
    RunDirectory run;
    run.m_path = dir;
    if (!fs::exists(run.configPath(), ec))
        throw Error(dir, "is not a run folder (it has no config.yaml)");
    if (access == Access::Exclusive)
        run.lock();
    run.m_config = ExperimentConfig::load(run.configPath());
    run.m_provenance = Provenance::fromJson(readFile(run.provenancePath()), run.provenancePath());
    if (access == Access::Exclusive) {
        makeDirs(run.checkpointDir());
        run.m_events = std::make_unique<EventLog>(run.eventLogPath());
    }
    return run;
}

bool RunDirectory::inUse(const std::string &dir)
{
    const std::string lockPath = join(dir, "lock");
    const int fd = ::open(lockPath.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    const bool held = ::flock(fd, LOCK_SH | LOCK_NB) != 0 && errno == EWOULDBLOCK;
    ::close(fd); // also drops the shared lock if it was taken
    return held;
}

std::string RunDirectory::name() const
{
    return fs::path(m_path).filename().string();
}

std::string RunDirectory::configPath() const
{
    return join(m_path, "config.yaml");
}
std::string RunDirectory::provenancePath() const
{
    return join(m_path, "provenance.json");
}
std::string RunDirectory::eventLogPath() const
{
    return join(m_path, "events.jsonl");
}
std::string RunDirectory::metricsPath() const
{
    return join(m_path, "metrics.json");
}
std::string RunDirectory::checkpointDir() const
{
    return join(m_path, "checkpoints");
}

EventLog &RunDirectory::events()
{
    if (!m_events)
        throw Error(m_path, "was opened read-only: open it with Access::Exclusive to write events");
    return *m_events;
}

void RunDirectory::writeProvenance(const Provenance &provenance)
{
    if (m_lockFd < 0)
        throw Error(m_path, "was opened read-only");
    writeFileAtomic(provenancePath(), provenance.toJson());
    m_provenance = provenance;
}

void RunDirectory::writeMetrics(const nlohmann::json &metrics)
{
    if (m_lockFd < 0)
        throw Error(m_path, "was opened read-only");
    writeFileAtomic(metricsPath(),
        metrics.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n");
}

nlohmann::json RunDirectory::readMetrics() const
{
    const std::string text = readFile(metricsPath());
    try {
        return nlohmann::json::parse(text);
    } catch (const nlohmann::json::exception &e) {
        throw Error(metricsPath(), std::string("not JSON: ") + e.what());
    }
}

std::string RunDirectory::saveCheckpoint(const Checkpoint &checkpoint, bool best, int keepLast)
{
    if (m_lockFd < 0)
        throw Error(m_path, "was opened read-only");
    char name[64];
    std::snprintf(name, sizeof name, "%s%012lld%s", kStepPrefix,
        static_cast<long long>(checkpoint.step), kSuffix);
    const std::string path = join(checkpointDir(), name);
    checkpoint.save(path);
    swapLink(path, join(checkpointDir(), std::string("last") + kSuffix));
    if (best)
        swapLink(path, join(checkpointDir(), std::string("best") + kSuffix));
    const std::vector<std::string> steps = stepCheckpoints();
    const size_t keep = size_t(std::max(1, keepLast));
    for (size_t i = 0; i + keep < steps.size(); ++i)
        if (steps[i] != path)
            ::unlink(steps[i].c_str()); // last/best are separate links: they keep their data
    return path;
}

std::vector<std::string> RunDirectory::stepCheckpoints() const
{
    std::vector<std::string> out;
    std::error_code ec;
    for (auto it = fs::directory_iterator(checkpointDir(), ec);
         !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const std::string f = it->path().filename().string();
        // Exactly step-<digits>.safetensors: leftover temp files of a killed write are ignored.
        if (f.rfind(kStepPrefix, 0) != 0 || f.size() <= 5 + std::strlen(kSuffix)
            || f.compare(f.size() - std::strlen(kSuffix), std::string::npos, kSuffix) != 0)
            continue;
        const std::string digits = f.substr(5, f.size() - 5 - std::strlen(kSuffix));
        if (std::all_of(digits.begin(), digits.end(), [](char c) { return c >= '0' && c <= '9'; }))
            out.push_back(it->path().string());
    }
    std::sort(out.begin(), out.end()); // zero-padded steps sort by number
    return out;
}

std::string RunDirectory::lastCheckpointPath() const
{
    const std::string last = join(checkpointDir(), std::string("last") + kSuffix);
    std::error_code ec;
    if (fs::exists(last, ec))
        return last;
    const auto steps = stepCheckpoints();
    return steps.empty() ? std::string() : steps.back();
}

std::string RunDirectory::bestCheckpointPath() const
{
    const std::string best = join(checkpointDir(), std::string("best") + kSuffix);
    std::error_code ec;
    return fs::exists(best, ec) ? best : std::string();
}

} // namespace tkd
