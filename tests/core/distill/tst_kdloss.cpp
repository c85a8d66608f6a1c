// The loss: KL(a_T || a_S) against hand computations and finite differences (double precision),
// zero exactly when the distributions match, safe with zeros and padding; the task losses and
// the logit-KD baseline by hand; and clear errors for inputs that cannot be right.
#include "core/distill/TemporalKdLoss.h"
#include "core/util/Error.h"

#include <QtTest>

#include <cmath>
#include <sstream>

namespace {

QByteArray describe(const torch::Tensor &t)
{
    std::ostringstream s;
    s << t;
    return QByteArray::fromStdString(s.str());
}

bool near(double a, double b, double tol)
{
    return std::abs(a - b) <= tol;
}

#define VERIFY_NEAR(a, b, tol)                                                                     \
    QVERIFY2(near((a), (b), (tol)),                                                                \
        QByteArray::number((a), 'g', 17) + " expected " + QByteArray::number((b), 'g', 17))

torch::Tensor d(std::vector<double> v, std::vector<int64_t> shape)
{
    return torch::tensor(v, torch::kFloat64).view(shape);
}

// Scores whose softmax is exactly `p` (log p).
torch::Tensor scoresFor(std::vector<double> p, std::vector<int64_t> shape)
{
    return d(p, shape).log();
}

} // namespace

