// The event log: JSON round trips of every event type, and the tail -f contract - a reader
// thread polling while writers append thousands of lines sees every line exactly once, whole,
// in order; partial last lines wait; truncation and rotation restart the reader with a message.
#include "core/train/EventLog.h"
#include "core/util/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <cmath>
#include <cstdio>
#include <fcntl.h>
#include <fstream>
#include <thread>
#include <unistd.h>

using tkd::Event;
using tkd::EventLog;
using tkd::EventLogReader;

namespace {

void appendRaw(const std::string &path, const std::string &bytes)
{
    const int fd = ::open(path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
    QVERIFY(fd >= 0);
    QCOMPARE(::write(fd, bytes.data(), bytes.size()), ssize_t(bytes.size()));
    ::close(fd);
}

bool anyContains(const std::vector<std::string> &messages, const std::string &part)
{
    for (const auto &m : messages)
        if (m.find(part) != std::string::npos)
            return true;
    return false;
}

} // namespace

class TestEventLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void roundTrip_data()
    {
        QTest::addColumn<int>("which");
        QTest::newRow("step") << 0;
        QTest::newRow("epoch") << 1;
        QTest::newRow("eval") << 2;
        QTest::newRow("checkpoint") << 3;
        QTest::newRow("stage") << 4;
        QTest::newRow("error") << 5;
        QTest::newRow("done") << 6;
    }

    void roundTrip()
    {
        QFETCH(int, which);
        Event e;
        switch (which) {
        case 0:
            e = Event::stepEvent(120, 2,
                { { "task", 0.41 }, { "kd", 0.1 }, { "logit_kd", 0.0 }, { "total", 0.51 } }, 1e-3);
            break;
        case 1:
            e = Event::epochEvent(
                3, 300, { { "total", 0.2 } }, { { "val_accuracy", 0.875 } }, 5e-4);
            break;
        case 2:
            e = Event::evalEvent(3, 300, { { "accuracy", 0.9 }, { "localisation", 0.61 } });
            break;
        case 3:
            e = Event::checkpointEvent(3, 300, "/runs/x/checkpoints/step-000000000300.safetensors");
            break;
        case 4:
            e = Event::stageEvent("student crnn lambda=0.25 L=4", "starting");
            break;
        case 5:
            e = Event::errorEvent("data.path: \"/x\" is not a folder\nsecond line");
            break;
        case 6:
            e = Event::doneEvent("finished", { { "test_accuracy", 0.9123456789012345 } });
            break;
        }
        e.t = 1717770000.125;
        const std::string line = e.toJson();
        QVERIFY(line.find('\n') == std::string::npos); // one event, one line
        const Event back = Event::fromJson(line);
        QCOMPARE(int(back.type), int(e.type));
        QCOMPARE(back.typeName, std::string(Event::typeToName(e.type)));
        QCOMPARE(back.t, e.t);
        QCOMPARE(back.step, e.step);
        QCOMPARE(back.epoch, e.epoch);
        QCOMPARE(back.stage, e.stage);
        QVERIFY(back.losses == e.losses);
        QVERIFY(back.metrics == e.metrics);
        QCOMPARE(back.lr, e.lr);
        QCOMPARE(back.path, e.path);
        QCOMPARE(back.message, e.message);
    }

    void nonFiniteLossesSurvive()
    {
        Event e = Event::stepEvent(1, 0, { { "task", NAN }, { "kd", INFINITY } }, 0.1);
        const Event back = Event::fromJson(e.toJson());
        QVERIFY(std::isnan(back.losses.at("task")));
        QVERIFY(std::isnan(back.losses.at("kd"))); // JSON has no infinity either: null -> NaN
    }

    void unknownTypeIsKept()
    {
        const Event e = Event::fromJson(R"({"t": 5, "type": "profile", "message": "x"})");
        QCOMPARE(int(e.type), int(Event::Type::Unknown));
        QCOMPARE(e.typeName, std::string("profile"));
        QVERIFY(e.toJson().find("\"profile\"") != std::string::npos);
    }

