// `tkd data synth` (the built-in keyword corpus) and `tkd data noisy` (materialise the noisy
// construction for browsing).
#include "Cli.h"
#include "TerminalProgress.h"

#include "core/data/BuiltinCorpus.h"
#include "core/data/DatasetSource.h"
#include "core/data/NoisyDataset.h"
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
    for (tkd::Split s : {tkd::Split::Train, tkd::Split::Validation, tkd::Split::Test})
        std::printf(" %s %zu", tkd::splitName(s), index.clipsIn(s).size());
    std::printf("  (%zu classes)\n", index.classes.size());
}

int runSynth(const std::vector<std::string> &argv)
{
    const tkd::BuiltinCorpusConfig defaults;
    tkd::cli::Args args("tkd data synth [options]",
                        "Synthesises the built-in keyword corpus (the 35 Speech Commands words, many "
                        "espeak-ng speakers, split by speaker) into the cache, once; later runs reuse it "
                        "and an interrupted run is completed.");
    args.option("speakers", "N", "number of synthetic speakers", std::to_string(defaults.speakers))
        .option("seed", "S", "corpus seed (voices, splits, placement)", std::to_string(defaults.seed))
        .option("cache", "DIR", "folder holding corpora (default: <cache root>/builtin-corpus)")
        .flag("force", "regenerate even if a complete corpus is cached")
        .flag("verify", "reread every clip and check it against the manifest's SHA-256");
    if (!args.parse(argv))
        return 0;
    tkd::BuiltinCorpusConfig cfg;
    cfg.speakers = args.getInt("speakers");
    cfg.seed = args.getU64("seed");
    tkd::BuiltinCorpus corpus(cfg, args.get("cache"));

    tkd::cli::TerminalProgress bar;
    const auto r = corpus.ensure(bar.progress(), args.has("force"));
    bar.finish();
    if (args.has("verify")) {
        corpus.verify(bar.progress());
        bar.finish();
    }

    std::map<tkd::Split, int> clips, speakers;
    for (const auto &c : corpus.clips())
        ++clips[c.split];
    for (const auto &s : corpus.speakers())
        ++speakers[s.split];
    std::printf("built-in corpus: %s\n", corpus.folder().c_str());
    if (r.reused)
        std::printf("  reused the cached corpus (complete; --force regenerates)\n");
    else
        std::printf("  synthesised %d clips%s in %s (%.0f clips/s)\n", r.synthesised,
                    r.kept ? (", kept " + std::to_string(r.kept) + " from an interrupted run").c_str() : "",
                    tkd::cli::formatDuration(r.seconds).c_str(),
                    r.seconds > 0 ? r.synthesised / r.seconds : 0.0);
    std::printf("  %zu speakers (train %d, validation %d, test %d), %zu clips (train %d, validation %d, "
                "test %d)\n",
                corpus.speakers().size(), speakers[tkd::Split::Train], speakers[tkd::Split::Validation],
                speakers[tkd::Split::Test], corpus.clips().size(), clips[tkd::Split::Train],
                clips[tkd::Split::Validation], clips[tkd::Split::Test]);
    printSplitCounts("12-label task:", corpus.index12());
    printSplitCounts("35-label task:", corpus.index35());
    std::printf("  content hash %s\n", corpus.contentHash().substr(0, 16).c_str());
    if (args.has("verify"))
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
            return {v, v};
        }
        const std::string a = text.substr(0, colon), b = text.substr(colon + 1);
        size_t ua = 0, ub = 0;
        const double lo = std::stod(a, &ua), hi = std::stod(b, &ub);
        if (ua != a.size() || ub != b.size())
            throw std::invalid_argument(text);
        return {lo, hi};
    } catch (const std::logic_error &) {
        throw tkd::Error(key, "expected a value or a range LO:HI in dB, got '" + text + "'");
    }
}

