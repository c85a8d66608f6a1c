#include "core/train/SlurmGrid.h"

#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <regex>
#include <spawn.h>
#include <sstream>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

extern char **environ;

namespace tkd {

void validateSlurmOptions(const SlurmOptions &o)
{
    // sbatch(1), --time: "minutes", "minutes:seconds", "hours:minutes:seconds", "days-hours",
    // "days-hours:minutes" and "days-hours:minutes:seconds".
    static const std::regex time(R"(\d+(:\d+){0,2}|\d+-\d+(:\d+){0,2})");
    if (!o.time.empty() && o.time != "UNLIMITED" && o.time != "INFINITE"
        && !std::regex_match(o.time, time))
        throw Error("--time",
            "'" + o.time
                + "' is not a Slurm time limit (MINUTES, HH:MM:SS, D-HH, D-HH:MM or D-HH:MM:SS, "
                  "e.g. 2:00:00 or 1-12)");
    static const std::regex partition(R"([A-Za-z0-9_.-]+(,[A-Za-z0-9_.-]+)*)");
    if (!o.partition.empty() && !std::regex_match(o.partition, partition))
        throw Error("--partition",
            "'" + o.partition + "' is not a partition name (or comma-separated list of them)");
    if (o.cpusPerTask < 1)
        throw Error("--cpus-per-task", "must be at least 1");
}

void checkSlurmPath(const std::string &path, const std::string &subject)
{
    // #SBATCH lines are not unquoted by a shell, and --output expands %-patterns.
    static const std::regex safe(R"([A-Za-z0-9_./+,=@:~-]+)");
    if (!std::regex_match(path, safe))
        throw Error(subject,
            "'" + path
                + "' has a space, % or other character that Slurm's #SBATCH --output cannot "
                  "take; use a folder without them");
}

std::string shellQuote(const std::string &word)
{
    static const std::regex plain(R"([A-Za-z0-9_./+,=@:%-]+)");
    if (!word.empty() && std::regex_match(word, plain))
        return word;
    std::string q = "'";
    for (char c : word)
        q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q + "'";
}

std::string shellCommand(const std::vector<std::string> &argv)
{
    std::string line;
    for (const auto &a : argv)
        line += (line.empty() ? "" : " ") + shellQuote(a);
    return line;
}

namespace {

// The lines both jobs share: the header, then the resources each task gets.
std::string scriptHead(const SlurmGridPlan &p, const std::string &what, const std::string &name)
{
    std::ostringstream s;
    s << "#!/bin/bash\n"
      << "# TKD Studio grid " << p.gridDir << ": " << what << "\n"
      << "# written by: " << p.submittedBy << "\n"
      << "#SBATCH --job-name=" << p.jobName << "-" << name << "\n";
    if (!p.slurm.partition.empty())
        s << "#SBATCH --partition=" << p.slurm.partition << "\n";
    if (!p.slurm.time.empty())
        s << "#SBATCH --time=" << p.slurm.time << "\n";
    s << "#SBATCH --nodes=1\n#SBATCH --ntasks=1\n"
      << "#SBATCH --cpus-per-task=" << p.slurm.cpusPerTask << "\n";
    return s.str();
}

// `srun` runs the command as the job's one task (srun does not inherit --cpus-per-task from
// the batch job since Slurm 22.05, hence given again); relative config paths resolve in workDir.
// No --threads: the grid's config.yaml has train.num_threads = cpusPerTask already, and a thread
// count that differs from it would make `--resume` refuse the folder as another experiment.
std::string scriptBody(
    const SlurmGridPlan &p, const std::vector<std::string> &tkdArgs, const std::string &shardArg)
{
    const std::string cpus = std::to_string(p.slurm.cpusPerTask);
    std::vector<std::string> argv = { "srun", "--ntasks=1", "--cpus-per-task=" + cpus, p.tkd };
    argv.insert(argv.end(), tkdArgs.begin(), tkdArgs.end());
    argv.insert(argv.end(), { "--subsampling", std::to_string(p.subsampling) });
    if (p.verbose)
        argv.push_back("--verbose");
    std::string line = shellCommand(argv);
    if (!shardArg.empty())
        line += " --shard \"${SLURM_ARRAY_TASK_ID}/" + shardArg + "\"";
    return "set -euo pipefail\ncd " + shellQuote(p.workDir) + "\n" + line + "\n";
}

} // namespace

std::string SlurmGridPlan::teacherScript() const
{
    std::vector<std::string> args = { "cache", "--resume", gridDir };
    if (!teacherRunDir.empty())
        args.insert(args.end(), { "--teacher-run", teacherRunDir });
    return scriptHead(*this,
               "data, teachers and teacher-attention caches, once for every shard "
               "(resubmitted, it continues where it stopped)",
               "teacher")
        + "#SBATCH --output=" + teacherLogPath() + "\n" + scriptBody(*this, args, {});
}

std::string SlurmGridPlan::studentScript() const
{
    std::vector<std::string> args = { "train", "--config", gridDir + "/config.yaml" };
    if (!oracleTeacher)
        args.insert(
            args.end(), { "--teacher-run", teacherRunDir.empty() ? gridDir : teacherRunDir });
    return scriptHead(*this,
               "the student cells, shard K of " + std::to_string(shards)
                   + " in array task K, each into its own run folder (named in shard-K.log)",
               "students")
        + "#SBATCH --array=0-" + std::to_string(shards - 1) + "\n" + "#SBATCH --output=" + gridDir
        + "/shard-%a.log\n" + scriptBody(*this, args, std::to_string(shards));
}

std::vector<std::string> SlurmGridPlan::teacherSubmitCommand() const
{
    return { slurm.sbatch, "--parsable", teacherScriptPath() };
}

std::vector<std::string> SlurmGridPlan::studentSubmitCommand(const std::string &teacherJobId) const
{
    // --kill-on-invalid-dep: a failed teacher job cancels the array instead of leaving it
    // pending forever (DependencyNeverSatisfied).
    return { slurm.sbatch, "--parsable", "--dependency=afterok:" + teacherJobId,
        "--kill-on-invalid-dep=yes", studentScriptPath() };
}

namespace {

struct CommandOutput
{
    int status = -1;
    std::string out, err;
};

std::string scratchFile(const std::string &dir, const char *tag)
{
    std::string name = dir + "/." + tag + "-XXXXXX";
    const int fd = ::mkstemp(name.data());
    if (fd < 0)
        throw Error(dir, std::string("cannot create a temporary file: ") + std::strerror(errno));
    ::close(fd);
    return name;
}

// Runs argv (looked up on PATH) with its output in files, so a chatty command cannot fill a pipe
// and stall; killed after timeoutSec, so an unreachable controller cannot hang tkd.
CommandOutput runCommand(
    const std::vector<std::string> &argv, const std::string &scratchDir, int timeoutSec = 120)
{
    const std::string outPath = scratchFile(scratchDir, "out");
    const std::string errPath = scratchFile(scratchDir, "err");
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, outPath.c_str(), O_WRONLY | O_TRUNC, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, errPath.c_str(), O_WRONLY | O_TRUNC, 0);
    std::vector<char *> args;
    for (const auto &a : argv)
        args.push_back(const_cast<char *>(a.c_str()));
    args.push_back(nullptr);
    pid_t pid = -1;
    const int rc = posix_spawnp(&pid, argv[0].c_str(), &fa, nullptr, args.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    CommandOutput r;
    if (rc == 0) {
        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeoutSec);
        int st = 0;
        while (::waitpid(pid, &st, WNOHANG) == 0) {
            if (std::chrono::steady_clock::now() > deadline) {
                ::kill(pid, SIGKILL);
                ::waitpid(pid, &st, 0);
                st = -1;
                break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
        r.status = st == -1 ? -2 : WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        r.out = readFile(outPath);
        r.err = readFile(errPath);
    }
    ::unlink(outPath.c_str());
    ::unlink(errPath.c_str());
    if (rc == ENOENT)
        throw Error(argv[0],
            "not found on PATH: submitting to Slurm needs its client commands (Debian: "
            "slurm-client) on this machine");
    if (rc != 0)
        throw Error(argv[0], std::string("cannot be started: ") + std::strerror(rc));
    if (r.status == -2)
        throw Error(argv[0],
            "gave no answer in " + std::to_string(timeoutSec)
                + " s (is the Slurm controller reachable?): " + shellCommand(argv));
    return r;
}

std::string trimmed(std::string s)
{
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back())))
        s.pop_back();
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front())))
        s.erase(s.begin());
    return s;
}

} // namespace

std::string submitBatchJob(const std::vector<std::string> &argv, const std::string &scratchDir)
{
    const CommandOutput r = runCommand(argv, scratchDir);
    if (r.status != 0)
        throw Error(argv[0],
            "failed (exit status " + std::to_string(r.status) + "): " + shellCommand(argv) + "\n"
                + trimmed(r.err + "\n" + r.out));
    // --parsable: "<job id>" or "<job id>;<cluster>".
    const std::string answer = trimmed(r.out);
    const std::string id = answer.substr(0, answer.find(';'));
    if (id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
        throw Error(argv[0], "answered '" + answer + "', not a job id: " + shellCommand(argv));
    return id;
}

bool cancelBatchJob(const std::string &jobId, const std::string &scratchDir)
{
    try {
        return runCommand({ "scancel", jobId }, scratchDir, 30).status == 0;
    } catch (const Error &) {
        return false;
    }
}

} // namespace tkd
