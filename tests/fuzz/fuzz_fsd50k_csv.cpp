// FSD50K ground-truth CSV (dev.csv, eval.csv, vocabulary.csv): Fsd50kDataset::parseCsv.
#include "core/data/Fsd50kDataset.h"

#include "tests/fuzz/FuzzCommon.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    try {
        const auto rows = tkd::Fsd50kDataset::parseCsv(tkd::fuzz::text(data, size), "fuzz.csv");
        int last = 0;
        for (const auto &r : rows) {
            if (r.line <= last)
                tkd::fuzz::fail("parseCsv: line numbers not increasing");
            last = r.line;
        }
    } catch (const tkd::Error &) { }
    return 0;
}
