// tkd grid: the experiment's students x lambdas x lengths x seeds, optionally split over several
// worker processes, tabulated the paper's way (Markdown, CSV, JSON).

#include "ChildProcess.h"
#include "Cli.h"
#include "GridSlurm.h"
#include "TerminalProgress.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/experiment/GridShape.h"
#include "core/train/GridFolder.h"
#include "core/train/GridTable.h"
#include "core/train/Pipeline.h"
#include "core/train/RunDirectory.h"
#include "core/train/TrainControl.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

namespace {

int cellsDone(const std::string &runDir)
{
    if (runDir.empty())
        return 0;
    try {
        const auto j = nlohmann::json::parse(tkd::readFile(runDir + "/metrics.json"));
        int n = 0;
        for (const auto &l : j.at("lengths"))
            n += int(l.at("cells").size());
        return n;
    } catch (const std::exception &) {
        return 0; // not written yet, or being replaced
    }
}

struct Worker
{
    pid_t pid = -1;
    std::string log;
    std::string runDir;
    int status = -1; // exit status once finished
};

// append: a resumed shard adds to its log, which keeps the lines of its first life.
pid_t spawnWorker(
    const std::vector<std::string> &argv, const std::string &logPath, bool append = false)
{
    const int fd = ::open(
        logPath.c_str(), O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC) | O_CLOEXEC, 0644);
    if (fd < 0)
        throw tkd::Error(
            logPath, std::string("cannot write the worker log: ") + std::strerror(errno));
    tkd::cli::SpawnOptions so;
    so.outputFd = fd;
    try {
        const pid_t pid = tkd::cli::spawnProcess(argv, so);
        ::close(fd);
        return pid;
    } catch (...) {
        ::close(fd);
        throw;
    }
}

// A grid folder (grid.json, shard logs) stands for its run folders (core/train/GridFolder.h).
// Each run counts once, however it was named (relative, absolute, by its grid and by itself).
std::vector<std::string> expandGridFolders(const std::vector<std::string> &dirs)
{
    std::vector<std::string> out;
    std::set<std::string> seen;
    const auto add = [&](const std::string &dir) {
        std::error_code ec;
        const std::string key = std::filesystem::weakly_canonical(dir, ec).string();
        if (seen.insert(ec ? dir : key).second)
            out.push_back(dir);
    };
    for (const std::string &d : dirs) {
        if (!tkd::isGridFolder(d)) {
            add(d);
            continue;
        }
        const tkd::GridFolderRuns grid = tkd::gridFolderRuns(d);
        for (const std::string &note : grid.pending)
            std::cerr << "tkd: " << d << ": " << note << "\n";
        for (const std::string &r : grid.runs)
            add(r);
        if (grid.runs.empty())
            throw tkd::Error(d, "has no results yet (tkd grid --slurm: see the job logs in it)");
    }
    return out;
}

int tabulate(const std::vector<std::string> &dirs, const std::string &out)
{
    const tkd::GridTable table = tkd::GridTable::fromRunDirs(expandGridFolders(dirs));
    table.write(out);
    std::cout << table.markdown() << "\ntables: " << out << "/grid.{md,csv,json}\n";
    return 0;
}

struct GridOptions
{
    std::string config;
    int jobs = 1;
    int threads = 0;
    std::string teacherRun;
    int subsampling = 1;
    std::string out;
    bool table = false;
    std::vector<std::string> runDirs; // --table's arguments
    std::string resume; // a grid folder to continue
    bool verbose = false;
    bool slurm = false;
    SlurmGridArgs slurmArgs; // --slurm's own options; tasks: --jobs when given
};

