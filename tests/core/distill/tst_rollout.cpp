// Teacher-side targets: attention rollout (hand-worked 2x2 / 3x3 products), resampling the
// rolled-out row to a student's length, the oracle's keyword-window targets and the
// localisation score that shares their frame-to-time mapping.
#include "core/distill/AttentionRollout.h"
#include "core/distill/Localisation.h"
#include "core/distill/OracleAttention.h"
#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <QtTest>

#include <cmath>
#include <vector>

namespace {

// A [1, heads, T, T] layer from nested rows (one matrix per head).
torch::Tensor layer(const std::vector<std::vector<std::vector<double>>> &heads)
{
    const int64_t h = int64_t(heads.size());
    const int64_t t = int64_t(heads[0].size());
    torch::Tensor out = torch::empty({ 1, h, t, t }, torch::kFloat64);
    auto acc = out.accessor<double, 4>();
    for (int64_t k = 0; k < h; ++k)
        for (int64_t i = 0; i < t; ++i)
            for (int64_t j = 0; j < t; ++j)
                acc[0][k][i][j] = heads[size_t(k)][size_t(i)][size_t(j)];
    return out;
}

torch::Tensor vec(const std::vector<double> &v)
{
    return torch::tensor(v, torch::kFloat64);
}

bool allClose(const torch::Tensor &a, const torch::Tensor &b, double tol = 1e-9)
{
    return a.sizes() == b.sizes()
        && (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>() <= tol;
}

QByteArray describe(const torch::Tensor &t)
{
    std::ostringstream s;
    s << t;
    return QByteArray::fromStdString(s.str());
}

#define VERIFY_CLOSE(a, b, tol)                                                                    \
    QVERIFY2(allClose((a), (b), (tol)), describe(a) + "\nexpected\n" + describe(b))

// The 2-layer, 1-head, 2x2 case.
//   A1 = [[0.5, 0.5], [0.2, 0.8]],  A2 = [[0.9, 0.1], [0.3, 0.7]]
//   r = 0.5: A1' = [[0.75, 0.25], [0.1, 0.9]],  A2' = [[0.95, 0.05], [0.15, 0.85]]
//   R = A2' A1', row 0 = 0.95 * [0.75, 0.25] + 0.05 * [0.1, 0.9] = [0.7175, 0.2825]
//   the wrong order A1' A2', row 0 = 0.75 * [0.95, 0.05] + 0.25 * [0.15, 0.85] = [0.75, 0.25]
torch::Tensor a1()
{
    return layer({ { { 0.5, 0.5 }, { 0.2, 0.8 } } });
}
torch::Tensor a2()
{
    return layer({ { { 0.9, 0.1 }, { 0.3, 0.7 } } });
}

// A 3x3 layer with two heads (rows of each head sum to 1):
//   H1 = [[0.6, 0.2, 0.2], [0.1, 0.8, 0.1], [0.3, 0.3, 0.4]]
//   H2 = [[0.2, 0.6, 0.2], [0.1, 0.1, 0.8], [0.5, 0.25, 0.25]]
torch::Tensor twoHeads()
{
    return layer({ { { 0.6, 0.2, 0.2 }, { 0.1, 0.8, 0.1 }, { 0.3, 0.3, 0.4 } },
        { { 0.2, 0.6, 0.2 }, { 0.1, 0.1, 0.8 }, { 0.5, 0.25, 0.25 } } });
}
// A second 3x3 layer, one head: [[0.2, 0.3, 0.5], [0.1, 0.1, 0.8], [0.3, 0.3, 0.4]]
torch::Tensor oneHead3()
{
    return layer({ { { 0.2, 0.3, 0.5 }, { 0.1, 0.1, 0.8 }, { 0.3, 0.3, 0.4 } } });
}

using FrameMass = QMap<int, double>; // frame -> expected mass

bool isDistribution(const torch::Tensor &rows, double tol)
{
    return (rows >= 0).all().item<bool>() && torch::isfinite(rows).all().item<bool>()
        && (rows.sum(-1) - 1.0).abs().max().item<double>() <= tol;
}

} // namespace

class TestRollout : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void twoByTwoProductInLayerOrder()
    {
        tkd::AttentionRollout rollout;
        VERIFY_CLOSE(
            rollout.rolloutRow({ a1(), a2() }), vec({ 0.7175, 0.2825 }).unsqueeze(0), 1e-12);
        // Swapping the layers swaps the product: the order is what the test pins down.
        VERIFY_CLOSE(rollout.rolloutRow({ a2(), a1() }), vec({ 0.75, 0.25 }).unsqueeze(0), 1e-12);
        // Full matrix: row 1 of A2' A1' = 0.15 * [0.75, 0.25] + 0.85 * [0.1, 0.9] = [0.1975,
        // 0.8025]
        const torch::Tensor r = rollout.rolloutMatrix({ a1(), a2() });
        VERIFY_CLOSE(r[0],
            torch::tensor({ 0.7175, 0.2825, 0.1975, 0.8025 }, torch::kFloat64).view({ 2, 2 }),
            1e-12);
    }

