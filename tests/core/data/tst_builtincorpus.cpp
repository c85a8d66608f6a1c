// The built-in keyword corpus: synthesis, byte-identical regeneration, split by speaker, label
// mapping, reuse and recovery of an interrupted generation. Tiny configs keep it fast.
#include "core/audio/AudioFile.h"
#include "core/data/BuiltinCorpus.h"
#include "core/data/SpeechActivity.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"
#include "core/util/Rng.h"

#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace {

tkd::BuiltinCorpusConfig tinyConfig()
{
    tkd::BuiltinCorpusConfig c;
    c.speakers = 3;
    c.words = { "yes", "no", "bed", "marvin" };
    c.seed = 7;
    return c;
}

// Every file under a folder, relative path -> bytes.
std::map<std::string, std::string> snapshot(const std::string &dir)
{
    std::map<std::string, std::string> out;
    for (const auto &e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file())
            out[fs::relative(e.path(), dir).string()] = tkd::readFile(e.path().string());
    return out;
}

double meanSquare(const std::vector<float> &x, size_t a, size_t b)
{
    double e = 0;
    for (size_t i = a; i < b; ++i)
        e += double(x[i]) * x[i];
    return b > a ? e / double(b - a) : 0.0;
}

} // namespace

class TestBuiltinCorpus : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void badConfig_data();
    void badConfig();
    void speakerPlanSplitsBySpeaker();
    void regenerationIsByteIdentical();
    void clipsHoldTheirSpeechWindow();
    void completeCorpusIsReused();
    void interruptedGenerationIsCompleted();
    void labelMapping12And35();
    void speechActivityFindsBurst();
};

void TestBuiltinCorpus::badConfig_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("key");
    QTest::newRow("no speakers") << 0 << "corpus.speakers";
    QTest::newRow("validation fraction 1") << 1 << "corpus.validation_fraction";
    QTest::newRow("fractions leave no training") << 2 << "corpus.test_fraction";
    QTest::newRow("word with a space") << 3 << "corpus.words";
    QTest::newRow("word twice") << 4 << "corpus.words";
    QTest::newRow("rate range reversed") << 5 << "corpus.rate_wpm";
    QTest::newRow("negative silence count") << 6 << "corpus.silence_clips_per_speaker";
}

void TestBuiltinCorpus::badConfig()
{
    QFETCH(int, which);
    QFETCH(QString, key);
    auto c = tinyConfig();
    switch (which) {
    case 0:
        c.speakers = 0;
        break;
    case 1:
        c.validationFraction = 1.0;
        break;
    case 2:
        c.validationFraction = 0.5;
        c.testFraction = 0.5;
        break;
    case 3:
        c.words = { "yes", "go home" };
        break;
    case 4:
        c.words = { "yes", "yes" };
        break;
    case 5:
        c.rateMinWpm = 200;
        c.rateMaxWpm = 150;
        break;
    case 6:
        c.silenceClipsPerSpeaker = -1;
        break;
    }
    QTemporaryDir tmp;
    try {
        tkd::BuiltinCorpus corpus(c, tmp.path().toStdString());
        QFAIL("bad config accepted");
    } catch (const tkd::Error &e) {
        QCOMPARE(QString::fromStdString(e.subject()), key);
    }
}

void TestBuiltinCorpus::speakerPlanSplitsBySpeaker()
{
    tkd::BuiltinCorpusConfig c;
    c.speakers = 400;
    const auto plan = tkd::BuiltinCorpus::planSpeakers(c);
    QCOMPARE(int(plan.size()), 400);
    std::map<tkd::Split, int> perSplit;
    std::set<std::string> ids, voices;
    for (const auto &s : plan) {
        ++perSplit[s.split];
        QVERIFY(ids.insert(s.id).second);
        voices.insert(s.voice);
        QVERIFY(s.rateWpm >= c.rateMinWpm && s.rateWpm <= c.rateMaxWpm);
    }
    QCOMPARE(perSplit[tkd::Split::Train], 320);
    QCOMPARE(perSplit[tkd::Split::Validation], 40);
    QCOMPARE(perSplit[tkd::Split::Test], 40);
    QVERIFY2(voices.size() > 100, "speakers should use many accent x variant voices");
    // Pure function of the config; another seed gives another plan.
    const auto again = tkd::BuiltinCorpus::planSpeakers(c);
    for (size_t i = 0; i < plan.size(); ++i) {
        QCOMPARE(again[i].voice, plan[i].voice);
        QCOMPARE(int(again[i].split), int(plan[i].split));
    }
    c.seed = 2;
    const auto other = tkd::BuiltinCorpus::planSpeakers(c);
    int same = 0;
    for (size_t i = 0; i < plan.size(); ++i)
        same += other[i].voice == plan[i].voice && other[i].pitch == plan[i].pitch;
    QVERIFY(same < 20);
}

