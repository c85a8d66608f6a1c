// Experiment files: defaults, exact YAML round trips, the committed default file staying in sync
// with the code, and a catalogue of bad files, each of which must name the file, the line and
// the FULL key path - all problems at once, never just the first.
#include "core/data/BuiltinCorpus.h"
#include "core/data/DatasetSource.h"
#include "core/data/NoisyDataset.h"
#include "core/distill/AttentionRollout.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <map>

using tkd::ConfigError;
using tkd::ConfigIssue;
using tkd::ExperimentConfig;

namespace {

std::string issuesText(const std::vector<ConfigIssue> &issues)
{
    std::string s;
    for (const auto &i : issues)
        s += i.toString() + "\n";
    return s;
}

const ConfigIssue *findIssue(const std::vector<ConfigIssue> &issues, const std::string &key)
{
    for (const auto &i : issues)
        if (i.key == key)
            return &i;
    return nullptr;
}

// "full.key" -> value text, from toYaml()'s one-key-per-line layout.
std::map<std::string, std::string> keyValues(const std::string &yaml)
{
    std::map<std::string, std::string> out;
    std::vector<std::string> sections;
    size_t pos = 0;
    while (pos < yaml.size()) {
        size_t end = yaml.find('\n', pos);
        if (end == std::string::npos)
            end = yaml.size();
        const std::string line = yaml.substr(pos, end - pos);
        pos = end + 1;
        const size_t first = line.find_first_not_of(' ');
        if (first == std::string::npos || line[first] == '#')
            continue;
        sections.resize(first / 2);
        const size_t colon = line.find(':', first);
        const std::string name = line.substr(first, colon - first);
        std::string full;
        for (const auto &s : sections)
            full += s + ".";
        full += name;
        if (colon + 1 == line.size())
            sections.push_back(name);
        else
            out[full] = line.substr(colon + 2);
    }
    return out;
}

ExperimentConfig unusual()
{
    ExperimentConfig c;
    c.name = "odd \"name\" with: colons, #hash, back\\slash and ünïcode";
    c.seed = 9007199254740991ull;
    c.data.source = "speech-commands";
    c.data.path = "/data/speech commands/v0.02";
    c.data.task = 35;
    c.data.corpus.speakers = 17;
    c.data.corpus.seed = 0;
    c.data.noisy.lengthSec = 6.5;
    c.data.noisy.snrDbMin = -5.25;
    c.data.noisy.snrDbMax = 0.1;
    c.data.noisy.noise = { "folder", "white" };
    c.data.noisy.noiseDir = "relative/noise\twith tab";
    c.data.noisy.babbleGainDb = -12.345678901234567;
    c.data.noisy.babbleWords = 0;
    c.data.noisy.seed = 77;
    c.features.kind = tkd::FeatureConfig::Kind::LogMel;
    c.features.melBins = 64;
    c.features.fMinHz = 0.0;
    c.features.windowMs = 25.0;
    c.features.hopMs = 10.0;
    c.teacher.kind = tkd::TeacherKind::Imported;
    c.teacher.weights = "C:\\weights\\xlsr.safetensors";
    c.teacher.fineTune = tkd::TeacherFineTune::All;
    c.teacher.epochs = 0;
    c.teacher.lr = 3e-5;
    c.teacher.batchSize = 3;
    c.teacher.freshNoiseEachEpoch = false;
    c.teacher.rollout.headFusion = tkd::HeadFusion::Max;
    c.teacher.rollout.residual = 1.0 / 3.0;
    c.teacher.rollout.layers = { 0, 2, -1 };
    c.students = { "mhatt-rnn", "att-rnn" };
    c.kd.lambdas = { 0.1, 1e-7, 0.30000000000000004 };
    c.kd.target = tkd::KdTarget::Native;
    c.kd.logitKd.weight = 0.5;
    c.kd.logitKd.temperature = 4.0;
    c.grid.lengthsSec = {};
    c.grid.seeds = { 3, 1, 2 };
    c.train.optimizer = tkd::OptimiserKind::Sgd;
    c.train.lr = 0.05;
    c.train.momentum = 0.0;
    c.train.weightDecay = 1e-4;
    c.train.schedule = tkd::ScheduleKind::OneCycle;
    c.train.warmupEpochs = 0;
    c.train.epochs = 1;
    c.train.batchSize = 1;
    c.train.earlyStoppingPatience = 5;
    c.train.numThreads = 2;
    c.train.device = "cuda";
    c.output.runsDir = "";
    c.output.runsDir = "~/runs/tkd";
    return c;
}

} // namespace

