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

struct SourceOptions
{
    std::string kind = "builtin";
    std::string path;
    int task = 12;
    int silence = -1;

    tkd::DatasetSource source() const
    {
        tkd::DatasetSource src;
        src.kind = tkd::DatasetSource::kindFromName(kind);
        src.path = path;
        src.task = task;
        src.silenceClipsPerSplit = silence;
        return src;
    }
};

void declareSource(CLI::App &app, SourceOptions &o)
{
    app.add_option("--kind", o.kind, "builtin | speech-commands | fsd50k | folder | noisy")
        ->capture_default_str();
    app.add_option("--path", o.path, "dataset folder (builtin: the corpus cache folder, optional)");
    app.add_option("--task", o.task, "keyword task: 12 or 35 labels")->capture_default_str();
    app.add_option(
           "--silence", o.silence, "Speech Commands _silence_ clips per split (-1: automatic)")
        ->capture_default_str()
        ->check(CLI::Range(-1, 1000000));
}

struct DescribeOptions
{
    SourceOptions source;
    int sample = 2000;
    bool json = false;
};

int runDescribe(const DescribeOptions &o)
{
    const tkd::DatasetSource src = o.source.source();
    const int64_t sample = o.sample;
    tkd::cli::TerminalProgress bar;
    const auto index = src.open(bar.progress());
    const auto d = tkd::DatasetDescription::describe(index, sample, bar.progress());
    bar.finish();
    std::cout << (o.json ? d.toJson() : d.toTable());
    return 0;
}

struct FeaturesOptions
{
    SourceOptions source;
    std::string features = "mfcc";
    double length = 0.0;
    uint64_t noiseSeed = 1;
    std::string cache;
};

int runFeatures(const FeaturesOptions &o)
{
    const tkd::DatasetSource src = o.source.source();
    tkd::FeatureConfig cfg;
    cfg.kind = tkd::FeatureConfig::kindFromName(o.features);
    const tkd::FeatureExtractor extractor(cfg);
    tkd::FeatureCache cache(o.cache);
    cache.setMessageHandler(
        [](const std::string &m) { std::cerr << "tkd data features: " << m << "\n"; });

    tkd::cli::TerminalProgress bar;
    const auto index = src.open(bar.progress());
    const double length = o.length;
    const auto t0 = std::chrono::steady_clock::now();
    auto report = [&](const tkd::CachedFeatures &f, const std::string &what) {
        bar.finish();
        std::printf("%-12s %6lld items  %8lld frames x %lld  %s  %s\n", what.c_str(),
            (long long)f.size(), (long long)f.frames.size(0), (long long)f.featureDim(),
            f.fromCache ? "cached  " : "computed", f.path.c_str());
    };
    if (length <= 0.0) {
        report(cache.get(tkd::FeatureCache::datasetSource(index), extractor, bar.progress()),
            index.name);
    } else {
        tkd::NoisyConfig noisy;
        noisy.lengthSec = length;
        noisy.seed = o.noiseSeed;
        auto ds = std::make_shared<tkd::NoisyDataset>(index, noisy);
        for (tkd::Split s : { tkd::Split::Train, tkd::Split::Validation, tkd::Split::Test }) {
            tkd::FeatureCache::Source source;
            source.contentHash = ds->contentHash();
            source.extraKey = tkd::splitName(s);
            source.count = int64_t(ds->size(s));
            source.waveform = [ds, s](int64_t i) { return ds->item(s, size_t(i)).samples; };
            report(cache.get(source, extractor, bar.progress()), tkd::splitName(s));
        }
    }
    const double secs
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("features: %s\nin %.1f s\n", cfg.canonicalString().c_str(), secs);
    return 0;
}

const tkd::cli::Registrar describeReg("data describe", "classes, splits and durations of a dataset",
    "Lists a dataset's classes, clips per split and per class, and clip durations.",
    [](CLI::App &app) {
        auto o = std::make_shared<DescribeOptions>();
        declareSource(app, o->source);
        app.add_option("--sample", o->sample, "read the durations of at most N clips (0: all)")
            ->capture_default_str()
            ->check(CLI::NonNegativeNumber);
        app.add_flag("--json", o->json, "print JSON instead of a table");
        return [o] { return runDescribe(*o); };
    });
const tkd::cli::Registrar featuresReg("data features",
    "precompute a dataset's features into the cache",
    "Computes the student features of every clip (or of every noisy item) into the feature cache, "
    "so "
    "training never computes them again.",
    [](CLI::App &app) {
        auto o = std::make_shared<FeaturesOptions>();
        declareSource(app, o->source);
        app.add_option("--features", o->features, "mfcc | logmel")->capture_default_str();
        app.add_option("--length", o->length,
               "noisy construction: clip length L in seconds (0: the clean clips)")
            ->capture_default_str()
            ->check(CLI::NonNegativeNumber);
        app.add_option("--noise-seed", o->noiseSeed, "noisy construction seed")
            ->capture_default_str();
        app.add_option(
            "--cache", o->cache, "feature cache folder (default: <cache root>/features)");
        return [o] { return runFeatures(*o); };
    });

} // namespace