void TestBuiltinCorpus::regenerationIsByteIdentical()
{
    QTemporaryDir a, b, c;
    tkd::BuiltinCorpus first(tinyConfig(), a.path().toStdString());
    const auto r1 = first.ensure();
    QVERIFY(!r1.reused);
    QCOMPARE(r1.synthesised, 3 * 5); // 4 words + 1 silence clip per speaker
    tkd::BuiltinCorpus second(tinyConfig(), b.path().toStdString());
    second.ensure();
    QCOMPARE(fs::path(first.folder()).filename(), fs::path(second.folder()).filename());

    const auto s1 = snapshot(first.folder());
    const auto s2 = snapshot(second.folder());
    QCOMPARE(s1.size(), size_t(3 * 5 + 1)); // clips + manifest.json, no leftovers
    QVERIFY(s1.count("manifest.json"));
    QCOMPARE(s1.size(), s2.size());
    for (const auto &[path, bytes] : s1) {
        QVERIFY2(s2.count(path), path.c_str());
        QVERIFY2(s2.at(path) == bytes, ("differs: " + path).c_str());
    }
    QCOMPARE(first.contentHash(), second.contentHash());
    // The manifest's SHA-256 are the files'.
    first.verify();
    for (const auto &clip : first.clips())
        QCOMPARE(clip.sha256, tkd::Sha256::ofString(s1.at(clip.path)));

    // Another seed: another folder and other audio.
    auto cfg = tinyConfig();
    cfg.seed = 8;
    tkd::BuiltinCorpus third(cfg, c.path().toStdString());
    third.ensure();
    QVERIFY(third.folder() != first.folder()
        || fs::path(third.folder()).filename() != fs::path(first.folder()).filename());
    QVERIFY(snapshot(third.folder()).at("clips/yes/s0000.wav") != s1.at("clips/yes/s0000.wav"));
}

void TestBuiltinCorpus::clipsHoldTheirSpeechWindow()
{
    QTemporaryDir tmp;
    tkd::BuiltinCorpus corpus(tinyConfig(), tmp.path().toStdString());
    corpus.ensure();
    std::map<std::string, tkd::Split> speakerSplit;
    int silence = 0;
    for (const auto &clip : corpus.clips()) {
        const std::string path = corpus.folder() + "/" + clip.path;
        const auto info = tkd::probeAudio(path);
        QCOMPARE(info.sampleRate, 16000);
        QCOMPARE(info.channels, 1);
        QCOMPARE(info.frames, int64_t(16000));
        // No speaker in two splits.
        auto [it, inserted] = speakerSplit.emplace(clip.speaker, clip.split);
        QVERIFY(inserted || it->second == clip.split);

        const auto x = tkd::loadAudio(path);
        if (clip.word == tkd::kSilenceLabel) {
            ++silence;
            QCOMPARE(clip.speechOnsetSec, -1.0);
            const double rmsDb = 10 * std::log10(meanSquare(x, 0, x.size()));
            QVERIFY2(rmsDb < -35 && rmsDb > -65, qPrintable(QString::number(rmsDb)));
            continue;
        }
        QVERIFY(clip.speechOnsetSec >= 0.0);
        QVERIFY(clip.speechOffsetSec <= 1.0);
        QVERIFY(clip.speechOffsetSec - clip.speechOnsetSec > 0.15);
        const size_t a = size_t(clip.speechOnsetSec * 16000),
                     b = size_t(clip.speechOffsetSec * 16000);
        const double inside = meanSquare(x, a, b);
        const double outside
            = (meanSquare(x, 0, a) * a + meanSquare(x, b, x.size()) * (x.size() - b))
            / double(x.size() - (b - a));
        QVERIFY2(inside > 100 * outside,
            (clip.path + ": speech energy is not inside its window, ratio "
                + std::to_string(inside / outside))
                .c_str());
        // An independent detection on the file agrees with the recorded window.
        const auto w = tkd::SpeechActivity().detect(x, 16000);
        QVERIFY(std::fabs(w.onsetSec - clip.speechOnsetSec) < 0.03);
        QVERIFY(std::fabs(w.offsetSec - clip.speechOffsetSec) < 0.03);
    }
    QCOMPARE(silence, 3);
    QCOMPARE(speakerSplit.size(), size_t(3));
    std::set<tkd::Split> splits;
    for (const auto &[spk, split] : speakerSplit)
        splits.insert(split);
    QCOMPARE(splits.size(), size_t(3)); // 3 speakers: one per split
}

