// metrics.json (a run's results): PipelineResult::read on a run folder, then its table.
#include "core/experiment/PipelineResult.h"

#include "tests/fuzz/FuzzCommon.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string dir = tkd::fuzz::scratchDir();
    tkd::fuzz::writeFile(dir + "/metrics.json", data, size);
    try {
        const tkd::PipelineResult r = tkd::PipelineResult::read(dir);
        (void)r.table();
        (void)r.toJson().dump();
    } catch (const tkd::Error &) { }
    return 0;
}
