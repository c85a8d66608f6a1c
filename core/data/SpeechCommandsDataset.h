#pragma once

#include "core/data/Dataset.h"
#include "core/util/Progress.h"

#include <cstdint>
#include <string>

namespace tkd {

struct SpeechCommandsOptions
{
    // 35: every word folder is a class. 12: keywords10() + "_unknown_" (all other words) +
    // "_silence_" (1 s segments cut from _background_noise_/).
    int labelCount = 12;
    // "_silence_" clips per split (12-label task only). -1: as many as the average keyword class
    // of that split, so silence is about as frequent as one keyword.
    int silenceClipsPerSplit = -1;
    uint64_t silenceSeed = 1; // where the silence segments are cut
};

// Google Speech Commands (v2, also reads v1): one folder per word of xxxx_nohash_N.wav files,
// _background_noise_/ with long noise recordings, validation_list.txt and testing_list.txt
// (paths relative to the root) naming the validation and test clips; everything else is train.
// The speaker is the hash prefix of the file name, so the official lists keep speakers apart.
class SpeechCommandsDataset
{
public:
    // Reads the folder (no audio decoding except probing the noise files' lengths for the
    // silence segments). Throws tkd::Error naming the file or folder at fault: missing root,
    // missing list file, a list line naming a file that does not exist, no word folders.
    static DatasetIndex load(const std::string &root, const SpeechCommandsOptions &options = {},
        const Progress &progress = {});

    // "3f1c9a2b_nohash_0.wav" -> "3f1c9a2b"; a name without "_nohash_" -> its stem up to the
    // first '_' (or the whole stem).
    static std::string speakerOf(const std::string &fileName);

    static constexpr const char *kNoiseFolder = "_background_noise_";
    static constexpr const char *kValidationList = "validation_list.txt";
    static constexpr const char *kTestingList = "testing_list.txt";
};

} // namespace tkd
