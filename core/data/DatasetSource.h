#pragma once

#include "core/data/BuiltinCorpus.h"
#include "core/data/Dataset.h"
#include "core/util/Progress.h"

#include <string>

namespace tkd {

// Where an experiment's data comes from: the one entry point the CLI, the studio and the
// trainer use to turn (kind, path, task) into a DatasetIndex.
struct DatasetSource
{
    enum class Kind { Builtin, SpeechCommands, Fsd50k, Folder, Noisy };

    Kind kind = Kind::Builtin;
    // Dataset folder. Builtin: the folder holding generated corpora (empty:
    // cacheRoot()/builtin-corpus).
    std::string path;
    // Keyword tasks: 12 (10 keywords + unknown + silence) or 35 (all words). Ignored for FSD50K
    // and folder-per-class sets.
    int task = 12;
    // Speech Commands "_silence_" clips per split; -1: about one keyword class's worth.
    int silenceClipsPerSplit = -1;
    // The built-in corpus to make / reuse (speakers, seed, ...).
    BuiltinCorpusConfig corpus;

    // "builtin", "speech-commands", "fsd50k", "folder", "noisy" (a set written by `tkd data noisy`)
    static const char *kindName(Kind kind);
    // Throws tkd::Error("dataset.kind", ...) listing the valid names.
    static Kind kindFromName(const std::string &name);
    // The built-in corpus and Speech Commands: the fixed keyword task, 12 or 35 labels (task).
    static bool isKeywordTask(Kind kind)
    {
        return kind == Kind::Builtin || kind == Kind::SpeechCommands;
    }
    // FSD50K: several labels per clip, scored by mAP.
    static bool isMultiLabel(Kind kind) { return kind == Kind::Fsd50k; }

    // Checks the fields without touching the disk; throws tkd::Error("dataset.<key>", ...).
    void validate() const;

    // Reads (for the built-in corpus: generates on first use) and indexes the dataset.
    // Throws tkd::Error naming the file or config key at fault; tkd::Cancelled on cancel.
    DatasetIndex open(const Progress &progress = {}) const;
};

} // namespace tkd
