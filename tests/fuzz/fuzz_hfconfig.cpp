// HF config.json (the pretrained teacher's configuration): HfConfig::fromJson.
#include "core/io/HfConfig.h"

#include "tests/fuzz/FuzzCommon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try {
        const tkd::io::HfConfig c = tkd::io::HfConfig::fromJson(tkd::fuzz::text(data, size));
        (void)c;
    } catch (const tkd::Error &) { }
    return 0;
}
