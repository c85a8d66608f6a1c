// `tkd teacher pretrain --recipe FILE`: pretrains the teacher that TKD Studio ships (or your own)
// on built-in speakers no experiment uses, stage by stage, resuming after finished stages.
#include "Cli.h"
#include "TerminalProgress.h"

#include "core/train/TeacherPretrainer.h"
#include "core/train/TrainControl.h"
#include "core/util/Error.h"

#include <torch/torch.h>

#include <cstdio>
#include <iostream>
#include <memory>

namespace {

struct PretrainOptions
{
    std::string recipe;
    std::string out;
    int threads = 0;
    bool evaluateOnly = false;
    std::string teacher;
    bool verbose = false;
};

int runPretrain(const PretrainOptions &a)
{
    tkd::TeacherRecipe recipe = tkd::TeacherRecipe::load(a.recipe);
    if (a.threads > 0)
        recipe.threads = a.threads;
    if (recipe.threads > 0)
        torch::set_num_threads(recipe.threads);
    const std::string out = a.out.empty() ? "runs/teacher-" + recipe.name : a.out;
    tkd::TrainControl control;
    tkd::cli::InterruptGuard guard(&control);
    TerminalObserver observer(a.verbose);
    tkd::TeacherPretrainer pretrainer(recipe, out, &observer, &control);
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
    }
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
    "stage over clip lengths. A folder with finished stages resumes after them; stages appended to "
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
        return [o] { return runPretrain(*o); };
    });

} // namespace
