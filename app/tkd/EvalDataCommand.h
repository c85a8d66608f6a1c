#pragma once

#include <string>

namespace tkd::cli {

// `tkd eval RUN --data KIND:PATH`: what the options say, for runDatasetEval.
struct EvalDataArgs
{
    std::string run;
    std::string data;
    std::string split = "auto";
    std::string cell;
    double snrDb = 20.0;
    bool json = false;
    bool noTeacher = false;
};

// Scores the run's models on the dataset (core/infer/DatasetEvaluation), prints the table (or the
// JSON) and writes RUN/eval/<slug>-<split>.json. Returns the exit status.
int runDatasetEval(const EvalDataArgs &args);

// The --data paragraph of `tkd eval --help`.
std::string evalDataHelp();

} // namespace tkd::cli
