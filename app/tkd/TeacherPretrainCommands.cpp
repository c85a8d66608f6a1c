// `tkd teacher pretrain --recipe FILE`: pretrains the teacher that TKD Studio ships (or your own)
// on built-in speakers no experiment uses, stage by stage, resuming finished stages.
#include "Cli.h"
#include "TerminalProgress.h"

#include "core/train/TeacherPretrainer.h"
#include "core/train/TeacherTrainer.h"
#include "core/train/TrainControl.h"
#include "core/util/Error.h"
#include "core/util/Resources.h"

#include <torch/torch.h>

#include <csignal>
#include <cstdio>
#include <filesystem>
#include <iostream>

namespace {

tkd::TrainControl *g_control = nullptr;

extern "C" void onPretrainInterrupt(int)
{
    if (g_control) // an atomic store only: the trainer stops at the next step
        g_control->requestCancel();
}

int runPretrain(const std::vector<std::string> &argv)
{
    tkd::cli::Args args("tkd teacher pretrain --recipe FILE [--out DIR] [--install]",
                        "Pretrains a spectral wav2vec 2.0 teacher by a recipe (resources/teachers/*.yaml): clip "
                        "labels only, on built-in speakers that no experiment uses, with fresh noise every epoch, "
                        "stage by stage over clip lengths. A folder with finished stages resumes after them. Writes "
                        "DIR/teacher.safetensors and DIR/report.json (accuracy and rollout localisation at every "
                        "evaluate length on the recipe's held-out speakers).");
    args.option("recipe", "FILE", "teacher recipe (YAML)")
        .option("out", "DIR", "output folder (default: runs/teacher-<recipe name>)")
        .option("threads", "N", "torch threads (default: the recipe's, else every core)", "0")
        .flag("evaluate-only", "only score DIR/teacher.safetensors (or --teacher) at the recipe's lengths")
        .option("teacher", "CKPT", "with --evaluate-only: the teacher checkpoint to score")
        .flag("verbose", "print every epoch");
    if (!args.parse(argv))
        return 0;
    if (!args.has("recipe") || args.get("recipe").empty())
        throw tkd::Error("--recipe", "a recipe file is required, e.g. resources/teachers/kws12-small.yaml");
    if (!args.rest().empty())
        throw tkd::Error(args.rest().front(), "unexpected argument");
    tkd::TeacherRecipe recipe = tkd::TeacherRecipe::load(args.get("recipe"));
    if (args.getInt("threads") < 0)
        throw tkd::Error("--threads", "must be >= 0");
    if (args.getInt("threads") > 0)
        recipe.threads = args.getInt("threads");
    if (recipe.threads > 0)
        torch::set_num_threads(recipe.threads);
    const std::string out = args.has("out") && !args.get("out").empty() ? args.get("out") : "runs/teacher-" + recipe.name;
    tkd::TrainControl control;
    g_control = &control;
    std::signal(SIGINT, onPretrainInterrupt);
    TerminalObserver observer(args.has("verbose"));
    tkd::TeacherPretrainer pretrainer(recipe, out, &observer, &control);
    std::vector<tkd::TeacherPretrainResult::LengthFigures> figures;
    tkd::TeacherPretrainResult result;
    try {
        if (args.has("evaluate-only")) {
            const std::string teacher = args.has("teacher") && !args.get("teacher").empty() ? args.get("teacher")
                                                                                             : out + "/teacher.safetensors";
            figures = pretrainer.evaluate(teacher);
        } else {
            result = pretrainer.run();
            figures = result.figures;
        }
    } catch (const tkd::Cancelled &) {
        g_control = nullptr;
        std::cerr << "tkd teacher pretrain: interrupted; finished stages stay in " << out
                  << " and the same command resumes after them\n";
        return 130;
    }
    g_control = nullptr;
    std::printf("\n%-8s %10s %14s %10s\n", "L (s)", "test acc", "localisation", "uniform");
    for (const auto &f : figures)
        std::printf("%-8g %9.1f%% %14.3f %10.3f\n", f.lengthSec, 100.0 * f.accuracy, f.localisation, f.uniform);
    if (!args.has("evaluate-only")) {
        for (size_t k = 0; k < result.stageSeconds.size(); ++k)
            std::printf("stage %zu: %.0f s%s\n", k + 1, result.stageSeconds[k],
                        result.stageResumed[k] ? " (finished earlier, resumed after it)" : "");
        std::printf("teacher: %s (%.0f s this sitting)\n", result.teacherPath.c_str(), result.seconds);
    }
    return 0;
}

const tkd::cli::Registrar reg("teacher pretrain",
                              "pretrain the shipped kind of teacher from a recipe (clip labels, unseen speakers)",
                              runPretrain);

} // namespace
