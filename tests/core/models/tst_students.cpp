// The five student families: published sizes, shapes over 1-30 s inputs, the context c' each
// hands to temporal KD, native attention, gradients, determinism, and LSTM-P's custom cell
// against a plain per-step computation and against LibTorch's own projected LSTM.
#include "core/models/AttRnn.h"
#include "core/models/Crnn.h"
#include "core/models/FusedRnn.h"
#include "core/models/LstmP.h"
#include "core/models/ModelStats.h"
#include "core/models/StudentRegistry.h"
#include "core/models/TcResNet.h"
#include "core/util/Error.h"

#include <QtTest>

#include <cmath>

namespace {

// Expected context length per family, straight from the paper notes (section 3): full length
// for the recurrent students, T - 6 for CRNN's two valid convs, three halvings for TC-ResNet.
int64_t expectedContextLength(const std::string &name, int64_t frames)
{
    if (name.rfind("tc-resnet", 0) == 0) {
        int64_t t = frames;
        for (int i = 0; i < 3; ++i)
            t = (t + 1) / 2;
        return t;
    }
    if (name == "crnn")
        return frames - 6;
    return frames;
}

// The registry entry says how many heads of its own attention a student has.
int64_t expectedHeads(const std::string &name)
{
    return tkd::StudentRegistry::spec(name).nativeHeads;
}

torch::Tensor randomFeatures(int64_t batch, int64_t frames, int64_t dim, uint64_t seed)
{
    torch::manual_seed(seed);
    return torch::randn({ batch, frames, dim });
}

template <class T> std::shared_ptr<T> moduleAs(const tkd::StudentModel &m)
{
    auto p = std::dynamic_pointer_cast<T>(m.module());
    if (!p)
        throw std::runtime_error("unexpected module type for " + m.name());
    return p;
}

} // namespace

