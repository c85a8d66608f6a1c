// Training commands: `tkd teacher train`, `tkd cache`, `tkd train`, `tkd eval` and
// `tkd quickstart`, all thin front ends over core/train/Pipeline.
#include "Cli.h"
#include "EvalDataCommand.h"
#include "RankLauncher.h"
#include "TerminalProgress.h"

#include "core/data/DatasetSource.h"
#include "core/dist/Distributed.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/infer/LiveModel.h"
#include "core/infer/StreamEvaluation.h"
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
#include <thread>

namespace {

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

struct PipelineCommandOptions
{
    std::string config;
    std::string teacher;
    std::string teacherRun;
    std::string resume;
    std::string shard = "0/1";
    int subsampling = 1;
    int threads = 0;
    int nproc = 1;
    bool verbose = false;
};

// Exit status of a run that ended with failed cells: not 0, so that scripts and schedulers see
// it, and not 1 (an error that stopped the command before or while it ran).
constexpr int kExitIncomplete = 3;

// Names every failed cell and why on stderr; the exit status for the run.
int reportIncomplete(const tkd::PipelineResult &result)
{
    if (result.complete())
        return 0;
    const auto failed = result.failedCells();
    std::cerr << "tkd: the run is incomplete: " << failed.size() << " cell(s) failed\n"
              << result.failureSummary();
    return kExitIncomplete;
}

// Runs the pipeline; stopped (Ctrl-C) or failed part-way, it names the command that continues.
tkd::PipelineResult runOrSayHowToResume(tkd::Pipeline &pipeline)
{
    try {
        return pipeline.run();
    } catch (const std::exception &) {
        if (!pipeline.runDir().empty())
            std::cerr << "tkd: the run folder keeps what was done; continue it with: tkd train "
                         "--resume "
                      << pipeline.runDir() << "\n";
        throw;
    }
}

tkd::cli::Run declarePipeline(CLI::App &app, tkd::PipelineOptions::Stop stop)
{
    auto o = std::make_shared<PipelineCommandOptions>();
    app.add_option("--config", o->config, "experiment file (YAML)");
    app.add_option("--teacher", o->teacher, "use this teacher checkpoint instead of training one");
    app.add_option("--teacher-run", o->teacherRun,
        "use the teachers of this earlier run folder (teacher-L<L>/best.safetensors)");
    app.add_option("--resume", o->resume,
        "continue this stopped or killed run folder: finished cells are kept, the others continue "
        "from their last checkpoints (the run's own config.yaml is the experiment)");
    app.add_option("--shard", o->shard,
           "train only student cells K, K+N, K+2N, ... of each length (0-based)")
        ->capture_default_str();
    app.add_option("--subsampling", o->subsampling,
           "tiny teacher: stack K log-mel frames (2 halves its cost at 8 s)")
        ->capture_default_str();
    app.add_option(
           "--threads", o->threads, "torch threads (default: train.num_threads, else every core)")
        ->capture_default_str()
        ->check(CLI::NonNegativeNumber);
    app.add_flag("--verbose", o->verbose, "print every epoch, not only the improving ones");
    app.add_option("--nproc", o->nproc,
           "data-parallel ranks on this machine (torch.distributed, Gloo): the students train "
           "on N processes sharing the threads, train.batch_size being the global batch; under "
           "srun or torchrun the ranks come from the environment instead")
        ->capture_default_str()
        ->check(CLI::Range(1, 256));
    return [o, stop] {
        if (o->config.empty() && o->resume.empty())
            throw tkd::Error("--config",
                "an experiment file is required (tkd config init writes one), or --resume RUN");
        tkd::ExperimentConfig config = o->config.empty()
            ? tkd::RunDirectory::open(o->resume).config()
            : tkd::ExperimentConfig::load(o->config);
        if (o->threads > 0)
            config.train.numThreads = o->threads;
        const tkd::Rendezvous rendezvous = tkd::Rendezvous::fromEnvironment();
        if (o->nproc > 1 && !rendezvous.distributed()) {
            const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
            const int total = config.train.numThreads > 0 ? config.train.numThreads : cores;
            return tkd::cli::launchLocalRanks(
                o->nproc, std::max(1, total / o->nproc), tkd::cli::commandLine());
        }
        const std::shared_ptr<tkd::Distributed> dist = tkd::Distributed::join(rendezvous);
        tkd::PipelineOptions options;
        options.dist = dist.get();
        if (dist->active() && std::getenv("TKD_THREADS"))
            options.torchThreads = torch::get_num_threads(); // TKD_THREADS, as configureThreads set
        const bool quiet = dist->active() && !dist->isMain();
        options.commandLine = tkd::cli::commandLine();
        options.stopAfter = stop;
        options.teacherCheckpoint = o->teacher;
        options.teacherRunDir = o->teacherRun;
        options.resumeRunDir = o->resume;
        parseShard(o->shard, options);
        options.teacherSubsampling = o->subsampling;
        tkd::TrainControl control;
        tkd::cli::InterruptGuard interrupt(&control);
        TerminalObserver observer(o->verbose);
        tkd::TrainObserver silent; // ranks other than 0: their errors reach stderr as exceptions
        tkd::Pipeline pipeline(config, options, quiet ? &silent : &observer, &control);
        try {
            const tkd::PipelineResult result = runOrSayHowToResume(pipeline);
            if (quiet)
                return 0;
            std::cout << result.table() << "run: " << result.runDir << "\n";
            return reportIncomplete(result);
        } catch (const std::exception &e) {
            if (dist->active()) // the others' failing collectives then name this rank
                dist->announceFailure(e.what());
            throw;
        }
    };
}

struct EvalOptions
{
    std::string run;
    bool json = false;
    bool stream = false;
    double hours = 1.0;
    double threshold = 0.6;
    double hop = 0.1;
    uint64_t seed = 1;
    double snr = 20.0;
    std::string cell;
    bool perKeyword = false;
    std::string data; // --data KIND:PATH
    std::string split = "auto";
    bool noTeacher = false;
};

// tkd eval RUN --stream: every trained student of the run over one long synthetic stream of the
// test split, through the streaming path of `tkd live`, on one core. Writes RUN/stream/<cell>.json
// (FA/h, misses, DET curve per keyword and pooled) and <cell>.det.csv.
int runStreamEval(const EvalOptions &args, const tkd::RunDirectory &run)
{
    torch::set_num_threads(1);
    tkd::setBlasThreads(1);
    std::vector<tkd::LiveCell> cells = tkd::listLiveCells(run.path());
    if (!args.cell.empty()) {
        std::vector<tkd::LiveCell> picked;
        for (const auto &c : cells)
            if (c.name == args.cell)
                picked.push_back(c);
        if (picked.empty())
            throw tkd::Error("--cell", "no trained student '" + args.cell + "' in " + run.path());
        cells = picked;
    }
    tkd::StreamingOptions so;
    so.threshold = args.threshold;
    so.hopSec = args.hop;
    tkd::KeywordStreamOptions ko;
    ko.hours = args.hours;
    ko.seed = args.seed;
    ko.snrDb = args.snr;
    std::printf("building a %.2f h stream from the test split (seed %llu, SNR %g dB)...\n",
        ko.hours, (unsigned long long)ko.seed, ko.snrDb);
    const tkd::DatasetIndex index = run.config().datasetSource().open();
    const auto classes = tkd::runClassNames(
        run.path(), tkd::LiveModel::load(cells.front().checkpoint, false)->numClasses());
    const tkd::KeywordStream stream = tkd::buildKeywordStream(index, classes, ko);
    std::printf("stream: %.2f h, %zu keywords, %lld other words, %lld noise-only gaps\n\n",
        stream.hours(), stream.keywords.size(), (long long)stream.distractorWords,
        (long long)stream.noiseOnlyGaps);
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
        if (args.perKeyword)
            for (const auto &[k, p] : e.perKeywordAtThreshold)
                std::printf("  %-38s %8.2f %8.1f\n", k.c_str(), p.faPerHour, 100.0 * p.missRate);
    }
    std::printf(
        "\nDET data (FA/h and miss rate over thresholds, per keyword and pooled): %s/<cell>.json, "
        "<cell>.det.csv\n",
        outDir.c_str());
    return 0;
}

