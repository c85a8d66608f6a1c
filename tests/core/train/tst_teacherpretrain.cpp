// `tkd teacher pretrain`'s engine on a tiny recipe (8 speakers, 1-2 s clips): the teacher file and
// its provenance, resume after finished stages, recipe errors, and the fair rules of the method:
// the teacher's speakers are none of any experiment's, and keyword windows never shape what it
// learns (training with and without scoring them gives bit-identical weights).
// tkd-test-labels: ml e2e
#include "core/checkpoint/Checkpoint.h"
#include "core/checkpoint/TrainedModels.h"
#include "core/data/BuiltinCorpus.h"
#include "core/data/FeatureCache.h"
#include "core/train/TeacherPretrainer.h"
#include "core/train/TeacherTrainer.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <QtTest>

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <algorithm>
#include <filesystem>
#include <set>

class TestTeacherPretrain : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void recipeErrorsNameTheKey_data();
    void recipeErrorsNameTheKey();
    void recipeRoundTrips();
    void pretrainWritesTeacherAndResumes();
    void pretrainedTeacherIsUsedAsIs();
    void speakersAreDisjointFromExperiments();
    void keywordWindowsNeverShapeTraining();
    void attentionFocusRewardsConcentration();

private:
    tkd::TeacherRecipe tinyRecipe() const;
    QTemporaryDir m_tmp;
    std::string m_teacher; // written by pretrainWritesTeacherAndResumes
};

void TestTeacherPretrain::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    qputenv("TKD_CACHE_DIR", m_tmp.path().toUtf8() + "/cache");
    torch::set_num_threads(1);
}

tkd::TeacherRecipe TestTeacherPretrain::tinyRecipe() const
{
    tkd::TeacherRecipe r;
    r.name = "tiny-test";
    r.corpus.speakers = 8;
    r.corpus.validationFraction = 0.125;
    r.corpus.testFraction = 0.125;
    r.unknownPerSpeaker = 1;
    r.model = tkd::TeacherKind::Tiny;
    r.batchSize = 16;
    r.stages = { { 1.0, 1, 2e-3 }, { 2.0, 1, 1e-3 } };
    r.evaluateLengthsSec = { 1.0, 2.0 };
    r.threads = 1;
    return r;
}

void TestTeacherPretrain::recipeErrorsNameTheKey_data()
{
    QTest::addColumn<QString>("yaml");
    QTest::addColumn<QString>("key");
    QTest::newRow("unknown key") << "name: x\nepochs: 3\n"
                                 << "epochs";
    QTest::newRow("experiment speakers") << "corpus: {first_speaker: 0}\n"
                                         << "corpus.first_speaker";
    QTest::newRow("model") << "model: resnet\n"
                           << "model";
    QTest::newRow("quoted number") << "batch_size: \"32\"\n"
                                   << "batch_size";
    QTest::newRow("stage length") << "stages:\n  - {length_sec: 0.2, epochs: 1}\n"
                                  << "stages[0].length_sec";
    QTest::newRow("stage focus") << "stages:\n  - {length_sec: 2, epochs: 1, focus: -1}\n"
                                 << "stages[0].focus";
    QTest::newRow("no stages") << "stages: []\n"
                               << "stages";
    QTest::newRow("not yaml") << "stages: [\n"
                              << "recipe.yaml";
}

void TestTeacherPretrain::recipeErrorsNameTheKey()
{
    QFETCH(QString, yaml);
    QFETCH(QString, key);
    try {
        tkd::TeacherRecipe::fromYaml(yaml.toStdString(), "recipe.yaml");
        QFAIL("accepted a bad recipe");
    } catch (const tkd::Error &e) {
        QVERIFY2(std::string(e.what()).find(key.toStdString()) != std::string::npos, e.what());
    }
}

void TestTeacherPretrain::recipeRoundTrips()
{
    const tkd::TeacherRecipe a = tinyRecipe();
    const tkd::TeacherRecipe b = tkd::TeacherRecipe::fromYaml(a.toYaml());
    QCOMPARE(b.toYaml(), a.toYaml());
    QCOMPARE(b.hash(), a.hash());
    // The shipped recipe parses and is the one the shipped teacher records.
    const std::string shipped
        = std::string(TKD_SOURCE_DIR) + "/resources/teachers/kws12-small.yaml";
    const tkd::TeacherRecipe s = tkd::TeacherRecipe::load(shipped);
    QVERIFY(s.corpus.firstSpeaker >= 100000);
    const std::string weights
        = std::string(TKD_SOURCE_DIR) + "/resources/teachers/kws12-small.safetensors";
    const tkd::Checkpoint ck = tkd::Checkpoint::load(weights);
    QCOMPARE(ck.text("recipe_hash"), s.hash());
}

