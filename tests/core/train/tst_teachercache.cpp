// The teacher attention cache: computed once per (dataset, teacher weights, rollout), reused
// otherwise - counted by how often the teacher's input is asked for.
#include "core/data/BuiltinCorpus.h"
#include "core/data/FeatureCache.h"
#include "core/data/NoisyDataset.h"
#include "core/data/PreparedData.h"
#include "core/distill/TeacherAttentionCache.h"
#include "core/features/FeatureExtractor.h"
#include "core/io/SafeTensors.h"
#include "core/models/Wav2Vec2Config.h"
#include "core/util/Error.h"

#include <QtTest>

#include <filesystem>
#include <fstream>

class TestTeacherCache : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void computesOnceThenReuses();
    void keyChanges_data();
    void keyChanges();
    void storedRowsAreTheRollout();
    void corruptFileIsRebuilt();
    void cancelWritesNothing();
    void badInput();

private:
    tkd::TeacherAttentionCache::Source source(int *calls);
    tkd::Wav2Vec2Model teacher(uint64_t seed) const;

    QTemporaryDir m_tmp;
    std::unique_ptr<tkd::NoisyDataset> m_noisy;
    tkd::PreparedSplit m_logMel;
    tkd::RolloutOptions m_rollout;
};

void TestTeacherCache::initTestCase()
{
    QVERIFY(m_tmp.isValid());
    qputenv("TKD_CACHE_DIR", m_tmp.path().toUtf8() + "/cache");
    torch::set_num_threads(1);
    tkd::BuiltinCorpusConfig c;
    c.speakers = 6;
    c.words = { "yes", "no", "up", "bed" };
    c.seed = 5;
    tkd::BuiltinCorpus corpus(c, m_tmp.path().toStdString() + "/corpus");
    corpus.ensure();
    tkd::NoisyConfig n;
    n.lengthSec = 2.0;
    m_noisy = std::make_unique<tkd::NoisyDataset>(corpus.index12(), n);
    tkd::FeatureConfig f;
    f.kind = tkd::FeatureConfig::Kind::LogMel;
    const tkd::PreparedData prepared(*m_noisy);
    m_logMel = prepared.split(tkd::Split::Train, tkd::FeatureExtractor(f), tkd::FeatureCache());
    QVERIFY(m_logMel.size() >= 12);
    QCOMPARE(m_logMel.features.size(2), int64_t(40));
}

tkd::Wav2Vec2Model TestTeacherCache::teacher(uint64_t seed) const
{
    torch::manual_seed(seed);
    tkd::Wav2Vec2Model m(tkd::Wav2Vec2Config::tiny(12, 40));
    m->eval();
    return m;
}

tkd::TeacherAttentionCache::Source TestTeacherCache::source(int *calls)
{
    tkd::TeacherAttentionCache::Source s;
    s.dataHash = m_noisy->contentHash();
    s.extraKey = "train";
    s.count = m_logMel.size();
    s.inputs = [this, calls](int64_t first, int64_t count) {
        ++*calls;
        return m_logMel.features.narrow(0, first, count);
    };
    return s;
}