// Stage 2's end: waits for the workers, printing progress (cells done: the workers' and
// `doneBefore` kept from before a resume) and forwarding Ctrl-C, then writes one table over `dirs`
// and the workers' runs. A grid with failed workers still gets its table of what finished, then
// fails.
int finishGrid(std::vector<Worker> workers, int totalCells, int doneBefore,
    std::chrono::steady_clock::time_point t0, std::vector<std::string> dirs, const std::string &out)
{
    std::fflush(stdout);
    int lastDone = -1;
    bool forwarded = false;
    while (!workers.empty()) {
        int running = 0, done = doneBefore;
        for (Worker &w : workers) {
            if (w.status < 0) {
                int st = 0;
                const pid_t r = waitpid(w.pid, &st, WNOHANG);
                if (r == w.pid)
                    w.status = WIFEXITED(st) ? WEXITSTATUS(st)
                                             : 128 + (WIFSIGNALED(st) ? WTERMSIG(st) : 0);
                else
                    ++running;
            }
            if (w.runDir.empty())
                w.runDir = tkd::announcedRunFolder(w.log);
            done += cellsDone(w.runDir);
        }
        if (tkd::cli::InterruptGuard::interrupted()
            && !forwarded) { // Ctrl-C: each worker checkpoints and stops
            for (const Worker &w : workers)
                if (w.status < 0)
                    kill(w.pid, SIGINT);
            forwarded = true;
        }
        if (done != lastDone) {
            const double el
                = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
            std::printf("[grid] %d/%d student runs done, %s elapsed\n", done, totalCells,
                tkd::cli::formatDuration(el).c_str());
            std::fflush(stdout);
            lastDone = done;
        }
        if (!running)
            break;
        std::this_thread::sleep_for(std::chrono::milliseconds(500));
    }
    int failures = 0;
    for (const Worker &w : workers) {
        if (!w.runDir.empty())
            dirs.push_back(w.runDir);
        if (w.status != 0) {
            ++failures;
            std::fprintf(
                stderr, "[grid] worker exited with status %d; see %s\n", w.status, w.log.c_str());
        }
    }
    if (tkd::cli::InterruptGuard::interrupted())
        throw tkd::Cancelled();
    if (failures) {
        tabulate(dirs, out);
        throw tkd::Error("grid",
            std::to_string(failures) + " of " + std::to_string(workers.size())
                + " workers failed; tkd grid --resume continues them");
    }
    const double wall
        = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    std::printf("\ngrid wall time %s\n", tkd::cli::formatDuration(wall).c_str());
    return tabulate(dirs, out);
}

int resumeGrid(const GridOptions &o);

int runGrid(const GridOptions &o)
{
    if (o.table) {
        if (o.runDirs.empty())
            throw tkd::Error("--table", "give the run folders to tabulate");
        return tabulate(o.runDirs, o.out.empty() ? o.runDirs.front() : o.out);
    }
    if (!o.runDirs.empty())
        throw tkd::Error(
            o.runDirs.front(), "unexpected argument: run folders go with --table (see --help)");
    if (!o.resume.empty()) {
        if (!o.config.empty() || o.slurm)
            throw tkd::Error("--resume",
                "a grid resumes with its own config.yaml, on this machine: "
                "give neither --config nor --slurm");
        return resumeGrid(o);
    }
    if (o.config.empty())
        throw tkd::Error("--config", "an experiment file is required (tkd config init writes one)");
    if (o.slurm)
        return runSlurmGrid(o.config, o.teacherRun, o.subsampling, o.verbose, o.slurmArgs);
    const std::string &configPath = o.config;
    tkd::ExperimentConfig config = tkd::ExperimentConfig::load(configPath);
    const int jobs = o.jobs;
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    const int threads = o.threads > 0 ? o.threads
        : config.train.numThreads > 0 ? config.train.numThreads
                                      : cores;
    const auto t0 = std::chrono::steady_clock::now();

    // Stage 1 (in this process): data, teachers and attention caches; with --jobs 1 also the
    // students.
    tkd::PipelineOptions options;
    options.commandLine = tkd::cli::commandLine();
    options.teacherRunDir = o.teacherRun;
    options.teacherSubsampling = o.subsampling;
    options.stopAfter = jobs > 1 ? tkd::PipelineOptions::Stop::AfterCache
                                 : tkd::PipelineOptions::Stop::AfterStudents;
    config.train.numThreads = threads;
    tkd::TrainControl control;
    tkd::cli::InterruptGuard interrupt(&control); // Ctrl-C: checkpoint and stop, workers too
    TerminalObserver observer(o.verbose);
    tkd::Pipeline pipeline(config, options, &observer, &control);
    const tkd::PipelineResult home = pipeline.run();
    std::vector<std::string> dirs = { home.runDir };

    if (jobs > 1) {
        // Stage 2: N workers over the student cells, all reusing stage 1's teachers and caches.
        const std::string exe = tkd::cli::selfExe();
        const int perJob = std::max(1, threads / jobs);
        std::vector<Worker> workers(static_cast<size_t>(jobs));
        for (int k = 0; k < jobs; ++k) {
            Worker &w = workers[size_t(k)];
            w.log = home.runDir + "/shard-" + std::to_string(k) + ".log";
            std::vector<std::string> wargv = { exe, "train", "--config", configPath, "--shard",
                std::to_string(k) + "/" + std::to_string(jobs), "--threads", std::to_string(perJob),
                "--subsampling", std::to_string(options.teacherSubsampling) };
            if (config.teacher.kind != tkd::TeacherKind::Oracle) {
                wargv.push_back("--teacher-run");
                wargv.push_back(
                    options.teacherRunDir.empty() ? home.runDir : options.teacherRunDir);
            }
            if (o.verbose)
                wargv.push_back("--verbose");
            w.pid = spawnWorker(wargv, w.log);
            std::printf("[grid] worker %d/%d (pid %d, %d thread%s): log %s\n", k, jobs, int(w.pid),
                perJob, perJob == 1 ? "" : "s", w.log.c_str());
        }
        return finishGrid(workers, int(tkd::studentCellCount(config)), 0, t0, dirs,
            o.out.empty() ? home.runDir : o.out);
    }
    return finishGrid({}, 0, 0, t0, dirs, o.out.empty() ? home.runDir : o.out);
}