int runEval(const EvalOptions &o)
{
    const tkd::RunDirectory run = tkd::RunDirectory::open(o.run);
    if (o.stream && !o.data.empty())
        throw tkd::Error("--data", "cannot be combined with --stream");
    if (o.stream)
        return runStreamEval(o, run);
    if (!o.data.empty())
        return tkd::cli::runDatasetEval(
            { run.path(), o.data, o.split, o.cell, o.snr, o.json, o.noTeacher });
    const nlohmann::json metrics = run.readMetrics();
    if (o.json) {
        std::cout << metrics.dump(2) << "\n";
        return 0;
    }
    const tkd::PipelineResult result = tkd::PipelineResult::fromJson(metrics);
    const std::string mark = result.incompleteMark(tkd::RunDirectory::inUse(run.path()));
    std::cout << "run: " << run.path() << " (" << run.config().name << ")"
              << (mark.empty() ? "" : "  " + mark) << "\n"
              << result.table();
    if (!result.failedCells().empty())
        std::cout << "failed cells:\n" << result.failureSummary();
    return 0;
}

struct QuickstartOptions
{
    tkd::QuickstartSettings settings;
    std::string teacher = "pretrained"; // --teacher, checked against the three choices
    bool verbose = false;
};

int runQuickstart(const QuickstartOptions &o)
{
    tkd::QuickstartSettings q = o.settings;
    q.teacher = tkd::teacherKindFromName(o.teacher);
    const tkd::ExperimentConfig c = q.config();
    const tkd::PipelineOptions options = q.options(tkd::cli::commandLine());
    const auto t0 = std::chrono::steady_clock::now();
    const std::clock_t c0 = std::clock();
    tkd::TrainControl control;
    tkd::cli::InterruptGuard interrupt(&control);
    TerminalObserver observer(o.verbose);
    tkd::Pipeline pipeline(c, options, &observer, &control);
    const tkd::PipelineResult result = runOrSayHowToResume(pipeline);

    const double wall
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const double cpu = double(std::clock() - c0) / CLOCKS_PER_SEC;
    std::cout << "\n" << result.table();
    std::printf("\nwall %s, CPU %s (%d torch threads); run folder %s\n",
        tkd::cli::formatDuration(wall).c_str(), tkd::cli::formatDuration(cpu).c_str(),
        torch::get_num_threads(), result.runDir.c_str());
    return reportIncomplete(result);
}

