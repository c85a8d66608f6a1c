// Feature cache: computed once per key with the real FeatureExtractor (counted waveform calls
// prove it), new keys for changed data / features / extra key, corrupt files detected and
// rebuilt with a message, cancel writes nothing, and dataset segments cut correctly.
#include "core/audio/AudioFile.h"
#include "core/data/FeatureCache.h"
#include "core/features/FeatureExtractor.h"
#include "core/io/SafeTensors.h"
#include "core/util/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <atomic>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>

namespace fs = std::filesystem;

namespace {

// Items of three lengths, in runs, so batching has something to group.
std::vector<float> wave(int64_t i)
{
    const size_t n = i < 4 ? 16000 : i < 7 ? 8000 : 16000;
    std::vector<float> s(n);
    for (size_t k = 0; k < n; ++k)
        s[k] = 0.2f * float(std::sin(0.01 * double(k) * double(i + 1))) + 0.01f * float(i);
    return s;
}

struct Counting
{
    std::shared_ptr<std::atomic<int>> calls = std::make_shared<std::atomic<int>>(0);
    tkd::FeatureCache::Source source(const std::string &hash = "dataset-hash-A", int64_t count = 10,
        const std::string &extra = "")
    {
        tkd::FeatureCache::Source s;
        s.contentHash = hash;
        s.extraKey = extra;
        s.count = count;
        auto c = calls;
        s.waveform = [c](int64_t i) {
            ++*c;
            return wave(i);
        };
        return s;
    }
};

} // namespace

