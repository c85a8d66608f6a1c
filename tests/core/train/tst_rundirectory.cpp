// Run folders: layout and naming, uniqueness when many runs start at once, the flock that keeps a
// second trainer out (also across processes, and released by kill -9), checkpoint rotation with
// best/last, and bad input: an unwritable runs_dir, a folder that is no run, a damaged checkpoint.
#include "core/checkpoint/Checkpoint.h"
#include "core/train/EventLog.h"
#include "core/train/RunDirectory.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <nlohmann/json.hpp>

#include <QRegularExpression>
#include <QTemporaryDir>
#include <QtTest>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <set>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>

using tkd::Checkpoint;
using tkd::ExperimentConfig;
using tkd::Provenance;
using tkd::RunDirectory;

namespace fs = std::filesystem;

namespace {

ExperimentConfig configIn(const QTemporaryDir &dir, const std::string &name = "unit run")
{
    ExperimentConfig c;
    c.name = name;
    c.output.runsDir = dir.filePath("runs").toStdString();
    return c;
}

Checkpoint checkpointAt(int64_t step)
{
    Checkpoint c;
    c.step = step;
    c.setTensor("w", torch::full({ 4 }, double(step)));
    return c;
}

int64_t stepOf(const std::string &path)
{
    return Checkpoint::load(path).step;
}

} // namespace