int runNoisy(const std::vector<std::string> &argv)
{
    const tkd::NoisyConfig defaults;
    tkd::cli::Args args("tkd data noisy --length SEC --out DIR [options]",
                        "Writes the noisy construction (each keyword at a random offset inside L seconds "
                        "of noise, with babble) as WAV files plus manifest.json with every keyword's "
                        "true onset/offset, for listening and browsing.");
    args.option("length", "SEC", "clip length L in seconds", "4")
        .option("source", "SRC", "builtin, or a dataset folder (Speech Commands v2 or folder-per-class)",
                "builtin")
        .option("kind", "KIND", "dataset kind for a folder source: speech-commands | folder | fsd50k "
                                "(default: guessed)")
        .option("task", "N", "keyword task: 12 or 35 labels", "12")
        .option("speakers", "N", "built-in corpus speakers", std::to_string(tkd::BuiltinCorpusConfig{}.speakers))
        .option("snr", "LO:HI", "background SNR range in dB", "0:10")
        .option("noise", "LIST", "noise kinds: white,pink,brown,babble,folder", "white,pink,brown")
        .option("noise-folder", "DIR", "noise recordings for the 'folder' kind (default: the dataset's)")
        .option("babble-words", "N", "other words overlaid on every item", std::to_string(defaults.babbleWords))
        .option("babble-gain", "DB", "level of each overlaid word relative to the keyword", "-10")
        .option("seed", "S", "noisy construction seed", "1")
        .option("limit", "N", "write at most N items per split (0: all)", "0")
        .option("out", "DIR", "output folder");
    if (!args.parse(argv))
        return 0;
    if (args.get("out").empty())
        throw tkd::Error("--out", "an output folder is required");

    tkd::NoisyConfig cfg;
    cfg.lengthSec = args.getDouble("length");
    std::tie(cfg.snrDbMin, cfg.snrDbMax) = parseRange(args.get("snr"), "--snr");
    cfg.kinds.clear();
    for (const auto &k : args.getList("noise"))
        cfg.kinds.push_back(tkd::noiseKindFromName(k));
    cfg.noiseFolder = args.get("noise-folder");
    cfg.babbleWords = args.getInt("babble-words");
    cfg.babbleGainDb = args.getDouble("babble-gain");
    cfg.seed = args.getU64("seed");
    cfg.validate(); // before any synthesis or loading
    const int limit = args.getInt("limit");
    if (limit < 0)
        throw tkd::Error("--limit", "must be >= 0");
    const int task = args.getInt("task");

    tkd::cli::TerminalProgress bar;
    tkd::DatasetIndex index;
    const std::string source = args.get("source");
    if (source == "builtin") {
        if (task != 12 && task != 35)
            throw tkd::Error("--task", "must be 12 or 35, not " + std::to_string(task));
        tkd::BuiltinCorpusConfig corpusCfg;
        corpusCfg.speakers = args.getInt("speakers");
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
        if (args.has("kind"))
            src.kind = tkd::DatasetSource::kindFromName(args.get("kind"));
        else
            src.kind = fs::exists(fs::path(source) / "_background_noise_") ||
                               fs::exists(fs::path(source) / "validation_list.txt")
                           ? tkd::DatasetSource::Kind::SpeechCommands
                           : tkd::DatasetSource::Kind::Folder;
        index = src.open(bar.progress());
        bar.finish();
    }

    const auto t0 = std::chrono::steady_clock::now();
    const tkd::NoisyDataset noisy(index, cfg);
    noisy.materialise(args.get("out"), bar.progress(), size_t(limit));
    bar.finish();
    const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();

    size_t written = 0;
    std::printf("noisy %s: L = %g s, SNR %g..%g dB, babble %d words at %g dB\n", index.name.c_str(),
                cfg.lengthSec, cfg.snrDbMin, cfg.snrDbMax, cfg.babbleWords, cfg.babbleGainDb);
    for (tkd::Split s : {tkd::Split::Train, tkd::Split::Validation, tkd::Split::Test}) {
        const size_t n = limit ? std::min(size_t(limit), noisy.size(s)) : noisy.size(s);
        written += n;
        std::printf("  %-10s %zu of %zu items\n", tkd::splitName(s), n, noisy.size(s));
    }
    std::printf("  wrote %zu WAVs + manifest.json to %s in %s\n", written, args.get("out").c_str(),
                tkd::cli::formatDuration(secs).c_str());
    std::printf("  content hash %s\n", noisy.contentHash().substr(0, 16).c_str());
    return 0;
}

const tkd::cli::Registrar regSynth("data synth", "synthesise the built-in keyword corpus", runSynth);
const tkd::cli::Registrar regNoisy("data noisy", "write noisy long clips with keyword positions",
                                   runNoisy);

} // namespace