class TestStudents : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void registryListsEveryStudent()
    {
        const auto names = tkd::StudentRegistry::names();
        QVERIFY(names.size() >= 9); // the five families of the paper and their variants
        // Every entry is complete: a factory, a display name, a colour of its own per family.
        for (const auto &s : tkd::StudentRegistry::specs()) {
            QVERIFY(bool(s.factory));
            QVERIFY(!s.displayName.empty());
            QVERIFY(s.nativeHeads >= 0);
        }
        for (const auto &n : names) {
            const auto model = tkd::StudentRegistry::create(n, 12);
            QCOMPARE(model.name(), n);
            QCOMPARE(model.featureDim(), int64_t(tkd::StudentRegistry::spec(n).featureCount));
            const auto f = model.spec().defaultFeatures();
            QCOMPARE(int64_t(f.kind == tkd::FeatureConfig::Kind::Mfcc ? f.mfccCount : f.melBins),
                model.featureDim());
            QCOMPARE(model.nativeHeads(), expectedHeads(n));
        }
    }

    void parameterCountsMatchPublished_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("features");
        QTest::addColumn<qint64>("published");
        QTest::newRow("lstm-p") << "lstm-p" << 20 << qint64(546000);
        QTest::newRow("tc-resnet8") << "tc-resnet8" << 40 << qint64(66000);
        QTest::newRow("tc-resnet8-1.5") << "tc-resnet8-1.5" << 40 << qint64(145000);
        QTest::newRow("tc-resnet14") << "tc-resnet14" << 40 << qint64(137000);
        QTest::newRow("tc-resnet14-1.5") << "tc-resnet14-1.5" << 40 << qint64(305000);
        QTest::newRow("crnn") << "crnn" << 20 << qint64(468000);
        QTest::newRow("att-rnn") << "att-rnn" << 80 << qint64(200000);
        QTest::newRow("mhatt-rnn") << "mhatt-rnn" << 20 << qint64(743000);
    }
    void parameterCountsMatchPublished()
    {
        QFETCH(QString, name);
        QFETCH(int, features);
        QFETCH(qint64, published);
        const auto model = tkd::StudentRegistry::create(name.toStdString(), 12, features);
        int64_t count = 0;
        for (const auto &p : model.parameters())
            count += p.numel();
        QCOMPARE(model.parameterCount(), count);
        const double rel = std::abs(double(count) - double(published)) / double(published);
        if (rel > 0.02)
            QFAIL(qPrintable(QString("%1 has %2 parameters, published %3 (%4% off)")
                                 .arg(name)
                                 .arg(count)
                                 .arg(published)
                                 .arg(rel * 100.0, 0, 'f', 2)));
        QCOMPARE(model.spec().publishedParams, int64_t(published));
    }

    void outputShapes_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("frames");
        for (const auto &n : tkd::StudentRegistry::names())
            for (int frames : { 49, 400, 1499 })
                QTest::newRow(
                    qPrintable(QString("%1@%2").arg(QString::fromStdString(n)).arg(frames)))
                    << QString::fromStdString(n) << frames;
    }
    void outputShapes()
    {
        QFETCH(QString, name);
        QFETCH(int, frames);
        const std::string n = name.toStdString();
        auto model = tkd::StudentRegistry::create(n, 12);
        model.eval();
        torch::NoGradGuard noGrad;
        const int64_t batch = 2;
        const auto out = model.forward(randomFeatures(batch, frames, model.featureDim(), 7));
        const int64_t tc = expectedContextLength(n, frames);
        QCOMPARE(model.contextLength(frames), tc);
        QCOMPARE(out.logits.sizes().vec(), (std::vector<int64_t> { batch, 12 }));
        QCOMPARE(
            out.context.sizes().vec(), (std::vector<int64_t> { batch, tc, model.contextDim() }));
        QVERIFY(torch::isfinite(out.logits).all().item<bool>());
        QVERIFY(torch::isfinite(out.context).all().item<bool>());
        const int64_t heads = expectedHeads(n);
        if (heads == 0) {
            QVERIFY(!out.nativeAttention.defined());
            return;
        }
        QCOMPARE(out.nativeAttention.sizes().vec(), (std::vector<int64_t> { batch, heads, tc }));
        QVERIFY(out.nativeAttention.min().item<float>() >= 0.0f);
        const auto rowSums = out.nativeAttention.sum(2);
        QVERIFY(torch::allclose(rowSums, torch::ones_like(rowSums), 1e-5, 1e-5));
    }

    // The query comes from the middle frame of the actual input, whatever its length.
    void attentionQueriesTheMiddleFrame_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<int>("frames");
        for (const auto &s :
            tkd::StudentRegistry::specs()) // every student with attention of its own
            if (s.nativeHeads > 0)
                for (int frames : { 49, 120, 401 })
                    QTest::newRow(qPrintable(
                        QString("%1@%2").arg(QString::fromStdString(s.name)).arg(frames)))
                        << QString::fromStdString(s.name) << frames;
    }
    void attentionQueriesTheMiddleFrame()
    {
        QFETCH(QString, name);
        QFETCH(int, frames);
        auto model = tkd::StudentRegistry::create(name.toStdString(), 12);
        model.eval();
        torch::NoGradGuard noGrad;
        const auto out = model.forward(randomFeatures(3, frames, model.featureDim(), 11));
        tkd::MiddleFrameAttention att
            = moduleAs<tkd::AttRnnImpl>(model)->attention; // MHAtt-RNN too
        const int64_t heads = model.nativeHeads();
        const int64_t d = model.contextDim();
        const auto &w = att->query->weight; // [heads * d, d]
        const auto &b = att->query->bias;
        for (int64_t h = 0; h < heads; ++h) {
            const auto q
                = torch::matmul(out.context.select(1, frames / 2), w.narrow(0, h * d, d).t())
                + b.narrow(0, h * d, d); // [B, d]
            const auto scores = (out.context * q.unsqueeze(1)).sum(2); // [B, T]
            const auto expected = torch::softmax(scores, 1);
            QVERIFY(torch::allclose(out.nativeAttention.select(1, h), expected, 1e-5, 1e-6));
        }
    }

    void backwardReachesEveryParameter_data()
    {
        QTest::addColumn<QString>("name");
        for (const auto &n : tkd::StudentRegistry::names())
            QTest::newRow(n.c_str()) << QString::fromStdString(n);
    }
    void backwardReachesEveryParameter()
    {
        QFETCH(QString, name);
        auto model = tkd::StudentRegistry::create(name.toStdString(), 12);
        model.train();
        const auto x = randomFeatures(4, 57, model.featureDim(), 3);
        const auto target = torch::tensor({ 0, 3, 7, 11 }, torch::kLong);
        const auto out = model.forward(x);
        // Task loss on the logits plus a loss on the context, as temporal KD adds one there.
        const auto loss
            = torch::nn::functional::cross_entropy(out.logits, target) + out.context.pow(2).mean();
        loss.backward();
        for (const auto &p : model.namedParameters()) {
            if (!p.value().grad().defined())
                QFAIL(
                    qPrintable(QString("no gradient for %1").arg(QString::fromStdString(p.key()))));
            const double g = p.value().grad().abs().sum().item<double>();
            if (!(g > 0.0) || !std::isfinite(g))
                QFAIL(qPrintable(
                    QString("gradient of %1 is %2").arg(QString::fromStdString(p.key())).arg(g)));
        }
    }

    void evalIsDeterministic_data() { backwardReachesEveryParameter_data(); }
    void evalIsDeterministic()
    {
        QFETCH(QString, name);
        auto model = tkd::StudentRegistry::create(name.toStdString(), 12);
        const auto x = randomFeatures(3, 80, model.featureDim(), 5);
        // A training step first, so BN statistics and dropout have been in play.
        model.train();
        model.forward(x).logits.sum().backward();
        model.eval();
        QVERIFY(!model.isTraining());
        torch::NoGradGuard noGrad;
        const auto a = model.forward(x);
        const auto b = model.forward(x);
        QVERIFY(torch::equal(a.logits, b.logits));
        QVERIFY(torch::equal(a.context, b.context));
        // And a clip's result does not depend on its batch mates.
        const auto single = model.forward(x.narrow(0, 1, 1));
        QVERIFY(torch::allclose(single.logits[0], a.logits[1], 1e-4, 1e-5));
    }

    // LSTM-P's cell against the textbook equations, step by step (Sak et al. 2014 / TF LSTMCell).
    void lstmPCellMatchesPerStepReference()
    {
        const int64_t in = 5, hidden = 7, proj = 3, batch = 2, steps = 9;
        torch::manual_seed(21);
        tkd::LstmPCell cell(tkd::LstmPCellOptions(in, hidden, proj).forget_bias(1.0));
        const auto x = torch::randn({ batch, steps, in });
        // With autograd on this is the fused sequence node; without, the step loop: both must
        // match the reference.
        const auto [out, lastM, lastC] = cell->forwardWithState(
            x, torch::zeros({ batch, proj }), torch::zeros({ batch, hidden }));
        QCOMPARE(out.sizes().vec(), (std::vector<int64_t> { batch, steps, proj }));
        QVERIFY(out.requires_grad());
        torch::NoGradGuard noGrad;
        const auto evalOut = std::get<0>(cell->forwardWithState(
            x, torch::zeros({ batch, proj }), torch::zeros({ batch, hidden })));
        QVERIFY(torch::allclose(evalOut, out, 1e-6, 1e-7));

        const auto sig = [](double v) { return 1.0 / (1.0 + std::exp(-v)); };
        const auto W = cell->weight_ih.accessor<float, 2>();
        const auto R = cell->weight_hh.accessor<float, 2>();
        const auto bias = cell->bias.accessor<float, 1>();
        const auto pi = cell->peephole_i.accessor<float, 1>();
        const auto pf = cell->peephole_f.accessor<float, 1>();
        const auto po = cell->peephole_o.accessor<float, 1>();
        const auto P = cell->weight_proj.accessor<float, 2>();
        const auto X = x.accessor<float, 3>();
        for (int64_t b = 0; b < batch; ++b) {
            std::vector<double> m(proj, 0.0), c(hidden, 0.0);
            for (int64_t t = 0; t < steps; ++t) {
                std::vector<double> cNew(hidden), h(hidden);
                for (int64_t j = 0; j < hidden; ++j) {
                    double pre[4];
                    for (int g = 0; g < 4; ++g) {
                        const int64_t row = g * hidden + j;
                        double s = bias[row];
                        for (int64_t k = 0; k < in; ++k)
                            s += W[row][k] * X[b][t][k];
                        for (int64_t k = 0; k < proj; ++k)
                            s += R[row][k] * m[k];
                        pre[g] = s;
                    }
                    const double ig = sig(pre[0] + pi[j] * c[j]);
                    const double fg = sig(pre[1] + 1.0 + pf[j] * c[j]);
                    cNew[j] = fg * c[j] + ig * std::tanh(pre[2]);
                    const double og = sig(pre[3] + po[j] * cNew[j]);
                    h[j] = og * std::tanh(cNew[j]);
                }
                c = cNew;
                for (int64_t k = 0; k < proj; ++k) {
                    double s = 0.0;
                    for (int64_t j = 0; j < hidden; ++j)
                        s += P[k][j] * h[j];
                    m[k] = s;
                    QVERIFY2(std::abs(out[b][t][k].item<double>() - s) < 1e-5,
                        qPrintable(QString("b=%1 t=%2 k=%3").arg(b).arg(t).arg(k)));
                }
            }
            for (int64_t j = 0; j < hidden; ++j)
                QVERIFY(std::abs(lastC[b][j].item<double>() - c[j]) < 1e-5);
            for (int64_t k = 0; k < proj; ++k)
                QVERIFY(std::abs(lastM[b][k].item<double>() - m[k]) < 1e-5);
        }
    }

    // The fused sequence node's hand-written backward through time against plain autograd over
    // the step-by-step computation, in double precision, for every input and parameter.
    void lstmPFusedBackwardMatchesAutograd()
    {
        const int64_t in = 6, hidden = 9, proj = 4, batch = 3, steps = 11;
        torch::manual_seed(8);
        tkd::LstmPCell cell(tkd::LstmPCellOptions(in, hidden, proj).forget_bias(0.7));
        cell->to(torch::kDouble);
        const auto dbl = torch::TensorOptions().dtype(torch::kDouble);
        auto x = torch::randn({ batch, steps, in }, dbl).requires_grad_(true);
        auto m0 = torch::randn({ batch, proj }, dbl).requires_grad_(true);
        auto c0 = torch::randn({ batch, hidden }, dbl).requires_grad_(true);
        const auto wOut = torch::randn({ batch, steps, proj }, dbl);
        const auto wM = torch::randn({ batch, proj }, dbl);
        const auto wC = torch::randn({ batch, hidden }, dbl);
        using Result = std::tuple<torch::Tensor, torch::Tensor, torch::Tensor>;
        const auto run = [&](bool fused) {
            cell->zero_grad();
            for (auto *t : { &x, &m0, &c0 })
                if (t->grad().defined())
                    t->mutable_grad().zero_();
            const Result r
                = fused ? cell->forwardWithState(x, m0, c0) : cell->forwardUnfused(x, m0, c0);
            ((std::get<0>(r) * wOut).sum() + (std::get<1>(r) * wM).sum()
                + (std::get<2>(r) * wC).sum())
                .backward();
            std::vector<torch::Tensor> g { std::get<0>(r).detach(), x.grad().clone(),
                m0.grad().clone(), c0.grad().clone() };
            for (const auto &p : cell->parameters())
                g.push_back(p.grad().clone());
            return g;
        };
        const auto fused = run(true);
        const auto plain = run(false);
        QCOMPARE(fused.size(), plain.size());
        for (size_t k = 0; k < fused.size(); ++k) {
            QVERIFY(plain[k].abs().sum().item<double>() > 0.0);
            QVERIFY2(torch::allclose(fused[k], plain[k], 1e-9, 1e-11),
                qPrintable(QString("item %1").arg(k)));
        }
    }

    // The fused BPTT of LibTorch's LSTM and GRU (what Att-RNN, MHAtt-RNN and CRNN train through)
    // against the modules' own autograd, in double: outputs, the input's gradient and every
    // parameter's, stacked and bidirectional, with an upstream gradient on every step.
    void fusedRnnMatchesTheModules_data()
    {
        QTest::addColumn<bool>("lstm");
        QTest::addColumn<int>("layers");
        QTest::addColumn<bool>("bidirectional");
        QTest::newRow("LSTM, 2 layers, bidirectional") << true << 2 << true;
        QTest::newRow("LSTM, 1 layer") << true << 1 << false;
        QTest::newRow("GRU, 1 layer") << false << 1 << false;
        QTest::newRow("GRU, 2 layers, bidirectional") << false << 2 << true;
    }
    void fusedRnnMatchesTheModules()
    {
        QFETCH(bool, lstm);
        QFETCH(int, layers);
        QFETCH(bool, bidirectional);
        const int64_t in = 5, hidden = 7, batch = 3, steps = 9;
        torch::manual_seed(21);
        torch::nn::LSTM l { nullptr };
        torch::nn::GRU g { nullptr };
        if (lstm)
            l = torch::nn::LSTM(torch::nn::LSTMOptions(in, hidden)
                                    .num_layers(layers)
                                    .bidirectional(bidirectional)
                                    .batch_first(true));
        else
            g = torch::nn::GRU(torch::nn::GRUOptions(in, hidden)
                                   .num_layers(layers)
                                   .bidirectional(bidirectional)
                                   .batch_first(true));
        torch::nn::Module &module = lstm ? static_cast<torch::nn::Module &>(*l) : *g;
        module.to(torch::kDouble);
        const auto dbl = torch::TensorOptions().dtype(torch::kDouble);
        auto x = torch::randn({ batch, steps, in }, dbl).requires_grad_(true);
        const auto w = torch::randn({ batch, steps, (bidirectional ? 2 : 1) * hidden }, dbl);
        const auto run = [&](bool moduleLoop) {
            tkd::useModuleRnn(moduleLoop);
            module.zero_grad();
            if (x.grad().defined())
                x.mutable_grad().zero_();
            const auto out = lstm ? tkd::rnnOutputs(*l, x) : tkd::rnnOutputs(*g, x);
            (out * w).sum().backward();
            std::vector<torch::Tensor> r { out.detach(), x.grad().clone() };
            for (const auto &p : module.parameters())
                r.push_back(p.grad().clone());
            return r;
        };
        const auto reference = run(true);
        const auto fused = run(false);
        QCOMPARE(fused.size(), reference.size());
        for (size_t k = 0; k < fused.size(); ++k) {
            QVERIFY(reference[k].abs().sum().item<double>() > 0.0);
            QVERIFY2(torch::allclose(fused[k], reference[k], 1e-9, 1e-11),
                qPrintable(QString("item %1: max diff %2")
                               .arg(k)
                               .arg((fused[k] - reference[k]).abs().max().item<double>())));
        }
        // Two parameters never share one gradient tensor (the LSTM's two biases have equal ones).
        const auto params = module.parameters();
        for (size_t a = 0; a < params.size(); ++a)
            for (size_t b = a + 1; b < params.size(); ++b)
                QVERIFY(params[a].grad().data_ptr() != params[b].grad().data_ptr());
        // Without autograd the module runs, with the same result.
        torch::NoGradGuard noGrad;
        const auto evalOut = lstm ? tkd::rnnOutputs(*l, x) : tkd::rnnOutputs(*g, x);
        QVERIFY(torch::allclose(evalOut, reference[0], 1e-12, 1e-12));
    }

    // Without peepholes and forget bias the cell is exactly LibTorch's projected LSTM; with them
    // it is not (the peepholes are real).
    void lstmPCellReducesToLibTorchProjectedLstm()
    {
        const int64_t in = 6, hidden = 10, proj = 4;
        torch::manual_seed(4);
        tkd::LstmPCell cell(tkd::LstmPCellOptions(in, hidden, proj).forget_bias(0.0));
        torch::nn::LSTM ref(torch::nn::LSTMOptions(in, hidden).proj_size(proj).batch_first(true));
        torch::NoGradGuard noGrad;
        ref->named_parameters()["weight_ih_l0"].copy_(cell->weight_ih);
        ref->named_parameters()["weight_hh_l0"].copy_(cell->weight_hh);
        ref->named_parameters()["bias_ih_l0"].copy_(cell->bias);
        ref->named_parameters()["bias_hh_l0"].zero_();
        ref->named_parameters()["weight_hr_l0"].copy_(cell->weight_proj);
        const auto x = torch::randn({ 3, 12, in });
        const auto expected = std::get<0>(ref->forward(x));
        QVERIFY(!torch::allclose(cell->forward(x), expected, 1e-4, 1e-5));
        cell->peephole_i.zero_();
        cell->peephole_f.zero_();
        cell->peephole_o.zero_();
        QVERIFY(torch::allclose(cell->forward(x), expected, 1e-5, 1e-6));
    }

    // The analytic MAC count agrees with the weight shapes the modules actually hold.
    void macsFollowTheWeights()
    {
        const int64_t frames = 49;
        {
            auto model = tkd::StudentRegistry::create("lstm-p", 12);
            auto m = moduleAs<tkd::LstmPImpl>(model);
            const int64_t perStep = m->lstm->weight_ih.numel() + m->lstm->weight_hh.numel()
                + m->lstm->weight_proj.numel() + 3 * m->lstm->peephole_i.numel();
            QCOMPARE(model.macs(frames), frames * perStep + m->classifier->weight.numel());
        }
        {
            auto model = tkd::StudentRegistry::create("crnn", 12);
            auto m = moduleAs<tkd::CrnnImpl>(model);
            const int64_t f = model.featureDim();
            int64_t gruWeights = 0;
            for (const auto &p : m->gru->named_parameters())
                if (p.key().rfind("weight", 0) == 0)
                    gruWeights += p.value().numel();
            const int64_t expected = m->conv1->weight.numel() * (frames - 2) * (f - 2)
                + m->conv2->weight.numel() * (frames - 6) * (f - 4) + (frames - 6) * gruWeights
                + m->dense1->weight.numel() + m->dense2->weight.numel()
                + m->classifier->weight.numel();
            QCOMPARE(model.macs(frames), expected);
        }
        {
            // TC-ResNet: every conv weight times its output length.
            auto model = tkd::StudentRegistry::create("tc-resnet14-1.5", 12);
            auto m = moduleAs<tkd::TcResNetImpl>(model);
            int64_t expected = m->conv0->weight.numel() * frames + m->classifier->weight.numel();
            int64_t t = frames;
            for (const auto &child : m->blocks->children()) {
                auto *b = child->as<tkd::TcResNetBlockImpl>();
                const int64_t out = b->downsamples() ? (t + 1) / 2 : t;
                expected += (b->conv1->weight.numel() + b->conv2->weight.numel()) * out;
                if (b->downsamples())
                    expected += b->shortcutConv->weight.numel() * out;
                t = out;
            }
            QCOMPARE(model.macs(frames), expected);
        }
        for (const auto &n : tkd::StudentRegistry::names()) {
            const auto model = tkd::StudentRegistry::create(n, 12);
            QVERIFY(model.macs(49) > 0);
            QVERIFY(model.macs(399) > 7 * model.macs(49)); // grows with the clip
        }
    }

    void badInputIsAClearError_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QList<int>>("shape");
        QTest::addColumn<QString>("needle");
        QTest::newRow("lstm-p wrong dim") << "lstm-p" << QList<int> { 2, 49, 40 } << "20 features";
        QTest::newRow("tc-resnet 2-D") << "tc-resnet8" << QList<int> { 49, 40 } << "dimensions";
        QTest::newRow("crnn too short") << "crnn" << QList<int> { 1, 6, 20 } << "at least 7 frames";
        QTest::newRow("att-rnn zero frames")
            << "att-rnn" << QList<int> { 1, 0, 80 } << "at least 1 frames";
        QTest::newRow("mhatt-rnn empty batch")
            << "mhatt-rnn" << QList<int> { 0, 49, 20 } << "empty batch";
    }
    void badInputIsAClearError()
    {
        QFETCH(QString, name);
        QFETCH(QList<int>, shape);
        QFETCH(QString, needle);
        auto model = tkd::StudentRegistry::create(name.toStdString(), 12);
        std::vector<int64_t> sizes(shape.begin(), shape.end());
        try {
            model.forward(torch::zeros(sizes));
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QVERIFY2(e.subject().find("input") != std::string::npos, e.what());
            QVERIFY2(
                std::string(e.what()).find(needle.toStdString()) != std::string::npos, e.what());
        }
    }

    void badRegistryRequestsAreClearErrors()
    {
        try {
            tkd::StudentRegistry::create("lstm", 12);
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QCOMPARE(e.subject(), std::string("student"));
            QVERIFY(
                std::string(e.what()).find("mhatt-rnn") != std::string::npos); // lists the known
        }
        try {
            tkd::StudentRegistry::create("crnn", 0);
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QCOMPARE(e.subject(), std::string("classes"));
        }
        try {
            tkd::StudentRegistry::create("crnn", 12, 3);
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QCOMPARE(e.subject(), std::string("features"));
        }
    }

    // Non-default feature counts and class counts (e.g. 200 FSD50K classes) build and run.
    void otherFeatureAndClassCounts()
    {
        for (const auto &n : tkd::StudentRegistry::names()) {
            auto model = tkd::StudentRegistry::create(n, 200, 40);
            model.eval();
            torch::NoGradGuard noGrad;
            const auto out = model.forward(torch::randn({ 1, 49, 40 }));
            QCOMPARE(out.logits.size(1), int64_t(200));
        }
    }
};

QTEST_GUILESS_MAIN(TestStudents)
#include "tst_students.moc"
