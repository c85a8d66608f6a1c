#include "core/data/DatasetSource.h"

#include "core/data/BuiltinCorpus.h"
#include "core/data/FolderDataset.h"
#include "core/data/Fsd50kDataset.h"
#include "core/data/NoisyManifest.h"
#include "core/data/SpeechCommandsDataset.h"
#include "core/util/Error.h"

namespace tkd {

const char *DatasetSource::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Builtin:
        return "builtin";
    case Kind::SpeechCommands:
        return "speech-commands";
    case Kind::Fsd50k:
        return "fsd50k";
    case Kind::Folder:
        return "folder";
    case Kind::Noisy:
        return "noisy";
    }
    return "?";
}

DatasetSource::Kind DatasetSource::kindFromName(const std::string &name)
{
    for (Kind k : { Kind::Builtin, Kind::SpeechCommands, Kind::Fsd50k, Kind::Folder, Kind::Noisy })
        if (name == kindName(k))
            return k;
    throw Error("dataset.kind",
        "unknown dataset kind '" + name
            + "' (expected builtin, speech-commands, fsd50k, folder or noisy)");
}

void DatasetSource::validate() const
{
    if ((kind == Kind::Builtin || kind == Kind::SpeechCommands) && task != 12 && task != 35)
        throw Error(
            "dataset.task", "must be 12 or 35 for keyword data, not " + std::to_string(task));
    if (kind != Kind::Builtin && path.empty())
        throw Error("dataset.path", std::string("a ") + kindName(kind) + " dataset needs a folder");
    if (kind == Kind::Builtin)
        corpus.validate();
    if (silenceClipsPerSplit < -1)
        throw Error("dataset.silence_per_split", "must be -1 (automatic) or >= 0");
}

DatasetIndex DatasetSource::open(const Progress &progress) const
{
    validate();
    switch (kind) {
    case Kind::Builtin: {
        BuiltinCorpus corpus(this->corpus, path);
        corpus.ensure(progress);
        return task == 12 ? corpus.index12() : corpus.index35();
    }
    case Kind::SpeechCommands: {
        SpeechCommandsOptions options;
        options.labelCount = task;
        options.silenceClipsPerSplit = silenceClipsPerSplit;
        return SpeechCommandsDataset::load(path, options, progress);
    }
    case Kind::Fsd50k:
        return Fsd50kDataset::load(path, progress);
    case Kind::Folder:
        return FolderDataset::load(path, progress);
    case Kind::Noisy:
        return readNoisyManifest(path);
    }
    throw Error("dataset.kind", "unknown dataset kind");
}

} // namespace tkd
