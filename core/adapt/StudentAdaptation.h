#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace tkd {

class TrainControl;
class TrainObserver;

// `tkd adapt` and the studio's Adapt button: fine-tune a trained student on the user's own
// recordings (RecordingSet's folder-per-class layout) mixed with built-in corpus clips, so the
// classes it knew keep working.
struct AdaptOptions
{
    std::string model; // --model: a run folder, <run>/students/<cell> or a checkpoint
    std::string recordings; // --data: <dir>/<word>/*.wav
    std::string outDir; // --out: the adapted run folder; must not exist (or be empty)
    double budgetSec = 60.0; // --seconds: wall clock for all of it (data, training, writing)
    int variantsPerTake = 0; // noisy, shifted, gain-varied copies of each take; 0: automatic
    int rehearsalSpeakers = 40; // built-in corpus speakers whose clips are mixed in
    double gainDb = 12.0; // each training clip's level varies by up to +-gainDb
    double lr = 1e-3;
    int batchSize = 32;
    int maxEpochs = 40;
    uint64_t seed = 1;
    int threads = 2; // clip building
    std::string corpusDir; // where built-in corpora live (empty: cacheRoot()/builtin-corpus)
    std::vector<std::string> commandLine; // for provenance

    void validate() const; // tkd::Error("adapt.<key>" or "--<option>", ...)
};

struct AdaptResult
{
    std::string runDir; // the adapted run folder (== AdaptOptions::outDir)
    std::string cellDir; // <runDir>/students/<cell>: what the Live view and tkd live open
    std::string checkpoint; // <cellDir>/best.safetensors
    std::string sourceCheckpoint;
    std::vector<std::string> classes; // the adapted student's, in logit order
    std::vector<std::string> newWords; // recorded words the source student did not know
    int64_t recordedTakes = 0;
    int64_t trainClips = 0;
    int64_t validationClips = 0;
    int epochs = 0;
    double seconds = 0.0;
    // Accuracy on the validation clips built from held-out takes (recorded) and on built-in
    // validation clips (rehearsal), before (the source student) and after adaptation.
    double recordedBefore = -1.0, recordedAfter = -1.0;
    double rehearsalBefore = -1.0, rehearsalAfter = -1.0;
};

// The adaptation, end to end:
//  1. the source student is loaded as the Live view loads it (resolveLiveModel);
//  2. classes: the source's, then each recorded word it does not know appended (sorted). The
//     classifier's output layer grows: old rows are kept, a new row starts as the mean of the old
//     ones (a neutral logit), so the student starts exactly where it was for old classes;
//  3. data: every take placed in the run's own noisy construction (NoisyDataset: random offset =
//     time shift, the run's noise kinds and SNR range) variantsPerTake times, random gain, plus
//     built-in corpus clips of the old classes (rehearsal). Every 5th take of a word (the last
//     when a word has 3-4) is held out for validation;
//  4. fine-tuning of all weights (Adam, task loss; no teacher: a_T of the takes would cost more
//     than the budget), epoch after epoch while the budget allows, keeping the best epoch on the
//     mean of recorded and rehearsal validation accuracy;
//  5. a run folder: the source's config.yaml and teacher, students/<cell>/best.safetensors (with
//     its class names), adaptation.json (source, recordings, settings, accuracies),
//     provenance.json and events.jsonl (so the Training view can follow it).
// A failed or cancelled adaptation removes the folder it created; the recordings and the source
// run are only read.
class StudentAdaptation
{
public:
    StudentAdaptation(AdaptOptions options, TrainObserver *observer = nullptr,
        const TrainControl *control = nullptr);

    // Throws tkd::Error naming the model, folder or option at fault; tkd::Cancelled on cancel.
    AdaptResult run();

private:
    AdaptOptions m_options;
    TrainObserver *m_observer;
    const TrainControl *m_control;
};

} // namespace tkd
