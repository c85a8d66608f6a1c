#include "core/train/EventLog.h"

#include "core/util/Error.h"

#include <nlohmann/json.hpp>

#include <cerrno>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace tkd {

namespace {

using json = nlohmann::json;

double nowSeconds()
{
    using namespace std::chrono;
    return duration<double>(system_clock::now().time_since_epoch()).count();
}

json number(double v)
{
    return std::isfinite(v) ? json(v) : json(nullptr);
}

json numberMap(const std::map<std::string, double> &m)
{
    json o = json::object();
    for (const auto &[k, v] : m)
        o[k] = number(v);
    return o;
}

double readNumber(const json &v, const std::string &source, const std::string &key)
{
    if (v.is_null())
        return NAN;
    if (!v.is_number())
        throw Error(source, "field '" + key + "' must be a number");
    return v.get<double>();
}

std::map<std::string, double> readNumberMap(
    const json &v, const std::string &source, const std::string &key)
{
    if (!v.is_object())
        throw Error(source, "field '" + key + "' must be an object of numbers");
    std::map<std::string, double> out;
    for (auto it = v.begin(); it != v.end(); ++it)
        out[it.key()] = readNumber(it.value(), source, key + "." + it.key());
    return out;
}

std::string sysError()
{
    return std::strerror(errno);
}

} // namespace

// ---------------------------------------------------------------------------------------------
// Event

const char *Event::typeToName(Type type)
{
    switch (type) {
    case Type::Step:
        return "step";
    case Type::Epoch:
        return "epoch";
    case Type::Eval:
        return "eval";
    case Type::Checkpoint:
        return "checkpoint";
    case Type::Stage:
        return "stage";
    case Type::Error:
        return "error";
    case Type::Done:
        return "done";
    case Type::Unknown:
        break;
    }
    return "unknown";
}

Event::Type Event::typeFromName(const std::string &name)
{
    for (Type t : { Type::Step, Type::Epoch, Type::Eval, Type::Checkpoint, Type::Stage, Type::Error,
             Type::Done })
        if (name == typeToName(t))
            return t;
    return Type::Unknown;
}

Event Event::stepEvent(int64_t step, int64_t epoch, std::map<std::string, double> losses, double lr)
{
    Event e;
    e.type = Type::Step;
    e.step = step;
    e.epoch = epoch;
    e.losses = std::move(losses);
    e.lr = lr;
    return e;
}

Event Event::epochEvent(int64_t epoch, int64_t step, std::map<std::string, double> losses,
    std::map<std::string, double> metrics, double lr)
{
    Event e = stepEvent(step, epoch, std::move(losses), lr);
    e.type = Type::Epoch;
    e.metrics = std::move(metrics);
    return e;
}

Event Event::evalEvent(int64_t epoch, int64_t step, std::map<std::string, double> metrics)
{
    Event e;
    e.type = Type::Eval;
    e.epoch = epoch;
    e.step = step;
    e.metrics = std::move(metrics);
    return e;
}

Event Event::checkpointEvent(int64_t epoch, int64_t step, std::string path)
{
    Event e;
    e.type = Type::Checkpoint;
    e.epoch = epoch;
    e.step = step;
    e.path = std::move(path);
    return e;
}

Event Event::stageEvent(std::string stage, std::string message)
{
    Event e;
    e.type = Type::Stage;
    e.stage = std::move(stage);
    e.message = std::move(message);
    return e;
}

Event Event::errorEvent(std::string message)
{
    Event e;
    e.type = Type::Error;
    e.message = std::move(message);
    return e;
}

Event Event::doneEvent(std::string message, std::map<std::string, double> metrics)
{
    Event e;
    e.type = Type::Done;
    e.message = std::move(message);
    e.metrics = std::move(metrics);
    return e;
}

std::string Event::toJson() const
{
    json j;
    j["t"] = t;
    j["type"]
        = type == Type::Unknown && !typeName.empty() ? typeName : std::string(typeToName(type));
    if (step >= 0)
        j["step"] = step;
    if (epoch >= 0)
        j["epoch"] = epoch;
    if (!stage.empty())
        j["stage"] = stage;
    if (!losses.empty())
        j["losses"] = numberMap(losses);
    if (lr >= 0.0 || std::isnan(lr))
        j["lr"] = number(lr);
    if (!metrics.empty())
        j["metrics"] = numberMap(metrics);
    if (!path.empty())
        j["path"] = path;
    if (!message.empty())
        j["message"] = message;
    // Invalid UTF-8 in a message (a file name from the disk) must not make the writer throw.
    return j.dump(-1, ' ', false, json::error_handler_t::replace);
}

Event Event::fromJson(const std::string &line, const std::string &source)
{
    json j;
    try {
        j = json::parse(line);
    } catch (const json::exception &e) {
        throw Error(source, std::string("not JSON: ") + e.what());
    }
    if (!j.is_object())
        throw Error(source, "an event must be a JSON object");
    Event e;
    auto it = j.find("type");
    if (it == j.end() || !it->is_string())
        throw Error(source, "event has no \"type\" string");
    e.typeName = it->get<std::string>();
    e.type = typeFromName(e.typeName);
    it = j.find("t");
    if (it == j.end() || !it->is_number())
        throw Error(source, "event has no \"t\" time");
    e.t = it->get<double>();
    auto integer = [&](const char *key, int64_t &out) {
        auto f = j.find(key);
        if (f == j.end())
            return;
        if (!f->is_number_integer())
            throw Error(source, std::string("field '") + key + "' must be a whole number");
        out = f->get<int64_t>();
    };
    auto text = [&](const char *key, std::string &out) {
        auto f = j.find(key);
        if (f == j.end())
            return;
        if (!f->is_string())
            throw Error(source, std::string("field '") + key + "' must be a string");
        out = f->get<std::string>();
    };
    integer("step", e.step);
    integer("epoch", e.epoch);
    text("stage", e.stage);
    text("path", e.path);
    text("message", e.message);
    if ((it = j.find("lr")) != j.end())
        e.lr = readNumber(*it, source, "lr");
    if ((it = j.find("losses")) != j.end())
        e.losses = readNumberMap(*it, source, "losses");
    if ((it = j.find("metrics")) != j.end())
        e.metrics = readNumberMap(*it, source, "metrics");
    return e;
}