    void batchedItemsAreIndependent()
    {
        // Item 0 gets (A1, A2), item 1 gets (A2, A1): one call, both hand results.
        const torch::Tensor l0 = torch::cat({ a1(), a2() });
        const torch::Tensor l1 = torch::cat({ a2(), a1() });
        const torch::Tensor row = tkd::AttentionRollout().rolloutRow({ l0, l1 });
        VERIFY_CLOSE(row,
            torch::tensor({ 0.7175, 0.2825, 0.75, 0.25 }, torch::kFloat64).view({ 2, 2 }), 1e-12);
    }

    void headFusion_data()
    {
        QTest::addColumn<QString>("fusion");
        QTest::addColumn<double>("e0");
        QTest::addColumn<double>("e1");
        QTest::addColumn<double>("e2");
        // Row 0 of one layer, r = 0.5, heads H1 / H2 above (row 0: [0.6, 0.2, 0.2], [0.2, 0.6,
        // 0.2]). mean [0.4, 0.4, 0.2] -> 0.5 * that + 0.5 e0 = [0.7, 0.2, 0.1] (already sums to 1)
        QTest::newRow("mean") << "mean" << 0.7 << 0.2 << 0.1;
        // max [0.6, 0.6, 0.2] -> [0.8, 0.3, 0.1], sum 1.2 -> [2/3, 1/4, 1/12]
        QTest::newRow("max") << "max" << 2.0 / 3.0 << 0.25 << 1.0 / 12.0;
        // min [0.2, 0.2, 0.2] -> [0.6, 0.1, 0.1], sum 0.8 -> [0.75, 0.125, 0.125]
        QTest::newRow("min") << "min" << 0.75 << 0.125 << 0.125;
    }
    void headFusion()
    {
        QFETCH(QString, fusion);
        QFETCH(double, e0);
        QFETCH(double, e1);
        QFETCH(double, e2);
        tkd::RolloutOptions o;
        o.headFusion = tkd::headFusionFromName(fusion.toStdString());
        QCOMPARE(QString(tkd::headFusionName(o.headFusion)), fusion);
        VERIFY_CLOSE(tkd::AttentionRollout(o).rolloutRow({ twoHeads() }),
            vec({ e0, e1, e2 }).unsqueeze(0), 1e-12);
    }

    void threeByThreeTwoLayers()
    {
        // Layer 1 (two heads, mean): M1 = [[0.4, 0.4, 0.2], [0.1, 0.45, 0.45], [0.4, 0.275, 0.325]]
        //   A1' = [[0.7, 0.2, 0.1], [0.05, 0.725, 0.225], [0.2, 0.1375, 0.6625]]
        // Layer 2: A2' = [[0.6, 0.15, 0.25], [0.05, 0.55, 0.4], [0.15, 0.15, 0.7]]
        // R row 0 = 0.6 A1'[0] + 0.15 A1'[1] + 0.25 A1'[2] = [0.4775, 0.263125, 0.259375]
        // R row 1 = 0.05 A1'[0] + 0.55 A1'[1] + 0.4 A1'[2] = [0.1425, 0.46375, 0.39375]
        tkd::RolloutOptions o;
        VERIFY_CLOSE(tkd::AttentionRollout(o).rolloutRow({ twoHeads(), oneHead3() }),
            vec({ 0.4775, 0.263125, 0.259375 }).unsqueeze(0), 1e-12);
        o.queryRow = 1;
        VERIFY_CLOSE(tkd::AttentionRollout(o).rolloutRow({ twoHeads(), oneHead3() }),
            vec({ 0.1425, 0.46375, 0.39375 }).unsqueeze(0), 1e-12);
        o.queryRow = -2; // counts from the end: row 1 of 3
        VERIFY_CLOSE(tkd::AttentionRollout(o).rolloutRow({ twoHeads(), oneHead3() }),
            vec({ 0.1425, 0.46375, 0.39375 }).unsqueeze(0), 1e-12);
    }

