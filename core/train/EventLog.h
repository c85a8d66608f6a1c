#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <sys/types.h>
#include <vector>

namespace tkd {

// One training event, one line of <run>/events.jsonl:
//   {"t": 1717770000.25, "type": "step", "step": 120, "epoch": 2, "losses": {"task": 0.41, ...},
//    "lr": 0.001, "metrics": {...}, "stage": "...", "path": "...", "message": "..."}
// Absent fields stay at their "none" values below, so every event type shares one struct.
struct Event
{
    enum class Type { Step, Epoch, Eval, Checkpoint, Stage, Error, Done, Unknown };

    double t = 0.0; // unix time, seconds; 0 when appending means "now"
    Type type = Type::Unknown;
    std::string typeName; // as written ("step"); kept for types newer than this reader
    int64_t step = -1; // -1: none
    int64_t epoch = -1;
    std::string stage; // "teacher", "cache", "student tc-resnet8 lambda=0.25 L=4"
    std::map<std::string, double> losses; // task, kd, logit_kd, total
    double lr = -1.0; // -1: none
    std::map<std::string, double> metrics; // accuracy, map, localisation, ...
    std::string path; // checkpoint events
    std::string message; // error / stage / done

    static const char *typeToName(Type type);
    static Type typeFromName(const std::string &name); // Unknown for anything else

    // Constructors for the common events (t = now when appended).
    static Event stepEvent(
        int64_t step, int64_t epoch, std::map<std::string, double> losses, double lr);
    static Event epochEvent(int64_t epoch, int64_t step, std::map<std::string, double> losses,
        std::map<std::string, double> metrics, double lr);
    static Event evalEvent(int64_t epoch, int64_t step, std::map<std::string, double> metrics);
    static Event checkpointEvent(int64_t epoch, int64_t step, std::string path);
    static Event stageEvent(std::string stage, std::string message = {});
    static Event errorEvent(std::string message);
    static Event doneEvent(std::string message = {}, std::map<std::string, double> metrics = {});

    // One compact JSON object, no newline. Non-finite numbers (a diverged loss) are written as
    // null and read back as NaN, since JSON has no NaN.
    std::string toJson() const;
    // Throws tkd::Error(source, reason) for a line that is not an event object.
    static Event fromJson(const std::string &line, const std::string &source = "event");
};

// The writer: append-only JSON Lines. Each event is ONE write() of the whole line (newline
// included) to an O_APPEND descriptor, with no user-space buffer, so a reader tailing the file -
// in this process or another - sees either nothing of a line or all of it, and concurrent
// writers never interleave inside a line.
class EventLog
{
public:
    // Opens (creating if needed) for appending; throws tkd::Error(path, reason).
    explicit EventLog(std::string path);
    ~EventLog();
    EventLog(const EventLog &) = delete;
    EventLog &operator=(const EventLog &) = delete;

    const std::string &path() const { return m_path; }

    // Thread-safe. Fills t with the current time when it is 0. Terminal events (error, done,
    // checkpoint) are also fsync'ed, so they survive a power cut with the checkpoint they name.
    void append(Event event);

private:
    std::string m_path;
    int m_fd = -1;
    std::mutex m_mutex;
    std::string m_crashAt; // TKD_CRASH_AT: fault injection for the reliability tests
};

// The tail -f side, for the studio following a run written by another process. Remembers its
// offset, returns only complete new lines (a partial last line is left for the next poll), and
// notices when the file is truncated or replaced (rotation), then starts over from its top and
// says so in the batch's messages.
class EventLogReader
{
public:
    struct Batch
    {
        std::vector<Event> events;
        // Human-readable notes: restarts after truncation/rotation, lines that are not events
        // (skipped, with file:line). Empty in the normal case.
        std::vector<std::string> messages;
        // The file was truncated or replaced and the reader started over on the new content.
        // After a rotation, the old file's last lines still come first in `events`.
        bool restarted = false;
    };

    explicit EventLogReader(std::string path);
    ~EventLogReader();
    EventLogReader(const EventLogReader &) = delete;
    EventLogReader &operator=(const EventLogReader &) = delete;

    // Everything appended since the last poll. A missing file is not an error (the run may not
    // have started writing); one that disappears after being read is reported in messages.
    Batch poll();

    const std::string &path() const { return m_path; }
    uint64_t offset() const { return m_offset; }
    int64_t linesRead() const { return m_line; }

private:
    bool openFile(Batch &batch);
    void drain(Batch &batch);
    void parseLine(const std::string &line, Batch &batch);

    std::string m_path;
    int m_fd = -1;
    dev_t m_dev = 0;
    ino_t m_ino = 0;
    uint64_t m_offset = 0;
    int64_t m_line = 0;
    bool m_everOpened = false;
};

// Reads a whole log at once (viewers of finished runs); bad lines are skipped into `messages`.
std::vector<Event> readEventLog(
    const std::string &path, std::vector<std::string> *messages = nullptr);

} // namespace tkd
