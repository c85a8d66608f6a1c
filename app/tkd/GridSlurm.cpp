#include "GridSlurm.h"

#include "ChildProcess.h"

#include "Cli.h"

#include "core/experiment/ExperimentConfig.h"
#include "core/experiment/GridShape.h"
#include "core/train/Provenance.h"
#include "core/train/RunDirectory.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <iostream>

namespace fs = std::filesystem;

namespace {

// Slurm job names: letters, digits and a few marks, so squeue lines stay readable.
std::string jobName(const std::string &experiment)
{
    std::string name = "tkd-";
    for (char c : experiment)
        name += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
    return name.substr(0, 40);
}

void printPlan(const tkd::SlurmGridPlan &plan)
{
    std::cout << "# " << plan.teacherScriptPath() << "\n"
              << plan.teacherScript() << "\n# " << plan.studentScriptPath() << "\n"
              << plan.studentScript() << "\n# submitted as\n";
    std::string array = tkd::shellCommand(plan.studentSubmitCommand("TEACHER_JOB_ID"));
    array.replace(array.find("TEACHER_JOB_ID"), 14, "${TEACHER_JOB}");
    std::cout << "TEACHER_JOB=$(" << tkd::shellCommand(plan.teacherSubmitCommand()) << ")\n"
              << array << "\n";
}

} // namespace

int runSlurmGrid(const std::string &configPath, const std::string &teacherRun, int subsampling,
    bool verbose, const SlurmGridArgs &args)
{
    tkd::SlurmOptions slurm = args.slurm;
    tkd::ExperimentConfig config = tkd::ExperimentConfig::load(configPath);
    if (slurm.cpusPerTask == 0) // not given: the experiment's own thread count, else one core
        slurm.cpusPerTask = config.train.numThreads > 0 ? config.train.numThreads : 1;
    tkd::validateSlurmOptions(slurm);
    // Each job's torch threads are its cores, recorded in the grid's config.yaml (which both jobs
    // read) as `tkd grid --threads` records them for local workers.
    config.train.numThreads = slurm.cpusPerTask;
    config.validate();
    const std::string runsDir = fs::absolute(config.output.runsDir).lexically_normal().string();
    tkd::checkSlurmPath(runsDir, "output.runs_dir");
    if (!teacherRun.empty() && !fs::is_directory(teacherRun))
        throw tkd::Error(teacherRun, "is not a folder (--teacher-run)");

    // One task per student cell of a length: a shard trains its cells at every length.
    const int cells = int(tkd::studentCellsPerLength(config));
    tkd::SlurmGridPlan plan;
    plan.workDir = fs::current_path().string();
    plan.tkd = tkd::cli::selfExe(); // every job runs this very binary (the filesystem is shared)
    plan.teacherRunDir = teacherRun.empty() ? "" : fs::absolute(teacherRun).string();
    plan.oracleTeacher = config.teacher.kind == tkd::TeacherKind::Oracle;
    plan.shards = args.tasks > 0 ? std::min(args.tasks, cells) : cells;
    plan.subsampling = subsampling;
    plan.verbose = verbose;
    plan.jobName = jobName(config.name);
    plan.submittedBy = tkd::shellCommand(tkd::cli::commandLine());
    plan.slurm = slurm;

    if (args.dryRun) {
        plan.gridDir = runsDir + "/<new grid folder>";
        printPlan(plan);
        std::cout << "\ndry run: nothing created or submitted; the grid folder will be a new run "
                     "folder in "
                  << runsDir << "\n";
        return 0;
    }

    {
        // Created here, so both jobs know its path; unlocked before submitting, so the teacher
        // job (tkd cache --resume) can take it even if it starts at once.
        const tkd::RunDirectory grid = tkd::RunDirectory::create(
            config, tkd::Provenance::collect(config, tkd::cli::commandLine()));
        plan.gridDir = fs::absolute(grid.path()).lexically_normal().string();
    }
    tkd::writeFileAtomic(plan.teacherScriptPath(), plan.teacherScript());
    tkd::writeFileAtomic(plan.studentScriptPath(), plan.studentScript());

    // A grid that could not be submitted whole leaves no folder behind (the studio would list
    // it as a run that never started), unless a job that may use it is still queued.
    const auto dropGrid = [&](const tkd::Error &e, const std::string &note) {
        std::error_code ec;
        fs::remove_all(plan.gridDir, ec);
        return tkd::Error(e.subject(), e.reason() + "\n(" + note + "; grid folder removed)");
    };
    std::string teacherJob, arrayJob;
    try {
        teacherJob = tkd::submitBatchJob(plan.teacherSubmitCommand(), plan.gridDir);
    } catch (const tkd::Error &e) {
        throw dropGrid(e, "nothing was submitted");
    }
    try {
        arrayJob = tkd::submitBatchJob(plan.studentSubmitCommand(teacherJob), plan.gridDir);
    } catch (const tkd::Error &e) {
        if (tkd::cancelBatchJob(teacherJob, plan.gridDir))
            throw dropGrid(e, "the teacher job " + teacherJob + " was cancelled");
        throw tkd::Error(e.subject(),
            e.reason() + "\n(the teacher job " + teacherJob
                + " could not be cancelled: scancel it)");
    }
    const nlohmann::json record = { { "teacher_job", teacherJob }, { "array_job", arrayJob },
        { "array_tasks", plan.shards }, { "teacher_script", plan.teacherScriptPath() },
        { "student_script", plan.studentScriptPath() }, { "submitted_by", plan.submittedBy } };
    tkd::writeFileAtomic(plan.gridDir + "/slurm.json", record.dump(2) + "\n");

    std::cout << "grid folder " << plan.gridDir << "\n"
              << "teacher job " << teacherJob << ": log " << plan.teacherLogPath() << "\n"
              << "student array " << arrayJob << "_[0-" << plan.shards - 1 << "] (" << plan.shards
              << " task" << (plan.shards == 1 ? "" : "s") << ", after the teacher job): logs "
              << plan.gridDir << "/shard-K.log\n"
              << "follow: squeue -j " << teacherJob << "," << arrayJob << "\n"
              << "gather: tkd grid --table " << tkd::shellQuote(plan.gridDir) << "\n";
    return 0;
}
