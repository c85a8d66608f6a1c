// Metrics, learning-rate schedules and the batcher, checked against values worked out by hand.
#include "core/train/Batcher.h"
#include "core/train/LrSchedule.h"
#include "core/train/Metrics.h"
#include "core/util/Error.h"

#include <QtTest>

#include <cmath>
#include <set>

class TestMetrics : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void singleLabelByHand();
    void averagePrecision_data();
    void averagePrecision();
    void macroMapSkipsClassesWithoutPositives();
    void multiLabel();
    void badShapes();
    void schedules_data();
    void schedules();
    void badSchedule();
    void batcherIsASeededPermutation();
};

void TestMetrics::singleLabelByHand()
{
    // 3 classes, 6 clips. truth: 0 0 1 1 2 2; predicted: 0 1 1 1 2 0.
    const torch::Tensor logits = torch::tensor({ { 3.f, 1.f, 0.f }, { 0.f, 2.f, 1.f },
        { 0.f, 5.f, 1.f }, { 1.f, 2.f, 0.f }, { 0.f, 0.f, 1.f }, { 4.f, 0.f, 3.f } });
    const torch::Tensor truth = torch::tensor({ 0, 0, 1, 1, 2, 2 }, torch::kLong);
    const tkd::ClassificationMetrics m = tkd::Metrics::classification(logits, truth, false);
    QCOMPARE(m.count, int64_t(6));
    QCOMPARE(m.accuracy, 4.0 / 6.0);
    const std::vector<int64_t> expected = { 1, 1, 0, /**/ 0, 2, 0, /**/ 1, 0, 1 };
    QCOMPARE(m.confusion, expected);
    QCOMPARE(m.confusionAt(2, 0), int64_t(1));
    // precision: class 0 predicted twice (once right), class 1 three times (twice right), class 2
    // once (right)
    QCOMPARE(m.precision[0], 0.5);
    QCOMPARE(m.precision[1], 2.0 / 3.0);
    QCOMPARE(m.precision[2], 1.0);
    QCOMPARE(m.recall[0], 0.5);
    QCOMPARE(m.recall[1], 1.0);
    QCOMPARE(m.recall[2], 0.5);
    // A class never predicted and never present: undefined, not 0.
    const auto m4 = tkd::Metrics::classification(
        torch::cat({ logits, torch::full({ 6, 1 }, -9.f) }, 1), truth, false);
    QVERIFY(std::isnan(m4.precision[3]));
    QVERIFY(std::isnan(m4.recall[3]));
    QCOMPARE(m4.accuracy, m.accuracy);
}

void TestMetrics::averagePrecision_data()
{
    QTest::addColumn<std::vector<float>>("scores");
    QTest::addColumn<std::vector<int64_t>>("positives");
    QTest::addColumn<double>("expected");
    // Ranking + - + -: precision 1 at recall 0.5, 2/3 at recall 1 -> 0.5 * 1 + 0.5 * 2/3.
    QTest::newRow("interleaved") << std::vector<float> { 0.9f, 0.8f, 0.7f, 0.1f }
                                 << std::vector<int64_t> { 1, 0, 1, 0 } << (0.5 + 0.5 * 2.0 / 3.0);
    QTest::newRow("perfect") << std::vector<float> { 0.9f, 0.8f, 0.2f }
                             << std::vector<int64_t> { 1, 1, 0 } << 1.0;
    QTest::newRow("worst") << std::vector<float> { 0.9f, 0.8f, 0.2f }
                           << std::vector<int64_t> { 0, 0, 1 } << (1.0 / 3.0);
    // Ties enter together: {+, -} tied at the top gives precision 1/2 at recall 1/2, then
    // the last + at 2/3.
    QTest::newRow("ties") << std::vector<float> { 0.5f, 0.5f, 0.3f, 0.1f }
                          << std::vector<int64_t> { 1, 0, 1, 0 } << (0.5 * 0.5 + 0.5 * 2.0 / 3.0);
}

