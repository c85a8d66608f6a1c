// Training commands: `tkd teacher train`, `tkd cache`, `tkd train`, `tkd eval` and
// `tkd quickstart`, all thin front ends over core/train/Pipeline.
#include "Cli.h"
#include "TerminalProgress.h"

#include "core/data/DatasetSource.h"
#include "core/infer/LiveModel.h"
#include "core/infer/StreamEvaluation.h"
#include "core/train/ExperimentConfig.h"
#include "core/train/Pipeline.h"
#include "core/train/Quickstart.h"
#include "core/train/RunDirectory.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainObserver.h"
#include "core/util/BlasThreads.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <ctime>
#include <iostream>

namespace {

tkd::TrainControl *g_control = nullptr;

extern "C" void onInterrupt(int)
{
    // Only an atomic store: safe in a signal handler. The trainer checkpoints and stops.
    if (g_control)
        g_control->requestCancel();
}

std::vector<std::string> commandLine(const std::string &cmd, const std::vector<std::string> &argv)
{
    std::vector<std::string> c = {"tkd", cmd};
    c.insert(c.end(), argv.begin(), argv.end());
    return c;
}

void parseShard(const std::string &text, tkd::PipelineOptions &options)
{
    const auto slash = text.find('/');
    try {
        if (slash == std::string::npos)
            throw std::invalid_argument(text);
        options.shardIndex = std::stoi(text.substr(0, slash));
        options.shardCount = std::stoi(text.substr(slash + 1));
    } catch (const std::exception &) {
        throw tkd::Error("--shard", "'" + text + "' is not K/N (e.g. 0/2)");
    }
}

void addCommonOptions(tkd::cli::Args &args)
{
    args.option("config", "FILE", "experiment file (YAML)")
        .option("teacher", "CKPT", "use this teacher checkpoint instead of training one")
        .option("teacher-run", "DIR", "use the teachers of this earlier run folder (teacher-L<L>/best.safetensors)")
        .option("shard", "K/N", "train only student cells K, K+N, K+2N, ... of each length (0-based)", "0/1")
        .option("subsampling", "K", "tiny teacher: stack K log-mel frames (2 halves its cost at 8 s)", "1")
        .option("threads", "N", "torch threads (default: train.num_threads, else every core)", "0")
        .flag("verbose", "print every epoch, not only the improving ones");
}

int runPipeline(const std::string &cmd, const std::vector<std::string> &argv, tkd::PipelineOptions::Stop stop,
                const std::string &usage, const std::string &summary)
{
    tkd::cli::Args args(usage, summary);
    addCommonOptions(args);
    if (!args.parse(argv))
        return 0;
    if (!args.has("config") || args.get("config").empty())
        throw tkd::Error("--config", "an experiment file is required (tkd config init writes one)");
    tkd::ExperimentConfig config = tkd::ExperimentConfig::load(args.get("config"));
    if (args.getInt("threads") > 0)
        config.train.numThreads = args.getInt("threads");
    tkd::PipelineOptions options;
    options.commandLine = commandLine(cmd, argv);
    options.stopAfter = stop;
    options.teacherCheckpoint = args.get("teacher");
    options.teacherRunDir = args.get("teacher-run");
    parseShard(args.get("shard"), options);
    options.teacherSubsampling = args.getInt("subsampling");
    tkd::TrainControl control;
    g_control = &control;
    std::signal(SIGINT, onInterrupt);
    TerminalObserver observer(args.has("verbose"));
    tkd::Pipeline pipeline(config, options, &observer, &control);
    const tkd::PipelineResult result = pipeline.run();
    g_control = nullptr;
    std::cout << result.table() << "run: " << result.runDir << "\n";
    return 0;
}

int runTeacherTrain(const std::vector<std::string> &argv)
{
    return runPipeline("teacher train", argv, tkd::PipelineOptions::Stop::AfterTeacher,
                       "tkd teacher train --config FILE [options]",
                       "Trains (or fine-tunes) the experiment's teacher on its noisy dataset, reports validation "
                       "accuracy and rollout localisation with warnings, and writes <run>/teacher-L<L>/best.safetensors.");
}

int runCache(const std::vector<std::string> &argv)
{
    return runPipeline("cache", argv, tkd::PipelineOptions::Stop::AfterCache, "tkd cache --config FILE [--teacher CKPT]",
                       "Computes the teacher attention cache (rollout row + logits per training clip) once; an "
                       "unchanged teacher and dataset reuse it.");
}

int runTrain(const std::vector<std::string> &argv)
{
    return runPipeline("train", argv, tkd::PipelineOptions::Stop::AfterStudents, "tkd train --config FILE [options]",
                       "Runs the whole experiment: data, teacher, attention cache, every student x lambda x L x "
                       "seed; prints the results table and writes the run folder.");
}

// tkd eval RUN --stream: every trained student of the run over one long synthetic stream of the
// test split, through the streaming path of `tkd live`, on one core. Writes RUN/stream/<cell>.json
// (FA/h, misses, DET curve per keyword and pooled) and <cell>.det.csv.
int runStreamEval(const tkd::cli::Args &args, const tkd::RunDirectory &run)
{
    torch::set_num_threads(1);
    tkd::setBlasThreads(1);
    std::vector<tkd::LiveCell> cells = tkd::listLiveCells(run.path());
    if (!args.get("cell").empty()) {
        std::vector<tkd::LiveCell> picked;
        for (const auto &c : cells)
            if (c.name == args.get("cell"))
                picked.push_back(c);
        if (picked.empty())
            throw tkd::Error("--cell", "no trained student '" + args.get("cell") + "' in " + run.path());
        cells = picked;
    }
    tkd::StreamingOptions so;
    so.threshold = args.getDouble("threshold");
    so.hopSec = args.getDouble("hop");
    tkd::KeywordStreamOptions ko;
    ko.hours = args.getDouble("hours");
    ko.seed = args.getU64("seed");
    ko.snrDb = args.getDouble("snr");
    std::printf("building a %.2f h stream from the test split (seed %llu, SNR %g dB)...\n", ko.hours,
                (unsigned long long)ko.seed, ko.snrDb);
    const tkd::DatasetIndex index = run.config().datasetSource().open();
    const auto classes = tkd::runClassNames(run.path(), tkd::LiveModel::load(cells.front().checkpoint, false)->numClasses());
    const tkd::KeywordStream stream = tkd::buildKeywordStream(index, classes, ko);
    std::printf("stream: %.2f h, %zu keywords, %lld other words, %lld noise-only gaps\n\n", stream.hours(),
                stream.keywords.size(), (long long)stream.distractorWords, (long long)stream.noiseOnlyGaps);
    const std::string outDir = run.path() + "/stream";
    tkd::makeDirs(outDir);
    std::printf("%-40s %8s %8s %9s %9s\n", "student", "FA/h", "miss %", "x realtime", "threshold");
    for (const auto &cell : cells) {
        const auto model = tkd::LiveModel::load(tkd::resolveLiveModel(cell.checkpoint), false);
        const tkd::StreamEvaluation e = tkd::evaluateStream(model, stream, so);
        tkd::writeFileAtomic(outDir + "/" + cell.name + ".json", e.json());
        tkd::writeFileAtomic(outDir + "/" + cell.name + ".det.csv", e.detCsv());
        std::printf("%-40s %8.2f %8.1f %9.0fx %9.2f\n", cell.name.c_str(), e.atThreshold.faPerHour,
                    100.0 * e.atThreshold.missRate, e.realTimeFactor, e.threshold);
        if (args.has("per-keyword"))
            for (const auto &[k, p] : e.perKeywordAtThreshold)
                std::printf("  %-38s %8.2f %8.1f\n", k.c_str(), p.faPerHour, 100.0 * p.missRate);
    }
    std::printf("\nDET data (FA/h and miss rate over thresholds, per keyword and pooled): %s/<cell>.json, "
                "<cell>.det.csv\n", outDir.c_str());
    return 0;
}

int runEval(const std::vector<std::string> &argv)
{
    tkd::cli::Args args("tkd eval RUN [--json] [--stream [--hours H]]",
                        "Prints the results of a run folder (teacher and students: test accuracy / mAP and "
                        "attention localisation). --stream runs every student over a long stream built from the "
                        "test split (keywords at known times among other words and noise) through the streaming "
                        "path of tkd live, and reports false accepts per hour and miss rate, with DET data.");
    args.positional("run", "run folder")
        .flag("json", "print metrics.json as is")
        .flag("stream", "streaming evaluation: FA/h, misses, DET curves (RUN/stream/)")
        .option("hours", "H", "--stream: length of the stream", "1")
        .option("threshold", "P", "--stream: detection threshold on the smoothed posterior", "0.6")
        .option("hop", "SEC", "--stream: hop between student runs", "0.1")
        .option("seed", "N", "--stream: stream seed", "1")
        .option("snr", "DB", "--stream: speech over background noise", "20")
        .option("cell", "NAME", "--stream: only this student cell")
        .flag("per-keyword", "--stream: print FA/h and misses per keyword too");
    if (!args.parse(argv))
        return 0;
    const tkd::RunDirectory run = tkd::RunDirectory::open(args.get("run"));
    if (args.has("stream"))
        return runStreamEval(args, run);
    const nlohmann::json metrics = run.readMetrics();
    if (args.has("json")) {
        std::cout << metrics.dump(2) << "\n";
        return 0;
    }
    const tkd::PipelineResult result = tkd::PipelineResult::fromJson(metrics);
    std::cout << "run: " << run.path() << " (" << run.config().name << ")"
              << (tkd::RunDirectory::inUse(run.path()) ? "  [still running]" : "")
              << (result.cancelled ? "  [cancelled]" : "") << "\n"
              << result.table();
    return 0;
}

int runQuickstart(const std::vector<std::string> &argv)
{
    tkd::cli::Args args("tkd quickstart [options]",
                        "The method end to end in minutes on a laptop CPU: the built-in keyword corpus, keywords "
                        "hidden in 8 s of noise (the regime where temporal KD shows), a tiny wav2vec 2.0 teacher "
                        "(or the oracle when it does not fit the budget), and TC-ResNet8 trained with lambda 0 "
                        "and 0.25. Prints accuracy and localisation for the teacher and the students.");
    args.option("speakers", "N", "corpus speakers (12 clips each; 80% train)", "300")
        .option("length", "SEC", "clip length L", "8")
        .option("teacher", "KIND", "tiny | oracle | auto (tiny if it fits --budget)", "auto")
        .option("teacher-epochs", "N", "tiny teacher epochs", "6")
        .option("epochs", "N", "student epochs", "30")
        .option("budget", "SEC", "time allowed for the tiny teacher (auto)", "240")
        .option("seed", "N", "student seed", "1")
        .option("runs", "DIR", "where the run folder goes", "runs")
        .option("threads", "N", "torch threads (0: every core)", "0")
        .flag("verbose", "print every epoch");
    if (!args.parse(argv))
        return 0;
    tkd::QuickstartSettings q;
    q.speakers = args.getInt("speakers");
    q.lengthSec = args.getDouble("length");
    q.teacher = args.get("teacher");
    q.teacherEpochs = args.getInt("teacher-epochs");
    q.epochs = args.getInt("epochs");
    q.budgetSec = args.getDouble("budget");
    q.seed = args.getU64("seed");
    q.runsDir = args.get("runs");
    q.threads = args.getInt("threads");
    const tkd::ExperimentConfig c = q.config();
    const tkd::PipelineOptions options = q.options(commandLine("quickstart", argv));
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    tkd::TrainControl control;
    g_control = &control;
    std::signal(SIGINT, onInterrupt);
    TerminalObserver observer(args.has("verbose"));
    tkd::Pipeline pipeline(c, options, &observer, &control);
    const tkd::PipelineResult result = pipeline.run();
    g_control = nullptr;

    const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
    std::cout << "\n" << result.table();
    std::printf("\nwall %s, CPU %s (%d torch threads); run folder %s\n", tkd::cli::formatDuration(wall).c_str(),
                tkd::cli::formatDuration(cpu).c_str(), torch::get_num_threads(), result.runDir.c_str());
    return 0;
}

const tkd::cli::Registrar regTeacher("teacher train", "train or fine-tune the experiment's teacher", runTeacherTrain);
const tkd::cli::Registrar regCache("cache", "compute the teacher attention cache", runCache);
const tkd::cli::Registrar regTrain("train", "run an experiment: teacher, cache, students", runTrain);
const tkd::cli::Registrar regEval("eval", "print a run's results", runEval);
const tkd::cli::Registrar regQuick("quickstart", "the method end to end in minutes (built-in corpus, 8 s)", runQuickstart);

} // namespace