const tkd::cli::Registrar regTeacher("teacher train", "train or fine-tune the experiment's teacher",
    "Trains (or fine-tunes) the experiment's teacher on its noisy dataset, reports validation "
    "accuracy and "
    "rollout localisation with warnings, and writes <run>/teacher-L<L>/best.safetensors.",
    [](CLI::App &app) { return declarePipeline(app, tkd::PipelineOptions::Stop::AfterTeacher); });
const tkd::cli::Registrar regCache("cache", "compute the teacher attention cache",
    "Computes the teacher attention cache (rollout row + logits per training clip) once; an "
    "unchanged "
    "teacher and dataset reuse it.",
    [](CLI::App &app) { return declarePipeline(app, tkd::PipelineOptions::Stop::AfterCache); });
const tkd::cli::Registrar regTrain("train", "run an experiment: teacher, cache, students",
    "Runs the whole experiment: data, teacher, attention cache, every student x lambda x L x seed; "
    "prints "
    "the results table and writes the run folder.",
    [](CLI::App &app) { return declarePipeline(app, tkd::PipelineOptions::Stop::AfterStudents); });
const tkd::cli::Registrar regEval("eval", "print a run's results, or score it on any dataset",
    "Prints the results of a run folder (teacher and students: test accuracy / mAP and attention "
    "localisation). "
        + tkd::cli::evalDataHelp(),
    [](CLI::App &app) {
        auto o = std::make_shared<EvalOptions>();
        app.add_option("run", o->run, "run folder")->required();
        app.add_flag("--json", o->json, "print metrics.json as is (--data: the evaluation)");
        app.add_flag("--stream", o->stream,
            "streaming evaluation: every student over a long stream of the test split through the "
            "streaming path of tkd live; FA/h, misses, DET curves (RUN/stream/)");
        app.add_option("--hours", o->hours, "--stream: length of the stream")
            ->capture_default_str()
            ->check(CLI::Range(0.001, 1000.0));
        app.add_option("--threshold", o->threshold,
               "--stream: detection threshold on the smoothed posterior")
            ->capture_default_str()
            ->check(CLI::Range(0.0, 1.0));
        app.add_option("--hop", o->hop, "--stream: hop between student runs (s)")
            ->capture_default_str()
            ->check(CLI::Range(0.001, 10.0));
        app.add_option("--seed", o->seed, "--stream: stream seed")->capture_default_str();
        app.add_option("--snr", o->snr,
               "--stream: speech over the stream's background noise; --data: over the noise a "
               "clip is placed in (dB)")
            ->capture_default_str()
            ->check(CLI::Range(-10.0, 80.0));
        app.add_option("--cell", o->cell, "--stream, --data: only this student cell");
        app.add_option("--data", o->data,
            "score on this dataset: folder:DIR, speech-commands:DIR, builtin[:EXPERIMENT.yaml], or "
            "noisy:KIND[:PATH] (see above)");
        app.add_option("--split", o->split,
               "--data: test | validation | train | all | auto (the test split of the run's own "
               "data, every clip of any other)")
            ->capture_default_str()
            ->check(CLI::IsMember({ "auto", "test", "validation", "train", "all" }));
        app.add_flag("--no-teacher", o->noTeacher, "--data: students only");
        app.add_flag(
            "--per-keyword", o->perKeyword, "--stream: print FA/h and misses per keyword too");
        return [o] { return runEval(*o); };
    });
