#pragma once

#include "core/data/Dataset.h"
#include "core/util/Progress.h"

#include <string>

namespace tkd {

// Any folder-per-class collection: root/<class>/**/<audio>. If root holds split folders
// (train/ plus validation/ (or val/, valid/) and/or test/), each has the class folders and
// defines the split; otherwise every clip's split is drawn from a hash of its relative path
// (80% train, 10% validation, 10% test), stable across machines and when files are added.
// Audio: .wav .flac .ogg .oga .mp3 .aif .aiff .au (whatever libsndfile decodes). Hidden and
// _-prefixed folders are skipped.
class FolderDataset
{
public:
    // Throws tkd::Error naming the folder: missing root, no class folders, no audio at all, or a
    // root that mixes split folders with class folders.
    static DatasetIndex load(const std::string &root, const Progress &progress = {});

    // The split a relative path ("dog/bark_01.wav") gets without split folders.
    static Split hashSplit(const std::string &relativePath);
};

} // namespace tkd