void TestMetrics::averagePrecision()
{
    QFETCH(std::vector<float>, scores);
    QFETCH(std::vector<int64_t>, positives);
    QFETCH(double, expected);
    const double ap
        = tkd::Metrics::averagePrecision(torch::tensor(scores), torch::tensor(positives));
    QVERIFY2(std::abs(ap - expected) < 1e-12,
        qPrintable(QString("AP %1, expected %2").arg(ap).arg(expected)));
}

void TestMetrics::macroMapSkipsClassesWithoutPositives()
{
    const torch::Tensor scores
        = torch::tensor({ { 0.9f, 0.1f, 0.3f }, { 0.8f, 0.7f, 0.2f }, { 0.1f, 0.6f, 0.9f } });
    const torch::Tensor targets = torch::tensor({ { 1, 0, 0 }, { 0, 1, 0 }, { 1, 0, 0 } });
    // class 0: ranking 0.9(+) 0.8(-) 0.1(+) -> 0.5 + 0.5 * 2/3; class 1: 0.7(+) ranks first -> 1;
    // class 2 has no positive and is left out.
    const double expected = ((0.5 + 0.5 * 2.0 / 3.0) + 1.0) / 2.0;
    QCOMPARE(tkd::Metrics::macroAveragePrecision(scores, targets), expected);
    QVERIFY(
        std::isnan(tkd::Metrics::averagePrecision(torch::tensor({ 0.5f }), torch::tensor({ 0 }))));
}

void TestMetrics::multiLabel()
{
    const torch::Tensor logits
        = torch::tensor({ { 2.f, -1.f, 3.f }, { -2.f, 1.f, -3.f }, { 0.5f, 0.2f, -1.f } });
    const torch::Tensor targets
        = torch::tensor({ { 1.f, 0.f, 1.f }, { 1.f, 0.f, 0.f }, { 0.f, 1.f, 0.f } });
    const tkd::ClassificationMetrics m = tkd::Metrics::classification(logits, targets, true);
    // top-1 in the label set: clip 0 (class 2) yes, clip 1 (class 1) no, clip 2 (class 0) no.
    QCOMPARE(m.accuracy, 1.0 / 3.0);
    QVERIFY(m.confusion.empty());
    // sigmoid >= 0.5 <=> logit >= 0: predictions {0,2}, {1}, {0,1}.
    QCOMPARE(m.precision[0], 0.5); // predicted on clips 0, 2; right on 0
    QCOMPARE(m.recall[0], 0.5); // positives on clips 0, 1; found 0
    QCOMPARE(m.precision[2], 1.0);
    QCOMPARE(m.recall[1], 1.0);
    QCOMPARE(m.meanAveragePrecision, tkd::Metrics::macroAveragePrecision(logits, targets));
}

void TestMetrics::badShapes()
{
    QVERIFY_THROWS_EXCEPTION(tkd::Error,
        tkd::Metrics::classification(
            torch::zeros({ 3 }), torch::zeros({ 3 }, torch::kLong), false));
    QVERIFY_THROWS_EXCEPTION(tkd::Error,
        tkd::Metrics::classification(
            torch::zeros({ 3, 2 }), torch::zeros({ 2 }, torch::kLong), false));
    QVERIFY_THROWS_EXCEPTION(tkd::Error,
        tkd::Metrics::classification(torch::zeros({ 2, 2 }), torch::tensor({ 0, 5 }), false));
    QVERIFY_THROWS_EXCEPTION(tkd::Error,
        tkd::Metrics::classification(torch::zeros({ 2, 2 }), torch::zeros({ 2, 3 }), true));
    try {
        tkd::Metrics::confusionMatrix({ 0, 7 }, { 0, 1 }, 3);
        QFAIL("no error for a label outside the classes");
    } catch (const tkd::Error &e) {
        QCOMPARE(QString::fromStdString(e.subject()), QString("metrics"));
        QVERIFY(QString::fromStdString(e.reason()).contains("7"));
    }
}