const tkd::cli::Registrar regQuick("quickstart",
    "the method end to end in minutes (built-in corpus, 8 s)",
    "The method end to end in minutes on a laptop CPU: the built-in keyword corpus, keywords "
    "hidden in 8 s of noise (the regime where temporal KD shows), the pretrained wav2vec 2.0 "
    "teacher shipped with TKD Studio, and TC-ResNet8 trained with lambda 0 and 0.25. Prints "
    "accuracy and localisation for the teacher and the students.",
    [](CLI::App &app) {
        auto o = std::make_shared<QuickstartOptions>();
        tkd::QuickstartSettings &q = o->settings;
        app.add_option("--speakers", q.speakers, "corpus speakers (12 clips each; 80% train)")
            ->capture_default_str()
            ->check(CLI::PositiveNumber);
        app.add_option("--length", q.lengthSec, "clip length L")
            ->capture_default_str()
            ->check(CLI::PositiveNumber);
        app.add_option("--teacher", o->teacher,
               "pretrained (shipped) | oracle (the keyword's true window: upper bound / ablation) "
               "| "
               "tiny (from scratch)")
            ->capture_default_str()
            ->check(CLI::IsMember({ "pretrained", "oracle", "tiny" }));
        app.add_option("--teacher-epochs", q.teacherEpochs, "tiny teacher epochs")
            ->capture_default_str()
            ->check(CLI::NonNegativeNumber);
        app.add_option("--epochs", q.epochs, "student epochs")
            ->capture_default_str()
            ->check(CLI::PositiveNumber);
        app.add_option("--seed", q.seed, "student seed")->capture_default_str();
        app.add_option("--runs", q.runsDir, "where the run folder goes")->capture_default_str();
        app.add_option("--threads", q.threads, "torch threads (0: every core)")
            ->capture_default_str()
            ->check(CLI::NonNegativeNumber);
        app.add_flag("--verbose", o->verbose, "print every epoch");
        return [o] { return runQuickstart(*o); };
    });

} // namespace