class TestRunDirectory : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    // First, while this process has no extra threads: fork is only safe then.
    void lockIsReleasedWhenTheHolderIsKilled()
    {
        QTemporaryDir dir;
        const ExperimentConfig config = configIn(dir);
        std::string path;
        {
            RunDirectory run = RunDirectory::create(config, Provenance::collect(config));
            path = run.path();
        }
        int ready[2];
        QVERIFY(::pipe(ready) == 0);
        const pid_t child = ::fork();
        QVERIFY(child >= 0);
        if (child == 0) {
            ::close(ready[0]);
            try {
                RunDirectory run = RunDirectory::open(path, RunDirectory::Access::Exclusive);
                const char ok = 'k';
                if (::write(ready[1], &ok, 1) != 1)
                    ::_exit(3);
                for (;;)
                    ::pause();
            } catch (...) {
                ::_exit(2);
            }
        }
        ::close(ready[1]);
        char got = 0;
        QCOMPARE(::read(ready[0], &got, 1), ssize_t(1));
        ::close(ready[0]);
        QVERIFY(RunDirectory::inUse(path));
        try {
            RunDirectory::open(path, RunDirectory::Access::Exclusive);
            QFAIL("a second process got the lock");
        } catch (const tkd::Error &e) {
            const std::string what = e.what();
            QVERIFY2(what.find(path) != std::string::npos, what.c_str());
            QVERIFY2(what.find("in use by another process") != std::string::npos, what.c_str());
            QVERIFY2(what.find("pid " + std::to_string(child)) != std::string::npos, what.c_str());
        }
        // Viewing is always allowed.
        QCOMPARE(RunDirectory::open(path).config().name, config.name);

        QVERIFY(::kill(child, SIGKILL) == 0);
        int status = 0;
        QCOMPARE(::waitpid(child, &status, 0), child);
        QVERIFY(WIFSIGNALED(status));
        QVERIFY(!RunDirectory::inUse(path));
        RunDirectory resumed = RunDirectory::open(path, RunDirectory::Access::Exclusive);
        QVERIFY(resumed.exclusive());
    }

    void createWritesTheLayout()
    {
        QTemporaryDir dir;
        const ExperimentConfig config = configIn(dir, "My run: v2");
        Provenance prov = Provenance::collect(config, { "tkd", "train", "exp.yaml" });
        RunDirectory run = RunDirectory::create(config, prov);

        const QString name = QString::fromStdString(run.name());
        const QRegularExpression pattern("^\\d{8}-\\d{6}-My-run--v2-[0-9a-f]{8}$");
        QVERIFY2(pattern.match(name).hasMatch(), qPrintable(name));
        QVERIFY(run.name().find(config.hash().substr(0, 8)) != std::string::npos);
        QCOMPARE(fs::path(run.path()).parent_path().string(), config.output.runsDir);

        QVERIFY(ExperimentConfig::load(run.configPath()) == config);
        QVERIFY(Provenance::fromJson(tkd::readFile(run.provenancePath())) == prov);
        QVERIFY(fs::is_directory(run.checkpointDir()));
        QVERIFY(fs::exists(run.eventLogPath()));
        QVERIFY(run.exclusive());
        QVERIFY(RunDirectory::inUse(run.path()));

        // Provenance knows this build and process.
        QCOMPARE(prov.configHash, config.hash());
        QVERIFY(!prov.sourceRevision.empty());
        QVERIFY(prov.torchVersion.rfind("1.", 0) == 0);
        QVERIFY(prov.sndfileVersion.find("libsndfile") != std::string::npos);
        QVERIFY(!prov.espeakVersion.empty() && prov.espeakVersion != "unknown");
        QCOMPARE(prov.pid, int64_t(::getpid()));
        QCOMPARE(prov.seeds, (std::vector<uint64_t> { 1, 1 }));
        QVERIFY(QRegularExpression("^\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ$")
                    .match(QString::fromStdString(prov.startTime))
                    .hasMatch());

        // The event log is the run's own, and a viewer can follow it.
        run.events().append(tkd::Event::stageEvent("teacher"));
        tkd::EventLogReader reader(run.eventLogPath());
        QCOMPARE(reader.poll().events.size(), size_t(1));

        // Data and teacher hashes arrive later.
        prov.dataHash = "d4t4";
        prov.teacherHash = "t34ch3r";
        run.writeProvenance(prov);
        QCOMPARE(RunDirectory::open(run.path()).provenance().dataHash, std::string("d4t4"));

        run.writeMetrics({ { "test_accuracy", 0.9 }, { "per_class", { 1, 2 } } });
        QCOMPARE(run.readMetrics()["test_accuracy"].get<double>(), 0.9);

        const std::string path = run.path();
        run = RunDirectory::open(path); // move-assign releases the lock
        QVERIFY(!RunDirectory::inUse(path));
        QVERIFY(!run.exclusive());
        QVERIFY_THROWS_EXCEPTION(tkd::Error, run.events());
        QVERIFY_THROWS_EXCEPTION(tkd::Error, run.saveCheckpoint(checkpointAt(1), false));
    }

    void simultaneousRunsGetTheirOwnFolders()
    {
        QTemporaryDir dir;
        const ExperimentConfig config = configIn(dir);
        const Provenance prov = Provenance::collect(config);
        constexpr int kRuns = 8;
        std::vector<std::string> paths(kRuns);
        std::vector<std::string> errors(kRuns);
        std::vector<std::unique_ptr<RunDirectory>> runs(kRuns);
        std::vector<std::thread> threads;
        for (int i = 0; i < kRuns; ++i)
            threads.emplace_back([&, i] {
                try {
                    runs[i] = std::make_unique<RunDirectory>(RunDirectory::create(config, prov));
                    paths[i] = runs[i]->path();
                } catch (const std::exception &e) {
                    errors[i] = e.what();
                }
            });
        for (auto &t : threads)
            t.join();
        for (const auto &e : errors)
            QVERIFY2(e.empty(), e.c_str());
        QCOMPARE(std::set<std::string>(paths.begin(), paths.end()).size(), size_t(kRuns));
        for (const auto &p : paths)
            QVERIFY(ExperimentConfig::load(p + "/config.yaml") == config);
    }

    void secondTrainerIsRefused()
    {
        QTemporaryDir dir;
        const ExperimentConfig config = configIn(dir);
        RunDirectory run = RunDirectory::create(config, Provenance::collect(config));
        try {
            RunDirectory::open(run.path(), RunDirectory::Access::Exclusive);
            QFAIL("two trainers in one run folder");
        } catch (const tkd::Error &e) {
            QVERIFY2(
                std::string(e.what()).find("one trainer at a time") != std::string::npos, e.what());
        }
    }

    void badRunsDir_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::newRow("under a regular file") << "file";
        QTest::newRow("is a regular file") << "self";
    }

    void badRunsDir()
    {
        QFETCH(QString, kind);
        QTemporaryDir dir;
        const std::string file = dir.filePath("not-a-folder").toStdString();
        tkd::writeFileAtomic(file, "x");
        ExperimentConfig config = configIn(dir);
        // Works even as root, where permission bits would not stop anything.
        config.output.runsDir = kind == "file" ? file + "/runs" : file;
        try {
            RunDirectory::create(config, Provenance::collect(config));
            QFAIL("created a run in an unwritable place");
        } catch (const tkd::Error &e) {
            const std::string what = e.what();
            QVERIFY2(what.find(config.output.runsDir) != std::string::npos, what.c_str());
            QVERIFY2(what.find("output.runs_dir") != std::string::npos, what.c_str());
        }
    }

    void invalidConfigIsRefused()
    {
        QTemporaryDir dir;
        ExperimentConfig config = configIn(dir);
        config.train.lr = -1;
        QVERIFY_THROWS_EXCEPTION(tkd::ConfigError, RunDirectory::create(config, Provenance {}));
        QVERIFY(!fs::exists(config.output.runsDir)); // nothing created
    }

    void openRefusesWhatIsNotARun()
    {
        QTemporaryDir dir;
        QVERIFY_THROWS_EXCEPTION(
            tkd::Error, RunDirectory::open(dir.filePath("missing").toStdString()));
        try {
            RunDirectory::open(dir.path().toStdString());
            QFAIL("opened an empty folder");
        } catch (const tkd::Error &e) {
            QVERIFY(std::string(e.what()).find("config.yaml") != std::string::npos);
        }
        // A damaged config.yaml names its file and line.
        const ExperimentConfig config = configIn(dir);
        std::string path;
        {
            RunDirectory run = RunDirectory::create(config, Provenance::collect(config));
            path = run.path();
        }
        tkd::writeFileAtomic(path + "/config.yaml", "name: x\ntrain:\n  lr: fast\n");
        try {
            RunDirectory::open(path);
            QFAIL("opened a run with a broken config");
        } catch (const tkd::ConfigError &e) {
            const std::string what = e.what();
            QVERIFY2(
                what.find(path + "/config.yaml:3: train.lr") != std::string::npos, what.c_str());
        }
    }

    void checkpointRotation()
    {
        QTemporaryDir dir;
        const ExperimentConfig config = configIn(dir);
        RunDirectory run = RunDirectory::create(config, Provenance::collect(config));
        QVERIFY(run.lastCheckpointPath().empty());
        QVERIFY(run.bestCheckpointPath().empty());
        for (int64_t step = 1; step <= 6; ++step)
            run.saveCheckpoint(checkpointAt(step * 100), step == 2 || step == 5, 3);
        const auto steps = run.stepCheckpoints();
        QCOMPARE(steps.size(), size_t(3));
        QCOMPARE(stepOf(steps[0]), int64_t(400));
        QCOMPARE(stepOf(steps[2]), int64_t(600));
        QCOMPARE(stepOf(run.lastCheckpointPath()), int64_t(600));
        QCOMPARE(stepOf(run.bestCheckpointPath()), int64_t(500));

        // Step 200 was best once and its step file is gone, but best moved on; save a non-best
        // step and the best stays where it was even after its step file is rotated out.
        for (int64_t step = 7; step <= 10; ++step)
            run.saveCheckpoint(checkpointAt(step * 100), false, 2);
        QCOMPARE(run.stepCheckpoints().size(), size_t(2));
        QCOMPARE(stepOf(run.bestCheckpointPath()), int64_t(500));
        QVERIFY(torch::equal(
            Checkpoint::load(run.bestCheckpointPath()).tensor("w"), torch::full({ 4 }, 500.0)));
        QCOMPARE(stepOf(run.lastCheckpointPath()), int64_t(1000));

        // Leftovers of a write killed midway are not checkpoints.
        tkd::writeFileAtomic(
            run.checkpointDir() + "/step-000000001100.safetensors.tmp-999-0", "half");
        QCOMPARE(run.stepCheckpoints().size(), size_t(2));
    }

    void damagedCheckpointLosesNothingSaved()
    {
        QTemporaryDir dir;
        const ExperimentConfig config = configIn(dir);
        RunDirectory run = RunDirectory::create(config, Provenance::collect(config));
        run.saveCheckpoint(checkpointAt(100), true);
        run.saveCheckpoint(checkpointAt(200), false);

        // A save that fails (a tensor safetensors cannot hold) changes nothing on disk.
        Checkpoint bad = checkpointAt(300);
        bad.setTensor("complex", torch::ones({ 2 }, torch::kComplexFloat));
        QVERIFY_THROWS_EXCEPTION(tkd::Error, run.saveCheckpoint(bad, true));
        QCOMPARE(stepOf(run.lastCheckpointPath()), int64_t(200));
        QCOMPARE(stepOf(run.bestCheckpointPath()), int64_t(100));
        QCOMPARE(run.stepCheckpoints().size(), size_t(2));

        // A step file damaged on disk: loading it is a clear error naming it; last and best,
        // being separate links, still load.
        const std::string victim = run.stepCheckpoints().front();
        const std::string bytes = tkd::readFile(victim);
        ::unlink(victim.c_str()); // break the link first, as any rewrite by another tool would
        std::ofstream(victim, std::ios::binary)
            .write(bytes.data(), std::streamsize(bytes.size() / 2));
        try {
            Checkpoint::load(victim);
            QFAIL("loaded a damaged checkpoint");
        } catch (const tkd::Error &e) {
            QVERIFY(std::string(e.what()).find(victim) != std::string::npos);
        }
        QCOMPARE(stepOf(run.bestCheckpointPath()), int64_t(100));
        QCOMPARE(stepOf(run.lastCheckpointPath()), int64_t(200));
    }
};

QTEST_GUILESS_MAIN(TestRunDirectory)
#include "tst_rundirectory.moc"
