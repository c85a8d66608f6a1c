// The training-only attention branch: one learnable query over the student's context, scores
// by plain dot product, softmax over time, padded batches; and that training q against an
// oracle target really teaches it where the keyword is.
#include "core/distill/AttentionBranch.h"
#include "core/distill/Localisation.h"
#include "core/distill/OracleAttention.h"
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

bool allClose(const torch::Tensor &a, const torch::Tensor &b, double tol)
{
    return a.sizes() == b.sizes()
        && (a.to(torch::kFloat64) - b.to(torch::kFloat64)).abs().max().item<double>() <= tol;
}

#define VERIFY_CLOSE(a, b, tol)                                                                    \
    QVERIFY2(allClose((a), (b), (tol)), describe(a) + "\nexpected\n" + describe(b))

// Context [1, 3, 2] = [[1, 0], [0, 1], [1, 1]]
torch::Tensor smallContext()
{
    return torch::tensor({ 1.0, 0.0, 0.0, 1.0, 1.0, 1.0 }, torch::kFloat64).view({ 1, 3, 2 });
}

void setQuery(tkd::AttentionBranch &branch, std::vector<double> q)
{
    torch::NoGradGuard guard;
    branch->query.copy_(torch::tensor(q, torch::kFloat32));
}

} // namespace