// tkd grid --resume GRID: stage 1 again (its finished teachers and caches are loaded, not made
// again), then every shard that has not finished continues from its last checkpoints, the
// finished ones kept as they are; one table over them all, as the grid would have written it.
int resumeGrid(const GridOptions &o)
{
    const std::string &grid = o.resume;
    if (!tkd::isGridFolder(grid) || !std::filesystem::is_regular_file(grid + "/config.yaml"))
        throw tkd::Error(grid,
            "is not the folder of a `tkd grid` (config.yaml and shard-K.log files); resume a "
            "single run with tkd train --resume");
    if (std::filesystem::is_regular_file(grid + "/slurm.json"))
        throw tkd::Error(grid,
            "is a Slurm grid: resubmit its job array (slurm-students.sh), then tkd grid --table");
    const auto t0 = std::chrono::steady_clock::now();
    const std::vector<tkd::GridShard> shards = tkd::gridShards(grid);
    const int jobs = std::max<int>(1, int(shards.size()));
    const tkd::ExperimentConfig config = tkd::RunDirectory::open(grid).config();

    tkd::PipelineOptions options;
    options.commandLine = tkd::cli::commandLine();
    options.resumeRunDir = grid;
    options.stopAfter = shards.empty() ? tkd::PipelineOptions::Stop::AfterStudents
                                       : tkd::PipelineOptions::Stop::AfterCache;
    tkd::TrainControl control;
    tkd::cli::InterruptGuard interrupt(&control);
    TerminalObserver observer(o.verbose);
    tkd::Pipeline pipeline(config, options, &observer, &control);
    const tkd::PipelineResult home = pipeline.run();
    std::vector<std::string> dirs = { home.runDir };

    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    const int threads = config.train.numThreads > 0 ? config.train.numThreads : cores;
    const std::string exe = tkd::cli::selfExe();
    std::vector<Worker> workers;
    int kept = 0; // cells of the shards that had finished
    for (const tkd::GridShard &shard : shards) {
        const std::string K = std::to_string(shard.index) + "/" + std::to_string(jobs);
        std::vector<std::string> argv;
        if (shard.runDir.empty()) { // never started: as the grid would have started it
            argv = { exe, "train", "--config", grid + "/config.yaml", "--shard", K, "--threads",
                std::to_string(std::max(1, threads / jobs)) };
        } else if (tkd::PipelineResult::read(shard.runDir).complete()) {
            std::printf("[grid] shard %s: %s finished before the resume, kept as it is\n",
                K.c_str(), shard.runDir.c_str());
            dirs.push_back(shard.runDir);
            kept += cellsDone(shard.runDir);
            continue;
        } else { // its own config (threads included) and its last checkpoints
            argv = { exe, "train", "--resume", shard.runDir, "--shard", K };
        }
        if (config.teacher.kind != tkd::TeacherKind::Oracle) { // the grid's teachers, as before
            argv.push_back("--teacher-run");
            argv.push_back(grid);
        }
        if (o.verbose)
            argv.push_back("--verbose");
        Worker w;
        w.log = shard.log;
        w.runDir = shard.runDir; // resolved beside the grid; "" for a shard never started
        w.pid = spawnWorker(argv, w.log, true);
        std::printf(
            "[grid] shard %s resumed (pid %d): log %s\n", K.c_str(), int(w.pid), w.log.c_str());
        workers.push_back(w);
    }
    return finishGrid(
        workers, int(tkd::studentCellCount(config)), kept, t0, dirs, o.out.empty() ? grid : o.out);
}