    void badLines_data()
    {
        QTest::addColumn<QString>("line");
        QTest::addColumn<QString>("reason");
        QTest::newRow("not json") << "{\"t\": 1, \"type\": \"step\""
                                  << "not JSON";
        QTest::newRow("array") << "[1, 2]"
                               << "object";
        QTest::newRow("no type") << "{\"t\": 1}"
                                 << "type";
        QTest::newRow("no time") << "{\"type\": \"step\"}"
                                 << "time";
        QTest::newRow("step not integer") << "{\"t\": 1, \"type\": \"step\", \"step\": 1.5}"
                                          << "step";
        QTest::newRow("losses not object") << "{\"t\": 1, \"type\": \"step\", \"losses\": 3}"
                                           << "losses";
        QTest::newRow("loss not number")
            << "{\"t\": 1, \"type\": \"step\", \"losses\": {\"kd\": \"x\"}}"
            << "losses.kd";
        QTest::newRow("message not string") << "{\"t\": 1, \"type\": \"error\", \"message\": 4}"
                                            << "message";
    }

    void badLines()
    {
        QFETCH(QString, line);
        QFETCH(QString, reason);
        try {
            Event::fromJson(line.toStdString(), "events.jsonl:7");
            QFAIL("accepted a bad line");
        } catch (const tkd::Error &e) {
            const std::string what = e.what();
            QVERIFY2(what.find("events.jsonl:7") != std::string::npos, what.c_str());
            QVERIFY2(what.find(reason.toStdString()) != std::string::npos, what.c_str());
        }
    }

