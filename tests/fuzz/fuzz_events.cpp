// events.jsonl (a run's event log): readEventLog over a file (line splitting, bad lines skipped
// with a message) and Event::fromJson on the whole input as one line.
#include "core/train/EventLog.h"

#include "tests/fuzz/FuzzCommon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = tkd::fuzz::scratchDir() + "/events.jsonl";
    tkd::fuzz::writeFile(path, data, size);
    try {
        std::vector<std::string> messages;
        const auto events = tkd::readEventLog(path, &messages);
        for (const auto &e : events)
            (void)e.toJson();
    } catch (const tkd::Error &) { }
    try {
        const tkd::Event e = tkd::Event::fromJson(tkd::fuzz::text(data, size), "fuzz");
        (void)e.toJson();
    } catch (const tkd::Error &) { }
    return 0;
}