void TestTeacherPretrain::pretrainWritesTeacherAndResumes()
{
    const std::string out = m_tmp.path().toStdString() + "/pretrain";
    tkd::TeacherPretrainer p(tinyRecipe(), out);
    const tkd::TeacherPretrainResult r = p.run();
    QVERIFY(std::filesystem::is_regular_file(r.teacherPath));
    QCOMPARE(r.figures.size(), size_t(2));
    for (const auto &f : r.figures) {
        QVERIFY(f.accuracy >= 0.0 && f.accuracy <= 1.0);
        QVERIFY(f.localisation > 0.0 && f.localisation <= 1.0);
    }
    QCOMPARE(r.stageResumed, std::vector<bool>({ false, false }));
    const auto info = tkd::TrainedModels::teacherInfo(r.teacherPath);
    QCOMPARE(info.kind, std::string("tiny"));
    QCOMPARE(info.classes.size(), size_t(12));
    QVERIFY(info.hasFeatures);
    const tkd::Checkpoint ck = tkd::Checkpoint::load(r.teacherPath);
    QCOMPARE(ck.text("recipe_hash"), tinyRecipe().hash());
    QVERIFY(ck.text("fair_rules").find("clip labels only") != std::string::npos);
    const auto report = nlohmann::json::parse(tkd::readFile(out + "/report.json"));
    QCOMPARE(report.at("figures").size(), size_t(2));

    // Again: both stages are found finished, nothing trains, the same teacher comes out.
    tkd::TeacherPretrainer again(tinyRecipe(), out);
    const tkd::TeacherPretrainResult r2 = again.run();
    QCOMPARE(r2.stageResumed, std::vector<bool>({ true, true }));
    QCOMPARE(r2.figures.front().accuracy, r.figures.front().accuracy);

    // Another recipe into the same folder is refused rather than mixed in...
    tkd::TeacherRecipe other = tinyRecipe();
    other.stages.back().epochs = 2;
    QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::TeacherPretrainer(other, out).run());
    // ... but a stage appended at the end continues from the finished ones.
    tkd::TeacherRecipe longer = tinyRecipe();
    longer.stages.push_back({ 2.0, 1, 5e-4 });
    const tkd::TeacherPretrainResult r3 = tkd::TeacherPretrainer(longer, out).run();
    QCOMPARE(r3.stageResumed, std::vector<bool>({ true, true, false }));
    QVERIFY(tkd::Checkpoint::load(r3.teacherPath).text("recipe_hash") == longer.hash());
    m_teacher = r.teacherPath;
}

void TestTeacherPretrain::pretrainedTeacherIsUsedAsIs()
{
    QVERIFY(!m_teacher.empty());
    // An experiment corpus (speakers 0..4) with the 12-label task: the same classes, so the
    // teacher is used as it is, and a copy lands in the run's checkpoint folder.
    tkd::BuiltinCorpusConfig cc;
    cc.speakers = 5;
    tkd::BuiltinCorpus corpus(cc);
    corpus.ensure();
    tkd::NoisyConfig nc;
    nc.lengthSec = 2.0;
    const tkd::NoisyDataset data(corpus.index12(), nc);
    const tkd::FeatureCache cache(m_tmp.path().toStdString() + "/features");
    tkd::TeacherTrainOptions o;
    o.kind = tkd::TeacherKind::Pretrained;
    o.weights = m_teacher;
    o.epochs = 5; // not used: the classes match
    o.threads = 1;
    o.checkpointDir = m_tmp.path().toStdString() + "/run/teacher-L2";
    tkd::TeacherTrainer t(data, cache, o);
    QVERIFY(t.isSpectral());
    QVERIFY(t.usesPretrainedAsIs());
    const tkd::TeacherResult r = t.run();
    QCOMPARE(r.epochsRun, 0);
    QVERIFY(std::filesystem::is_regular_file(o.checkpointDir + "/best.safetensors"));
    QCOMPARE(r.weightsHash,
        tkd::TeacherTrainer::weightsHash(tkd::TrainedModels::loadTeacher(m_teacher)));

    // The 35-word task has other classes: a new head must be adapted, and 0 epochs is an error.
    const tkd::NoisyDataset words(corpus.index35(), nc);
    o.epochs = 0;
    o.checkpointDir.clear();
    tkd::TeacherTrainer t35(words, cache, o);
    QVERIFY(!t35.usesPretrainedAsIs());
    QVERIFY_THROWS_EXCEPTION(tkd::Error, t35.run());
    o.epochs = 1;
    tkd::TeacherTrainer adapt(words, cache, o);
    const tkd::TeacherResult a = adapt.run();
    QCOMPARE(a.model->config.numLabels(), int64_t(35));

    // A per-class cap on the probe's clips: it says how many it read, one per class at most.
    struct Messages : tkd::TrainObserver
    {
        std::vector<std::string> lines;
        void onMessage(Level, const std::string &text) override { lines.push_back(text); }
    } messages;
    o.probeClipsPerClass = 1;
    tkd::TeacherTrainer capped(words, cache, o, &messages);
    QCOMPARE(capped.run().model->config.numLabels(), int64_t(35));
    const auto said = std::find_if(messages.lines.begin(), messages.lines.end(),
        [](const std::string &l) { return l.find("the linear probe reads") != std::string::npos; });
    QVERIFY2(said != messages.lines.end(), "the capped probe did not say what it read");
    const int read = std::stoi(said->substr(said->find("reads ") + 6));
    QVERIFY2(read >= 1 && read <= 35, said->c_str());
}

