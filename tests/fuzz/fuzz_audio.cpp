// Audio decode (WAV, AIFF, FLAC, Ogg... through libsndfile, with our own header checks):
// probeAudio and loadAudio (resampled to 16 kHz) on a file holding the input.
#include "core/audio/AudioFile.h"

#include "tests/fuzz/FuzzCommon.h"

#include <cmath>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const std::string path = tkd::fuzz::scratchDir() + "/clip.wav";
    tkd::fuzz::writeFile(path, data, size);
    try {
        const tkd::AudioInfo info = tkd::probeAudio(path);
        if (info.frames <= 0 || info.sampleRate <= 0 || info.channels <= 0)
            tkd::fuzz::fail("probeAudio: accepted a file without audio");
    } catch (const tkd::Error &) { }
    try {
        const std::vector<float> samples = tkd::loadAudio(path, tkd::kSampleRate);
        for (float s : samples)
            if (!std::isfinite(s))
                tkd::fuzz::fail("loadAudio: returned a non-finite sample");
    } catch (const tkd::Error &) { }
    return 0;
}
