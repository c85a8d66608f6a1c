// The noisy construction: items are pure functions of (config, seed, split, i), the keyword window
// is where the keyword's energy is, the achieved SNR is the requested one, babble stays inside its
// split, and bad configs name their key. Built over a tiny real built-in corpus.
#include "core/audio/AudioFile.h"
#include "core/data/BuiltinCorpus.h"
#include "core/data/NoiseGenerator.h"
#include "core/data/NoisyDataset.h"
#include "core/data/SpeechActivity.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"
#include "core/util/Rng.h"

#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <map>
#include <thread>

namespace fs = std::filesystem;

namespace {

double meanSquare(const std::vector<float> &x, long a, long b)
{
    double e = 0;
    for (long i = a; i < b; ++i)
        e += double(x[size_t(i)]) * x[size_t(i)];
    return b > a ? e / double(b - a) : 0.0;
}

bool sameItem(const tkd::NoisyItem &a, const tkd::NoisyItem &b)
{
    return a.samples == b.samples && a.labels == b.labels && a.sourcePath == b.sourcePath
        && a.placementSec == b.placementSec && a.keywordOnsetSec == b.keywordOnsetSec
        && a.keywordOffsetSec == b.keywordOffsetSec && a.noiseKind == b.noiseKind
        && a.snrDb == b.snrDb && a.babbleSources == b.babbleSources && a.mixGain == b.mixGain;
}

} // namespace

class TestNoisyDataset : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void itemsArePureFunctions();
    void lengthsAndKeywordWindow_data();
    void lengthsAndKeywordWindow();
    void achievedSnr_data();
    void achievedSnr();
    void silenceItemsAreNoiseOnly();
    void babbleStaysInItsSplit();
    void folderNoise();
    void badConfig_data();
    void badConfig();
    void materialiseWritesManifest();
    void noiseColoursHaveTheirSlopes();

private:
    QTemporaryDir m_tmp;
    tkd::DatasetIndex m_index;
};

void TestNoisyDataset::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    tkd::BuiltinCorpusConfig c;
    c.speakers = 6; // 4 train, 1 validation, 1 test
    c.words = { "yes", "no", "up", "bed", "marvin" };
    c.seed = 11;
    tkd::BuiltinCorpus corpus(c, m_tmp.path().toStdString() + "/corpus");
    corpus.ensure();
    m_index = corpus.index12();
    QVERIFY(m_index.clipsIn(tkd::Split::Test).size() >= 4);
}

void TestNoisyDataset::itemsArePureFunctions()
{
    tkd::NoisyConfig cfg;
    cfg.lengthSec = 2.0;
    cfg.seed = 5;
    const tkd::NoisyDataset a(m_index, cfg);
    const tkd::NoisyDataset b(m_index, cfg);
    QCOMPARE(a.contentHash(), b.contentHash());
    const size_t n = a.size(tkd::Split::Train);
    QCOMPARE(n, m_index.clipsIn(tkd::Split::Train).size());
    std::vector<tkd::NoisyItem> forward;
    for (size_t i = 0; i < n; ++i)
        forward.push_back(a.item(tkd::Split::Train, i));
    // Reverse order, second object, and two threads at once: all the same.
    for (size_t k = n; k-- > 0;)
        QVERIFY(sameItem(b.item(tkd::Split::Train, k), forward[k]));
    std::vector<tkd::NoisyItem> t1(n), t2(n);
    std::thread x([&] {
        for (size_t i = 0; i < n; i += 2)
            t1[i] = b.item(tkd::Split::Train, i);
    });
    std::thread y([&] {
        for (size_t i = 1; i < n; i += 2)
            t2[i] = b.item(tkd::Split::Train, i);
    });
    x.join();
    y.join();
    for (size_t i = 0; i < n; ++i)
        QVERIFY(sameItem(i % 2 ? t2[i] : t1[i], forward[i]));
    // Items differ from each other, and with the seed.
    QVERIFY(forward[0].samples != forward[1].samples);
    cfg.seed = 6;
    const tkd::NoisyDataset c(m_index, cfg);
    QVERIFY(c.contentHash() != a.contentHash());
    QVERIFY(c.item(tkd::Split::Train, 0).samples != forward[0].samples);
    QVERIFY_THROWS_EXCEPTION(tkd::Error, a.item(tkd::Split::Train, n));
}

