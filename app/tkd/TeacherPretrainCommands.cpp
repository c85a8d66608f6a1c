// `tkd teacher pretrain --recipe FILE`: pretrains the teacher that TKD Studio ships (or your own)
// on built-in speakers no experiment uses, stage by stage, resuming after finished stages.
#include "Cli.h"
#include "RankLauncher.h"
#include "TerminalProgress.h"

#include "core/dist/Distributed.h"
#include "core/train/TeacherPretrainer.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"

#include <torch/torch.h>

#include <cstdio>
#include <iostream>
#include <memory>
#include <thread>

namespace {

struct PretrainOptions
{
    std::string recipe;
    std::string out;
    int threads = 0;
    bool evaluateOnly = false;
    std::string teacher;
    bool verbose = false;
    int nproc = 1;
};

int runPretrain(const PretrainOptions &a)
{
    tkd::TeacherRecipe recipe = tkd::TeacherRecipe::load(a.recipe);
    if (a.threads > 0)
        recipe.threads = a.threads;
    const tkd::Rendezvous rendezvous = tkd::Rendezvous::fromEnvironment();
    if (a.nproc > 1 && !rendezvous.distributed()) {
        if (a.evaluateOnly)
            throw tkd::Error(
                "--nproc", "trains data-parallel; --evaluate-only runs in one process");
        const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
        const int total = recipe.threads > 0 ? recipe.threads : cores;
        return tkd::cli::launchLocalRanks(
            a.nproc, std::max(1, total / a.nproc), tkd::cli::commandLine());
    }
    const std::shared_ptr<tkd::Distributed> dist = tkd::Distributed::join(rendezvous);
    if (dist->active() && std::getenv("TKD_THREADS"))
        recipe.threads = torch::get_num_threads(); // each rank's share, as configureThreads set it
    if (recipe.threads > 0)
        torch::set_num_threads(recipe.threads);
    const std::string out = a.out.empty() ? "runs/teacher-" + recipe.name : a.out;
    tkd::TrainControl control;
    tkd::cli::InterruptGuard guard(&control);
    TerminalObserver observer(a.verbose);
    tkd::TrainObserver silent; // ranks other than 0: their errors reach stderr as exceptions
    const bool quiet = dist->active() && !dist->isMain();
    tkd::TeacherPretrainer pretrainer(recipe, out, quiet ? &silent : &observer, &control);
    pretrainer.setDistributed(dist.get());
    std::vector<tkd::TeacherPretrainResult::LengthFigures> figures;
    tkd::TeacherPretrainResult result;
    try {
        if (a.evaluateOnly) {
            figures
                = pretrainer.evaluate(a.teacher.empty() ? out + "/teacher.safetensors" : a.teacher);
        } else {
            result = pretrainer.run();
            figures = result.figures;
        }
    } catch (const tkd::Cancelled &) {
        std::cerr << "tkd teacher pretrain: interrupted; finished stages stay in " << out
                  << " and the same command resumes after them\n";
        return 130;
    } catch (const std::exception &e) {
        if (dist->active()) // the others' failing collectives then name this rank
            dist->announceFailure(e.what());
        throw;
    }
    if (quiet)
        return 0;
    std::printf("\n%-8s %10s %14s %10s\n", "L (s)", "test acc", "localisation", "uniform");
    for (const auto &f : figures)
        std::printf("%-8g %9.1f%% %14.3f %10.3f\n", f.lengthSec, 100.0 * f.accuracy, f.localisation,
            f.uniform);
    if (!a.evaluateOnly) {
        for (size_t k = 0; k < result.stageSeconds.size(); ++k)
            std::printf("stage %zu: %.0f s%s\n", k + 1, result.stageSeconds[k],
                result.stageResumed[k] ? " (finished earlier, resumed after it)" : "");
        std::printf(
            "teacher: %s (%.0f s this sitting)\n", result.teacherPath.c_str(), result.seconds);
    }
    return 0;
}

const tkd::cli::Registrar reg("teacher pretrain",
    "pretrain the shipped kind of teacher from a recipe (clip labels, unseen speakers)",
    "Pretrains a spectral wav2vec 2.0 teacher by a recipe (resources/teachers/*.yaml): clip labels "
    "only, on built-in speakers that no experiment uses, with fresh noise every epoch, stage by "
    "stage over clip lengths, in one process or data-parallel (--nproc, srun). A folder with "
    "finished "
    "stages resumes after them (with any number of ranks); stages appended to "
    "the recipe continue from them. Writes DIR/teacher.safetensors and DIR/report.json (accuracy "
    "and rollout localisation at every evaluate length on the recipe's held-out speakers).",
    [](CLI::App &app) {
        auto o = std::make_shared<PretrainOptions>();
        app.add_option("--recipe", o->recipe, "teacher recipe (YAML)")->required();
        app.add_option("--out", o->out, "output folder (default: runs/teacher-<recipe name>)");
        app.add_option(
               "--threads", o->threads, "torch threads (default: the recipe's, else every core)")
            ->check(CLI::Range(0, 256));
        app.add_flag("--evaluate-only", o->evaluateOnly,
            "only score DIR/teacher.safetensors (or --teacher) at the recipe's lengths");
        app.add_option(
            "--teacher", o->teacher, "with --evaluate-only: the teacher checkpoint to score");
        app.add_flag("--verbose", o->verbose, "print every epoch");
        app.add_option("--nproc", o->nproc,
               "data-parallel ranks on this machine (torch.distributed, Gloo): every stage trains "
               "on N processes sharing the threads, batch_size being the global batch; under srun "
               "or torchrun the ranks come from the environment instead")
            ->capture_default_str()
            ->check(CLI::Range(1, 256));
        return [o] { return runPretrain(*o); };
    });

} // namespace