    void writerTimestampsAndAppends()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("events.jsonl").toStdString();
        {
            EventLog log(path);
            log.append(Event::stageEvent("teacher"));
        }
        {
            EventLog log(path); // reopening appends, never truncates
            log.append(Event::doneEvent());
        }
        std::vector<std::string> messages;
        const auto events = tkd::readEventLog(path, &messages);
        QVERIFY(messages.empty());
        QCOMPARE(events.size(), size_t(2));
        QCOMPARE(events[0].stage, std::string("teacher"));
        QCOMPARE(int(events[1].type), int(Event::Type::Done));
        const double now = double(std::time(nullptr));
        QVERIFY(std::fabs(events[0].t - now) < 60.0);
        QVERIFY(events[1].t >= events[0].t);
    }

    void unwritableLog()
    {
        QVERIFY_THROWS_EXCEPTION(tkd::Error, EventLog("/nonexistent-dir/events.jsonl"));
        try {
            EventLog log("/nonexistent-dir/events.jsonl");
        } catch (const tkd::Error &e) {
            QVERIFY(
                std::string(e.what()).find("/nonexistent-dir/events.jsonl") != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::readEventLog("/nonexistent-dir/events.jsonl"));
    }

    // The core contract: two writers (separate descriptors, as two processes would have) append
    // thousands of lines of very different sizes while a reader thread tails the file. Every line
    // arrives exactly once, parses, and each writer's lines arrive in its order.
    void tailWhileWriting()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("events.jsonl").toStdString();
        constexpr int kPerWriter = 3000;
        std::atomic<int> writersDone { 0 };
        auto writer = [&](int id) {
            EventLog log(path);
            for (int i = 0; i < kPerWriter; ++i) {
                Event e = Event::stepEvent(
                    i, id, { { "task", 1.0 / (i + 1) }, { "total", double(i) } }, 1e-3);
                // Sizes from a few bytes to ~40 KB, so some lines span many pages.
                const size_t pad = (i % 97 == 0) ? 40000 : size_t((i * 131) % 700);
                e.message = std::string(pad, char('a' + (i % 26)));
                log.append(e);
            }
            ++writersDone;
        };
        std::vector<Event> received;
        std::vector<std::string> messages;
        int polls = 0;
        std::thread reader([&] {
            EventLogReader r(path);
            for (;;) {
                const bool finished = writersDone.load() == 2;
                auto batch = r.poll();
                ++polls;
                for (auto &e : batch.events)
                    received.push_back(std::move(e));
                messages.insert(messages.end(), batch.messages.begin(), batch.messages.end());
                if (finished && batch.events.empty())
                    break;
            }
        });
        std::thread w1(writer, 1), w2(writer, 2);
        w1.join();
        w2.join();
        reader.join();

        QVERIFY2(messages.empty(), messages.empty() ? "" : messages.front().c_str());
        QCOMPARE(received.size(), size_t(2 * kPerWriter));
        int next[3] = { 0, 0, 0 };
        for (const Event &e : received) {
            QVERIFY(e.epoch == 1 || e.epoch == 2);
            QCOMPARE(e.step, int64_t(next[e.epoch]));
            ++next[e.epoch];
            const size_t pad = (e.step % 97 == 0) ? 40000 : size_t((e.step * 131) % 700);
            QCOMPARE(e.message.size(), pad);
            QCOMPARE(e.losses.at("total"), double(e.step));
        }
        QVERIFY(polls > 1);
    }

    void partialLineWaits()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("events.jsonl").toStdString();
        EventLogReader reader(path);
        QVERIFY(reader.poll().events.empty()); // no file yet: nothing, and no complaint
        QVERIFY(reader.poll().messages.empty());
        const std::string line = Event::stageEvent("teacher", "half").toJson() + "\n";
        appendRaw(path, line.substr(0, 10));
        auto batch = reader.poll();
        QVERIFY(batch.events.empty());
        QVERIFY(batch.messages.empty());
        QCOMPARE(reader.offset(), uint64_t(0));
        appendRaw(path, line.substr(10) + Event::doneEvent().toJson().substr(0, 5));
        batch = reader.poll();
        QCOMPARE(batch.events.size(), size_t(1));
        QCOMPARE(batch.events[0].message, std::string("half"));
        QCOMPARE(reader.offset(), uint64_t(line.size()));
    }

    void badLineIsSkippedWithItsLineNumber()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("events.jsonl").toStdString();
        appendRaw(path,
            Event::stageEvent("a").toJson() + "\n" + "garbage{\n" + Event::stageEvent("b").toJson()
                + "\n");
        EventLogReader reader(path);
        auto batch = reader.poll();
        QCOMPARE(batch.events.size(), size_t(2));
        QCOMPARE(batch.messages.size(), size_t(1));
        QVERIFY2(
            batch.messages[0].find(path + ":2") != std::string::npos, batch.messages[0].c_str());
    }

    void truncationRestarts()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("events.jsonl").toStdString();
        {
            EventLog log(path);
            for (int i = 0; i < 10; ++i)
                log.append(Event::stepEvent(i, 0, {}, 0.1));
        }
        EventLogReader reader(path);
        QCOMPARE(reader.poll().events.size(), size_t(10));
        QVERIFY(::truncate(path.c_str(), 0) == 0);
        {
            EventLog log(path);
            log.append(Event::stageEvent("again"));
            log.append(Event::stageEvent("more"));
        }
        auto batch = reader.poll();
        QVERIFY(batch.restarted);
        QVERIFY2(anyContains(batch.messages, "truncated"),
            batch.messages.empty() ? "" : batch.messages[0].c_str());
        QCOMPARE(batch.events.size(), size_t(2));
        QCOMPARE(batch.events[0].stage, std::string("again"));
        QVERIFY(!reader.poll().restarted);
    }

    void rotationRestartsWithoutLosingTheOldTail()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("events.jsonl").toStdString();
        auto log = std::make_unique<EventLog>(path);
        log->append(Event::stageEvent("old-1"));
        EventLogReader reader(path);
        QCOMPARE(reader.poll().events.size(), size_t(1));
        log->append(Event::stageEvent("old-2")); // written after the last poll, before rotation
        QVERIFY(std::rename(path.c_str(), (path + ".1").c_str()) == 0);
        log = std::make_unique<EventLog>(path);
        log->append(Event::stageEvent("new-1"));
        auto batch = reader.poll();
        QVERIFY(batch.restarted);
        QVERIFY(anyContains(batch.messages, "replaced"));
        QCOMPARE(batch.events.size(), size_t(2));
        QCOMPARE(batch.events[0].stage, std::string("old-2"));
        QCOMPARE(batch.events[1].stage, std::string("new-1"));

        // Removed outright: said once, then the reader waits for a new file.
        QVERIFY(std::remove(path.c_str()) == 0);
        batch = reader.poll();
        QVERIFY(anyContains(batch.messages, "removed"));
        QVERIFY(reader.poll().messages.empty());
        appendRaw(path, Event::stageEvent("reborn").toJson() + "\n");
        batch = reader.poll();
        QVERIFY(batch.restarted);
        QCOMPARE(batch.events.size(), size_t(1));
        QCOMPARE(batch.events[0].stage, std::string("reborn"));
    }
};

QTEST_GUILESS_MAIN(TestEventLog)
#include "tst_eventlog.moc"