void TestNoisyDataset::lengthsAndKeywordWindow_data()
{
    QTest::addColumn<double>("length");
    for (double L : { 0.75, 1.0, 2.0, 4.0, 6.0, 8.0 })
        QTest::newRow(qPrintable(QString("L=%1").arg(L))) << L;
}

void TestNoisyDataset::lengthsAndKeywordWindow()
{
    QFETCH(double, length);
    tkd::NoisyConfig cfg;
    cfg.lengthSec = length;
    cfg.snrDbMin = cfg.snrDbMax = 30.0; // quiet background: the keyword's energy must stand out
    cfg.babbleWords = 0;
    cfg.kinds = { tkd::NoiseKind::White, tkd::NoiseKind::Pink };
    const tkd::NoisyDataset ds(m_index, cfg);
    const long L = long(std::lround(length * 16000));
    std::vector<double> onsets;
    int checkedEdges = 0, closeEdges = 0;
    for (size_t i = 0; i < ds.size(tkd::Split::Test); ++i) {
        const auto it = ds.item(tkd::Split::Test, i);
        QCOMPARE(long(it.samples.size()), L);
        if (it.silence())
            continue;
        QVERIFY(it.keywordOnsetSec >= 0.0);
        QVERIFY(it.keywordOffsetSec <= length + 1e-9);
        QVERIFY(it.keywordOffsetSec - it.keywordOnsetSec > 0.15);
        onsets.push_back(it.keywordOnsetSec);
        // The window is where the energy is.
        const long a = long(std::lround(it.keywordOnsetSec * 16000));
        const long b = long(std::lround(it.keywordOffsetSec * 16000));
        const double inside = meanSquare(it.samples, a, b);
        const double outside
            = (meanSquare(it.samples, 0, a) * a + meanSquare(it.samples, b, L) * (L - b))
            / std::max(1.0, double(L - (b - a)));
        if (b - a < L)
            QVERIFY2(inside > 30 * outside, qPrintable(QString("item %1").arg(i)));
        // An independent energy detector on the noisy mix agrees with the recorded window: within
        // 40 ms for most items, and never wildly (a faint tail or a noise swell can move one edge).
        const auto w = tkd::SpeechActivity().detect(it.samples, 16000);
        QVERIFY(w.found());
        const double dOn = std::fabs(w.onsetSec - it.keywordOnsetSec),
                     dOff = std::fabs(w.offsetSec - it.keywordOffsetSec);
        QVERIFY2(dOn < 0.25 && dOff < 0.25,
            qPrintable(QString("item %1: detected %2-%3 s, recorded %4-%5 s")
                           .arg(i)
                           .arg(w.onsetSec)
                           .arg(w.offsetSec)
                           .arg(it.keywordOnsetSec)
                           .arg(it.keywordOffsetSec)));
        ++checkedEdges;
        closeEdges += (dOn < 0.04) + (dOff < 0.04);
        // Placement: the source's recorded window, moved by the placement offset.
        const auto &src = *std::find_if(m_index.clips.begin(), m_index.clips.end(),
            [&](const tkd::ClipRef &c) { return c.path == it.sourcePath; });
        if (length >= 1.0)
            QVERIFY(std::fabs(it.keywordOnsetSec - (it.placementSec + src.speechOnsetSec)) < 1e-3);
    }
    QVERIFY(onsets.size() >= 4);
    QVERIFY2(closeEdges >= int(0.8 * 2 * checkedEdges),
        qPrintable(QString("%1 of %2 edges within 40 ms").arg(closeEdges).arg(2 * checkedEdges)));
    if (length >= 4.0) { // offsets are spread, not centred
        const auto [mn, mx] = std::minmax_element(onsets.begin(), onsets.end());
        QVERIFY(*mx - *mn > 0.5);
    }
}