void TestTeacherCache::computesOnceThenReuses()
{
    const std::string folder = m_tmp.path().toStdString() + "/once";
    tkd::Wav2Vec2Model t = teacher(1);
    const std::string hash
        = tkd::TeacherAttentionCache::weightsHash(*t, t->config.canonicalString());
    int calls = 0;
    const tkd::TeacherAttentionCache cache(folder);
    const tkd::TeacherCacheEntry first
        = cache.get(source(&calls), t, hash, m_rollout, {}, torch::kCPU, 8);
    QVERIFY(!first.fromCache);
    QCOMPARE(calls, int((m_logMel.size() + 7) / 8)); // every item, in batches of 8
    QCOMPARE(first.attention.sizes(), (std::vector<int64_t> { m_logMel.size(), 99 }));
    QCOMPARE(first.logits.sizes(), (std::vector<int64_t> { m_logMel.size(), 12 }));
    QVERIFY(std::filesystem::exists(first.path));
    QVERIFY(cache.contains(first.key));

    // A new cache object (a new process, in effect): nothing is computed.
    calls = 0;
    const tkd::TeacherCacheEntry again
        = tkd::TeacherAttentionCache(folder).get(source(&calls), t, hash, m_rollout);
    QVERIFY(again.fromCache);
    QCOMPARE(calls, 0);
    QCOMPARE(again.key, first.key);
    QVERIFY(torch::equal(again.attention, first.attention));
    QVERIFY(torch::equal(again.logits, first.logits));

    // Interpolation-ready: any student length, rows summing to 1.
    const torch::Tensor a13 = again.attentionFor(13);
    QCOMPARE(a13.sizes(), (std::vector<int64_t> { m_logMel.size(), 13 }));
    QVERIFY(torch::allclose(a13.sum(1), torch::ones({ m_logMel.size() }), 1e-5, 1e-5));
    QVERIFY(torch::allclose(again.attentionFor(99), first.attention, 1e-6, 1e-7));
    // Resampling happens at use, so it is not part of the key.
    tkd::RolloutOptions area = m_rollout;
    area.resampling = tkd::RowResampling::Area;
    QCOMPARE(
        tkd::TeacherAttentionCache::key(m_noisy->contentHash(), hash, area, "train"), first.key);
}

void TestTeacherCache::keyChanges_data()
{
    QTest::addColumn<QString>("change");
    QTest::newRow("teacher weights") << "weights";
    QTest::newRow("dataset") << "data";
    QTest::newRow("rollout residual") << "residual";
    QTest::newRow("rollout head fusion") << "fusion";
    QTest::newRow("split") << "split";
}

void TestTeacherCache::keyChanges()
{
    QFETCH(QString, change);
    const std::string folder = m_tmp.path().toStdString() + "/keys";
    const tkd::TeacherAttentionCache cache(folder);
    tkd::Wav2Vec2Model t = teacher(1);
    std::string hash = tkd::TeacherAttentionCache::weightsHash(*t, t->config.canonicalString());
    int calls = 0;
    const tkd::TeacherCacheEntry base = cache.get(source(&calls), t, hash, m_rollout);

    tkd::TeacherAttentionCache::Source s = source(&calls);
    tkd::RolloutOptions r = m_rollout;
    if (change == "weights") {
        torch::NoGradGuard g;
        t->parameters()[3].add_(1e-3); // one parameter nudged: a different teacher
        const std::string newHash
            = tkd::TeacherAttentionCache::weightsHash(*t, t->config.canonicalString());
        QVERIFY(newHash != hash);
        hash = newHash;
    } else if (change == "data") {
        s.dataHash = "another dataset";
    } else if (change == "residual") {
        r.residualWeight = 0.3;
    } else if (change == "fusion") {
        r.headFusion = tkd::HeadFusion::Max;
    } else {
        s.extraKey = "validation";
    }
    calls = 0;
    const tkd::TeacherCacheEntry changed = cache.get(s, t, hash, r);
    QVERIFY(!changed.fromCache);
    QVERIFY(changed.key != base.key);
    QVERIFY(calls > 0);
    if (change != "data" && change != "split")
        QVERIFY(!torch::equal(changed.attention, base.attention));
}

void TestTeacherCache::storedRowsAreTheRollout()
{
    tkd::Wav2Vec2Model t = teacher(2);
    const std::string hash
        = tkd::TeacherAttentionCache::weightsHash(*t, t->config.canonicalString());
    int calls = 0;
    const tkd::TeacherCacheEntry e
        = tkd::TeacherAttentionCache(m_tmp.path().toStdString() + "/rows")
              .get(source(&calls), t, hash, m_rollout);
    torch::NoGradGuard g;
    const tkd::Wav2Vec2Output out = t->forward(m_logMel.features.narrow(0, 0, 3));
    const torch::Tensor rows = tkd::AttentionRollout(m_rollout).rolloutRow(out.attentions);
    QVERIFY(torch::allclose(e.attention.narrow(0, 0, 3), rows, 1e-5, 1e-6));
    QVERIFY(torch::allclose(e.logits.narrow(0, 0, 3), out.logits, 1e-4, 1e-5));
}

