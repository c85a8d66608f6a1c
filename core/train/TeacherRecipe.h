#pragma once

#include "core/data/BuiltinCorpus.h"
#include "core/data/NoisyDataset.h"
#include "core/features/FeatureConfig.h"
#include "core/models/TeacherKind.h"

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace tkd {

// How the shipped teacher is pretrained (`tkd teacher pretrain --recipe FILE`): one YAML file,
// resources/teachers/<name>.yaml. The fair rules of the method are built in, not configurable:
// the teacher learns from clip labels alone (the noisy construction's keyword windows are used
// only to SCORE its attention afterwards) and from its own built-in speakers, which start at
// corpus.first_speaker (default 100000), so it has heard no speaker of any experiment's corpus.
struct TeacherRecipe
{
    struct Stage
    {
        double lengthSec = 2.0; // clip length L of this stage (keyword at a random offset)
        int epochs = 1; // each epoch with fresh noise, placement and babble
        double lr = 2e-3; // one-cycle peak of this stage
        // Weight of the attention-focus term (TeacherTrainOptions::attentionFocus): a fair
        // pressure towards a concentrated rollout that reads no keyword window. 0: off.
        double focus = 0.0;
    };

    std::string name = "kws12-small";
    std::string description;
    uint64_t seed = 1; // initialisation and batch order
    BuiltinCorpusConfig corpus; // speakers, seed, first_speaker, fractions
    int unknownPerSpeaker = 2; // the 12-label task's "_unknown_" clips per speaker
    TeacherKind model = TeacherKind::Small; // a spectral kind: tiny | small
    std::map<std::string, int64_t> architecture; // fields over the preset: hidden, layers, ...
    NoisyConfig noise; // length_sec is set per stage
    FeatureConfig features; // the teacher's log-mel front end
    int batchSize = 32;
    double weightDecay = 0.01;
    std::vector<Stage> stages = { { 2.0, 6, 2e-3 }, { 8.0, 2, 1e-3 } };
    std::vector<double> evaluateLengthsSec = { 2.0, 4.0, 6.0, 8.0 };
    int threads = 0; // 0: every core

    TeacherRecipe();
    // Throws tkd::Error("<file>: <key>", reason) for unknown keys, wrong types and bad values.
    static TeacherRecipe load(const std::string &path);
    static TeacherRecipe fromYaml(const std::string &text, const std::string &source = "recipe");
    std::string toYaml() const;
    void validate() const; // tkd::Error("<key>", reason)
    std::string hash() const; // of the canonical YAML: provenance of the shipped weights
};

} // namespace tkd