void TestNoisyDataset::achievedSnr_data()
{
    QTest::addColumn<QString>("kind");
    for (const char *k : { "white", "pink", "brown", "babble" })
        QTest::newRow(k) << QString(k);
}

void TestNoisyDataset::achievedSnr()
{
    QFETCH(QString, kind);
    tkd::NoisyConfig cfg;
    cfg.lengthSec = 3.0;
    cfg.kinds = { tkd::noiseKindFromName(kind.toStdString()) };
    cfg.babbleWords = 0; // the background alone, so noise = mix - keyword
    const tkd::NoisyDataset ds(m_index, cfg);
    int checked = 0;
    for (size_t i = 0; i < ds.size(tkd::Split::Train); ++i) {
        const auto it = ds.item(tkd::Split::Train, i);
        QVERIFY(it.snrDb >= 0.0 && it.snrDb <= 10.0);
        if (it.silence())
            continue;
        // Rebuild the placed keyword from the file on disk.
        const auto src = tkd::loadAudio(it.sourcePath);
        std::vector<float> placed(it.samples.size(), 0.0f);
        const long off = long(std::lround(it.placementSec * 16000));
        for (size_t k = 0; k < src.size(); ++k)
            if (off + long(k) >= 0 && off + long(k) < long(placed.size()))
                placed[size_t(off + long(k))] = src[k];
        std::vector<float> noise(it.samples.size());
        for (size_t k = 0; k < noise.size(); ++k)
            noise[k] = float(it.samples[k] / it.mixGain - placed[k]);
        const long a = long(std::lround(it.keywordOnsetSec * 16000));
        const long b = long(std::lround(it.keywordOffsetSec * 16000));
        const double achieved = 10 * std::log10(meanSquare(placed, a, b) / meanSquare(noise, a, b));
        QVERIFY2(std::fabs(achieved - it.snrDb) < 0.5,
            qPrintable(
                QString("item %1: asked %2 dB, got %3 dB").arg(i).arg(it.snrDb).arg(achieved)));
        ++checked;
    }
    QVERIFY(checked >= 10);
}

void TestNoisyDataset::silenceItemsAreNoiseOnly()
{
    tkd::NoisyConfig cfg;
    cfg.lengthSec = 2.0;
    const tkd::NoisyDataset ds(m_index, cfg);
    const int silence = m_index.classIndex(tkd::kSilenceLabel);
    int seen = 0;
    for (size_t i = 0; i < ds.size(tkd::Split::Train); ++i) {
        const auto it = ds.item(tkd::Split::Train, i);
        const bool isSilence = it.labels == std::vector<int> { silence };
        QCOMPARE(it.silence(), isSilence);
        if (isSilence) {
            ++seen;
            QCOMPARE(it.keywordOnsetSec, -1.0);
            QCOMPARE(it.keywordOffsetSec, -1.0);
            QVERIFY(meanSquare(it.samples, 0, long(it.samples.size())) > 0.0);
        }
    }
    QCOMPARE(seen, 4); // one per training speaker
}

void TestNoisyDataset::babbleStaysInItsSplit()
{
    std::map<std::string, const tkd::ClipRef *> byPath;
    for (const auto &c : m_index.clips)
        byPath[c.path] = &c;
    tkd::NoisyConfig cfg;
    cfg.lengthSec = 4.0;
    cfg.kinds = { tkd::NoiseKind::Babble };
    cfg.babbleWords = 2;
    const tkd::NoisyDataset ds(m_index, cfg);
    for (tkd::Split s : { tkd::Split::Train, tkd::Split::Validation, tkd::Split::Test }) {
        for (size_t i = 0; i < ds.size(s); ++i) {
            const auto it = ds.item(s, i);
            QVERIFY(it.babbleSources.size() >= 2 + 3); // a bed of several words + 2 overlaid
            for (const auto &p : it.babbleSources) {
                const tkd::ClipRef *c = byPath.at(p);
                QCOMPARE(int(c->split), int(s));
                QVERIFY(c->word != tkd::kSilenceLabel);
                if (!it.silence())
                    QVERIFY(c->word != it.word);
            }
        }
    }
}