class TestKdLoss : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void klByHand()
    {
        // Row 0: a_T = [0.5, 0.5, 0], a_S = [0.25, 0.25, 0.5]: 2 * 0.5 ln(0.5 / 0.25) = ln 2
        //   (the zero in a_T contributes nothing).
        // Row 1: a_T = [1, 0, 0], a_S = [0.8, 0.1, 0.1]: ln(1 / 0.8) = ln 1.25
        // Batch mean: (ln 2 + ln 1.25) / 2.
        const torch::Tensor aT = d({ 0.5, 0.5, 0.0, 1.0, 0.0, 0.0 }, { 2, 3 });
        const torch::Tensor s = scoresFor({ 0.25, 0.25, 0.5, 0.8, 0.1, 0.1 }, { 2, 3 });
        VERIFY_NEAR(tkd::TemporalKdLoss::temporalKd(aT, s).item<double>(),
            (std::log(2.0) + std::log(1.25)) / 2, 1e-12);
        // Scores are only defined up to a constant per row: shifting them changes nothing.
        VERIFY_NEAR(tkd::TemporalKdLoss::temporalKd(aT, s + 3.7).item<double>(),
            (std::log(2.0) + std::log(1.25)) / 2, 1e-12);
    }

    void klIsZeroIffDistributionsMatch()
    {
        torch::manual_seed(11);
        for (int trial = 0; trial < 50; ++trial) {
            torch::Tensor aT = torch::softmax(torch::randn({ 4, 9 }, torch::kFloat64) * 3, 1);
            if (trial % 2) { // with exact zeros too
                aT = aT * (torch::rand({ 4, 9 }, torch::kFloat64) > 0.4);
                aT.select(1, 0).add_(1e-3);
                aT = aT / aT.sum(1, true);
            }
            // Matching: scores = log a_T (-inf where a_T is 0, i.e. those frames are masked).
            const double same = tkd::TemporalKdLoss::temporalKd(aT, aT.log()).item<double>();
            QVERIFY2(std::abs(same) < 1e-12, QByteArray::number(same));
            // Any other distribution: strictly positive.
            const torch::Tensor other = torch::randn({ 4, 9 }, torch::kFloat64);
            const double diff = tkd::TemporalKdLoss::temporalKd(aT, other).item<double>();
            QVERIFY2(diff > 1e-6, QByteArray::number(diff));
        }
    }

    void gradientMatchesFiniteDifferences_data()
    {
        QTest::addColumn<bool>("withZeros");
        QTest::addColumn<bool>("withPadding");
        QTest::newRow("dense") << false << false;
        QTest::newRow("zeros in a_T") << true << false;
        QTest::newRow("padded student") << true << true;
    }
    void gradientMatchesFiniteDifferences()
    {
        QFETCH(bool, withZeros);
        QFETCH(bool, withPadding);
        torch::manual_seed(5);
        const int64_t b = 3, t = 7;
        torch::Tensor aT = torch::softmax(torch::randn({ b, t }, torch::kFloat64), 1);
        torch::Tensor valid = torch::ones({ b, t }, torch::kBool);
        if (withPadding)
            valid.select(0, 1).slice(0, 5).fill_(false); // item 1 has 5 real frames
        if (withZeros) {
            aT.select(0, 0).slice(0, 0, 2).zero_();
            aT.select(0, 2)[3] = 0.0;
        }
        aT = aT * valid;
        aT = aT / aT.sum(1, true);
        const torch::Tensor base = torch::randn({ b, t }, torch::kFloat64);
        const auto lossAt = [&](const torch::Tensor &s) {
            return tkd::TemporalKdLoss::temporalKd(
                aT, s.masked_fill(valid.logical_not(), -INFINITY));
        };
        torch::Tensor s = base.clone().requires_grad_(true);
        const torch::Tensor loss = lossAt(s);
        loss.backward();
        const torch::Tensor analytic = s.grad();
        QVERIFY(torch::isfinite(analytic).all().item<bool>());

        // Central differences on every score.
        const double eps = 1e-6;
        torch::Tensor numeric = torch::zeros({ b, t }, torch::kFloat64);
        for (int64_t i = 0; i < b; ++i)
            for (int64_t j = 0; j < t; ++j) {
                torch::Tensor plus = base.clone(), minus = base.clone();
                plus[i][j] += eps;
                minus[i][j] -= eps;
                numeric[i][j]
                    = (lossAt(plus).item<double>() - lossAt(minus).item<double>()) / (2 * eps);
            }
        const double err = (analytic - numeric).abs().max().item<double>();
        QVERIFY2(err < 1e-8,
            QByteArray::number(err) + "\n" + describe(analytic) + "\n" + describe(numeric));
        // And the closed form: dKL/ds = (a_S - a_T) / B, zero on padding.
        const torch::Tensor aS
            = torch::softmax(base.masked_fill(valid.logical_not(), -INFINITY), 1);
        const double closed = (analytic - (aS - aT) / double(b)).abs().max().item<double>();
        QVERIFY2(closed < 1e-12, QByteArray::number(closed));
        if (withPadding)
            QCOMPARE(analytic[1][6].item<double>(), 0.0);
    }

    void nativeAttentionAblation()
    {
        // The same KL from log-probabilities directly (e.g. log of a student's native attention).
        const torch::Tensor aT = d({ 0.5, 0.5, 0.0 }, { 1, 3 });
        const torch::Tensor aS = d({ 0.25, 0.25, 0.5 }, { 1, 3 });
        VERIFY_NEAR(
            tkd::TemporalKdLoss::klDivergence(aT, aS.log()).item<double>(), std::log(2.0), 1e-12);
    }

    void taskLossesByHand()
    {
        // Cross-entropy, logits [1, 2, 3], target 2: -ln(e^3 / (e + e^2 + e^3)).
        tkd::TemporalKdLoss single;
        const torch::Tensor logits = d({ 1, 2, 3 }, { 1, 3 });
        const double z = std::exp(1.0) + std::exp(2.0) + std::exp(3.0);
        VERIFY_NEAR(single.taskLoss(logits, torch::tensor({ 2L })).item<double>(),
            -std::log(std::exp(3.0) / z), 1e-12);
        // BCE with logits [0, 2], targets [1, 0]: mean(ln 2, ln(1 + e^2)).
        tkd::TemporalKdLoss multi(tkd::TemporalKdLossOptions().multiLabel(true));
        VERIFY_NEAR(multi.taskLoss(d({ 0, 2 }, { 1, 2 }), d({ 1, 0 }, { 1, 2 })).item<double>(),
            (std::log(2.0) + std::log(1.0 + std::exp(2.0))) / 2, 1e-12);
    }

    void logitKdByHand()
    {
        // T = 2, student [0, 0], teacher [2, 0]: p_T = softmax([1, 0]), p_S = [0.5, 0.5];
        // T^2 * sum p_T ln(p_T / 0.5).
        tkd::TemporalKdLoss loss(tkd::TemporalKdLossOptions().temperature(2.0).logitKdWeight(1.0));
        const double p0 = std::exp(1.0) / (std::exp(1.0) + 1.0), p1 = 1.0 - p0;
        const double want = 4.0 * (p0 * std::log(p0 / 0.5) + p1 * std::log(p1 / 0.5));
        VERIFY_NEAR(
            loss.logitKd(d({ 0, 0 }, { 1, 2 }), d({ 2, 0 }, { 1, 2 })).item<double>(), want, 1e-12);
        VERIFY_NEAR(
            loss.logitKd(d({ 2, 0 }, { 1, 2 }), d({ 2, 0 }, { 1, 2 })).item<double>(), 0.0, 1e-12);

        // Multi-label: per-class binary KL, mean over classes. Teacher [2, -1], student [0, 1],
        // T = 2: p = sigmoid([1, -0.5]), q = sigmoid([0, 0.5]).
        tkd::TemporalKdLoss multi(tkd::TemporalKdLossOptions().multiLabel(true).temperature(2.0));
        const auto sig = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
        const auto bkl = [](double p, double q) {
            return p * std::log(p / q) + (1 - p) * std::log((1 - p) / (1 - q));
        };
        const double wantMulti = 4.0 * (bkl(sig(1.0), sig(0.0)) + bkl(sig(-0.5), sig(0.5))) / 2;
        VERIFY_NEAR(multi.logitKd(d({ 0, 1 }, { 1, 2 }), d({ 2, -1 }, { 1, 2 })).item<double>(),
            wantMulti, 1e-12);
        VERIFY_NEAR(multi.logitKd(d({ 2, -1 }, { 1, 2 }), d({ 2, -1 }, { 1, 2 })).item<double>(),
            0.0, 1e-12);
    }

    void totalCombinesTheTerms()
    {
        tkd::TemporalKdLoss loss(
            tkd::TemporalKdLossOptions().lambda(0.25).logitKdWeight(0.5).temperature(2.0));
        const torch::Tensor logits = d({ 1, 2, 3, 0, 0, 1 }, { 2, 3 });
        const torch::Tensor targets = torch::tensor({ 2L, 0L });
        const torch::Tensor aT = d({ 0.5, 0.5, 0.0, 1.0, 0.0, 0.0 }, { 2, 3 });
        const torch::Tensor s = scoresFor({ 0.25, 0.25, 0.5, 0.8, 0.1, 0.1 }, { 2, 3 });
        const torch::Tensor teacher = d({ 0, 1, 4, 2, 0, 0 }, { 2, 3 });
        const tkd::KdLossTerms t = loss(logits, targets, s, aT, teacher);
        VERIFY_NEAR(t.kd.item<double>(), (std::log(2.0) + std::log(1.25)) / 2, 1e-12);
        VERIFY_NEAR(t.task.item<double>(), loss.taskLoss(logits, targets).item<double>(), 1e-15);
        VERIFY_NEAR(t.logitKd.item<double>(), loss.logitKd(logits, teacher).item<double>(), 1e-15);
        VERIFY_NEAR(t.total.item<double>(),
            t.task.item<double>() + 0.25 * t.kd.item<double>() + 0.5 * t.logitKd.item<double>(),
            1e-12);
        QVERIFY(t.logitKd.item<double>() > 0.0);

        // Vanilla (lambda 0, no teacher): kd and logitKd are defined zeros, total = task.
        const tkd::KdLossTerms v = tkd::TemporalKdLoss()(logits, targets, {}, {});
        QCOMPARE(v.kd.item<double>(), 0.0);
        QCOMPARE(v.logitKd.item<double>(), 0.0);
        VERIFY_NEAR(v.total.item<double>(), v.task.item<double>(), 0.0);
        // lambda 0 with a teacher still reports kd (for logging) but leaves it out of the total.
        const tkd::KdLossTerms l = tkd::TemporalKdLoss()(logits, targets, s, aT);
        QVERIFY(l.kd.item<double>() > 0.0);
        VERIFY_NEAR(l.total.item<double>(), l.task.item<double>(), 0.0);

        // The gradient reaches the scores only through lambda.
        torch::Tensor sg = s.clone().requires_grad_(true);
        loss(logits, targets, sg, aT, teacher).total.backward();
        const torch::Tensor aS = torch::softmax(s, 1);
        QVERIFY((sg.grad() - 0.25 * (aS - aT) / 2.0).abs().max().item<double>() < 1e-12);
    }

    void maskedTeacherMassIsAnError()
    {
        const torch::Tensor aT = d({ 0.5, 0.5, 0.0 }, { 1, 3 });
        const torch::Tensor s = d({ 0.0, -INFINITY, 0.0 }, { 1, 3 });
        try {
            tkd::TemporalKdLoss::temporalKd(aT, s);
            QFAIL("no error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), QString("teacher attention"));
        }
    }

    void badInput_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("subject");
        QTest::newRow("negative lambda") << 0 << "loss.lambda";
        QTest::newRow("zero temperature") << 1 << "loss.temperature";
        QTest::newRow("NaN logit weight") << 2 << "loss.logit_kd_weight";
        QTest::newRow("lambda without teacher") << 3 << "teacher attention";
        QTest::newRow("logit KD without teacher") << 4 << "teacher logits";
        QTest::newRow("scores without teacher") << 5 << "teacher attention";
        QTest::newRow("class out of range") << 6 << "targets";
        QTest::newRow("float class targets") << 7 << "targets";
        QTest::newRow("multi-label shape") << 8 << "targets";
        QTest::newRow("multi-label value") << 9 << "targets";
        QTest::newRow("a_T rows not summing to 1") << 10 << "teacher attention";
        QTest::newRow("a_T negative") << 11 << "teacher attention";
        QTest::newRow("length mismatch") << 12 << "student attention";
        QTest::newRow("1-d logits") << 13 << "logits";
        QTest::newRow("teacher logits shape") << 14 << "teacher logits";
        QTest::newRow("batch mismatch") << 15 << "student scores";
    }
    void badInput()
    {
        QFETCH(int, which);
        QFETCH(QString, subject);
        const torch::Tensor logits = d({ 1, 2, 3, 0, 0, 1 }, { 2, 3 });
        const torch::Tensor targets = torch::tensor({ 2L, 0L });
        const torch::Tensor aT = d({ 0.5, 0.5, 0.0, 1.0, 0.0, 0.0 }, { 2, 3 });
        const torch::Tensor s = torch::zeros({ 2, 3 }, torch::kFloat64);
        try {
            switch (which) {
            case 0:
                tkd::TemporalKdLoss(tkd::TemporalKdLossOptions().lambda(-0.1));
                break;
            case 1:
                tkd::TemporalKdLoss(tkd::TemporalKdLossOptions().temperature(0));
                break;
            case 2:
                tkd::TemporalKdLoss(tkd::TemporalKdLossOptions().logitKdWeight(std::nan("")));
                break;
            case 3:
                tkd::TemporalKdLoss(tkd::TemporalKdLossOptions().lambda(0.1))(
                    logits, targets, {}, {});
                break;
            case 4:
                tkd::TemporalKdLoss(tkd::TemporalKdLossOptions().logitKdWeight(1))(
                    logits, targets, {}, {});
                break;
            case 5:
                tkd::TemporalKdLoss()(logits, targets, s, {});
                break;
            case 6:
                tkd::TemporalKdLoss().taskLoss(logits, torch::tensor({ 3L, 0L }));
                break;
            case 7:
                tkd::TemporalKdLoss().taskLoss(logits, d({ 2, 0 }, { 2 }));
                break;
            case 8:
                tkd::TemporalKdLoss(tkd::TemporalKdLossOptions().multiLabel(true))
                    .taskLoss(logits, d({ 1, 0 }, { 1, 2 }));
                break;
            case 9:
                tkd::TemporalKdLoss(tkd::TemporalKdLossOptions().multiLabel(true))
                    .taskLoss(logits, d({ 1, 0, 2, 0, 0, 1 }, { 2, 3 }));
                break;
            case 10:
                tkd::TemporalKdLoss::temporalKd(aT * 2, s);
                break;
            case 11:
                tkd::TemporalKdLoss::temporalKd(d({ 1.5, -0.5, 0, 1, 0, 0 }, { 2, 3 }), s);
                break;
            case 12:
                tkd::TemporalKdLoss::temporalKd(aT, torch::zeros({ 2, 4 }, torch::kFloat64));
                break;
            case 13:
                tkd::TemporalKdLoss().taskLoss(d({ 1, 2 }, { 2 }), targets);
                break;
            case 14:
                tkd::TemporalKdLoss().logitKd(logits, torch::zeros({ 2, 4 }));
                break;
            case 15:
                tkd::TemporalKdLoss()(logits, targets, torch::zeros({ 1, 3 }), aT.slice(0, 0, 1));
                break;
            }
            QFAIL("no error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), subject);
            QVERIFY(!e.reason().empty());
        }
    }
};

QTEST_GUILESS_MAIN(TestKdLoss)
#include "tst_kdloss.moc"
