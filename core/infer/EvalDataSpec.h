#pragma once

#include "core/data/DatasetSource.h"

#include <string>
#include <vector>

namespace tkd {

// The data `tkd eval RUN --data KIND:PATH` scores a run on, as typed: a DatasetSource kind (the
// one name table) and a folder, optionally behind "noisy:" (the run's own noisy construction
// applied to that data at each model's clip length L). "builtin" alone is the run's own corpus;
// "builtin:EXPERIMENT.yaml" is that experiment's built-in corpus, and behind "noisy:" its clips as
// that experiment builds them (its noisy construction), so a run is scored on exactly the test
// clips of another experiment.
struct EvalDataSpec
{
    DatasetSource::Kind kind = DatasetSource::Kind::Folder;
    std::string path; // builtin: empty (the run's own corpus) or an experiment file
    bool noisy = false;
    std::string text; // as typed

    // "folder:DIR", "speech-commands:DIR", "builtin[:EXPERIMENT.yaml]", each optionally
    // "noisy:"-prefixed.
    // Throws tkd::Error("--data", ...) naming what is wrong and listing the kinds.
    static EvalDataSpec parse(const std::string &text);
    // The kinds accepted, for --help and messages: "folder, speech-commands, builtin".
    static std::string kindList();
    // A file-name-safe name: "folder-alsa-1a2b3c", "noisy-builtin" (the short hash of the
    // absolute folder keeps two folders of the same name apart).
    std::string slug() const;
};

// How the dataset's classes map onto the run's (matched by name, case-insensitive).
struct EvalClassMapping
{
    std::string datasetClass;
    std::string runClass; // empty: skipped (the run has no such class and no "_unknown_")
    int64_t clips = 0; // in the evaluated split(s)
};

// Maps every dataset class to a run class index: the same name, else "_unknown_" where the run
// has it, else -1 (skipped). Throws tkd::Error("--data", ...) when no dataset class matches a run
// class by name (everything would be skipped or unknown).
std::vector<int> mapClassesByName(const std::vector<std::string> &datasetClasses,
    const std::vector<std::string> &runClasses, const std::string &what);

// A clip made the length of a model's window, the honest way for clean recordings: centred
// (a clip longer than the window is cropped around its detected speech), over pink noise
// `snrDb` below the speech's RMS on the whole window, so neither the padding nor the clip is
// digital silence, which no training clip ever is. Deterministic from `seed`.
std::vector<float> placeInWindow(
    const std::vector<float> &clip, size_t windowSamples, double snrDb, uint64_t seed);

} // namespace tkd