void TestNoisyDataset::folderNoise()
{
    // A real noise recording on disk: brown noise with a slow hum, 1.5 s (shorter than L: looped).
    const std::string dir = m_tmp.path().toStdString() + "/noise";
    tkd::makeDirs(dir);
    tkd::Rng rng(9);
    auto x = tkd::NoiseGenerator::generate(tkd::NoiseKind::Brown, 24000, rng);
    for (size_t i = 0; i < x.size(); ++i)
        x[i] = float(0.05 * x[i] + 0.02 * std::sin(2 * M_PI * 100.0 * double(i) / 16000.0));
    tkd::writeWav(dir + "/hum.wav", x);
    tkd::NoisyConfig cfg;
    cfg.lengthSec = 2.5;
    cfg.kinds = { tkd::NoiseKind::Folder };
    cfg.noiseFolder = dir;
    cfg.babbleWords = 0;
    const tkd::NoisyDataset ds(m_index, cfg);
    for (size_t i = 0; i < ds.size(tkd::Split::Validation); ++i) {
        const auto it = ds.item(tkd::Split::Validation, i);
        QCOMPARE(it.noiseKind, tkd::NoiseKind::Folder);
        QCOMPARE(it.noiseSource, dir + "/hum.wav");
        QCOMPARE(it.samples.size(), size_t(40000));
    }
    // The index's own noise files serve when no folder is given.
    auto withNoise = m_index;
    withNoise.noiseFiles = { dir + "/hum.wav" };
    cfg.noiseFolder.clear();
    const tkd::NoisyDataset fromIndex(withNoise, cfg);
    QCOMPARE(fromIndex.item(tkd::Split::Test, 0).noiseSource, dir + "/hum.wav");
}

void TestNoisyDataset::badConfig_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("key");
    QTest::newRow("zero length") << 0 << "noise.length_sec";
    QTest::newRow("NaN length") << 1 << "noise.length_sec";
    QTest::newRow("reversed SNR") << 2 << "noise.snr_db";
    QTest::newRow("absurd SNR") << 3 << "noise.snr_db";
    QTest::newRow("no kinds") << 4 << "noise.kinds";
    QTest::newRow("kind twice") << 5 << "noise.kinds";
    QTest::newRow("folder kind without noise") << 6 << "noise.folder";
    QTest::newRow("missing folder") << 7 << "noise.folder";
    QTest::newRow("negative babble words") << 8 << "noise.babble_words";
    QTest::newRow("babble gain inf") << 9 << "noise.babble_gain_db";
    QTest::newRow("unknown kind name") << 10 << "noise.kinds";
    QTest::newRow("empty noise folder") << 11 << "noise.folder";
}