void TestMetrics::schedules_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<int>("warmup");
    QTest::addColumn<int>("step");
    QTest::addColumn<double>("expected");
    const double base = 0.1;
    // 11 steps; cosine over steps 0..10: t = step / 10.
    QTest::newRow("constant") << "constant" << 0 << 7 << base;
    QTest::newRow("cosine start") << "cosine" << 0 << 0 << base;
    QTest::newRow("cosine middle") << "cosine" << 0 << 5 << base * 0.5;
    QTest::newRow("cosine end") << "cosine" << 0 << 10 << 0.0;
    QTest::newRow("cosine quarter")
        << "cosine" << 0 << 2 << base * 0.5 * (1 + std::cos(M_PI * 0.2));
    QTest::newRow("warmup first") << "cosine" << 4 << 0 << base * 0.25;
    QTest::newRow("warmup third") << "cosine" << 4 << 2 << base * 0.75;
    // after 4 warm-up steps the cosine spans steps 4..10: step 7 is its middle.
    QTest::newRow("cosine after warmup") << "cosine" << 4 << 7 << base * 0.5;
    QTest::newRow("warmup constant") << "warmup" << 4 << 9 << base;
    QTest::newRow("step before") << "step" << 0 << 4 << base;
    QTest::newRow("step after half") << "step" << 0 << 5 << base * 0.1;
    QTest::newRow("step after 3/4") << "step" << 0 << 8 << base * 0.01;
    // one-cycle over 11 steps: rise over floor(0.3 * 11) = 3 steps from base/25 to base,
    // then fall over the remaining 7 steps to base/1e4.
    QTest::newRow("onecycle start") << "onecycle" << 0 << 0 << base / 25.0;
    QTest::newRow("onecycle peak") << "onecycle" << 0 << 3 << base;
    QTest::newRow("onecycle end") << "onecycle" << 0 << 10 << base / 1e4;
    QTest::newRow("past the end") << "cosine" << 0 << 99 << 0.0;
}

void TestMetrics::schedules()
{
    QFETCH(QString, kind);
    QFETCH(int, warmup);
    QFETCH(int, step);
    QFETCH(double, expected);
    tkd::LrScheduleOptions o;
    o.kind = tkd::scheduleKindFromName(kind.toStdString());
    o.baseLr = 0.1;
    o.totalSteps = 11;
    o.warmupSteps = warmup;
    const tkd::LrSchedule s(o);
    const double lr = s.lrAt(step);
    QVERIFY2(std::abs(lr - expected) < 1e-12,
        qPrintable(QString("lr %1, expected %2").arg(lr).arg(expected)));
}

void TestMetrics::badSchedule()
{
    try {
        tkd::scheduleKindFromName("exponential");
        QFAIL("unknown schedule accepted");
    } catch (const tkd::Error &e) {
        QCOMPARE(QString::fromStdString(e.subject()), QString("train.schedule"));
    }
    tkd::LrScheduleOptions o;
    o.baseLr = -1.0;
    QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::LrSchedule { o });
    o.baseLr = 0.1;
    o.totalSteps = 0;
    QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::LrSchedule { o });
}

void TestMetrics::batcherIsASeededPermutation()
{
    const tkd::Batcher a(103, 16, 7), b(103, 16, 7), c(103, 16, 8);
    QCOMPARE(a.batchesPerEpoch(), int64_t(7));
    const auto o0 = a.order(0);
    QCOMPARE(o0, b.order(0));
    QVERIFY(o0 != a.order(1));
    QVERIFY(o0 != c.order(0));
    QCOMPARE(std::set<int64_t>(o0.begin(), o0.end()).size(), size_t(103));
    const auto batches = a.batches(0);
    QCOMPARE(batches.size(), size_t(7));
    QCOMPARE(batches.back().numel(), int64_t(103 - 6 * 16));
    QCOMPARE(batches[1][0].item<int64_t>(), o0[16]);
    const torch::Tensor data = torch::arange(103 * 2).view({ 103, 2 });
    const torch::Tensor g = tkd::Batcher::gather(data, batches[0]);
    QCOMPARE(g[3][1].item<int64_t>(), o0[3] * 2 + 1);
    const tkd::Batcher unshuffled(5, 2, 1, false);
    QCOMPARE(unshuffled.order(3), (std::vector<int64_t> { 0, 1, 2, 3, 4 }));
    QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::Batcher(10, 0, 1));
}

QTEST_GUILESS_MAIN(TestMetrics)
#include "tst_metrics.moc"
