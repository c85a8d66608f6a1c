// tkd-test-labels: ml e2e
// Streaming metrics (tkd eval --stream): a long deterministic stream of test-split keywords among
// other words and noise, run through StreamingClassifier with a tiny student trained here
// (LiveFixture). The stream is a pure function of its seed; the DET replay at the classifier's
// own threshold reproduces its live detections exactly; the trained student hits keywords.
#include "LiveFixture.h"

#include "core/infer/StreamEvaluation.h"
#include "core/util/Error.h"

#include <QtTest>

using namespace tkd;

class TestStreamEvaluation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase()
    {
        torch::set_num_threads(1);
        QVERIFY(m_dir.isValid());
        m_fixture.build(m_dir.path().toStdString());
        m_model = LiveModel::load(m_fixture.cellDir, false);
        m_classes = m_model->info().classes;
    }

    void streamIsDeterministic()
    {
        KeywordStreamOptions o;
        o.hours = 0.02;
        o.seed = 4;
        const KeywordStream a = buildKeywordStream(m_fixture.index, m_classes, o);
        const KeywordStream b = buildKeywordStream(m_fixture.index, m_classes, o);
        QCOMPARE(a.samples.size(), size_t(0.02 * 3600 * 16000));
        QVERIFY(a.samples == b.samples);
        QCOMPARE(a.keywords.size(), b.keywords.size());
        QVERIFY(a.keywords.size() > 5);
        QVERIFY(a.distractorWords > 0);
        double lastOffset = -1.0;
        for (const auto &k : a.keywords) {
            QVERIFY(k.onsetSec > lastOffset && k.offsetSec > k.onsetSec);
            QVERIFY(m_classes[size_t(k.classIndex)][0] != '_');
            lastOffset = k.offsetSec;
        }
        o.seed = 5;
        const KeywordStream c = buildKeywordStream(m_fixture.index, m_classes, o);
        QVERIFY(c.samples != a.samples);
    }

    void detReplayEqualsLiveDetections()
    {
        KeywordStreamOptions ko;
        ko.hours = 0.05; // 3 minutes
        ko.snrDb = 25.0;
        const KeywordStream stream = buildKeywordStream(m_fixture.index, m_classes, ko);
        StreamingOptions so;
        so.threshold = 0.5;
        const StreamEvaluation e
            = evaluateStream(m_model, stream, so, { 0.05, 0.3, 0.5, 0.8, 0.999 });
        QCOMPARE(e.keywords, int64_t(stream.keywords.size()));
        QCOMPARE(e.det.size(), size_t(5));
        const DetPoint &replayed = e.det[2];
        QCOMPARE(replayed.threshold, 0.5);
        QCOMPARE(replayed.falseAccepts, e.atThreshold.falseAccepts);
        QCOMPARE(replayed.misses, e.atThreshold.misses);
        QCOMPARE(replayed.hits, e.atThreshold.hits);
        QCOMPARE(e.atThreshold.hits + e.atThreshold.misses, e.keywords);
        // The trained student finds keywords, and a stricter threshold never finds more.
        QVERIFY2(e.atThreshold.hits > 0, "no keyword detected at 0.5");
        QVERIFY(e.det.back().hits <= e.det.front().hits);
        QVERIFY(e.det.back().faPerHour <= e.det.front().faPerHour);
        QVERIFY(!e.perKeywordDet.empty());

        // The DET data file reads back.
        const StreamEvaluation back = StreamEvaluation::fromJson(e.json());
        QCOMPARE(back.det.size(), e.det.size());
        QCOMPARE(back.atThreshold.falseAccepts, e.atThreshold.falseAccepts);
        QCOMPARE(back.perKeywordDet.size(), e.perKeywordDet.size());
        QVERIFY(e.detCsv().find("pooled") != std::string::npos);
    }

    void refusesEmptyStreams()
    {
        KeywordStreamOptions o;
        o.hours = 0.0;
        QVERIFY_THROWS_EXCEPTION(Error, buildKeywordStream(m_fixture.index, m_classes, o));
        QVERIFY_THROWS_EXCEPTION(Error,
            buildKeywordStream(
                m_fixture.index, { "_silence_", "_unknown_" }, KeywordStreamOptions {}));
    }

private:
    QTemporaryDir m_dir;
    test::LiveFixture m_fixture;
    std::shared_ptr<LiveModel> m_model;
    std::vector<std::string> m_classes;
};

QTEST_GUILESS_MAIN(TestStreamEvaluation)
#include "tst_streamevaluation.moc"