class TestExperimentConfig : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void voiceRandomisationKeysRoundTrip()
    {
        tkd::ExperimentConfig c;
        c.data.corpus.fliteShare = 0.3;
        c.data.corpus.vtl[0] = 0.85;
        c.data.corpus.vtl[1] = 1.15;
        c.data.noisy.roomChannel.reverbShare = 0.5;
        c.data.noisy.roomChannel.gainMin = -30;
        c.data.noisy.roomChannel.gainMax = 30;
        const tkd::ExperimentConfig back = tkd::ExperimentConfig::fromYaml(c.toYaml());
        QVERIFY(back == c);
        QCOMPARE(back.corpusConfig().vtlMax, 1.15);
        QCOMPARE(back.noisyConfig(4.0).roomChannel.gainMin, -30.0);

        // Bad values name their key.
        auto issueKeys = [](const std::string &yaml) {
            std::vector<tkd::ConfigIssue> issues;
            tkd::ExperimentConfig::parse(yaml, "<t>", issues);
            QStringList keys;
            for (const auto &i : issues)
                keys << QString::fromStdString(i.key);
            return keys;
        };
        QVERIFY(issueKeys("data:\n  noisy:\n    rt60_sec: [0.2, 9]\n")
                    .contains("data.noisy.rt60_sec[1]"));
        QVERIFY(
            issueKeys("data:\n  noisy:\n    gain_db: [10, -10]\n").contains("data.noisy.gain_db"));
        QVERIFY(issueKeys("data:\n  corpus:\n    vtl: [1.2, 0.9]\n").contains("data.corpus.vtl"));
        QVERIFY(issueKeys("data:\n  corpus:\n    flite_share: 2\n")
                    .contains("data.corpus.flite_share"));
    }

    void defaultsAreValid()
    {
        const ExperimentConfig c;
        const auto issues = c.check();
        QVERIFY2(issues.empty(), issuesText(issues).c_str());
        QCOMPARE(c.clipLengths().size(), size_t(4));
        QCOMPARE(c.studentSeeds(), std::vector<uint64_t> { 1 });
    }

    void roundTripDefault()
    {
        const ExperimentConfig c;
        const std::string yaml = c.toYaml();
        const ExperimentConfig back = ExperimentConfig::fromYaml(yaml, "default");
        QVERIFY(back == c);
        QCOMPARE(back.toYaml(), yaml);
        QCOMPARE(back.hash(), c.hash());
    }

    void roundTripUnusual()
    {
        const ExperimentConfig c = unusual();
        const auto issues = c.check();
        QVERIFY2(issues.empty(), issuesText(issues).c_str());
        const std::string yaml = c.toYaml();
        const ExperimentConfig back = ExperimentConfig::fromYaml(yaml, "unusual");
        QVERIFY2(back == c, yaml.c_str());
        QCOMPARE(back.name, c.name);
        QCOMPARE(back.kd.lambdas[2], 0.30000000000000004);
        QCOMPARE(back.teacher.rollout.residual, 1.0 / 3.0);
        QCOMPARE(back.seed, 9007199254740991ull);
        QCOMPARE(back.toYaml(), yaml);
        QVERIFY(back.hash() != ExperimentConfig().hash());

        // And through a real file.
        QTemporaryDir dir;
        const std::string path = dir.filePath("exp.yaml").toStdString();
        tkd::writeFileAtomic(path, yaml);
        QVERIFY(ExperimentConfig::load(path) == c);
        QCOMPARE(
            ExperimentConfig::load(path).features.canonicalString(), c.features.canonicalString());
    }

    void equalityNoticesEveryField()
    {
        // A round-trip test is only as good as operator==: setting any one key to a different
        // value must make the config compare unequal to the default.
        const auto mine = keyValues(ExperimentConfig().toYaml());
        const auto theirs = keyValues(unusual().toYaml());
        QCOMPARE(mine.size(), ExperimentConfig::schema().size());
        int differing = 0;
        for (const auto &spec : ExperimentConfig::schema()) {
            const std::string &value = theirs.at(spec.key);
            if (value == mine.at(spec.key))
                continue; // same in both (e.g. sample_rate)
            // Nest the one key in its sections.
            std::string yaml, indent;
            size_t start = 0, dot = 0;
            while ((dot = spec.key.find('.', start)) != std::string::npos) {
                yaml += indent + spec.key.substr(start, dot - start) + ":\n";
                indent += "  ";
                start = dot + 1;
            }
            yaml += indent + spec.key.substr(start) + ": " + value + "\n";
            std::vector<ConfigIssue> issues;
            const ExperimentConfig changed = ExperimentConfig::parse(yaml, spec.key, issues);
            QVERIFY2(changed != ExperimentConfig(),
                ("changing " + spec.key + " went unnoticed").c_str());
            ++differing;
        }
        QVERIFY(differing > 40);
    }

    void committedDefaultFileIsInSync()
    {
        const std::string path
            = std::string(TKD_SOURCE_DIR) + "/resources/experiments/default.yaml";
        const std::string text = tkd::readFile(path);
        if (text != ExperimentConfig().toYaml()) // left for inspection beside the build
            tkd::writeFileAtomic(std::string(TKD_BINARY_DIR) + "/default.yaml.expected",
                ExperimentConfig().toYaml());
        QVERIFY2(text == ExperimentConfig().toYaml(),
            "resources/experiments/default.yaml differs from ExperimentConfig().toYaml(): "
            "regenerate it with `tkd config init --out resources/experiments/default.yaml "
            "--force`");
        // Every documented key has its comment line.
        for (const auto &spec : ExperimentConfig::schema()) {
            QVERIFY2(!spec.help.empty(), spec.key.c_str());
            QVERIFY2(
                text.find("# " + spec.help.substr(0, 24)) != std::string::npos, spec.key.c_str());
        }
    }

    void exampleFilesAreValid()
    {
        const QDir dir(
            QString::fromStdString(std::string(TKD_SOURCE_DIR) + "/resources/experiments"));
        const QStringList files = dir.entryList({ "*.yaml" }, QDir::Files);
        QVERIFY(files.size() >= 2);
        for (const QString &f : files) {
            const std::string path = dir.filePath(f).toStdString();
            try {
                const ExperimentConfig c = ExperimentConfig::load(path);
                QVERIFY(!c.name.empty());
            } catch (const tkd::Error &e) {
                QFAIL(e.what());
            }
        }
    }

    // docs/paper-table runs resources/experiments/paper-builtin.yaml in parts, and its archived
    // 400-speaker table ran its own copy of the file as it was: each part may only narrow the grid
    // (students, lambdas, lengths, seeds) and shorten training; everything that decides a cell's
    // result is the full file's.
    void paperTablePartsOnlyNarrowTheFullGrid_data()
    {
        QTest::addColumn<QString>("folder");
        QTest::addColumn<QString>("fullFile");
        const QString root = TKD_SOURCE_DIR;
        QTest::newRow("1600 speakers")
            << root + "/docs/paper-table" << root + "/resources/experiments/paper-builtin.yaml";
        QTest::newRow("400 speakers (archived)")
            << root + "/docs/paper-table/400-speakers"
            << root + "/docs/paper-table/400-speakers/paper-builtin.yaml";
    }

    void paperTablePartsOnlyNarrowTheFullGrid()
    {
        QFETCH(QString, folder);
        QFETCH(QString, fullFile);
        const ExperimentConfig full = ExperimentConfig::load(fullFile.toStdString());
        const QDir dir(folder);
        const QStringList parts = dir.entryList({ "part-*.yaml" }, QDir::Files);
        QVERIFY(!parts.isEmpty());
        auto subset = [](const auto &part, const auto &all) {
            return std::all_of(part.begin(), part.end(),
                [&](const auto &x) { return std::find(all.begin(), all.end(), x) != all.end(); });
        };
        for (const QString &f : parts) {
            ExperimentConfig part = ExperimentConfig::load(dir.filePath(f).toStdString());
            QVERIFY2(subset(part.students, full.students), qPrintable(f));
            QVERIFY2(subset(part.kd.lambdas, full.kd.lambdas), qPrintable(f));
            QVERIFY2(subset(part.grid.lengthsSec, full.grid.lengthsSec), qPrintable(f));
            QVERIFY2(subset(part.grid.seeds, full.grid.seeds), qPrintable(f));
            QVERIFY2(part.train.epochs <= full.train.epochs, qPrintable(f));
            part.name = full.name;
            part.students = full.students;
            part.kd.lambdas = full.kd.lambdas;
            part.grid = full.grid;
            part.train.epochs = full.train.epochs;
            part.output = full.output;
            QVERIFY2(
                part == full, qPrintable(f + " differs from " + fullFile + " beyond its grid"));
        }
    }

    void featureKeysComeFromTheDeclaredTable()
    {
        for (const tkd::ParamSpec &p : tkd::FeatureConfig::declared()) {
            const std::string key = "features." + p.name;
            const tkd::ConfigKeySpec *found = nullptr;
            for (const auto &s : ExperimentConfig::schema())
                if (s.key == key)
                    found = &s;
            QVERIFY2(found, key.c_str());
            QCOMPARE(found->minValue, p.minValue);
            QCOMPARE(found->maxValue, p.maxValue);
        }
    }

    void badFile_data()
    {
        QTest::addColumn<QString>("yaml");
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("reason");
        QTest::addColumn<int>("line");

        QTest::newRow("unknown top-level key") << "name: x\nepochs: 3\n"
                                               << "epochs"
                                               << "unknown key" << 2;
        QTest::newRow("unknown nested key") << "train:\n  learning_rate: 0.1\n"
                                            << "train.learning_rate"
                                            << "unknown key" << 2;
        QTest::newRow("wrong type") << "train:\n  lr: fast\n"
                                    << "train.lr"
                                    << "expected a number" << 2;
        QTest::newRow("quoted number") << "train:\n  lr: \"0.1\"\n"
                                       << "train.lr"
                                       << "expected a number" << 2;
        QTest::newRow("out of range") << "train:\n  lr: 100\n"
                                      << "train.lr"
                                      << "outside" << 2;
        QTest::newRow("negative lambda") << "kd:\n  lambdas: [0, 0.1, -0.5]\n"
                                         << "kd.lambdas[2]"
                                         << "outside" << 2;
        QTest::newRow("lambda not a number") << "kd:\n  lambdas:\n    - 0\n    - big\n"
                                             << "kd.lambdas[1]"
                                             << "expected a number" << 4;
        QTest::newRow("duplicate lambda") << "kd:\n  lambdas: [0.1, 0.1]\n"
                                          << "kd.lambdas[1]"
                                          << "twice" << 2;
        QTest::newRow("snr reversed") << "data:\n  noisy:\n    snr_db: [10, 0]\n"
                                      << "data.noisy.snr_db"
                                      << "reversed" << 3;
        QTest::newRow("snr not a pair") << "data:\n  noisy:\n    snr_db: [5]\n"
                                        << "data.noisy.snr_db"
                                        << "pair" << 3;
        QTest::newRow("snr not a list") << "data:\n  noisy:\n    snr_db: 5\n"
                                        << "data.noisy.snr_db"
                                        << "pair" << 3;
        QTest::newRow("length too short") << "data:\n  noisy:\n    length_sec: 0.1\n"
                                          << "data.noisy.length_sec"
                                          << "0.5" << 3;
        QTest::newRow("unknown noise kind") << "data:\n  noisy:\n    noise: [white, purple]\n"
                                            << "data.noisy.noise[1]"
                                            << "not one of" << 3;
        QTest::newRow("no noise kinds") << "data:\n  noisy:\n    noise: []\n"
                                        << "data.noisy.noise"
                                        << "at least one" << 3;
        QTest::newRow("babble words") << "data:\n  noisy:\n    babble_words: 99\n"
                                      << "data.noisy.babble_words"
                                      << "between 0 and 20" << 3;
        QTest::newRow("bad bool") << "teacher:\n  fresh_noise_each_epoch: maybe\n"
                                  << "teacher.fresh_noise_each_epoch"
                                  << "true or false" << 2;
        QTest::newRow("fractional int") << "train:\n  epochs: 2.5\n"
                                        << "train.epochs"
                                        << "whole number" << 2;
        QTest::newRow("unknown choice") << "train:\n  optimizer: rmsprop\n"
                                        << "train.optimizer"
                                        << "not one of" << 2;
        QTest::newRow("unknown student") << "students: [crnn, resnet50]\n"
                                         << "students[1]"
                                         << "unknown student" << 1;
        QTest::newRow("duplicate student") << "students: [crnn, crnn]\n"
                                           << "students[1]"
                                           << "twice" << 1;
        QTest::newRow("students not a list") << "students: crnn\n"
                                             << "students"
                                             << "expected a list" << 1;
        QTest::newRow("no students") << "students: []\n"
                                     << "students"
                                     << "at least one" << 1;
        QTest::newRow("feature range") << "features:\n  mel_bins: 0\n"
                                       << "features.mel_bins"
                                       << "outside" << 2;
        QTest::newRow("feature kind") << "features:\n  kind: wavelet\n"
                                      << "features.kind"
                                      << "unknown feature kind" << 2;
        QTest::newRow("feature combination") << "features:\n  f_min_hz: 7000\n  f_max_hz: 6000\n"
                                             << "features.f_min_hz"
                                             << "below f_max_hz" << 2;
        QTest::newRow("mfcc above mel bins") << "features:\n  mel_bins: 30\n  mfcc_count: 31\n"
                                             << "features.mfcc_count"
                                             << "mel_bins" << 3;
        QTest::newRow("duplicate key") << "train:\n  lr: 0.1\n  lr: 0.2\n"
                                       << "train.lr"
                                       << "twice" << 3;
        QTest::newRow("section not a map") << "train: 5\n"
                                           << "train"
                                           << "section" << 1;
        QTest::newRow("empty value") << "train:\n  lr:\n  epochs: 3\n"
                                     << "train.lr"
                                     << "no value" << 2;
        QTest::newRow("imported needs weights")
            << "teacher:\n  kind: imported\n"
            << "teacher.weights"
            << "needs its weights" << 1; // the missing key's section
        QTest::newRow("native needs attention") << "students: [crnn]\nkd:\n  target: native\n"
                                                << "kd.target"
                                                << "crnn" << 3;
        QTest::newRow("grid length") << "grid:\n  lengths_sec: [2, 0.1]\n"
                                     << "grid.lengths_sec[1]"
                                     << "0.5" << 2;
        QTest::newRow("warm-up too long") << "train:\n  epochs: 3\n  warmup_epochs: 3\n"
                                          << "train.warmup_epochs"
                                          << "no training" << 3;
        QTest::newRow("dataset needs path") << "data:\n  source: fsd50k\n"
                                            << "data.path"
                                            << "needs its folder" << 0;
        QTest::newRow("bad task") << "data:\n  task: 20\n"
                                  << "data.task"
                                  << "12 or 35" << 2;
        QTest::newRow("negative seed") << "seed: -1\n"
                                       << "seed"
                                       << ">= 0" << 1;
        QTest::newRow("negative grid seed") << "grid:\n  seeds: [1, -2]\n"
                                            << "grid.seeds[1]"
                                            << ">= 0" << 2;
        QTest::newRow("empty name") << "name: \"\"\n"
                                    << "name"
                                    << "empty" << 1;
        QTest::newRow("name with slash") << "name: a/b\n"
                                         << "name"
                                         << "'/'" << 1;
        QTest::newRow("residual") << "teacher:\n  rollout:\n    residual: 1.5\n"
                                  << "teacher.rollout.residual"
                                  << "outside" << 3;
        QTest::newRow("rollout layers") << "teacher:\n  rollout:\n    layers: [1, x]\n"
                                        << "teacher.rollout.layers[1]"
                                        << "whole number" << 3;
        QTest::newRow("nan") << "train:\n  lr: .nan\n"
                             << "train.lr"
                             << "finite" << 2;
        QTest::newRow("runs dir empty") << "output:\n  runs_dir: \"\"\n"
                                        << "output.runs_dir"
                                        << "empty" << 2;
        QTest::newRow("empty file") << ""
                                    << ""
                                    << "no settings" << 0;
        QTest::newRow("not a map") << "- a\n- b\n"
                                   << ""
                                   << "expected a map" << 1;
        QTest::newRow("two documents") << "name: a\n---\nname: b\n"
                                       << ""
                                       << "documents" << 3;
        // A comma where a key belongs is a syntax error; alone it sends YAML::LoadAll into an
        // endless loop (fuzz_experiment found it), "only a comma" below.
        QTest::newRow("stray comma") << "name: a\n,\n"
                                     << ""
                                     << "YAML syntax error" << 2;
        QTest::newRow("deep nesting") << "train: " + QString(3000, '[') + QString(3000, ']') << ""
                                      << "levels deep" << 1;
        QTest::newRow("only a comma") << ","
                                      << ""
                                      << "no settings" << 0;
        // Issue 15: an explicit !!str is a string, as a quoted value is.
        QTest::newRow("!!str number") << "train:\n  epochs: !!str 3\n"
                                      << "train.epochs"
                                      << "the string" << 2;
        QTest::newRow("too large") << QString("# ") + QString(1100000, 'x') + "\nname: a\n"
                                   << ""
                                   << "larger than 1 MB" << 0;
    }

    void badFile()
    {
        QFETCH(QString, yaml);
        QFETCH(QString, key);
        QFETCH(QString, reason);
        QFETCH(int, line);
        try {
            ExperimentConfig::fromYaml(yaml.toStdString(), "exp.yaml");
            QFAIL("accepted a bad file");
        } catch (const ConfigError &e) {
            const std::string what = e.what();
            QVERIFY2(what.find("exp.yaml") != std::string::npos, what.c_str());
            const ConfigIssue *issue = findIssue(e.issues(), key.toStdString());
            QVERIFY2(issue,
                ("no issue for '" + key.toStdString() + "' in:\n" + issuesText(e.issues()))
                    .c_str());
            QVERIFY2(issue->message.find(reason.toStdString()) != std::string::npos,
                issue->toString().c_str());
            QCOMPARE(issue->source, std::string("exp.yaml"));
            if (line > 0)
                QCOMPARE(issue->line, line);
            // A ConfigError is a tkd::Error: the CLI and GUI catch it like any other.
            const tkd::Error &base = e;
            QVERIFY(!base.subject().empty());
        }
    }

    void syntaxError_data()
    {
        QTest::addColumn<QString>("yaml");
        QTest::addColumn<int>("line");
        QTest::newRow("unclosed flow list") << "name: x\ntrain:\n  lr: [0.1, 0.2\n  epochs: 3\n"
                                            << 4;
        QTest::newRow("bad indentation") << "train:\n  lr: 0.1\n epochs: 3\n" << 3;
        QTest::newRow("mapping in a scalar") << "seed: 1\nname: a: b\n" << 2;
    }

    void syntaxError()
    {
        QFETCH(QString, yaml);
        QFETCH(int, line);
        try {
            ExperimentConfig::fromYaml(yaml.toStdString(), "broken.yaml");
            QFAIL("accepted bad YAML");
        } catch (const ConfigError &e) {
            QCOMPARE(e.issues().size(), size_t(1));
            const ConfigIssue &issue = e.issues().front();
            QVERIFY2(issue.message.find("YAML syntax error") != std::string::npos,
                issue.message.c_str());
            QVERIFY2(issue.line >= 1 && std::abs(issue.line - line) <= 1, issue.toString().c_str());
            const std::string what = e.what();
            QVERIFY2(what.find("broken.yaml:" + std::to_string(issue.line)) != std::string::npos,
                what.c_str());
        }
    }

    void everyProblemAtOnce()
    {
        const std::string yaml = "name: ok\n"
                                 "train:\n"
                                 "  lr: -1\n" // line 3
                                 "  optimiser: adam\n" // line 4 (misspelt)
                                 "kd:\n"
                                 "  lambdas: [0, 2000]\n" // line 6
                                 "features:\n"
                                 "  hop_ms: 0\n"; // line 8
        std::vector<ConfigIssue> issues;
        const ExperimentConfig c = ExperimentConfig::parse(yaml, "many.yaml", issues);
        QVERIFY2(issues.size() == 4, issuesText(issues).c_str());
        QCOMPARE(findIssue(issues, "train.lr")->line, 3);
        QCOMPARE(findIssue(issues, "train.optimiser")->line, 4);
        QCOMPARE(findIssue(issues, "kd.lambdas[1]")->line, 6);
        QCOMPARE(findIssue(issues, "features.hop_ms")->line, 8);
        QCOMPARE(c.name, std::string("ok")); // lenient: good values are kept for the editor
        try {
            ExperimentConfig::fromYaml(yaml, "many.yaml");
            QFAIL("accepted");
        } catch (const ConfigError &e) {
            QCOMPARE(e.issues().size(), size_t(4));
            QVERIFY(std::string(e.what()).find("3 more problems") != std::string::npos);
        }
    }

    // Issue 15: a list with 100k duplicates is checked in O(n log n) and its problems come
    // capped, the last one counting the rest.
    void hugeProblemListsAreCapped()
    {
        std::string yaml = "name: many\nkd:\n  lambdas: [";
        for (int i = 0; i < 100000; ++i)
            yaml += i ? ", 0.5" : "0.5";
        yaml += "]\n";
        std::vector<ConfigIssue> issues;
        ExperimentConfig::parse(yaml, "dup.yaml", issues);
        QCOMPARE(issues.size(), ConfigError::kMaxIssues);
        QVERIFY2(issues.back().message.find("more problems") != std::string::npos,
            issues.back().message.c_str());
        QVERIFY2(issues.front().message.find("listed twice") != std::string::npos,
            issues.front().message.c_str());
        try {
            ExperimentConfig::fromYaml(yaml, "dup.yaml");
            QFAIL("accepted");
        } catch (const ConfigError &e) {
            QVERIFY(e.issues().size() <= ConfigError::kMaxIssues);
        }
    }

    void checkOnAStructForTheGui()
    {
        ExperimentConfig c;
        c.train.lr = -1.0;
        c.kd.lambdas = { 0.0, NAN };
        c.features.melBins = 0;
        c.data.noisy.snrDbMin = 20.0;
        c.data.noisy.snrDbMax = 10.0;
        c.students = { "crnn", "nope" };
        const auto issues = c.check();
        for (const char *key : { "train.lr", "kd.lambdas[1]", "features.mel_bins",
                 "data.noisy.snr_db", "students[1]" })
            QVERIFY2(findIssue(issues, key),
                (std::string(key) + " missing from:\n" + issuesText(issues)).c_str());
        for (const auto &i : issues) {
            QVERIFY(i.source.empty());
            QCOMPARE(i.line, 0);
        }
        QVERIFY_THROWS_EXCEPTION(ConfigError, c.validate());
    }

    void partialFileTakesDefaults()
    {
        const ExperimentConfig c
            = ExperimentConfig::fromYaml("name: quick\ntrain:\n  epochs: 2\n", "p.yaml");
        ExperimentConfig expected;
        expected.name = "quick";
        expected.train.epochs = 2;
        QVERIFY(c == expected);
        // An empty section keeps its defaults too.
        QVERIFY(ExperimentConfig::fromYaml("name: x\nkd:\n", "e.yaml").kd == ExperimentConfig().kd);
    }

    void missingFile()
    {
        try {
            ExperimentConfig::load("/nonexistent/exp.yaml");
            QFAIL("loaded a missing file");
        } catch (const tkd::Error &e) {
            QVERIFY(std::string(e.what()).find("/nonexistent/exp.yaml") != std::string::npos);
        }
    }

    void componentSettings()
    {
        ExperimentConfig c = unusual();
        const tkd::NoisyConfig n = c.noisyConfig(8.0);
        QCOMPARE(n.lengthSec, 8.0);
        QCOMPARE(n.snrDbMin, -5.25);
        QCOMPARE(n.kinds.size(), size_t(2));
        QCOMPARE(n.noiseFolder, std::string("relative/noise\twith tab"));
        QCOMPARE(c.studentSeeds(), (std::vector<uint64_t> { 3, 1, 2 }));
        QCOMPARE(c.clipLengths(), std::vector<double> { 6.5 }); // empty grid: the one length
        QCOMPARE(c.rolloutOptions().layers, (std::vector<int64_t> { 0, 2, -1 }));
        QCOMPARE(c.datasetSource().task, 35);
        QCOMPARE(c.corpusConfig().speakers, 17);
    }
};

QTEST_GUILESS_MAIN(TestExperimentConfig)
#include "tst_experimentconfig.moc"