class TestFeatureCache : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void computesOnceThenLoads()
    {
        QTemporaryDir dir;
        const tkd::FeatureExtractor mfcc { tkd::FeatureConfig {} };
        Counting counter;
        int computeCalls = 0;
        const tkd::FeatureCache cache(dir.path().toStdString() + "/features");
        const auto first = cache.get(
            counter.source(), mfcc.config().canonicalString(), [&](const torch::Tensor &w) {
                ++computeCalls;
                return mfcc.compute(w);
            });
        QVERIFY(!first.fromCache);
        QCOMPARE(counter.calls->load(), 10);
        QCOMPARE(computeCalls, 3); // runs of equal length: 4 x 1 s, 3 x 0.5 s, 3 x 1 s
        QVERIFY(fs::exists(first.path));
        QCOMPARE(first.size(), int64_t(10));
        QCOMPARE(first.featureDim(), int64_t(20));
        QCOMPARE(first.item(0).size(0), int64_t(49));
        QCOMPARE(first.item(5).size(0), mfcc.config().numFrames(8000));
        // Batched results equal one-at-a-time extraction.
        for (int64_t i = 0; i < 10; ++i)
            QVERIFY2(torch::allclose(first.item(i), mfcc.compute(wave(i)), 1e-5, 1e-5),
                qPrintable(QString("item %1").arg(i)));

        // Same key, fresh cache object: loaded, no waveform computed.
        const tkd::FeatureCache again(dir.path().toStdString() + "/features");
        const auto second = again.get(counter.source(), mfcc);
        QVERIFY(second.fromCache);
        QCOMPARE(counter.calls->load(), 10);
        QVERIFY(torch::equal(second.frames, first.frames));
        QVERIFY(torch::equal(second.offsets, first.offsets));
        QVERIFY(second.key == first.key);
    }

    void changedInputsGetNewKeys()
    {
        QTemporaryDir dir;
        const tkd::FeatureCache cache(dir.path().toStdString());
        tkd::FeatureConfig mfccCfg;
        tkd::FeatureConfig logmelCfg;
        logmelCfg.kind = tkd::FeatureConfig::Kind::LogMel;
        tkd::FeatureConfig moreMels;
        moreMels.melBins = 64;
        Counting counter;
        const auto a = cache.get(counter.source(), tkd::FeatureExtractor(mfccCfg));
        const auto b = cache.get(counter.source(), tkd::FeatureExtractor(logmelCfg));
        const auto c = cache.get(counter.source(), tkd::FeatureExtractor(moreMels));
        const auto d = cache.get(counter.source("dataset-hash-B"), tkd::FeatureExtractor(mfccCfg));
        const auto e = cache.get(
            counter.source("dataset-hash-A", 10, "noisy L=4"), tkd::FeatureExtractor(mfccCfg));
        QCOMPARE(counter.calls->load(), 50);
        std::set<std::string> keys { a.key, b.key, c.key, d.key, e.key };
        QCOMPARE(keys.size(), size_t(5));
        QCOMPARE(b.featureDim(), int64_t(40));
        QCOMPARE(c.featureDim(), int64_t(20));
        QVERIFY(!torch::equal(c.frames, a.frames));
        // Everything is on disk: asking again computes nothing.
        for (auto *cfg : { &mfccCfg, &logmelCfg, &moreMels })
            QVERIFY(cache.get(counter.source(), tkd::FeatureExtractor(*cfg)).fromCache);
        QCOMPARE(counter.calls->load(), 50);
        QVERIFY(tkd::FeatureCache::key("ab", "c", "") != tkd::FeatureCache::key("a", "bc", ""));
    }

    static void saveWithChecksum(const std::string &path, const torch::Tensor &frames,
        const torch::Tensor &offsets, const std::string &key)
    {
        const std::map<std::string, torch::Tensor> t
            = { { "features", frames }, { "offsets", offsets } };
        tkd::safetensors::save(path, { t.begin(), t.end() },
            { { "format", "tkd-feature-cache-v2" }, { "key", key },
                { "checksum", tkd::safetensors::checksum(t) } });
    }

    void corruptFilesAreRebuilt_data()
    {
        QTest::addColumn<int>("damage");
        QTest::addColumn<QString>("reason");
        QTest::newRow("truncated") << 0 << "truncated";
        QTest::newRow("garbage") << 1 << "header";
        QTest::newRow("wrong key") << 2 << "another key";
        QTest::newRow("wrong count") << 3 << "offsets";
        QTest::newRow("bad offsets") << 4 << "partition";
        // Issue 15: a NaN written into the frames (the header left as it was) is not served.
        QTest::newRow("NaN in the data") << 5 << "checksum";
        QTest::newRow("no checksum") << 6 << "checksum";
    }
    void corruptFilesAreRebuilt()
    {
        QFETCH(int, damage);
        QFETCH(QString, reason);
        QTemporaryDir dir;
        tkd::FeatureCache cache(dir.path().toStdString());
        std::vector<std::string> messages;
        cache.setMessageHandler([&](const std::string &m) { messages.push_back(m); });
        const tkd::FeatureExtractor mfcc { tkd::FeatureConfig {} };
        Counting counter;
        const auto good = cache.get(counter.source(), mfcc);
        const auto size = fs::file_size(good.path);
        switch (damage) {
        case 0:
            fs::resize_file(good.path, size - 100);
            break;
        case 1: {
            const std::string garbage("\x10\0\0\0\0\0\0\0{not json at all", 24);
            std::ofstream(good.path, std::ios::binary | std::ios::trunc).write(garbage.data(), 24);
            break;
        }
        case 2:
            saveWithChecksum(good.path, good.frames, good.offsets, "someone else");
            break;
        case 3:
            saveWithChecksum(good.path, good.frames, good.offsets.slice(0, 0, 5), good.key);
            break;
        case 4: {
            auto off = good.offsets.clone();
            off[3] = off[5].item<int64_t>() + 1; // not monotonic
            saveWithChecksum(good.path, good.frames, off, good.key);
            break;
        }
        case 5: {
            // Overwrite the last float of the data section in place with a NaN.
            std::fstream f(good.path, std::ios::in | std::ios::out | std::ios::binary);
            const float nan = std::numeric_limits<float>::quiet_NaN();
            const auto header = tkd::safetensors::readHeader(good.path);
            for (const auto &e : header.entries)
                if (e.name == "features")
                    f.seekp(std::streamoff(header.dataOffset + e.end - sizeof nan));
            f.write(reinterpret_cast<const char *>(&nan), sizeof nan);
            break;
        }
        case 6:
            tkd::safetensors::save(good.path,
                { { "features", good.frames }, { "offsets", good.offsets } },
                { { "format", "tkd-feature-cache-v2" }, { "key", good.key } });
            break;
        }
        const auto rebuilt = cache.get(counter.source(), mfcc);
        QVERIFY(!rebuilt.fromCache);
        QCOMPARE(counter.calls->load(), 20);
        QCOMPARE(int(messages.size()), 1);
        QVERIFY2(messages[0].find(good.path) != std::string::npos
                && messages[0].find("rebuilding") != std::string::npos
                && messages[0].find(reason.toStdString()) != std::string::npos,
            messages[0].c_str());
        QVERIFY(torch::equal(rebuilt.frames, good.frames));
        // And the rebuilt file is good again.
        QVERIFY(cache.get(counter.source(), mfcc).fromCache);
        QCOMPARE(int(messages.size()), 1);
    }

    void cancelWritesNothing()
    {
        QTemporaryDir dir;
        const tkd::FeatureCache cache(dir.path().toStdString());
        std::atomic<bool> cancel { false };
        tkd::Progress progress;
        progress.cancel = &cancel;
        progress.onProgress = [&](const std::string &, int64_t done, int64_t) {
            if (done >= 4)
                cancel = true;
        };
        Counting counter;
        QVERIFY_THROWS_EXCEPTION(tkd::Cancelled,
            cache.get(counter.source(), tkd::FeatureExtractor(tkd::FeatureConfig {}), progress));
        QVERIFY(counter.calls->load() < 10);
        QVERIFY(fs::is_empty(dir.path().toStdString()));
    }

    void badSourcesAreErrors()
    {
        QTemporaryDir dir;
        const tkd::FeatureCache cache(dir.path().toStdString());
        const tkd::FeatureExtractor mfcc { tkd::FeatureConfig {} };
        Counting counter;
        auto noHash = counter.source("");
        QVERIFY_THROWS_EXCEPTION(tkd::Error, cache.get(noHash, mfcc));
        auto wrongShape = [](const torch::Tensor &w) { return w; };
        QVERIFY_THROWS_EXCEPTION(tkd::Error, cache.get(counter.source(), "x", wrongShape));
        QVERIFY_THROWS_EXCEPTION(tkd::Error, cache.get(counter.source(), mfcc).item(10));
    }

    void datasetSourceCutsSegments()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        std::vector<float> noise(3 * 16000);
        for (size_t k = 0; k < noise.size(); ++k)
            noise[k] = float(k % 1000) / 2000.0f - 0.25f;
        tkd::writeWav(root + "/noise.wav", noise, 16000, tkd::WavFormat::Float32);
        tkd::DatasetIndex index;
        index.root = root;
        index.name = "segments";
        index.classes = { "_silence_" };
        tkd::ClipRef whole, seg, past;
        whole.path = seg.path = past.path = root + "/noise.wav";
        whole.labels = seg.labels = past.labels = { 0 };
        seg.startSec = 1.0;
        seg.durationSec = 1.0;
        index.clips = { whole, seg };
        index.contentHash = tkd::listingHash(index);
        auto src = tkd::FeatureCache::datasetSource(index);
        QCOMPARE(src.count, int64_t(2));
        QCOMPARE(src.waveform(0).size(), size_t(48000));
        const auto cut = src.waveform(1);
        QCOMPARE(cut.size(), size_t(16000));
        QCOMPARE(cut[0], noise[16000]);
        QCOMPARE(cut[15999], noise[31999]);

        past.startSec = 2.5;
        past.durationSec = 1.0;
        index.clips = { past };
        auto bad = tkd::FeatureCache::datasetSource(index);
        try {
            bad.waveform(0);
            QFAIL("expected an error");
        } catch (const tkd::Error &e) {
            QVERIFY(std::string(e.what()).find("noise.wav") != std::string::npos);
        }

        // The whole path through the cache, keyed by the index's hash.
        index.clips = { whole, seg };
        const tkd::FeatureCache cache(root + "/cache");
        const auto f = cache.get(
            tkd::FeatureCache::datasetSource(index), tkd::FeatureExtractor(tkd::FeatureConfig {}));
        QCOMPARE(f.item(0).size(0), int64_t(149));
        QCOMPARE(f.item(1).size(0), int64_t(49));
        QVERIFY(torch::allclose(f.item(1), f.item(0).narrow(0, 50, 49), 1e-4, 1e-4));
    }
};

QTEST_GUILESS_MAIN(TestFeatureCache)
#include "tst_featurecache.moc"
