#include "core/adapt/AdaptationData.h"

#include "core/audio/AudioFile.h"
#include "core/data/BuiltinCorpus.h"
#include "core/data/NoisyDataset.h"
#include "core/data/RecordingSet.h"
#include "core/features/FeatureExtractor.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/ParallelFor.h"
#include "core/util/Rng.h"

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

namespace tkd {

namespace {

constexpr int kValidationVariants = 4; // noisy copies of each held-out take
constexpr int64_t kChunk = 64; // clips built and featurised at a time (bounds memory at L = 8 s)

int indexOf(const std::vector<std::string> &v, const std::string &s)
{
    const auto it = std::find(v.begin(), v.end(), s);
    return it == v.end() ? -1 : int(it - v.begin());
}

// Built-in corpus clips of the old classes: the run's own corpus when it is on disk (no
// synthesis), else a small one; either way only the first few speakers of each split.
DatasetIndex rehearsalIndex(const AdaptOptions &o, const ExperimentConfig &config,
    const std::vector<std::string> &classes, const Progress &progress)
{
    BuiltinCorpusConfig cc = config.corpusConfig();
    BuiltinCorpus corpus(cc, o.corpusDir);
    if (!corpus.isComplete()) {
        cc.speakers = std::min(cc.speakers, o.rehearsalSpeakers);
        corpus = BuiltinCorpus(cc, o.corpusDir);
    }
    progress.report("built-in corpus", 0, 1);
    corpus.ensure(progress);
    const bool twelve
        = indexOf(classes, kUnknownLabel) >= 0 || indexOf(classes, kSilenceLabel) >= 0;
    const DatasetIndex all = twelve ? corpus.index12() : corpus.index35();
    const size_t trainSpeakers = size_t(std::max(2, int(std::lround(o.rehearsalSpeakers * 0.8))));
    const size_t valSpeakers = size_t(std::max(2, int(std::lround(o.rehearsalSpeakers * 0.2))));
    std::map<Split, std::set<std::string>> kept;
    DatasetIndex idx;
    for (const ClipRef &c : all.clips) {
        if (c.split == Split::Test || c.labels.size() != 1)
            continue;
        const int label = indexOf(classes, all.classes[size_t(c.labels[0])]);
        if (label < 0)
            continue;
        auto &speakers = kept[c.split];
        const size_t limit = c.split == Split::Train ? trainSpeakers : valSpeakers;
        if (!speakers.count(c.speaker)) {
            if (speakers.size() >= limit)
                continue;
            speakers.insert(c.speaker);
        }
        ClipRef r = c;
        r.labels = { label };
        idx.clips.push_back(r);
    }
    return idx;
}

// Every 5th take of a word is held out (the last one when a word has 3 or 4 takes).
bool heldOut(size_t j, size_t count)
{
    if (count < 3)
        return false;
    return (j + 1) % 5 == 0 || (count < 5 && j + 1 == count);
}

// Items of one split through the noisy construction, random gain, then the student's front end.
AdaptSplit buildSplit(const NoisyDataset &noisy, Split split, const std::set<std::string> &takes,
    const AdaptOptions &o, const FeatureConfig &features, const Progress &progress)
{
    const FeatureExtractor extractor(features);
    const int64_t n = int64_t(noisy.size(split));
    std::vector<torch::Tensor> feats;
    std::vector<int64_t> targets;
    std::vector<uint8_t> recorded;
    const std::string stage = std::string("adaptation clips (") + splitName(split) + ")";
    for (int64_t first = 0; first < n; first += kChunk) {
        progress.throwIfCancelled();
        progress.report(stage, first, n);
        const int64_t count = std::min(kChunk, n - first);
        std::vector<NoisyItem> items(static_cast<size_t>(count));
        parallelFor(count, o.threads, [&](int64_t i) {
            NoisyItem it = noisy.item(split, size_t(first + i));
            // A level anywhere in +-gainDb: users speak softly and loudly, near and far.
            Rng rng({ o.seed, 0x4741494eULL /* GAIN */, uint64_t(split), uint64_t(first + i) });
            const float g = float(std::pow(10.0, rng.uniform(-o.gainDb, o.gainDb) / 20.0));
            for (float &x : it.samples)
                x = std::clamp(x * g, -1.0f, 1.0f);
            items[size_t(i)] = std::move(it);
        });
        torch::Tensor wave = torch::empty({ count, int64_t(noisy.lengthSamples()) }, torch::kFloat);
        for (int64_t i = 0; i < count; ++i) {
            const NoisyItem &it = items[size_t(i)];
            std::copy(it.samples.begin(), it.samples.end(), wave[i].data_ptr<float>());
            targets.push_back(it.labels.at(0));
            recorded.push_back(takes.count(it.sourcePath) ? 1 : 0);
        }
        feats.push_back(extractor.compute(wave));
    }
    progress.report(stage, n, n);
    AdaptSplit s;
    s.features = torch::cat(feats, 0);
    s.targets = torch::tensor(targets, torch::kLong);
    s.recorded = torch::tensor(std::vector<int64_t>(recorded.begin(), recorded.end()), torch::kLong)
                     .to(torch::kBool);
    return s;
}

} // namespace

AdaptData buildAdaptData(const AdaptOptions &o, const ExperimentConfig &config, double windowSec,
    const std::vector<std::string> &oldClasses, const Progress &progress)
{
    const RecordingSet set(o.recordings);
    std::error_code ec;
    if (!std::filesystem::is_directory(o.recordings, ec))
        throw Error(o.recordings, "no such recordings folder");
    const std::vector<RecordedTake> takes = set.allTakes();
    if (takes.empty())
        throw Error(o.recordings,
            "holds no recordings (expected <word>/<take>.wav, as tkd record writes them)");
    AdaptData d;
    d.classes = oldClasses;
    std::map<std::string, std::vector<const RecordedTake *>> byWord;
    Sha256 hash;
    for (const RecordedTake &t : takes) {
        RecordingSet::checkWord(t.word, t.path);
        if (!(t.seconds > 0.0))
            throw Error(t.path, "cannot be read as audio (delete it or record it again)");
        byWord[t.word].push_back(&t);
        hash.update(t.word + "/" + t.name + "|" + std::to_string(t.seconds) + "\n");
    }
    d.recordingsHash = hash.hexDigest();
    d.takes = int64_t(takes.size());
    for (const auto &[word, list] : byWord)
        if (indexOf(oldClasses, word) < 0)
            d.newWords.push_back(word); // byWord is sorted: so are the new words
    d.classes.insert(d.classes.end(), d.newWords.begin(), d.newWords.end());

    DatasetIndex index = rehearsalIndex(o, config, d.classes, progress);
    index.name = "adaptation";
    index.root = o.recordings;
    index.classes = d.classes;
    int64_t rehearsalTrain = 0, trainTakes = 0;
    for (const ClipRef &c : index.clips)
        rehearsalTrain += c.split == Split::Train;
    for (const auto &[word, list] : byWord)
        for (size_t j = 0; j < list.size(); ++j)
            trainTakes += !heldOut(j, list.size());
    d.variantsPerTake = o.variantsPerTake > 0
        ? o.variantsPerTake
        : int(std::clamp<int64_t>((rehearsalTrain + 2 * trainTakes - 1) / (2 * trainTakes), 8, 48));
    d.validationFromTrainingTakes = trainTakes == d.takes;
    std::set<std::string> takePaths;
    for (const auto &[word, list] : byWord)
        for (size_t j = 0; j < list.size(); ++j) {
            const bool val = heldOut(j, list.size());
            ClipRef c;
            c.path = list[j]->path;
            c.labels = { indexOf(d.classes, word) };
            c.word = word;
            c.speaker = "user";
            takePaths.insert(c.path);
            c.split = val ? Split::Validation : Split::Train;
            for (int k = 0; k < (val ? kValidationVariants : d.variantsPerTake); ++k)
                index.clips.push_back(c);
            if (d.validationFromTrainingTakes) {
                c.split = Split::Validation;
                for (int k = 0; k < kValidationVariants; ++k)
                    index.clips.push_back(c);
            }
        }
    NoisyConfig noisy = config.noisyConfig(windowSec);
    noisy.seed = o.seed;
    const NoisyDataset data(index, noisy);
    d.train = buildSplit(data, Split::Train, takePaths, o, config.features, progress);
    d.validation = buildSplit(data, Split::Validation, takePaths, o, config.features, progress);
    return d;
}

} // namespace tkd