void TestBuiltinCorpus::completeCorpusIsReused()
{
    QTemporaryDir tmp;
    tkd::BuiltinCorpus corpus(tinyConfig(), tmp.path().toStdString());
    corpus.ensure();
    const auto before = fs::last_write_time(corpus.folder() + "/clips/no/s0001.wav");
    tkd::BuiltinCorpus again(tinyConfig(), tmp.path().toStdString());
    QVERIFY(again.isComplete());
    const auto r = again.ensure();
    QVERIFY(r.reused);
    QCOMPARE(r.synthesised, 0);
    QCOMPARE(again.clips().size(), corpus.clips().size());
    QCOMPARE(again.contentHash(), corpus.contentHash());
    QVERIFY(fs::last_write_time(corpus.folder() + "/clips/no/s0001.wav") == before);
    // force regenerates (to the same bytes).
    const auto forced = again.ensure({}, true);
    QVERIFY(!forced.reused);
    QCOMPARE(forced.synthesised, 15);
    QCOMPARE(again.contentHash(), corpus.contentHash());
}

void TestBuiltinCorpus::interruptedGenerationIsCompleted()
{
    QTemporaryDir ref, tmp;
    tkd::BuiltinCorpus reference(tinyConfig(), ref.path().toStdString());
    reference.ensure();

    tkd::BuiltinCorpus corpus(tinyConfig(), tmp.path().toStdString());
    std::atomic<bool> cancel { false };
    tkd::Progress p;
    p.cancel = &cancel;
    p.onProgress = [&](const std::string &, int64_t done, int64_t) {
        if (done >= 9)
            cancel = true; // "killed" after 9 of 15 clips
    };
    QVERIFY_THROWS_EXCEPTION(tkd::Cancelled, corpus.ensure(p));
    QVERIFY(!fs::exists(corpus.manifestPath()));
    QVERIFY(!corpus.isComplete());
    // Damage it further, as a hard kill or a full disk might: one clip lost, one cut short, a temp
    // file left behind.
    const auto files = snapshot(corpus.folder());
    QVERIFY(files.size() >= 9);
    fs::remove(corpus.folder() + "/clips/yes/s0000.wav");
    fs::resize_file(corpus.folder() + "/clips/no/s0000.wav", 1000);
    tkd::writeFileAtomic(corpus.folder() + "/clips/bed/s0001.wav.tmp-99999", "half");

    tkd::BuiltinCorpus resumed(tinyConfig(), tmp.path().toStdString());
    const auto r = resumed.ensure();
    QVERIFY(!r.reused);
    QVERIFY2(r.kept >= 6, qPrintable(QString::number(r.kept)));
    QCOMPARE(r.kept + r.synthesised, 15);
    QVERIFY(resumed.isComplete());
    const auto got = snapshot(resumed.folder());
    const auto want = snapshot(reference.folder());
    QCOMPARE(got.size(), want.size());
    for (const auto &[path, bytes] : want) {
        QVERIFY2(got.count(path), path.c_str());
        QVERIFY2(got.at(path) == bytes, ("differs after recovery: " + path).c_str());
    }

    // A complete corpus with a clip deleted later is not "complete" and gets the clip back; the
    // unit of synthesis is a speaker, so that speaker's 4 keyword clips are made again (the same).
    fs::remove(resumed.folder() + "/clips/marvin/s0002.wav");
    QVERIFY(!resumed.isComplete());
    const auto r2 = resumed.ensure();
    QCOMPARE(r2.synthesised, 4);
    QCOMPARE(r2.kept, 11);
    QVERIFY(snapshot(resumed.folder()) == want);
}