void TestTeacherCache::corruptFileIsRebuilt()
{
    const std::string folder = m_tmp.path().toStdString() + "/corrupt";
    tkd::Wav2Vec2Model t = teacher(3);
    const std::string hash
        = tkd::TeacherAttentionCache::weightsHash(*t, t->config.canonicalString());
    int calls = 0;
    tkd::TeacherAttentionCache cache(folder);
    const tkd::TeacherCacheEntry e = cache.get(source(&calls), t, hash, m_rollout);
    {
        std::ofstream f(e.path, std::ios::binary | std::ios::trunc);
        f << "not a safetensors file";
    }
    std::vector<std::string> messages;
    cache.setMessageHandler([&](const std::string &m) { messages.push_back(m); });
    calls = 0;
    const tkd::TeacherCacheEntry rebuilt = cache.get(source(&calls), t, hash, m_rollout);
    QVERIFY(!rebuilt.fromCache);
    QVERIFY(calls > 0);
    QCOMPARE(messages.size(), size_t(1));
    QVERIFY(QString::fromStdString(messages[0]).contains("rebuilding"));
    QVERIFY(torch::equal(rebuilt.attention, e.attention));

    // Issue 15: a value changed inside the data section (header intact, still finite) is caught
    // by the checksum, not served.
    {
        const auto header = tkd::safetensors::readHeader(e.path);
        std::fstream f(e.path, std::ios::in | std::ios::out | std::ios::binary);
        const float planted = 0.5f;
        for (const auto &entry : header.entries)
            if (entry.name == "attention")
                f.seekp(std::streamoff(header.dataOffset + entry.begin));
        f.write(reinterpret_cast<const char *>(&planted), sizeof planted);
    }
    calls = 0;
    const tkd::TeacherCacheEntry again = cache.get(source(&calls), t, hash, m_rollout);
    QVERIFY(!again.fromCache);
    QVERIFY(calls > 0);
    QCOMPARE(messages.size(), size_t(2));
    QVERIFY2(QString::fromStdString(messages[1]).contains("checksum"), messages[1].c_str());
    QVERIFY(torch::equal(again.attention, e.attention));
}

void TestTeacherCache::cancelWritesNothing()
{
    const std::string folder = m_tmp.path().toStdString() + "/cancel";
    tkd::Wav2Vec2Model t = teacher(4);
    const std::string hash
        = tkd::TeacherAttentionCache::weightsHash(*t, t->config.canonicalString());
    std::atomic<bool> cancel { false };
    tkd::Progress p;
    p.cancel = &cancel;
    int calls = 0;
    tkd::TeacherAttentionCache::Source s = source(&calls);
    auto inner = s.inputs;
    s.inputs = [&](int64_t first, int64_t count) {
        cancel = true; // the user presses stop during the first batch
        return inner(first, count);
    };
    const tkd::TeacherAttentionCache cache(folder);
    QVERIFY_THROWS_EXCEPTION(tkd::Cancelled, cache.get(s, t, hash, m_rollout, p, torch::kCPU, 4));
    QCOMPARE(calls, 1);
    QVERIFY(!std::filesystem::exists(
        cache.pathFor(tkd::TeacherAttentionCache::key(s.dataHash, hash, m_rollout, s.extraKey))));
}

void TestTeacherCache::badInput()
{
    tkd::Wav2Vec2Model t = teacher(5);
    int calls = 0;
    const tkd::TeacherAttentionCache cache(m_tmp.path().toStdString() + "/bad");
    QVERIFY_THROWS_EXCEPTION(tkd::Error, cache.get(source(&calls), t, "", m_rollout));
    tkd::TeacherAttentionCache::Source s = source(&calls);
    s.inputs = [&](int64_t, int64_t) { return torch::zeros({ 1, 99, 40 }); }; // wrong batch size
    QVERIFY_THROWS_EXCEPTION(tkd::Error, cache.get(s, t, "h", m_rollout, {}, torch::kCPU, 4));
    tkd::RolloutOptions r;
    r.residualWeight = 2.0;
    try {
        cache.get(source(&calls), t, "h", r);
        QFAIL("a bad rollout residual accepted");
    } catch (const tkd::Error &e) {
        QVERIFY(QString::fromStdString(e.subject()).startsWith("rollout."));
    }
}

QTEST_GUILESS_MAIN(TestTeacherCache)
#include "tst_teachercache.moc"
