#pragma once

// Private to core/data: Debian's flite voices as a second synthesiser family of the built-in
// corpus (issue 13: students that hear more than one synthesiser's voice). Called only in the
// corpus's synthesis child processes, like espeak-ng.

#include <string>
#include <vector>

namespace tkd::corpus {

// The flite voices the corpus draws from: Debian's flite1-dev ships these five US English voices
// (two diphone voices, kal at 8 and 16 kHz, and three clustergen voices). cmu_time_awb is left out:
// it only speaks times of day.
const std::vector<std::string> &fliteVoices();

struct FliteWave
{
    std::vector<float> samples;
    int sampleRate = 16000;
};

// Speaks one word. durationStretch > 1 speaks slower; f0Factor scales the voice's pitch (its
// intonation targets for the diphone voices, its F0 track for the clustergen ones).
FliteWave fliteWord(
    const std::string &voice, const std::string &word, double durationStretch, double f0Factor);

// "flite 2.2" (what the corpus hash records).
std::string fliteVersion();

} // namespace tkd::corpus
