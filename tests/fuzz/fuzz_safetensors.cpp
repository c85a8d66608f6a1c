// safetensors files (checkpoints, imported weights): readHeader, load and loadMapped on a file
// holding the input.
#include "core/io/SafeTensors.h"

#include "tests/fuzz/FuzzCommon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = tkd::fuzz::scratchDir() + "/model.safetensors";
    tkd::fuzz::writeFile(path, data, size);
    try {
        const tkd::safetensors::Header h = tkd::safetensors::readHeader(path);
        for (const auto &e : h.entries)
            if (e.begin > e.end || h.dataOffset + e.end > size)
                tkd::fuzz::fail("readHeader: an entry outside the file", e.name);
    } catch (const tkd::Error &) { }
    try {
        std::map<std::string, std::string> metadata;
        const auto tensors = tkd::safetensors::load(path, &metadata);
        for (const auto &[name, t] : tensors)
            (void)t.sum().item<double>();
    } catch (const tkd::Error &) { }
    try {
        const auto tensors = tkd::safetensors::loadMapped(path);
        for (const auto &[name, t] : tensors)
            (void)t.sum().item<double>();
    } catch (const tkd::Error &) { }
    return 0;
}