    void residualWeight()
    {
        tkd::RolloutOptions o;
        // r = 0: the plain product. Row 0 of A2 A1 = 0.9 [0.5, 0.5] + 0.1 [0.2, 0.8] = [0.47, 0.53]
        o.residualWeight = 0.0;
        VERIFY_CLOSE(tkd::AttentionRollout(o).rolloutRow({ a1(), a2() }),
            vec({ 0.47, 0.53 }).unsqueeze(0), 1e-12);
        // r = 1: every layer is the identity, so row 0 is e0.
        o.residualWeight = 1.0;
        VERIFY_CLOSE(tkd::AttentionRollout(o).rolloutRow({ a1(), a2() }),
            vec({ 1.0, 0.0 }).unsqueeze(0), 1e-12);
        // r = 0.25: A1' row 0 = [0.625, 0.375], row 1 = [0.15, 0.85]; A2' row 0 = [0.925, 0.075]
        // row 0 = 0.925 [0.625, 0.375] + 0.075 [0.15, 0.85] = [0.589375, 0.410625]
        o.residualWeight = 0.25;
        VERIFY_CLOSE(tkd::AttentionRollout(o).rolloutRow({ a1(), a2() }),
            vec({ 0.589375, 0.410625 }).unsqueeze(0), 1e-12);
    }

    void layerSelection()
    {
        const std::vector<torch::Tensor> stack = { twoHeads(), oneHead3() };
        tkd::RolloutOptions o;
        // Only layer 1: A2' row 0 = [0.6, 0.15, 0.25].
        o.firstLayer = 1;
        VERIFY_CLOSE(tkd::AttentionRollout(o).rolloutRow(stack),
            vec({ 0.6, 0.15, 0.25 }).unsqueeze(0), 1e-12);
        // Only layer 0 via the range: [0.7, 0.2, 0.1].
        o.firstLayer = 0;
        o.lastLayer = 0;
        VERIFY_CLOSE(
            tkd::AttentionRollout(o).rolloutRow(stack), vec({ 0.7, 0.2, 0.1 }).unsqueeze(0), 1e-12);
        // An explicit list overrides the range and is applied in layer order whatever its order.
        o.layers = { -1, 0 };
        VERIFY_CLOSE(tkd::AttentionRollout(o).rolloutRow(stack),
            vec({ 0.4775, 0.263125, 0.259375 }).unsqueeze(0), 1e-12);
        QCOMPARE(tkd::AttentionRollout(o).selectedLayers(2), (std::vector<int64_t> { 0, 1 }));
        o.layers = { 1 };
        VERIFY_CLOSE(tkd::AttentionRollout(o).rolloutRow(stack),
            vec({ 0.6, 0.15, 0.25 }).unsqueeze(0), 1e-12);
    }

    void rowAgreesWithFullMatrix()
    {
        // rolloutRow multiplies a vector down the layers; it must equal the full product's row.
        torch::manual_seed(7);
        std::vector<torch::Tensor> stack;
        for (int l = 0; l < 4; ++l)
            stack.push_back(
                torch::softmax(torch::randn({ 2, 3, 6, 6 }, torch::kFloat64) * 2.0, -1));
        for (int64_t q : { 0, 3, 5 }) {
            tkd::RolloutOptions o;
            o.queryRow = q;
            o.residualWeight = 0.3;
            o.headFusion = tkd::HeadFusion::Max;
            tkd::AttentionRollout rollout(o);
            VERIFY_CLOSE(
                rollout.rolloutRow(stack), rollout.rolloutMatrix(stack).select(1, q), 1e-12);
        }
    }

