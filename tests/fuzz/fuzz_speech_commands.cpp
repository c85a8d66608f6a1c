// Speech Commands split lists: SpeechCommandsDataset::load on a small tree whose
// validation_list.txt and testing_list.txt are the input, cut at the first '|' byte.
#include "core/data/SpeechCommandsDataset.h"

#include "tests/fuzz/FuzzCommon.h"

#include <sys/stat.h>

namespace {

const std::string &root()
{
    static const std::string dir = [] {
        const std::string d = tkd::fuzz::scratchDir() + "/speech_commands";
        ::mkdir(d.c_str(), 0700);
        for (const char *word : { "yes", "no", "marvin", "_background_noise_" })
            ::mkdir((d + "/" + word).c_str(), 0700);
        for (const char *clip : { "yes/0a7c2a8d_nohash_0.wav", "yes/0a7c2a8d_nohash_1.wav",
                 "no/1b2c3d4e_nohash_0.wav", "marvin/ffd2ba2f_nohash_0.wav" })
            tkd::fuzz::writeFile(d + "/" + clip, std::string("RIFF"));
        tkd::fuzz::writeFile(d + "/yes/readme.txt", std::string("not a clip"));
        return d;
    }();
    return dir;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string input = tkd::fuzz::text(data, size);
    const size_t cut = input.find('|');
    const std::string validation = input.substr(0, cut);
    const std::string testing = cut == std::string::npos ? std::string() : input.substr(cut + 1);
    tkd::fuzz::writeFile(root() + "/validation_list.txt", validation);
    tkd::fuzz::writeFile(root() + "/testing_list.txt", testing);
    for (int labels : { 12, 35 }) {
        try {
            tkd::SpeechCommandsOptions options;
            options.labelCount = labels;
            options.silenceClipsPerSplit = 0;
            const tkd::DatasetIndex index = tkd::SpeechCommandsDataset::load(root(), options);
            if (index.clips.size() != 4)
                tkd::fuzz::fail(
                    "SpeechCommandsDataset::load: clip count", std::to_string(index.clips.size()));
            for (const auto &c : index.clips)
                for (int l : c.labels)
                    if (l < 0 || size_t(l) >= index.classes.size())
                        tkd::fuzz::fail("SpeechCommandsDataset::load: label out of range");
        } catch (const tkd::Error &) { }
    }
    return 0;
}
