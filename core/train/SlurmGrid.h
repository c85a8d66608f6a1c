#pragma once

#include <string>
#include <vector>

namespace tkd {

// `tkd grid --slurm`: the grid as two Slurm batch jobs on a shared filesystem, the way the local
// `tkd grid --jobs N` runs it as processes:
//   teacher job   `tkd cache --resume GRID`: data, teachers and attention caches, once, into the
//                 grid folder (created at submission, so every job knows its path up front);
//   student array one task per shard, `tkd train --config GRID/config.yaml --shard K/N
//                 --teacher-run GRID`, each into its own run folder beside the grid's, its log
//                 GRID/shard-K.log naming that folder (GridFolder reads it back);
//                 submitted with --dependency=afterok:<teacher job>.
// Everything here is plain text and argv; only submit() runs a command (sbatch).

struct SlurmOptions
{
    std::string partition; // empty: the cluster's default partition
    std::string time; // empty: the partition's default limit; else Slurm's time formats
    int cpusPerTask = 1; // also each job's torch threads (train.num_threads of the grid)
    std::string sbatch = "sbatch"; // looked up on PATH
};

// Throws tkd::Error naming the option: --time not in one of Slurm's formats (M, M:S, H:M:S,
// D-H, D-H:M, D-H:M:S, UNLIMITED), --partition not a partition name list, --cpus-per-task < 1.
void validateSlurmOptions(const SlurmOptions &options);

struct SlurmGridPlan
{
    std::string gridDir; // absolute; the grid's own run folder (holds config.yaml)
    std::string workDir; // the jobs' working directory: where relative config paths resolve
    std::string tkd; // absolute path of tkd, the same on every node (shared filesystem)
    std::string teacherRunDir; // empty: the grid folder's teachers; else reuse these
    bool oracleTeacher = false; // no teacher checkpoint to hand to the students
    int shards = 1; // array tasks
    int subsampling = 1; // tiny teacher frame stacking (tkd grid --subsampling)
    bool verbose = false;
    std::string jobName = "tkd"; // prefix of both jobs' names
    std::string submittedBy; // the command line, for the scripts' header
    SlurmOptions slurm;

    std::string teacherScriptPath() const { return gridDir + "/slurm-teacher.sbatch"; }
    std::string studentScriptPath() const { return gridDir + "/slurm-students.sbatch"; }
    std::string teacherLogPath() const { return gridDir + "/slurm-teacher.log"; }

    // The batch scripts, #SBATCH directives included (resubmittable by hand).
    std::string teacherScript() const;
    std::string studentScript() const;
    // sbatch's argv for each; the array waits for the teacher job (and is dropped if it fails).
    std::vector<std::string> teacherSubmitCommand() const;
    std::vector<std::string> studentSubmitCommand(const std::string &teacherJobId) const;
};

// Throws tkd::Error(gridDir's config key) when the path cannot go into an #SBATCH line as is
// (Slurm does not unquote them, and expands % patterns in --output).
void checkSlurmPath(const std::string &path, const std::string &subject);

// One line, safe to paste into a shell (single-quoted where needed).
std::string shellQuote(const std::string &word);
std::string shellCommand(const std::vector<std::string> &argv);

// Runs sbatch (argv) and returns the job id its --parsable output names. Throws tkd::Error
// naming sbatch: not installed / not on PATH, or failed (with its stderr), or an unreadable
// answer. scratchDir receives its output briefly.
std::string submitBatchJob(const std::vector<std::string> &argv, const std::string &scratchDir);

// Best effort: cancels a job (scancel), e.g. the teacher job when the array could not be
// submitted. Returns whether scancel succeeded.
bool cancelBatchJob(const std::string &jobId, const std::string &scratchDir);

} // namespace tkd