void TestBuiltinCorpus::labelMapping12And35()
{
    QTemporaryDir tmp;
    auto cfg = tinyConfig();
    cfg.words = { "yes", "no", "bed", "bird", "cat" };
    cfg.speakers = 4;
    tkd::BuiltinCorpus corpus(cfg, tmp.path().toStdString());
    QVERIFY_THROWS_EXCEPTION(tkd::Error, corpus.index12()); // not generated yet
    corpus.ensure();

    const auto i12 = corpus.index12();
    QCOMPARE(int(i12.classes.size()), 12);
    QCOMPARE(i12.classes[10], std::string(tkd::kUnknownLabel));
    QCOMPARE(i12.classes[11], std::string(tkd::kSilenceLabel));
    std::map<std::string, std::map<int, int>> perSpeaker; // speaker -> label -> count
    for (const auto &c : i12.clips) {
        QCOMPARE(c.labels.size(), size_t(1));
        const int l = c.labels[0];
        ++perSpeaker[c.speaker][l];
        QVERIFY(fs::path(c.path).is_absolute());
        QVERIFY(fs::exists(c.path));
        if (l < 10)
            QCOMPARE(i12.classes[size_t(l)], c.word);
        else if (l == 10)
            QVERIFY(c.word == "bed" || c.word == "bird" || c.word == "cat");
        else
            QCOMPARE(c.word, std::string(tkd::kSilenceLabel));
    }
    QCOMPARE(perSpeaker.size(), size_t(4));
    for (const auto &[spk, counts] : perSpeaker) {
        QCOMPARE(counts.at(i12.classIndex("yes")), 1);
        QCOMPARE(counts.at(i12.classIndex("no")), 1);
        QCOMPARE(counts.at(10), 1); // one unknown word per speaker: about one keyword's share
        QCOMPARE(counts.at(11), 1);
    }
    QCOMPARE(corpus.index12(2).clips.size(), i12.clips.size() + 4);

    const auto i35 = corpus.index35();
    QCOMPARE(i35.classes, tkd::speechCommandsWords35());
    QCOMPARE(i35.clips.size(), size_t(4 * 5)); // no silence in the 35-word task
    for (const auto &c : i35.clips)
        QCOMPARE(i35.classes[size_t(c.labels[0])], c.word);
    QVERIFY(!i12.contentHash.empty());
    QVERIFY(i12.contentHash != i35.contentHash);
    QVERIFY(i12.contentHash != corpus.index12(2).contentHash);
}

void TestBuiltinCorpus::speechActivityFindsBurst()
{
    // 2 s of faint noise with a 0.4 s tone burst at 0.9 s, and a short click at 0.2 s.
    tkd::Rng rng(3);
    std::vector<float> x(32000);
    for (auto &v : x)
        v = float(0.003 * rng.normal());
    for (int i = 14400; i < 14400 + 6400; ++i)
        x[size_t(i)] += float(0.3 * std::sin(2 * M_PI * 440.0 * i / 16000.0));
    for (int i = 3200; i < 3240; ++i)
        x[size_t(i)] += 0.5f;
    const auto w = tkd::SpeechActivity().detect(x, 16000);
    QVERIFY(w.found());
    QVERIFY2(std::fabs(w.onsetSec - 0.9) <= 0.011, qPrintable(QString::number(w.onsetSec)));
    QVERIFY2(std::fabs(w.offsetSec - 1.3) <= 0.011, qPrintable(QString::number(w.offsetSec)));
    // Digital silence gives no window.
    QVERIFY(!tkd::SpeechActivity().detect(std::vector<float>(16000, 0.0f), 16000).found());
}

QTEST_GUILESS_MAIN(TestBuiltinCorpus)
#include "tst_builtincorpus.moc"