// ---------------------------------------------------------------------------------------------
// EventLog

EventLog::EventLog(std::string path)
    : m_path(std::move(path))
{
    m_fd = ::open(m_path.c_str(), O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (m_fd < 0)
        throw Error(m_path, "cannot open the event log for appending: " + sysError());
    // A crash exactly after a given event, for the tests that kill runs in every stage: an
    // external SIGKILL races a run that takes seconds, this one lands on the named line.
    if (const char *at = std::getenv("TKD_CRASH_AT"); at && *at)
        m_crashAt = at;
}

EventLog::~EventLog()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

void EventLog::append(Event event)
{
    if (event.t == 0.0)
        event.t = nowSeconds();
    const std::string line = event.toJson() + "\n";
    std::lock_guard<std::mutex> lock(m_mutex);
    // One write() normally carries the whole line. A short write (disk full, signal) is finished
    // with further writes; the reader never takes a line before its newline, so that is safe too.
    size_t done = 0;
    while (done < line.size()) {
        const ssize_t n = ::write(m_fd, line.data() + done, line.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throw Error(m_path, "cannot append an event: " + sysError());
        }
        done += size_t(n);
    }
    if (event.type == Event::Type::Error || event.type == Event::Type::Done
        || event.type == Event::Type::Checkpoint)
        ::fdatasync(m_fd);
    if (!m_crashAt.empty() && line.find(m_crashAt) != std::string::npos)
        ::raise(SIGKILL);
}

// ---------------------------------------------------------------------------------------------
// EventLogReader

EventLogReader::EventLogReader(std::string path)
    : m_path(std::move(path))
{ }

EventLogReader::~EventLogReader()
{
    if (m_fd >= 0)
        ::close(m_fd);
}

bool EventLogReader::openFile(Batch &batch)
{
    const int fd = ::open(m_path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno != ENOENT)
            batch.messages.push_back(m_path + ": cannot open: " + sysError());
        return false;
    }
    struct stat st
    {
    };
    ::fstat(fd, &st);
    if (m_everOpened)
        batch.restarted = true; // a new file after a removal or rotation
    m_fd = fd;
    m_dev = st.st_dev;
    m_ino = st.st_ino;
    m_offset = 0;
    m_line = 0;
    m_everOpened = true;
    return true;
}

void EventLogReader::parseLine(const std::string &line, Batch &batch)
{
    ++m_line;
    if (line.empty())
        return;
    const std::string where = m_path + ":" + std::to_string(m_line);
    try {
        batch.events.push_back(Event::fromJson(line, where));
    } catch (const Error &e) {
        batch.messages.push_back(std::string(e.what()) + " (line skipped)");
    }
}

// Reads from the remembered offset to the end of the open file, keeping only whole lines.
void EventLogReader::drain(Batch &batch)
{
    std::string data;
    char buf[65536];
    for (;;) {
        const ssize_t n = ::pread(m_fd, buf, sizeof buf, off_t(m_offset + data.size()));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            batch.messages.push_back(m_path + ": read failed: " + sysError());
            break;
        }
        if (n == 0)
            break;
        data.append(buf, size_t(n));
    }
    size_t start = 0;
    for (;;) {
        const size_t nl = data.find('\n', start);
        if (nl == std::string::npos)
            break; // a line still being written: left for the next poll
        parseLine(data.substr(start, nl - start), batch);
        start = nl + 1;
    }
    m_offset += start;
}

EventLogReader::Batch EventLogReader::poll()
{
    Batch batch;
    if (m_fd < 0) {
        if (!openFile(batch))
            return batch;
    } else {
        struct stat byPath
        {
        };
        const bool present = ::stat(m_path.c_str(), &byPath) == 0;
        if (!present || byPath.st_dev != m_dev || byPath.st_ino != m_ino) {
            // Rotated or removed: finish the old file first, so nothing written before the switch
            // is lost, then follow the new one from its start.
            drain(batch);
            ::close(m_fd);
            m_fd = -1;
            if (!present) {
                batch.messages.push_back(
                    m_path + ": the event log was removed; waiting for a new one");
                m_offset = 0;
                m_line = 0;
                return batch;
            }
            batch.messages.push_back(m_path
                + ": the event log was replaced (rotated); reading the new file from its start");
            if (!openFile(batch))
                return batch;
        } else {
            struct stat st
            {
            };
            ::fstat(m_fd, &st);
            if (uint64_t(st.st_size) < m_offset) {
                batch.messages.push_back(m_path + ": the event log was truncated ("
                    + std::to_string(st.st_size) + " bytes, " + std::to_string(m_offset)
                    + " already read); reading it again from the start");
                batch.restarted = true;
                m_offset = 0;
                m_line = 0;
            }
        }
    }
    drain(batch);
    return batch;
}

std::vector<Event> readEventLog(const std::string &path, std::vector<std::string> *messages)
{
    if (::access(path.c_str(), R_OK) != 0)
        throw Error(path, "cannot read the event log: " + sysError());
    EventLogReader reader(path);
    EventLogReader::Batch batch = reader.poll();
    if (messages)
        *messages = std::move(batch.messages);
    return std::move(batch.events);
}

} // namespace tkd
