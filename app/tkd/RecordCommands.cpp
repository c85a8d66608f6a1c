// Personal keywords on the command line: `tkd record` (takes of each keyword from a microphone,
// level-checked and trimmed, into a folder-per-class dataset) and `tkd adapt` (a trained student
// fine-tuned on them). Both are thin front ends over core/adapt.
#include "Cli.h"
#include "TerminalProgress.h"

#include "core/adapt/KeywordRecorder.h"
#include "core/adapt/StudentAdaptation.h"
#include "core/audio/PortAudioSession.h"
#include "core/data/RecordingSet.h"
#include "core/train/TrainControl.h"
#include "core/util/Error.h"
#include "core/util/Format.h"

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <iostream>
#include <set>

namespace {

struct RecordOptions
{
    std::string out;
    std::string words;
    int count = 5;
    std::string device;
    double seconds = 2.0;
    double countdown = 3.0;
    int retries = 2;
};

// "3" -> the name of device 3 of `tkd devices`; anything else is a name (or part of one).
std::string deviceName(const std::string &device)
{
    if (device.empty() || device == "default")
        return {};
    if (!std::all_of(device.begin(), device.end(), [](char c) { return c >= '0' && c <= '9'; }))
        return device;
    for (const auto &d : tkd::listAudioDevices())
        if (std::to_string(d.index) == device) {
            if (d.maxInputChannels <= 0)
                throw tkd::Error("--device", "device " + device + " (" + d.name + ") has no input");
            return d.name;
        }
    throw tkd::Error("--device", "no device with index " + device + " (see tkd devices)");
}

int runRecord(const RecordOptions &o)
{
    const std::vector<std::string> words = tkd::cli::splitList(o.words);
    if (words.empty())
        throw tkd::Error("--words", "required: the keywords to record, e.g. --words yes,no");
    std::set<std::string> seen;
    for (const auto &w : words) {
        tkd::RecordingSet::checkWord(w, "--words");
        if (!seen.insert(w).second)
            throw tkd::Error("--words", "'" + w + "' is listed twice");
    }
    const tkd::RecordingSet set(o.out);
    tkd::KeywordRecorderOptions ro;
    ro.capture.device = deviceName(o.device);
    ro.takeSec = o.seconds;
    ro.countdownSec = o.countdown;
    tkd::KeywordRecorder recorder(ro);
    tkd::TrainControl control;
    tkd::cli::InterruptGuard interrupt(&control);
    const tkd::Progress cancel = control.progress();

    tkd::KeywordRecorder::Callbacks cb;
    cb.onCountdown = [](int left) {
        std::cout << (left > 0 ? std::to_string(left) + "... " : std::string("speak!"))
                  << std::flush;
    };
    int missing = 0;
    for (const std::string &word : words) {
        for (int k = 1; k <= o.count; ++k) {
            bool saved = false;
            for (int attempt = 0; attempt <= o.retries && !saved; ++attempt) {
                std::cout << "'" << word << "' take " << k << "/" << o.count
                          << (attempt ? " (again)" : "") << ": " << std::flush;
                const tkd::KeywordTake take = recorder.record(cb, cancel.cancel);
                std::cout << "\n";
                for (const auto &w : take.warnings)
                    std::cout << "  warning: " << w << "\n";
                if (!take.usable())
                    continue;
                const std::string path = set.save(word, take.trimmed);
                std::cout << "  saved " << path << " (" << tkd::formatFixed(take.trimmedSec(), 2)
                          << " s; word at " << tkd::formatFixed(take.onsetSec, 2) << "-"
                          << tkd::formatFixed(take.offsetSec, 2) << " s of the take, "
                          << tkd::formatFixed(take.speechRmsDb, 0) << " dBFS RMS, peak "
                          << tkd::formatFixed(take.peakDb, 0) << " dBFS)\n";
                saved = true;
            }
            if (!saved) {
                ++missing;
                std::cout << "  no usable take of '" << word << "' after " << o.retries + 1
                          << " tries; moving on\n";
            }
        }
    }
    const auto takes = set.allTakes();
    std::cout << "recordings: " << o.out << " (" << takes.size() << " takes of "
              << set.words().size() << " words)\n";
    if (missing)
        throw tkd::Error(
            o.out, std::to_string(missing) + " take(s) could not be recorded (no speech found)");
    return 0;
}

struct AdaptCommandOptions
{
    tkd::AdaptOptions adapt;
    bool verbose = false;
};

std::string percent(double accuracy)
{
    return accuracy < 0.0 ? std::string("-") : tkd::formatPercent(accuracy); // < 0: not measured
}

int runAdapt(AdaptCommandOptions &co)
{
    tkd::AdaptOptions &o = co.adapt;
    o.commandLine = tkd::cli::commandLine();
    tkd::TrainControl control;
    tkd::cli::InterruptGuard interrupt(&control);
    TerminalObserver observer(co.verbose);
    const auto start = std::chrono::steady_clock::now();
    const tkd::AdaptResult r = tkd::StudentAdaptation(o, &observer, &control).run();
    const double wall
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    std::cout << "adapted:  " << r.checkpoint << "\n"
              << "from:     " << r.sourceCheckpoint << "\n"
              << "classes:  " << r.classes.size();
    if (!r.newWords.empty()) {
        std::cout << " (new:";
        for (const auto &w : r.newWords)
            std::cout << " " << w;
        std::cout << ")";
    }
    std::cout << "\n"
              << "data:     " << r.recordedTakes << " takes; " << r.trainClips << " training and "
              << r.validationClips << " validation clips\n"
              << "accuracy: held-out takes " << percent(r.recordedBefore) << " -> "
              << percent(r.recordedAfter) << ", built-in clips " << percent(r.rehearsalBefore)
              << " -> " << percent(r.rehearsalAfter) << "\n"
              << "time:     " << r.epochs << " epochs, " << tkd::formatFixed(wall, 1) << " s wall\n"
              << "use it:   tkd live --model " << r.runDir << " --device NAME\n";
    return 0;
}

const tkd::cli::Registrar recordReg("record",
    "record takes of your own keywords into a folder-per-class dataset",
    "Usage: tkd record --out DIR --words yes,no,... [--count K] [--device N] [--seconds S]\n\n"
    "For each keyword, records K takes from a microphone: a countdown, then S seconds of audio. "
    "Each take is level-checked (too quiet, clipping, cut off) and trimmed to the spoken word, "
    "then "
    "written atomically as DIR/<word>/<word>-NNN.wav (16 kHz mono, the layout tkd eval --data "
    "folder:DIR and tkd adapt read). Existing takes are kept; new ones get the next number. A take "
    "with no speech is tried again (--retries). Exits 0 when every take was saved, 1 on an error "
    "(no microphone, a keyword that cannot name a folder, takes without speech), 130 on Ctrl-C.",
    [](CLI::App &app) {
        auto o = std::make_shared<RecordOptions>();
        app.add_option("--out", o->out, "recordings folder (created if needed)")->required();
        app.add_option("--words", o->words, "keywords to record, comma-separated")->required();
        app.add_option("--count", o->count, "takes per keyword")
            ->check(CLI::Range(1, 1000))
            ->capture_default_str();
        app.add_option("--device", o->device,
            "capture device: index or name (part of it) from tkd devices; default: the system's");
        app.add_option("--seconds", o->seconds, "audio captured per take")
            ->check(CLI::Range(0.5, 30.0))
            ->capture_default_str();
        app.add_option("--countdown", o->countdown, "seconds before each take (0: none)")
            ->check(CLI::Range(0.0, 30.0))
            ->capture_default_str();
        app.add_option("--retries", o->retries, "tries again when a take has no speech")
            ->check(CLI::Range(0, 10))
            ->capture_default_str();
        return [o] { return runRecord(*o); };
    });

const tkd::cli::Registrar adaptReg("adapt",
    "fine-tune a trained student on your recordings (new keywords included)",
    "Usage: tkd adapt --model RUN_DIR[/students/CELL] --data DIR --out OUT [--seconds 60]\n\n"
    "Fine-tunes the student (as tkd live --model resolves it) on the takes in DIR (DIR/<word>/"
    "*.wav, as tkd record writes them), each placed several times in the run's own noisy "
    "construction (random offset, noise, SNR) with random gain, mixed with built-in corpus clips "
    "of the classes it knew so they keep working. A recorded word the student does not know "
    "becomes a new class: the output layer grows, old rows kept, each new row starting at their "
    "mean. Every 5th take of a word is held out for validation; the best epoch within the time "
    "budget is kept. OUT is a new run folder (config and teacher of the source, the adapted "
    "student, adaptation.json with source, recordings, settings and accuracies, events.jsonl) for "
    "tkd live --model OUT and the studio's Live view. Exits 0 when done, 1 on an error (it names "
    "the model, folder or option), 130 on Ctrl-C (OUT is then removed).",
    [](CLI::App &app) {
        auto o = std::make_shared<AdaptCommandOptions>();
        tkd::AdaptOptions &a = o->adapt;
        app.add_option("--model", a.model, "run folder, <run>/students/<cell> or a checkpoint")
            ->required();
        app.add_option("--data", a.recordings, "recordings folder: DIR/<word>/*.wav")->required();
        app.add_option("--out", a.outDir, "new folder for the adapted run")->required();
        app.add_option("--seconds", a.budgetSec, "wall-clock budget for all of it")
            ->check(CLI::Range(5.0, 86400.0))
            ->capture_default_str();
        app.add_option("--variants", a.variantsPerTake,
               "noisy copies of each training take (0: automatic, about a third of the data)")
            ->check(CLI::Range(0, 1000))
            ->capture_default_str();
        app.add_option("--rehearsal-speakers", a.rehearsalSpeakers,
               "built-in corpus speakers mixed in so the old classes keep working")
            ->check(CLI::Range(2, 1000))
            ->capture_default_str();
        app.add_option("--lr", a.lr, "Adam learning rate")
            ->check(CLI::Range(1e-6, 1.0))
            ->capture_default_str();
        app.add_option("--epochs", a.maxEpochs, "at most this many epochs")
            ->check(CLI::Range(1, 10000))
            ->capture_default_str();
        app.add_option("--seed", a.seed, "augmentation and batch order")->capture_default_str();
        app.add_flag("--verbose", o->verbose, "print every epoch");
        return [o] { return runAdapt(*o); };
    });

} // namespace
