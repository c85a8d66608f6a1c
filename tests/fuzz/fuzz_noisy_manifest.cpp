// A noisy set's manifest.json: readNoisyManifest on a folder holding it and two clips.
#include "core/data/NoisyManifest.h"

#include "tests/fuzz/FuzzCommon.h"

#include <sys/stat.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const std::string dir = [] {
        const std::string d = tkd::fuzz::scratchDir() + "/noisy";
        ::mkdir(d.c_str(), 0700);
        ::mkdir((d + "/clips").c_str(), 0700);
        tkd::fuzz::writeFile(d + "/clips/a.wav", std::string("RIFF"));
        tkd::fuzz::writeFile(d + "/clips/b.wav", std::string("RIFF"));
        return d;
    }();
    tkd::fuzz::writeFile(dir + "/manifest.json", data, size);
    try {
        (void)tkd::isNoisyManifestFolder(dir);
        const tkd::DatasetIndex index = tkd::readNoisyManifest(dir);
        for (const auto &c : index.clips)
            for (int l : c.labels)
                if (l < 0 || size_t(l) >= index.classes.size())
                    tkd::fuzz::fail("readNoisyManifest: label out of range");
    } catch (const tkd::Error &) { }
    return 0;
}
