// `tkd data synth` (the built-in keyword corpus) and `tkd data noisy` (materialise the noisy
// construction for browsing).
#include "Cli.h"
#include "TerminalProgress.h"

#include "core/data/BuiltinCorpus.h"
#include "core/data/DatasetSource.h"
#include "core/data/NoisyDataset.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <map>

namespace {

void printSplitCounts(const char *title, const tkd::DatasetIndex &index)
{
    std::printf("  %-22s", title);
    for (tkd::Split s : { tkd::Split::Train, tkd::Split::Validation, tkd::Split::Test })
        std::printf(" %s %zu", tkd::splitName(s), index.clipsIn(s).size());
    std::printf("  (%zu classes)\n", index.classes.size());
}

struct SynthOptions
{
    std::string config; // an experiment file: its data.corpus settings (voices included)
    int speakers = tkd::BuiltinCorpusConfig {}.speakers;
    uint64_t seed = tkd::BuiltinCorpusConfig {}.seed;
    const CLI::Option *speakersOption = nullptr, *seedOption = nullptr; // given explicitly?
    std::string cache;
    bool force = false;
    bool verify = false;
};

int runSynth(const SynthOptions &o)
{
    tkd::BuiltinCorpusConfig cfg;
    if (!o.config.empty())
        cfg = tkd::ExperimentConfig::load(o.config).corpusConfig();
    if (o.config.empty() || o.speakersOption->count())
        cfg.speakers = o.speakers;
    if (o.config.empty() || o.seedOption->count())
        cfg.seed = o.seed;
    tkd::BuiltinCorpus corpus(cfg, o.cache);

    tkd::cli::TerminalProgress bar;
    const auto r = corpus.ensure(bar.progress(), o.force);
    bar.finish();
    if (o.verify) {
        corpus.verify(bar.progress());
        bar.finish();
    }

    std::map<tkd::Split, int> clips, speakers;
    std::map<tkd::VoiceFamily, int> families;
    for (const auto &c : corpus.clips())
        ++clips[c.split];
    for (const auto &s : corpus.speakers()) {
        ++speakers[s.split];
        ++families[s.family];
    }
    std::printf("built-in corpus: %s\n", corpus.folder().c_str());
    if (r.reused)
        std::printf("  reused the cached corpus (complete; --force regenerates)\n");
    else
        std::printf("  synthesised %d clips%s in %s (%.0f clips/s)\n", r.synthesised,
            r.kept ? (", kept " + std::to_string(r.kept) + " from an interrupted run").c_str() : "",
            tkd::cli::formatDuration(r.seconds).c_str(),
            r.seconds > 0 ? r.synthesised / r.seconds : 0.0);
    std::printf(
        "  %zu speakers (train %d, validation %d, test %d), %zu clips (train %d, validation %d, "
        "test %d)\n",
        corpus.speakers().size(), speakers[tkd::Split::Train], speakers[tkd::Split::Validation],
        speakers[tkd::Split::Test], corpus.clips().size(), clips[tkd::Split::Train],
        clips[tkd::Split::Validation], clips[tkd::Split::Test]);
    std::printf("  voices:");
    for (const auto &[family, n] : families)
        std::printf(" %s %d", tkd::voiceFamilyName(family).c_str(), n);
    std::printf(cfg.randomised() ? " (randomised: generator version 3)\n" : "\n");
    printSplitCounts("12-label task:", corpus.index12());
    printSplitCounts("35-label task:", corpus.index35());
    std::printf("  content hash %s\n", corpus.contentHash().substr(0, 16).c_str());
    if (o.verify)
        std::printf("  verified: every clip matches the manifest\n");
    return 0;
}

// "0:10" or "5" -> [lo, hi].
std::pair<double, double> parseRange(const std::string &text, const std::string &key)
{
    try {
        const auto colon = text.find(':');
        size_t used = 0;
        if (colon == std::string::npos) {
            const double v = std::stod(text, &used);
            if (used != text.size())
                throw std::invalid_argument(text);
            return { v, v };
        }
        const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
        size_t ua = 0, ub = 0;
        const double lo = std::stod(a, &ua), hi = std::stod(b, &ub);
        if (ua != a.size() || ub != b.size())
            throw std::invalid_argument(text);
        return { lo, hi };
    } catch (const std::logic_error &) {
        throw tkd::Error(key, "expected a value or a range LO:HI in dB, got '" + text + "'");
    }
}

struct NoisyOptions
{
    std::string config; // an experiment file: its corpus, room and channel settings
    const CLI::Option *speakersOption = nullptr;
    double length = 4.0;
    std::string source = "builtin";
    std::string kind;
    int task = 12;
    int speakers = tkd::BuiltinCorpusConfig {}.speakers;
    std::string snr = "0:10";
    std::string noise = "white,pink,brown";
    std::string noiseFolder;
    int babbleWords = tkd::NoisyConfig {}.babbleWords;
    double babbleGain = -10.0;
    uint64_t seed = 1;
    int limit = 0;
    std::string out;
};

int runNoisy(const NoisyOptions &o)
{
    tkd::NoisyConfig cfg;
    cfg.lengthSec = o.length;
    std::tie(cfg.snrDbMin, cfg.snrDbMax) = parseRange(o.snr, "--snr");
    cfg.kinds.clear();
    for (const auto &k : tkd::cli::splitList(o.noise))
        cfg.kinds.push_back(tkd::noiseKindFromName(k));
    cfg.noiseFolder = o.noiseFolder;
    cfg.babbleWords = o.babbleWords;
    cfg.babbleGainDb = o.babbleGain;
    cfg.seed = o.seed;
    tkd::BuiltinCorpusConfig corpusCfg;
    if (!o.config.empty()) { // the file's corpus voices and room / channel; the flags the rest
        const tkd::ExperimentConfig experiment = tkd::ExperimentConfig::load(o.config);
        cfg.roomChannel = experiment.data.noisy.roomChannel;
        corpusCfg = experiment.corpusConfig();
    }
    if (o.config.empty() || o.speakersOption->count())
        corpusCfg.speakers = o.speakers;
    cfg.validate(); // before any synthesis or loading
    const int limit = o.limit;
    const int task = o.task;

    tkd::cli::TerminalProgress bar;
    tkd::DatasetIndex index;
    const std::string &source = o.source;
    if (source == "builtin") {
        if (task != 12 && task != 35)
            throw tkd::Error("--task", "must be 12 or 35, not " + std::to_string(task));
        tkd::BuiltinCorpus corpus(corpusCfg);
        corpus.ensure(bar.progress());
        bar.finish();
        index = task == 12 ? corpus.index12() : corpus.index35();
    } else {
        namespace fs = std::filesystem;
        if (!fs::is_directory(source))
            throw tkd::Error("--source", "'" + source + "' is neither 'builtin' nor a folder");
        tkd::DatasetSource src;
        src.path = source;
        src.task = task;
        if (!o.kind.empty())
            src.kind = tkd::DatasetSource::kindFromName(o.kind);
        else
            src.kind = fs::exists(fs::path(source) / "_background_noise_")
                    || fs::exists(fs::path(source) / "validation_list.txt")
                ? tkd::DatasetSource::Kind::SpeechCommands
                : tkd::DatasetSource::Kind::Folder;
        index = src.open(bar.progress());
        bar.finish();
    }

    const auto t0 = std::chrono::steady_clock::now();
    const tkd::NoisyDataset noisy(index, cfg);
    noisy.materialise(o.out, bar.progress(), size_t(limit));
    bar.finish();
    const double secs
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    size_t written = 0;
    std::printf("noisy %s: L = %g s, SNR %g..%g dB, babble %d words at %g dB\n", index.name.c_str(),
        cfg.lengthSec, cfg.snrDbMin, cfg.snrDbMax, cfg.babbleWords, cfg.babbleGainDb);
    for (tkd::Split s : { tkd::Split::Train, tkd::Split::Validation, tkd::Split::Test }) {
        const size_t n = limit ? std::min(size_t(limit), noisy.size(s)) : noisy.size(s);
        written += n;
        std::printf("  %-10s %zu of %zu items\n", tkd::splitName(s), n, noisy.size(s));
    }
    std::printf("  wrote %zu WAVs + manifest.json to %s in %s\n", written, o.out.c_str(),
        tkd::cli::formatDuration(secs).c_str());
    std::printf("  content hash %s\n", noisy.contentHash().substr(0, 16).c_str());
    return 0;
}

const tkd::cli::Registrar regSynth("data synth", "synthesise the built-in keyword corpus",
    "Synthesises the built-in keyword corpus (the 35 Speech Commands words, many espeak-ng and, "
    "with data.corpus.flite_share in --config, flite speakers, split by speaker) into the cache, "
    "once; later runs reuse it and an interrupted run is completed.",
    [](CLI::App &app) {
        auto o = std::make_shared<SynthOptions>();
        app.add_option("--config", o->config,
            "experiment file whose data.corpus settings to use (flite voices, speed, pitch, "
            "vocal-tract length); --speakers and --seed still override");
        o->speakersOption
            = app.add_option("--speakers", o->speakers, "number of synthetic speakers")
                  ->capture_default_str()
                  ->check(CLI::PositiveNumber);
        o->seedOption = app.add_option("--seed", o->seed, "corpus seed (voices, splits, placement)")
                            ->capture_default_str();
        app.add_option(
            "--cache", o->cache, "folder holding corpora (default: <cache root>/builtin-corpus)");
        app.add_flag("--force", o->force, "regenerate even if a complete corpus is cached");
        app.add_flag(
            "--verify", o->verify, "reread every clip and check it against the manifest's SHA-256");
        return [o] { return runSynth(*o); };
    });
const tkd::cli::Registrar regNoisy("data noisy", "write noisy long clips with keyword positions",
    "Writes the noisy construction (each keyword at a random offset inside L seconds of noise, "
    "with "
    "babble) as WAV files plus manifest.json with every keyword's true onset/offset, for listening "
    "and "
    "browsing.",
    [](CLI::App &app) {
        auto o = std::make_shared<NoisyOptions>();
        app.add_option("--config", o->config,
            "experiment file whose corpus voices (data.corpus) and room / channel (reverb, "
            "channel, clipping, gain under data.noisy) to use; the other flags set the rest");
        app.add_option("--length", o->length, "clip length L in seconds")->capture_default_str();
        app.add_option("--source", o->source,
               "builtin, or a dataset folder (Speech Commands v2 or folder-per-class)")
            ->capture_default_str();
        app.add_option("--kind", o->kind,
            "dataset kind for a folder source: speech-commands | folder | fsd50k (default: "
            "guessed)");
        app.add_option("--task", o->task, "keyword task: 12 or 35 labels")->capture_default_str();
        o->speakersOption = app.add_option("--speakers", o->speakers, "built-in corpus speakers")
                                ->capture_default_str()
                                ->check(CLI::PositiveNumber);
        app.add_option("--snr", o->snr, "background SNR range in dB, LO:HI")->capture_default_str();
        app.add_option("--noise", o->noise, "noise kinds: white,pink,brown,babble,folder")
            ->capture_default_str();
        app.add_option("--noise-folder", o->noiseFolder,
            "noise recordings for the 'folder' kind (default: the dataset's)");
        app.add_option("--babble-words", o->babbleWords, "other words overlaid on every item")
            ->capture_default_str();
        app.add_option("--babble-gain", o->babbleGain,
               "level of each overlaid word relative to the keyword, dB")
            ->capture_default_str();
        app.add_option("--seed", o->seed, "noisy construction seed")->capture_default_str();
        app.add_option("--limit", o->limit, "write at most N items per split (0: all)")
            ->capture_default_str()
            ->check(CLI::NonNegativeNumber);
        app.add_option("--out", o->out, "output folder")->required();
        return [o] { return runNoisy(*o); };
    });

} // namespace