class TestAttentionBranch : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void oneLearnableQuery()
    {
        tkd::AttentionBranch branch(tkd::AttentionBranchOptions(64));
        const auto params = branch->named_parameters();
        QCOMPARE(params.size(), size_t(1));
        QVERIFY(params.contains("query"));
        QCOMPARE(params["query"].sizes().vec(), std::vector<int64_t> { 64 });
        QVERIFY(params["query"].requires_grad());
        // Small initialisation: attention starts close to uniform.
        QVERIFY(params["query"].abs().max().item<double>() < 0.2);
        std::ostringstream s;
        s << *branch;
        QVERIFY(s.str().find("context_dim=64") != std::string::npos);
    }

    void scoresArePlainDotProducts()
    {
        tkd::AttentionBranch branch(tkd::AttentionBranchOptions(2));
        setQuery(branch, { 2.0, -1.0 });
        // s = [<[1,0],q>, <[0,1],q>, <[1,1],q>] = [2, -1, 1]
        VERIFY_CLOSE(
            branch->scores(smallContext()), torch::tensor({ 2.0, -1.0, 1.0 }).view({ 1, 3 }), 1e-6);
        const double z = std::exp(2.0) + std::exp(-1.0) + std::exp(1.0);
        const torch::Tensor a = branch->forward(smallContext());
        VERIFY_CLOSE(a,
            torch::tensor({ std::exp(2.0) / z, std::exp(-1.0) / z, std::exp(1.0) / z })
                .view({ 1, 3 }),
            1e-6);
    }

    void scaledScoresDivideBySqrtD()
    {
        tkd::AttentionBranch branch(tkd::AttentionBranchOptions(2).scaled(true));
        setQuery(branch, { 2.0, -1.0 });
        const double r = std::sqrt(2.0);
        VERIFY_CLOSE(branch->scores(smallContext()),
            torch::tensor({ 2.0 / r, -1.0 / r, 1.0 / r }).view({ 1, 3 }), 1e-6);
    }

    void paddedFramesGetNoAttention()
    {
        tkd::AttentionBranch branch(tkd::AttentionBranchOptions(2));
        setQuery(branch, { 2.0, -1.0 });
        // Item 1 is item 0 with its last frame marked as padding (length 2 of 3).
        const torch::Tensor ctx = torch::cat({ smallContext(), smallContext() });
        const torch::Tensor a = branch->forward(ctx, torch::tensor({ 3, 2 }));
        const double z2 = std::exp(2.0) + std::exp(-1.0);
        VERIFY_CLOSE(a[1], torch::tensor({ std::exp(2.0) / z2, std::exp(-1.0) / z2, 0.0 }), 1e-6);
        const double z3 = z2 + std::exp(1.0);
        QVERIFY(std::abs(a[0][2].item<double>() - std::exp(1.0) / z3) < 1e-6);
        // The masked frame gets no gradient, and nothing is NaN.
        torch::Tensor c = ctx.clone().requires_grad_(true);
        branch->forward(c, torch::tensor({ 3, 2 })).select(1, 0).sum().backward();
        QVERIFY(torch::isfinite(c.grad()).all().item<bool>());
        QCOMPARE(c.grad()[1][2].abs().sum().item<double>(), 0.0);
        QVERIFY(c.grad()[1][0].abs().sum().item<double>() > 0.0);
    }

    void lengthMaskShape()
    {
        const torch::Tensor m
            = tkd::AttentionBranchImpl::lengthMask(torch::tensor({ 1, 4, 2 }), 3, 4);
        const torch::Tensor want
            = torch::tensor({ 1, 0, 0, 0, 1, 1, 1, 1, 1, 1, 0, 0 }).view({ 3, 4 }).to(torch::kBool);
        QVERIFY(torch::equal(m, want));
    }

    void gradientsReachQueryAndContext()
    {
        torch::manual_seed(1);
        tkd::AttentionBranch branch(tkd::AttentionBranchOptions(8));
        torch::Tensor ctx = torch::randn({ 2, 5, 8 }, torch::requires_grad());
        const torch::Tensor aT = torch::softmax(torch::randn({ 2, 5 }), 1);
        tkd::TemporalKdLoss::temporalKd(aT, branch->scores(ctx)).backward();
        QVERIFY(branch->query.grad().defined());
        QVERIFY(branch->query.grad().abs().sum().item<double>() > 0.0);
        QVERIFY(ctx.grad().abs().sum().item<double>() > 0.0);
    }

    void cloneIsIndependent()
    {
        tkd::AttentionBranch branch(tkd::AttentionBranchOptions(4));
        auto copy = std::dynamic_pointer_cast<tkd::AttentionBranchImpl>(branch->clone());
        QVERIFY(copy);
        QVERIFY(torch::equal(copy->query, branch->query));
        setQuery(branch, { 1, 2, 3, 4 });
        QVERIFY(!torch::equal(copy->query, branch->query));
    }

    void badInput_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("subject");
        QTest::newRow("wrong width") << 0 << "student context";
        QTest::newRow("2-d context") << 1 << "student context";
        QTest::newRow("zero frames") << 2 << "student context";
        QTest::newRow("length 0") << 3 << "lengths";
        QTest::newRow("length too long") << 4 << "lengths";
        QTest::newRow("lengths count") << 5 << "lengths";
        QTest::newRow("float lengths") << 6 << "lengths";
        QTest::newRow("zero dim") << 7 << "attention_branch.context_dim";
        QTest::newRow("negative init") << 8 << "attention_branch.init_std";
    }
    void badInput()
    {
        QFETCH(int, which);
        QFETCH(QString, subject);
        try {
            tkd::AttentionBranch branch(tkd::AttentionBranchOptions(4));
            switch (which) {
            case 0:
                branch->forward(torch::zeros({ 1, 3, 5 }));
                break;
            case 1:
                branch->forward(torch::zeros({ 3, 4 }));
                break;
            case 2:
                branch->forward(torch::zeros({ 1, 0, 4 }));
                break;
            case 3:
                branch->forward(torch::zeros({ 2, 3, 4 }), torch::tensor({ 3, 0 }));
                break;
            case 4:
                branch->forward(torch::zeros({ 2, 3, 4 }), torch::tensor({ 4, 3 }));
                break;
            case 5:
                branch->forward(torch::zeros({ 2, 3, 4 }), torch::tensor({ 3 }));
                break;
            case 6:
                branch->forward(torch::zeros({ 2, 3, 4 }), torch::tensor({ 3.0, 2.0 }));
                break;
            case 7:
                tkd::AttentionBranch(tkd::AttentionBranchOptions(0));
                break;
            case 8:
                tkd::AttentionBranch(tkd::AttentionBranchOptions(4).initStd(-1));
                break;
            }
            QFAIL("no error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), subject);
        }
    }

    void learnsWhereTheKeywordIsFromTheOracle()
    {
        // A toy student context: 2 s clips, T' = 25 frames of D = 16 noise; the frames that
        // overlap the keyword also carry a fixed "keyword" direction. Training q alone with the
        // KL to the oracle must move a_S's mass into the window on clips it has never seen.
        torch::manual_seed(42);
        const double clip = 2.0;
        const int64_t tPrime = 25, d = 16, batch = 32;
        const tkd::OracleAttention oracle;
        const tkd::Localisation loc;
        const torch::Tensor keywordDir = torch::randn({ d });
        auto makeBatch = [&](std::vector<tkd::KeywordWindow> &windows) {
            windows.clear();
            torch::Tensor ctx = torch::randn({ batch, tPrime, d });
            for (int64_t i = 0; i < batch; ++i) {
                const double onset = torch::rand({ 1 }).item<double>() * (clip - 0.5);
                windows.push_back({ onset, onset + 0.5 });
                const torch::Tensor inside = oracle.target(windows.back(), clip, tPrime) > 0;
                ctx[i] += inside.to(torch::kFloat32).unsqueeze(1) * keywordDir.unsqueeze(0);
            }
            return ctx;
        };
        tkd::AttentionBranch branch { tkd::AttentionBranchOptions(d) };
        torch::optim::Adam opt(branch->parameters(), torch::optim::AdamOptions(0.05));
        std::vector<tkd::KeywordWindow> windows;
        const torch::Tensor heldOut = makeBatch(windows);
        const std::vector<tkd::KeywordWindow> heldOutWindows = windows;
        const double before = loc.score(branch->forward(heldOut), heldOutWindows, clip).mean();
        double firstLoss = 0, lastLoss = 0;
        for (int step = 0; step < 150; ++step) {
            const torch::Tensor ctx = makeBatch(windows);
            const torch::Tensor target = oracle.batch(windows, clip, tPrime);
            const torch::Tensor loss = tkd::TemporalKdLoss::temporalKd(target, branch->scores(ctx));
            opt.zero_grad();
            loss.backward();
            opt.step();
            (step == 0 ? firstLoss : lastLoss) = loss.item<double>();
        }
        torch::NoGradGuard guard;
        const tkd::LocalisationScore after
            = loc.score(branch->forward(heldOut), heldOutWindows, clip);
        QVERIFY2(lastLoss < 0.5 * firstLoss,
            QByteArray::number(firstLoss) + " -> " + QByteArray::number(lastLoss));
        QVERIFY2(after.mean() > 0.6 && after.mean() > 2.5 * after.meanBaseline(),
            QByteArray::number(before) + " -> " + QByteArray::number(after.mean()) + " (baseline "
                + QByteArray::number(after.meanBaseline()) + ")");
    }
};

QTEST_GUILESS_MAIN(TestAttentionBranch)
#include "tst_attentionbranch.moc"