void TestTeacherPretrain::speakersAreDisjointFromExperiments()
{
    // Any experiment corpus has at most 100000 speakers, numbered from 0; the shipped recipe's
    // start at 100000, and a speaker's voice depends on its global number alone.
    const tkd::TeacherRecipe shipped = tkd::TeacherRecipe::load(
        std::string(TKD_SOURCE_DIR) + "/resources/teachers/kws12-small.yaml");
    std::set<std::string> teacherIds;
    for (const auto &s : tkd::BuiltinCorpus::planSpeakers(shipped.corpus))
        teacherIds.insert(s.id);
    tkd::BuiltinCorpusConfig experiment; // the default 400 speakers
    for (const auto &s : tkd::BuiltinCorpus::planSpeakers(experiment))
        QVERIFY(!teacherIds.count(s.id));
    tkd::BuiltinCorpusConfig large;
    large.speakers = 100001;
    QVERIFY_THROWS_EXCEPTION(tkd::Error, large.validate());
    // Numbering is global: speaker 100003 is the same voice wherever its corpus starts.
    tkd::BuiltinCorpusConfig a = shipped.corpus, b = shipped.corpus;
    a.speakers = 10;
    b.firstSpeaker = a.firstSpeaker + 3;
    b.speakers = 2;
    const auto pa = tkd::BuiltinCorpus::planSpeakers(a), pb = tkd::BuiltinCorpus::planSpeakers(b);
    QCOMPARE(pb[0].id, pa[3].id);
    QCOMPARE(pb[0].voice, pa[3].voice);
    QCOMPARE(pb[0].pitch, pa[3].pitch);
}

void TestTeacherPretrain::keywordWindowsNeverShapeTraining()
{
    tkd::BuiltinCorpusConfig cc;
    cc.speakers = 5;
    cc.firstSpeaker = 100000;
    tkd::BuiltinCorpus corpus(cc);
    corpus.ensure();
    tkd::NoisyConfig nc;
    nc.lengthSec = 2.0;
    const tkd::NoisyDataset data(corpus.index12(), nc);
    const tkd::FeatureCache cache(m_tmp.path().toStdString() + "/features");
    auto train = [&](bool score) {
        tkd::TeacherTrainOptions o;
        o.kind = tkd::TeacherKind::Tiny;
        o.epochs = 2;
        o.batchSize = 8;
        o.threads = 1;
        o.scoreLocalisation = score;
        o.attentionFocus = 0.5; // the focus term must not read the windows either
        return tkd::TeacherTrainer(data, cache, o).run();
    };
    const tkd::TeacherResult scored = train(true), blind = train(false);
    QVERIFY(scored.validation.localisation.scoredClips > 0);
    QCOMPARE(blind.validation.localisation.scoredClips, int64_t(0));
    const auto a = scored.model->named_parameters(), b = blind.model->named_parameters();
    QCOMPARE(a.size(), b.size());
    for (const auto &p : a)
        QVERIFY2(torch::equal(p.value(), b[p.key()]), p.key().c_str());
    QCOMPARE(blind.validation.metrics.accuracy, scored.validation.metrics.accuracy);
}

void TestTeacherPretrain::attentionFocusRewardsConcentration()
{
    // Two layers, 2 heads, 8 frames: attention spread evenly against attention that sends every
    // row to frame 5. The focus term must prefer the second and pass gradients to the first.
    const int64_t t = 8;
    const tkd::AttentionRollout rollout(tkd::RolloutOptions {});
    const torch::Tensor uniform
        = torch::full({ 1, 2, t, t }, 1.0 / double(t)).set_requires_grad(true);
    torch::Tensor peaked = torch::zeros({ 1, 2, t, t });
    peaked.select(3, 5).fill_(1.0);
    const torch::Tensor spread
        = tkd::TeacherTrainer::attentionFocusLoss(rollout, { uniform, uniform });
    const torch::Tensor focused
        = tkd::TeacherTrainer::attentionFocusLoss(rollout, { peaked, peaked });
    QVERIFY2(focused.item<double>() < 0.5 * spread.item<double>(),
        qPrintable(QString("focused %1, spread %2")
                       .arg(focused.item<double>())
                       .arg(spread.item<double>())));
    QVERIFY(spread.item<double>() <= 2.0 && focused.item<double>() >= 0.0);
    spread.backward();
    QVERIFY(uniform.grad().defined());
    QVERIFY(uniform.grad().abs().sum().item<double>() > 0.0);
    // A recipe stage carries its focus weight through YAML; without one the text is unchanged.
    tkd::TeacherRecipe r = tinyRecipe();
    const std::string plain = r.toYaml();
    QVERIFY(plain.find("focus") == std::string::npos);
    r.stages.back().focus = 0.3;
    QCOMPARE(tkd::TeacherRecipe::fromYaml(r.toYaml()).stages.back().focus, 0.3);
}

QTEST_GUILESS_MAIN(TestTeacherPretrain)
#include "tst_teacherpretrain.moc"