void TestNoisyDataset::badConfig()
{
    QFETCH(int, which);
    QFETCH(QString, key);
    tkd::NoisyConfig c;
    const std::string empty = m_tmp.path().toStdString() + "/empty";
    tkd::makeDirs(empty);
    try {
        switch (which) {
        case 0:
            c.lengthSec = 0.0;
            break;
        case 1:
            c.lengthSec = std::nan("");
            break;
        case 2:
            c.snrDbMin = 10;
            c.snrDbMax = 0;
            break;
        case 3:
            c.snrDbMax = 500;
            break;
        case 4:
            c.kinds.clear();
            break;
        case 5:
            c.kinds = { tkd::NoiseKind::Pink, tkd::NoiseKind::Pink };
            break;
        case 6:
            c.kinds = { tkd::NoiseKind::Folder };
            break;
        case 7:
            c.noiseFolder = "/no/such/noise/folder";
            break;
        case 8:
            c.babbleWords = -1;
            break;
        case 9:
            c.babbleGainDb = INFINITY;
            break;
        case 10:
            tkd::noiseKindFromName("purple");
            break;
        case 11:
            c.noiseFolder = empty;
            c.kinds = { tkd::NoiseKind::Folder };
            break;
        }
        const tkd::NoisyDataset ds(m_index, c);
        QFAIL("bad config accepted");
    } catch (const tkd::Error &e) {
        QCOMPARE(QString::fromStdString(e.subject()), key);
        QVERIFY(!e.reason().empty());
    }
}

void TestNoisyDataset::materialiseWritesManifest()
{
    tkd::NoisyConfig cfg;
    cfg.lengthSec = 2.0;
    const tkd::NoisyDataset ds(m_index, cfg);
    const std::string out = m_tmp.path().toStdString() + "/noisy";
    int64_t lastDone = 0;
    tkd::Progress p;
    p.onProgress = [&](const std::string &, int64_t done, int64_t) { lastDone = done; };
    ds.materialise(out, p, 3);
    QCOMPARE(lastDone, int64_t(9));
    const auto j = nlohmann::json::parse(tkd::readFile(out + "/manifest.json"));
    QCOMPARE(j.at("content_hash").get<std::string>(), ds.contentHash());
    QCOMPARE(j.at("items").size(), size_t(9));
    for (const auto &e : j.at("items")) {
        const std::string path = out + "/" + e.at("path").get<std::string>();
        const auto info = tkd::probeAudio(path);
        QCOMPARE(info.frames, int64_t(32000));
        const auto it = ds.item(
            tkd::splitFromName(e.at("split").get<std::string>()), e.at("index").get<size_t>());
        QCOMPARE(e.at("keyword_onset_sec").get<double>(), it.keywordOnsetSec);
        QCOMPARE(e.at("keyword_offset_sec").get<double>(), it.keywordOffsetSec);
        QCOMPARE(e.at("labels").size(), size_t(1));
        // The file holds the item (to PCM16 precision).
        const auto x = tkd::loadAudio(path);
        double err = 0;
        for (size_t k = 0; k < x.size(); ++k)
            err = std::max(err, double(std::fabs(x[k] - it.samples[k])));
        QVERIFY(err < 1e-3);
    }
}

void TestNoisyDataset::noiseColoursHaveTheirSlopes()
{
    // Energy in 4-8 kHz relative to 0.25-0.5 kHz via first differences is a cheap slope proxy:
    // white > pink > brown in high-frequency share.
    auto hfShare = [](tkd::NoiseKind c) -> double {
        tkd::Rng rng(1);
        const auto x = tkd::NoiseGenerator::generate(c, 64000, rng);
        double e = 0, d = 0;
        for (size_t i = 1; i < x.size(); ++i) {
            e += double(x[i]) * x[i];
            d += double(x[i] - x[i - 1]) * (x[i] - x[i - 1]);
        }
        if (std::fabs(e / double(x.size()) - 1.0) > 0.01) // unit RMS
            return -1.0;
        return d / e;
    };
    const double w = hfShare(tkd::NoiseKind::White), p = hfShare(tkd::NoiseKind::Pink),
                 b = hfShare(tkd::NoiseKind::Brown);
    QVERIFY2(w > 1.8 && w < 2.2, qPrintable(QString::number(w))); // white: E[(x_i - x_{i-1})^2] = 2
    QVERIFY(p > 0.0 && p < 0.7 * w);
    QVERIFY(b > 0.0 && b < 0.3 * p);
}

QTEST_GUILESS_MAIN(TestNoisyDataset)
#include "tst_noisydataset.moc"