    void rowsAreDistributionsOverRandomStacks()
    {
        // Property: whatever the (valid) softmax attentions and options, the rolled-out row and
        // every resampled row are distributions.
        tkd::Rng rng(2022);
        torch::manual_seed(2022);
        const tkd::HeadFusion fusions[]
            = { tkd::HeadFusion::Mean, tkd::HeadFusion::Max, tkd::HeadFusion::Min };
        for (int trial = 0; trial < 300; ++trial) {
            const int64_t layers = 1 + int64_t(rng.below(5));
            const int64_t heads = 1 + int64_t(rng.below(4));
            const int64_t t = 1 + int64_t(rng.below(14));
            const int64_t b = 1 + int64_t(rng.below(3));
            const double sharpness = rng.uniform(0.1, 30.0); // up to nearly one-hot rows
            std::vector<torch::Tensor> stack;
            for (int64_t l = 0; l < layers; ++l)
                stack.push_back(torch::softmax(torch::randn({ b, heads, t, t }) * sharpness, -1));
            tkd::RolloutOptions o;
            o.headFusion = fusions[rng.below(3)];
            o.residualWeight = rng.uniform();
            o.queryRow = int64_t(rng.below(uint64_t(t)));
            const torch::Tensor row = tkd::AttentionRollout(o).rolloutRow(stack);
            QCOMPARE(row.sizes().vec(), (std::vector<int64_t> { b, t }));
            QVERIFY2(isDistribution(row, 1e-5), describe(row).constData());
            const int64_t target = 1 + int64_t(rng.below(40));
            for (auto mode : { tkd::RowResampling::Linear, tkd::RowResampling::Area }) {
                for (bool corners : { false, true }) {
                    const torch::Tensor r
                        = tkd::AttentionRollout::resampleRow(row, target, mode, corners);
                    QCOMPARE(r.sizes().vec(), (std::vector<int64_t> { b, target }));
                    QVERIFY2(isDistribution(r, 1e-5), describe(r).constData());
                }
            }
        }
    }

    void resampleByHand_data()
    {
        QTest::addColumn<QVector<double>>("row");
        QTest::addColumn<int>("target");
        QTest::addColumn<QString>("mode");
        QTest::addColumn<bool>("corners");
        QTest::addColumn<QVector<double>>("expected");
        // align_corners = false: source = (d + 0.5) * T / T' - 0.5, clamped at 0.
        //   [0.1, 0.2, 0.3, 0.4] -> sources 0.5, 2.5 -> [0.15, 0.35] -> /0.5 -> [0.3, 0.7]
        QTest::newRow("down-linear") << QVector<double> { 0.1, 0.2, 0.3, 0.4 } << 2 << "linear"
                                     << false << QVector<double> { 0.3, 0.7 };
        // align_corners = true: sources 0, 3 -> [0.1, 0.4] -> [0.2, 0.8]
        QTest::newRow("down-corners") << QVector<double> { 0.1, 0.2, 0.3, 0.4 } << 2 << "linear"
                                      << true << QVector<double> { 0.2, 0.8 };
        //   [0.25, 0.75] -> 4: sources -0.25 (-> 0), 0.25, 0.75, 1.25 (-> 1 edge)
        //   -> [0.25, 0.375, 0.625, 0.75] / 2
        QTest::newRow("up-linear") << QVector<double> { 0.25, 0.75 } << 4 << "linear" << false
                                   << QVector<double> { 0.125, 0.1875, 0.3125, 0.375 };
        // area: [0.1, 0.2, 0.3, 0.4] -> 2 cells of two: [0.3, 0.7]; -> 3 cells of 4/3 each:
        //   [0.1 + 0.2/3, 0.2*2/3 + 0.3*2/3, 0.3/3 + 0.4]
        QTest::newRow("down-area")
            << QVector<double> { 0.1, 0.2, 0.3, 0.4 } << 3 << "area" << false
            << QVector<double> { 0.1 + 0.2 / 3, (0.2 + 0.3) * 2 / 3, 0.1 + 0.4 };
        // area up: each source cell splits its mass evenly.
        QTest::newRow("up-area") << QVector<double> { 0.25, 0.75 } << 4 << "area" << false
                                 << QVector<double> { 0.125, 0.125, 0.375, 0.375 };
        // unnormalised input is normalised too
        QTest::newRow("renormalise") << QVector<double> { 2.0, 2.0, 4.0 } << 3 << "linear" << false
                                     << QVector<double> { 0.25, 0.25, 0.5 };
    }
    void resampleByHand()
    {
        QFETCH(QVector<double>, row);
        QFETCH(int, target);
        QFETCH(QString, mode);
        QFETCH(bool, corners);
        QFETCH(QVector<double>, expected);
        const torch::Tensor out
            = tkd::AttentionRollout::resampleRow(vec(std::vector<double>(row.begin(), row.end())),
                target, tkd::rowResamplingFromName(mode.toStdString()), corners);
        VERIFY_CLOSE(out, vec(std::vector<double>(expected.begin(), expected.end())), 1e-12);
    }

