#pragma once

#include "core/data/SpeechActivity.h"

#include <string>
#include <vector>

namespace tkd {

// What makes a take usable, in one place for `tkd record` and the studio's recording panel.
struct TakeCheckOptions
{
    double padSec = 0.15; // kept before and after the detected word
    double tooQuietDb = -40.0; // the word's RMS below this (dBFS): "too quiet"
    float clipLevel = 0.99f; // |sample| at or above this counts as clipped
    int clippedSamples = 4; // this many clipped samples: "clipping"
    double edgeSec = 0.03; // a word closer than this to the take's start or end may be cut off
    SpeechActivityOptions vad = vadForTakes();

    // Two-word keywords ("front left") pause longer between words than one word's syllables.
    static SpeechActivityOptions vadForTakes()
    {
        SpeechActivityOptions o;
        o.mergeGapSec = 0.35;
        return o;
    }
};

// One recorded take, checked and trimmed to the spoken word (16 kHz mono).
struct KeywordTake
{
    std::vector<float> raw; // as captured
    std::vector<float> trimmed; // the word plus padding; empty when no speech was found
    double onsetSec = -1.0; // the word inside `raw`
    double offsetSec = -1.0;
    double peakDb = -200.0; // loudest sample, dBFS
    double speechRmsDb = -200.0; // RMS over the word, dBFS
    bool speechFound = false;
    bool tooQuiet = false;
    bool clipping = false;
    bool cutOff = false; // the word touches the start or end of the take
    std::vector<std::string> warnings; // human-readable, one per problem

    // A take worth saving: speech was found. Quiet, clipped or cut-off takes are saved only when
    // the user insists (the warnings say why they may hurt).
    bool usable() const { return speechFound; }
    double trimmedSec() const;
};

// Level check and trim: the energy detector (SpeechActivity) finds the word, the take keeps it
// with padSec either side, and the level is judged on the word alone (not on the silence around
// it). A pure function of the samples.
KeywordTake checkTake(std::vector<float> samples, const TakeCheckOptions &options = {});

} // namespace tkd
