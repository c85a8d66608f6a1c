// tkd eval RUN --data KIND:PATH: a thin front end over core/infer/DatasetEvaluation.
#include "EvalDataCommand.h"

#include "Cli.h"
#include "TerminalProgress.h"

#include "core/infer/DatasetEvaluation.h"
#include "core/train/TrainControl.h"

#include <nlohmann/json.hpp>

#include <iostream>
#include <thread>

namespace tkd::cli {

std::string evalDataHelp()
{
    return "--data KIND:PATH scores the run's students (every cell, or --cell) and its teacher on "
           "any single-label dataset; KIND is one of "
        + tkd::EvalDataSpec::kindList()
        + " (builtin: the run's own corpus; builtin:EXPERIMENT.yaml: that experiment's built-in "
          "corpus, and noisy:builtin:EXPERIMENT.yaml its very clips, built by its own noisy "
          "construction, e.g. to score a run on another experiment's test split). Classes are "
          "matched to the run's by name; a class "
          "the run does not know counts as _unknown_ where the run has it, else its clips are "
          "skipped and counted. Each model hears every clip at its own clip length L: centred in "
          "L seconds (a longer clip cropped around its speech) over pink noise --snr dB below "
          "the speech, never digital silence; noisy:KIND:PATH instead builds each clip with the "
          "run's own noisy construction (random offset, its noise and SNRs, seeded). --split "
          "auto scores the test split of the data the run trained on and every clip of any "
          "other (held-out) data. Prints accuracy, per-class recall and the confusion matrix "
          "(--json: the file) and writes RUN/eval/<data>-<split>.json (a read-only RUN, such as "
          "the installed demo student: the cache's eval/<RUN name>/ instead).";
}

int runDatasetEval(const EvalDataArgs &args)
{
    tkd::DatasetEvaluationOptions o;
    o.data = tkd::EvalDataSpec::parse(args.data);
    o.split = args.split;
    o.cell = args.cell;
    o.snrDb = args.snrDb;
    o.teacher = !args.noTeacher;
    o.threads = int(std::max(1u, std::thread::hardware_concurrency()));
    tkd::TrainControl control;
    InterruptGuard interrupt(&control);
    TerminalProgress bar;
    tkd::Progress progress
        = control.progress([&bar](const std::string &stage, int64_t done, int64_t total) {
              bar.update(stage, done, total);
          });
    const tkd::DatasetEvaluation e = tkd::evaluateDataset(args.run, o, progress);
    bar.finish();
    const std::string path = e.save();
    if (args.json) {
        std::cout << e.toJson().dump(2) << "\n";
        return 0;
    }
    std::cout << e.table() << "\nwritten: " << path << "\n";
    return 0;
}

} // namespace tkd::cli