    void resampleIdentityWhenLengthsMatch()
    {
        torch::manual_seed(3);
        const torch::Tensor rows = torch::softmax(torch::randn({ 4, 49 }, torch::kFloat64) * 3, 1);
        for (auto mode : { tkd::RowResampling::Linear, tkd::RowResampling::Area })
            for (bool corners : { false, true })
                VERIFY_CLOSE(
                    tkd::AttentionRollout::resampleRow(rows, 49, mode, corners), rows, 1e-12);
    }

    void resampleKeepsASpikeThatLinearSamplingMisses()
    {
        // 100 -> 2 samples the row at 24.5 and 74.5 only; a spike at frame 3 would vanish and
        // renormalising would divide by zero. The fallback keeps its mass where it was.
        torch::Tensor row = torch::zeros({ 1, 100 }, torch::kFloat64);
        row[0][3] = 1.0;
        VERIFY_CLOSE(
            tkd::AttentionRollout::resampleRow(row, 2), vec({ 1.0, 0.0 }).unsqueeze(0), 1e-12);
    }

    void teacherAttentionEndToEnd()
    {
        // Rollout + resample in one call equals doing both by hand: [0.7175, 0.2825] -> 4 frames,
        // sources clamp(-0.25) = 0, 0.25, 0.75, 1.25 -> edge:
        //   [0.7175, 0.7175*0.75 + 0.2825*0.25, 0.7175*0.25 + 0.2825*0.75, 0.2825] / 2
        const double a = 0.7175, b = 0.2825;
        const torch::Tensor expected
            = vec({ a / 2, (0.75 * a + 0.25 * b) / 2, (0.25 * a + 0.75 * b) / 2, b / 2 })
                  .unsqueeze(0);
        VERIFY_CLOSE(tkd::AttentionRollout().teacherAttention({ a1(), a2() }, 4), expected, 1e-12);
    }

