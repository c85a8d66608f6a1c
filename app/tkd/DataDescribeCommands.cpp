// `tkd data describe` (what a dataset holds) and `tkd data features` (fill the feature cache).
#include "Cli.h"
#include "TerminalProgress.h"

#include "core/data/DatasetDescription.h"
#include "core/data/DatasetSource.h"
#include "core/data/FeatureCache.h"
#include "core/data/NoisyDataset.h"
#include "core/features/FeatureExtractor.h"
#include "core/util/Error.h"

#include <chrono>
#include <cstdio>
#include <iostream>

namespace {

void declareSource(tkd::cli::Args &args)
{
    args.option("kind", "KIND", "builtin | speech-commands | fsd50k | folder | noisy", "builtin")
        .option("path", "DIR", "dataset folder (builtin: the corpus cache folder, optional)")
        .option("task", "N", "keyword task: 12 or 35 labels", "12")
        .option("silence", "N", "Speech Commands _silence_ clips per split (-1: automatic)", "-1");
}

tkd::DatasetSource sourceFrom(const tkd::cli::Args &args)
{
    tkd::DatasetSource src;
    src.kind = tkd::DatasetSource::kindFromName(args.get("kind"));
    src.path = args.get("path");
    src.task = args.getInt("task");
    src.silenceClipsPerSplit = args.getInt("silence");
    return src;
}

int runDescribe(const std::vector<std::string> &argv)
{
    tkd::cli::Args args("tkd data describe --kind KIND --path DIR [options]",
                        "Lists a dataset's classes, clips per split and per class, and clip durations.");
    declareSource(args);
    args.option("sample", "N", "read the durations of at most N clips (0: all)", "2000")
        .flag("json", "print JSON instead of a table");
    if (!args.parse(argv))
        return 0;
    const tkd::DatasetSource src = sourceFrom(args);
    const int64_t sample = args.getInt("sample");
    if (sample < 0)
        throw tkd::Error("--sample", "must be >= 0");
    tkd::cli::TerminalProgress bar;
    const auto index = src.open(bar.progress());
    const auto d = tkd::DatasetDescription::describe(index, sample, bar.progress());
    bar.finish();
    std::cout << (args.has("json") ? d.toJson() : d.toTable());
    return 0;
}

int runFeatures(const std::vector<std::string> &argv)
{
    tkd::cli::Args args("tkd data features --kind KIND --path DIR [options]",
                        "Computes the student features of every clip (or of every noisy item) into the "
                        "feature cache, so training never computes them again.");
    declareSource(args);
    args.option("features", "KIND", "mfcc | logmel", "mfcc")
        .option("length", "SEC", "noisy construction: clip length L in seconds (0: the clean clips)", "0")
        .option("noise-seed", "N", "noisy construction seed", "1")
        .option("cache", "DIR", "feature cache folder (default: <cache root>/features)");
    if (!args.parse(argv))
        return 0;
    const tkd::DatasetSource src = sourceFrom(args);
    tkd::FeatureConfig cfg;
    cfg.kind = tkd::FeatureConfig::kindFromName(args.get("features"));
    const tkd::FeatureExtractor extractor(cfg);
    tkd::FeatureCache cache(args.get("cache"));
    cache.setMessageHandler([](const std::string &m) { std::cerr << "tkd data features: " << m << "\n"; });

    tkd::cli::TerminalProgress bar;
    const auto index = src.open(bar.progress());
    const double length = args.getDouble("length");
    const auto t0 = std::chrono::steady_clock::now();
    auto report = [&](const tkd::CachedFeatures &f, const std::string &what) {
        bar.finish();
        std::printf("%-12s %6lld items  %8lld frames x %lld  %s  %s\n", what.c_str(), (long long)f.size(),
                    (long long)f.frames.size(0), (long long)f.featureDim(),
                    f.fromCache ? "cached  " : "computed", f.path.c_str());
    };
    if (length <= 0.0) {
        report(cache.get(tkd::FeatureCache::datasetSource(index), extractor, bar.progress()), index.name);
    } else {
        tkd::NoisyConfig noisy;
        noisy.lengthSec = length;
        noisy.seed = args.getU64("noise-seed");
        auto ds = std::make_shared<tkd::NoisyDataset>(index, noisy);
        for (tkd::Split s : {tkd::Split::Train, tkd::Split::Validation, tkd::Split::Test}) {
            tkd::FeatureCache::Source source;
            source.contentHash = ds->contentHash();
            source.extraKey = tkd::splitName(s);
            source.count = int64_t(ds->size(s));
            source.waveform = [ds, s](int64_t i) { return ds->item(s, size_t(i)).samples; };
            report(cache.get(source, extractor, bar.progress()), tkd::splitName(s));
        }
    }
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("features: %s\nin %.1f s\n", cfg.canonicalString().c_str(), secs);
    return 0;
}

const tkd::cli::Registrar describeReg("data describe", "classes, splits and durations of a dataset",
                                      runDescribe);
const tkd::cli::Registrar featuresReg("data features", "precompute a dataset's features into the cache",
                                      runFeatures);

} // namespace