const tkd::cli::Registrar regGrid("grid",
    "students x lambdas x lengths x seeds, tabulated like the paper",
    "Runs the experiment's whole grid (students x kd.lambdas x grid.lengths_sec x grid.seeds) and "
    "writes the "
    "paper's kind of table - mean and spread over seeds, the best lambda of each student marked - "
    "as grid.md, "
    "grid.csv and grid.json. With --jobs N the teachers and their attention caches are made once, "
    "then N "
    "worker processes (tkd train --shard K/N) share the student cells, each with threads/N cores; "
    "their logs "
    "are shard-K.log in the grid folder. With --slurm the same two stages are Slurm jobs on a "
    "shared filesystem: a teacher job, then a job array of tkd train --shard K/N tasks (N: --jobs, "
    "else one per student cell of a length) that waits for it; --dry-run prints the scripts and "
    "sbatch commands. --table RUN_DIR [RUN_DIR ...] only re-tabulates finished run folders; a grid "
    "folder stands for its runs, the shards its shard-K.log files name included. --resume GRID "
    "continues a grid that was stopped (Ctrl-C, a killed worker, a machine that went away).",
    [](CLI::App &app) {
        auto o = std::make_shared<GridOptions>();
        app.add_option("--config", o->config, "experiment file (YAML)");
        app.add_option(
               "--jobs", o->jobs, "worker processes for the student cells (1: all in this process)")
            ->capture_default_str()
            ->check(CLI::Range(1, 64));
        app.add_option("--threads", o->threads,
               "torch threads in all (default: train.num_threads, else every core)")
            ->capture_default_str()
            ->check(CLI::NonNegativeNumber);
        app.add_option(
            "--teacher-run", o->teacherRun, "reuse the teachers of this earlier run folder");
        app.add_option("--subsampling", o->subsampling,
               "tiny teacher: stack K log-mel frames (2 halves its cost at 8 s)")
            ->capture_default_str();
        app.add_option("--out", o->out, "where the tables go (default: the grid's own run folder)");
        app.add_flag(
            "--table", o->table, "tabulate the run folders given as arguments instead of training");
        app.add_option(
            "run_dirs", o->runDirs, "with --table: run folders (or grid folders) to tabulate");
        app.add_option("--resume", o->resume,
            "continue this grid folder: its finished shards are kept, the others continue from "
            "their last checkpoints, and the table is written again");
        app.add_flag("--verbose", o->verbose, "print every epoch");
        app.add_flag("--slurm", o->slurm,
            "submit the grid to Slurm (sbatch): a teacher job, then a student job array");
        tkd::SlurmOptions &s = o->slurmArgs.slurm;
        s.cpusPerTask = 0; // not given: train.num_threads, else 1 (GridSlurm.cpp)
        CLI::Option *slurmOnly[] = {
            app.add_option("--partition", s.partition, "--slurm: partition(s) for both jobs"),
            app.add_option("--time", s.time, "--slurm: time limit of each job (e.g. 2:00:00)"),
            app.add_option("--cpus-per-task", s.cpusPerTask,
                   "--slurm: cores (and torch threads) of each job (default: train.num_threads, "
                   "else 1)")
                ->check(CLI::Range(1, 4096)),
            app.add_flag("--dry-run", o->slurmArgs.dryRun,
                "--slurm: print the scripts and sbatch commands; create and submit nothing"),
        };
        for (CLI::Option *opt : slurmOnly)
            opt->needs("--slurm");
        CLI::Option *jobs = app.get_option("--jobs");
        CLI::Option *threads = app.get_option("--threads");
        return [o, jobs, threads] {
            if (o->slurm && jobs->count() > 0)
                o->slurmArgs.tasks = o->jobs;
            if (o->slurm && threads->count() > 0)
                throw tkd::Error(
                    "--threads", "with --slurm, each job's threads are --cpus-per-task");
            return runGrid(*o);
        };
    });

} // namespace