    void badInputIsReported_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("subject");
        QTest::newRow("no layers") << 0 << "teacher attention";
        QTest::newRow("3-d layer") << 1 << "teacher attention layer 0";
        QTest::newRow("non-square") << 2 << "teacher attention layer 0";
        QTest::newRow("shapes differ") << 3 << "teacher attention layer 1";
        QTest::newRow("residual > 1") << 4 << "rollout.residual_weight";
        QTest::newRow("residual NaN") << 5 << "rollout.residual_weight";
        QTest::newRow("layer missing") << 6 << "rollout.layers";
        QTest::newRow("layer twice") << 7 << "rollout.layers";
        QTest::newRow("first after last") << 8 << "rollout.first_layer";
        QTest::newRow("last missing") << 9 << "rollout.last_layer";
        QTest::newRow("query row") << 10 << "rollout.query_row";
        QTest::newRow("fusion name") << 11 << "rollout.head_fusion";
        QTest::newRow("resampling name") << 12 << "rollout.resampling";
        QTest::newRow("zero length") << 13 << "student length";
        QTest::newRow("integer row") << 14 << "attention row";
    }
    void badInputIsReported()
    {
        QFETCH(int, which);
        QFETCH(QString, subject);
        const auto run = [&] {
            tkd::RolloutOptions o;
            switch (which) {
            case 0:
                tkd::AttentionRollout().rolloutRow({});
                break;
            case 1:
                tkd::AttentionRollout().rolloutRow({ torch::ones({ 1, 2, 2 }) });
                break;
            case 2:
                tkd::AttentionRollout().rolloutRow({ torch::ones({ 1, 1, 2, 3 }) });
                break;
            case 3:
                tkd::AttentionRollout().rolloutRow({ a1(), twoHeads() });
                break; // 2 vs 3 frames
            case 4:
                o.residualWeight = 1.5;
                tkd::AttentionRollout { o };
                break;
            case 5:
                o.residualWeight = std::nan("");
                tkd::AttentionRollout { o };
                break;
            case 6:
                o.layers = { 0, 5 };
                tkd::AttentionRollout(o).rolloutRow({ a1(), a2() });
                break;
            case 7:
                o.layers = { 1, -1 };
                tkd::AttentionRollout(o).rolloutRow({ a1(), a2() });
                break;
            case 8:
                o.firstLayer = 1;
                o.lastLayer = 0;
                tkd::AttentionRollout(o).rolloutRow({ a1(), a2() });
                break;
            case 9:
                o.lastLayer = 2;
                tkd::AttentionRollout(o).rolloutRow({ a1(), a2() });
                break;
            case 10:
                o.queryRow = 2;
                tkd::AttentionRollout(o).rolloutRow({ a1(), a2() });
                break;
            case 11:
                tkd::headFusionFromName("median");
                break;
            case 12:
                tkd::rowResamplingFromName("cubic");
                break;
            case 13:
                tkd::AttentionRollout::resampleRow(vec({ 0.5, 0.5 }), 0);
                break;
            case 14:
                tkd::AttentionRollout::resampleRow(torch::ones({ 3 }, torch::kLong), 2);
                break;
            }
        };
        try {
            run();
            QFAIL("no error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), subject);
            QVERIFY(!e.reason().empty());
        }
    }

    // ---- frame timing, oracle attention, localisation -------------------------------------

    void inputFrames_data()
    {
        QTest::addColumn<double>("clipSec");
        QTest::addColumn<qint64>("frames");
        // floor((L - 0.04) / 0.02) + 1
        QTest::newRow("1 s") << 1.0 << qint64(49);
        QTest::newRow("2 s") << 2.0 << qint64(99);
        QTest::newRow("8 s") << 8.0 << qint64(399);
        QTest::newRow("one window") << 0.04 << qint64(1);
        QTest::newRow("just short") << 0.039 << qint64(0);
        QTest::newRow("59 ms") << 0.059 << qint64(1);
        QTest::newRow("60 ms") << 0.060 << qint64(2);
    }
    void inputFrames()
    {
        QFETCH(double, clipSec);
        QFETCH(qint64, frames);
        QCOMPARE(qint64(tkd::FrameTiming().inputFrames(clipSec)), frames);
    }

    void oracleByHand_data()
    {
        QTest::addColumn<double>("onset");
        QTest::addColumn<double>("offset");
        QTest::addColumn<int>("studentLength");
        QTest::addColumn<FrameMass>("expected"); // all other frames 0
        // 1 s clip, T = T' = 49, frame f covers [0.02 f, 0.02 f + 0.04]. Window [0.5, 0.6]:
        // f = 24 [0.48, 0.52] 0.02 s, f = 25..28 0.04 s each, f = 29 [0.58, 0.62] 0.02 s; total
        // 0.2.
        QTest::newRow("inside") << 0.5 << 0.6 << 49
                                << FrameMass { { 24, 0.1 }, { 25, 0.2 }, { 26, 0.2 }, { 27, 0.2 },
                                       { 28, 0.2 }, { 29, 0.1 } };
        // T' = 7: student frame g covers input frames [7g, 7g + 7] -> [0.14 g, 0.14 g + 0.16] s.
        // g = 3 [0.42, 0.58]: 0.08 s; g = 4 [0.56, 0.72]: 0.04 s -> [2/3, 1/3].
        QTest::newRow("downsampled")
            << 0.5 << 0.6 << 7 << FrameMass { { 3, 2.0 / 3 }, { 4, 1.0 / 3 } };
        // At the start: [0, 0.03]: f = 0 0.03 s, f = 1 [0.02, 0.06] 0.01 s -> [0.75, 0.25].
        QTest::newRow("at start") << 0.0 << 0.03 << 49 << FrameMass { { 0, 0.75 }, { 1, 0.25 } };
        // Past the end, clipped to [0.95, 1.0]: f = 46 [0.92, 0.96] 0.01, f = 47 [0.94, 0.98]
        // 0.03, f = 48 [0.96, 1.0] 0.04; total 0.08.
        QTest::newRow("past end") << 0.95 << 1.2 << 49
                                  << FrameMass { { 46, 0.125 }, { 47, 0.375 }, { 48, 0.5 } };
        // T' = 1: everything in one frame.
        QTest::newRow("one frame") << 0.2 << 0.4 << 1 << FrameMass { { 0, 1.0 } };
    }
    void oracleByHand()
    {
        QFETCH(double, onset);
        QFETCH(double, offset);
        QFETCH(int, studentLength);
        QFETCH(FrameMass, expected);
        const torch::Tensor t
            = tkd::OracleAttention().target({ onset, offset }, 1.0, studentLength);
        QCOMPARE(t.size(0), int64_t(studentLength));
        torch::Tensor want = torch::zeros({ studentLength }, torch::kFloat64);
        for (auto it = expected.begin(); it != expected.end(); ++it)
            want[it.key()] = it.value();
        VERIFY_CLOSE(t, want, 1e-6);
    }

    void oracleWithoutKeywordIsUniform()
    {
        const torch::Tensor t = tkd::OracleAttention().target({}, 8.0, 50);
        VERIFY_CLOSE(t, torch::full({ 50 }, 1.0 / 50, torch::kFloat64), 1e-7);
        // A batch mixes both kinds.
        const torch::Tensor b = tkd::OracleAttention().batch({ { 0.5, 0.6 }, { -1, -1 } }, 1.0, 7);
        QCOMPARE(b.sizes().vec(), (std::vector<int64_t> { 2, 7 }));
        QVERIFY(std::abs(b[0][3].item<double>() - 2.0 / 3) < 1e-6);
        VERIFY_CLOSE(b[1], torch::full({ 7 }, 1.0 / 7, torch::kFloat64), 1e-7);
    }

    void oracleOnTheEightSecondExample()
    {
        // The paper's 8 s example: the keyword at 5.6-6.6 s, TC-ResNet8-like length ~ T/8.
        const int64_t tPrime = 50;
        const torch::Tensor t = tkd::OracleAttention().target({ 5.6, 6.6 }, 8.0, tPrime);
        QVERIFY(isDistribution(t, 1e-5));
        // Student frame g spans [g * 399/50 * 0.02, ... + 0.02 * 399/50 + 0.02] s; every frame
        // with mass must overlap [5.6, 6.6], every frame fully inside has the same (largest) mass.
        const double per = 399.0 / 50 * 0.02;
        const double top = t.max().item<double>();
        for (int64_t g = 0; g < tPrime; ++g) {
            const double s = g * per, e = (g + 1) * per + 0.02;
            const double m = t[g].item<double>();
            if (e <= 5.6 || s >= 6.6)
                QCOMPARE(m, 0.0);
            else if (s >= 5.6 && e <= 6.6)
                QVERIFY(std::abs(m - top) < 1e-6);
            else
                QVERIFY(m > 0 && m < top);
        }
    }

    void oracleBadWindows_data()
    {
        QTest::addColumn<double>("onset");
        QTest::addColumn<double>("offset");
        QTest::addColumn<double>("clip");
        QTest::addColumn<int>("length");
        QTest::addColumn<QString>("subject");
        QTest::newRow("reversed") << 0.6 << 0.5 << 1.0 << 49 << "keyword window";
        QTest::newRow("empty") << 0.5 << 0.5 << 1.0 << 49 << "keyword window";
        QTest::newRow("after clip") << 1.5 << 2.0 << 1.0 << 49 << "keyword window";
        QTest::newRow("clip too short") << 0.0 << 0.01 << 0.03 << 1 << "clip length";
        QTest::newRow("zero student") << 0.1 << 0.2 << 1.0 << 0 << "student length";
        QTest::newRow("negative clip") << 0.1 << 0.2 << -1.0 << 49 << "clip length";
    }
    void oracleBadWindows()
    {
        QFETCH(double, onset);
        QFETCH(double, offset);
        QFETCH(double, clip);
        QFETCH(int, length);
        QFETCH(QString, subject);
        try {
            tkd::OracleAttention().target({ onset, offset }, clip, length);
            QFAIL("no error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), subject);
        }
    }

    void localisationByHand()
    {
        // 1 s, T' = 49, window [0.5, 0.6]: the inside fraction of frames 24..29 is
        // 0.5, 1, 1, 1, 1, 0.5 (a frame spans 0.04 s), all others 0.
        const tkd::Localisation loc;
        const std::vector<double> frac = loc.frameInsideFraction({ 0.5, 0.6 }, 1.0, 49);
        QCOMPARE(frac[23], 0.0);
        QVERIFY(std::abs(frac[24] - 0.5) < 1e-9 && std::abs(frac[26] - 1.0) < 1e-9
            && std::abs(frac[29] - 0.5) < 1e-9);
        QCOMPARE(frac[30], 0.0);

        torch::Tensor att = torch::zeros({ 5, 49 });
        att[0][26] = 1.0; // spike fully inside -> 1
        att[1][24] = 1.0; // spike on the half-inside frame -> 0.5
        att[2][0] = 1.0; // far away -> 0
        att[3].fill_(2.0); // uniform (unnormalised) -> 5 / 49
        att[4][26] = att[4][0] = 1.0; // half inside -> 0.5
        const tkd::LocalisationScore s = loc.score(
            att, std::vector<tkd::KeywordWindow>(5, tkd::KeywordWindow { 0.5, 0.6 }), 1.0);
        const std::vector<double> want = { 1.0, 0.5, 0.0, 5.0 / 49, 0.5 };
        for (size_t i = 0; i < want.size(); ++i)
            QVERIFY2(std::abs(s.perClip[i] - want[i]) < 1e-6, QByteArray::number(s.perClip[i]));
        QCOMPARE(s.scoredClips, int64_t(5));
        QVERIFY(std::abs(s.mean() - (2.0 + 5.0 / 49) / 5) < 1e-6);
        // Uniform baseline: 0.1 s of a 1 s clip; uniform attention scores close to it.
        QVERIFY(std::abs(s.meanBaseline() - 0.1) < 1e-12);
        QVERIFY(std::abs(s.perClip[3] - s.baseline[3]) < 0.01);
    }

    void localisationOfOracleAndSilence()
    {
        const tkd::OracleAttention oracle;
        const tkd::Localisation loc;
        // The oracle over [0.5, 0.6]: 0.1 * 0.5 * 2 + 0.2 * 4 = 0.9 (edge frames are half outside).
        const std::vector<tkd::KeywordWindow> w = { { 0.5, 0.6 }, {} };
        const tkd::LocalisationScore s = loc.score(oracle.batch(w, 1.0, 49), w, 1.0);
        QVERIFY(std::abs(s.perClip[0] - 0.9) < 1e-6);
        // A clip without a keyword is not scored and not in the means.
        QVERIFY(std::isnan(s.perClip[1]) && std::isnan(s.baseline[1]));
        QCOMPARE(s.scoredClips, int64_t(1));
        QVERIFY(std::abs(s.mean() - 0.9) < 1e-6);
        // Pooling batches.
        tkd::LocalisationScore pooled;
        QVERIFY(std::isnan(pooled.mean()));
        pooled.merge(s);
        pooled.merge(loc.score(torch::ones({ 1, 49 }), { { 0.0, 0.5 } }, 1.0));
        QCOMPARE(pooled.scoredClips, int64_t(2));
        QCOMPARE(pooled.perClip.size(), size_t(3));
        QVERIFY(std::abs(pooled.meanBaseline() - (0.1 + 0.5) / 2) < 1e-12);
        // On the paper's 8 s example, the oracle is far above the uniform baseline (1/8).
        const tkd::KeywordWindow k { 5.6, 6.6 };
        const tkd::LocalisationScore e = loc.score(oracle.target(k, 8.0, 50), { k }, 8.0);
        QVERIFY(e.mean() > 0.8);
        QVERIFY(std::abs(e.meanBaseline() - 0.125) < 1e-12);
    }

    void localisationBadInput_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("subject");
        QTest::newRow("count mismatch") << 0 << "keyword windows";
        QTest::newRow("negative") << 1 << "attention";
        QTest::newRow("3-d") << 2 << "attention";
        QTest::newRow("reversed window") << 3 << "keyword window 1";
        QTest::newRow("no mass") << 4 << "attention";
        QTest::newRow("NaN") << 5 << "attention";
    }
    void localisationBadInput()
    {
        QFETCH(int, which);
        QFETCH(QString, subject);
        const tkd::Localisation loc;
        const tkd::KeywordWindow w { 0.2, 0.4 };
        try {
            switch (which) {
            case 0:
                loc.score(torch::ones({ 2, 10 }), { w }, 1.0);
                break;
            case 1:
                loc.score(-torch::ones({ 1, 10 }), { w }, 1.0);
                break;
            case 2:
                loc.score(torch::ones({ 1, 2, 10 }), { w }, 1.0);
                break;
            case 3:
                loc.score(torch::ones({ 2, 10 }), { w, { 0.4, 0.2 } }, 1.0);
                break;
            case 4:
                loc.score(torch::zeros({ 1, 10 }), { w }, 1.0);
                break;
            case 5:
                loc.score(torch::full({ 1, 10 }, std::nan("")), { w }, 1.0);
                break;
            }
            QFAIL("no error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), subject);
        }
    }
};

QTEST_GUILESS_MAIN(TestRollout)
#include "tst_rollout.moc"
