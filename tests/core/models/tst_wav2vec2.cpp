// The wav2vec 2.0 teacher: torchaudio parity through the Hugging Face import path (fixtures made
// by scripts/fixtures/make_wav2vec2_fixture.py), shapes of the presets, attention probabilities,
// the head on frame 1, padded batches, and refusal of broken checkpoints.
#include "core/io/SafeTensors.h"
#include "core/models/FastDropout.h"
#include "core/models/Wav2Vec2Model.h"
#include "core/models/Wav2Vec2Pretrained.h"
#include "core/util/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

namespace {

std::string fixtureDir(const char *variant)
{
    return std::string(TKD_TEST_DATA_DIR) + "/wav2vec2/" + variant;
}

double maxAbsDiff(const torch::Tensor &a, const torch::Tensor &b)
{
    return (a - b).abs().max().item<double>();
}

std::string shapeOf(const torch::Tensor &t)
{
    std::ostringstream s;
    s << t.sizes();
    return s.str();
}

} // namespace

class TestWav2Vec2 : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        torch::set_num_threads(2);
        torch::manual_seed(7);
    }

    // The key test: our model, loaded through the HF import, reproduces torchaudio's reference
    // hidden states and attention probabilities.
    void torchaudioParity_data()
    {
        QTest::addColumn<QString>("variant");
        QTest::newRow("base-style: group norm, post-LN, seq-class keys") << "base_style";
        QTest::newRow("large-style: layer norm, pre-LN, pretraining keys, padded batch")
            << "large_style";
    }
    void torchaudioParity()
    {
        QFETCH(QString, variant);
        const std::string dir = fixtureDir(variant.toUtf8().constData());
        tkd::io::MappingReport report;
        tkd::Wav2Vec2Model model = tkd::Wav2Vec2Pretrained::load(dir, -1, &report);
        QVERIFY2(report.complete(), report.text().c_str());
        auto expected = tkd::safetensors::load(dir + "/expected.safetensors");
        torch::Tensor lengths
            = expected.count("lengths") ? expected.at("lengths") : torch::Tensor();

        torch::NoGradGuard noGrad;
        tkd::Wav2Vec2Output out = model->forward(expected.at("input"), lengths);
        const int64_t layers = model->config.numLayers();
        QCOMPARE(int64_t(out.hiddenStates.size()), layers + 1);
        QCOMPARE(int64_t(out.attentions.size()), layers);
        for (int64_t i = 0; i <= layers; ++i) {
            const torch::Tensor ref = expected.at("hidden_states." + std::to_string(i));
            QCOMPARE(shapeOf(out.hiddenStates[size_t(i)]), shapeOf(ref));
            const double d = maxAbsDiff(out.hiddenStates[size_t(i)], ref);
            QVERIFY2(d < 1e-4, qPrintable(QString("hidden state %1 differs by %2").arg(i).arg(d)));
        }
        for (int64_t l = 0; l < layers; ++l) {
            const torch::Tensor ref = expected.at("attentions." + std::to_string(l));
            QCOMPARE(shapeOf(out.attentions[size_t(l)]), shapeOf(ref));
            const double d = maxAbsDiff(out.attentions[size_t(l)], ref);
            QVERIFY2(d < 1e-4, qPrintable(QString("attention %1 differs by %2").arg(l).arg(d)));
        }
        if (expected.count("logits")) {
            QVERIFY(out.logits.defined());
            const double d = maxAbsDiff(out.logits, expected.at("logits"));
            QVERIFY2(d < 1e-4, qPrintable(QString("logits differ by %1").arg(d)));
        } else {
            QVERIFY(!out.logits.defined());
        }
        if (lengths.defined()) {
            // Padded keys get exactly zero attention.
            const int64_t valid = out.frameLengths[1].item<int64_t>();
            QVERIFY(valid < out.lastHiddenState.size(1));
            QCOMPARE(out.attentions[0][1]
                         .narrow(-1, valid, out.lastHiddenState.size(1) - valid)
                         .abs()
                         .max()
                         .item<double>(),
                0.0);
        }
    }

    void importReportNamesWhatItSkipped()
    {
        auto base = tkd::Wav2Vec2Pretrained::inspect(fixtureDir("base_style"));
        QVERIFY(base.report.complete());
        QCOMPARE(base.report.count(tkd::io::MappingEntry::Status::Composed), 2);
        QCOMPARE(base.config.numLabels(), int64_t(3));
        QCOMPARE(base.config.labels().at(1), std::string("no"));
        const std::string baseText = base.report.text();
        QVERIFY(baseText.find("masked_spec_embed") != std::string::npos);
        QVERIFY(baseText.find("frame 1") != std::string::npos);

        auto large = tkd::Wav2Vec2Pretrained::inspect(fixtureDir("large_style"));
        QVERIFY(large.report.complete());
        const std::string text = large.report.text();
        for (const char *key : { "quantizer.codevectors", "project_q.weight", "project_hid.bias" })
            QVERIFY2(text.find(key) != std::string::npos, key);
        QCOMPARE(large.report.count(tkd::io::MappingEntry::Status::FreshInit), 0);
        QCOMPARE(large.config.stableLayerNorm(), true);
        QVERIFY(large.config.featureNorm() == tkd::Wav2Vec2Config::FeatureNorm::Layer);

        // Asking for a head the pretraining file lacks: allowed, reported as fresh.
        tkd::io::MappingReport report;
        tkd::Wav2Vec2Model withHead
            = tkd::Wav2Vec2Pretrained::load(fixtureDir("large_style"), 4, &report);
        QVERIFY(report.complete());
        QCOMPARE(report.count(tkd::io::MappingEntry::Status::FreshInit), 2);
        torch::NoGradGuard noGrad;
        auto out = withHead->forward(torch::randn({ 1, 1600 }));
        QCOMPARE(shapeOf(out.logits), std::string("[1, 4]"));
    }

    // A checkpoint with a missing key, a wrong shape and an unknown key must not load, and the
    // error must name all three.
    void brokenCheckpointThrowsWithReport()
    {
        QTemporaryDir tmp;
        QVERIFY(tmp.isValid());
        const std::string dir = tmp.path().toStdString();
        const std::string src = fixtureDir("large_style");
        std::filesystem::copy_file(src + "/config.json", dir + "/config.json");
        auto tensors = tkd::safetensors::load(src + "/model.safetensors");
        const std::string missing = "wav2vec2.encoder.layers.1.final_layer_norm.bias";
        const std::string misshaped = "wav2vec2.encoder.layers.0.attention.q_proj.weight";
        const std::string unknown = "wav2vec2.encoder.layers.0.adapter.weight";
        QVERIFY(tensors.erase(missing) == 1);
        tensors[misshaped] = torch::zeros({ 32, 31 });
        tensors[unknown] = torch::zeros({ 5 });
        std::vector<std::pair<std::string, torch::Tensor>> list(tensors.begin(), tensors.end());
        tkd::safetensors::save(dir + "/model.safetensors", list);

        auto inspection = tkd::Wav2Vec2Pretrained::inspect(dir);
        QVERIFY(!inspection.report.complete());
        QCOMPARE(inspection.report.count(tkd::io::MappingEntry::Status::Missing), 1);
        QCOMPARE(inspection.report.count(tkd::io::MappingEntry::Status::Misshaped), 1);
        QCOMPARE(inspection.report.count(tkd::io::MappingEntry::Status::Unknown), 1);
        try {
            tkd::Wav2Vec2Pretrained::load(dir);
            QFAIL("an incomplete checkpoint loaded");
        } catch (const tkd::Error &e) {
            const std::string what = e.what();
            QVERIFY2(e.subject().find("model.safetensors") != std::string::npos, e.what());
            QVERIFY2(
                what.find("encoder.layers.1.final_layer_norm.bias") != std::string::npos, e.what());
            QVERIFY2(what.find(misshaped) != std::string::npos, e.what());
            QVERIFY2(what.find("[32, 31]") != std::string::npos, e.what());
            QVERIFY2(what.find(unknown) != std::string::npos, e.what());
            QVERIFY2(what.find("INCOMPLETE") != std::string::npos, e.what());
        }
    }

    // A trained teacher saved under its own names loads back exactly; a file for another
    // architecture is refused.
    void ownCheckpointRoundTrip()
    {
        QTemporaryDir tmp;
        const std::string file = tmp.path().toStdString() + "/teacher.safetensors";
        tkd::Wav2Vec2Model trained(tkd::Wav2Vec2Config::tiny(3));
        std::vector<std::pair<std::string, torch::Tensor>> list;
        for (const auto &p : trained->named_parameters())
            list.emplace_back(p.key(), p.value().detach());
        tkd::safetensors::save(file, list);

        tkd::Wav2Vec2Model fresh(tkd::Wav2Vec2Config::tiny(3));
        tkd::io::MappingReport report;
        tkd::Wav2Vec2Pretrained::loadInto(fresh, file, &report);
        QVERIFY(report.complete());
        trained->eval();
        fresh->eval();
        torch::NoGradGuard noGrad;
        torch::Tensor x = torch::randn({ 1, 25, 40 });
        QCOMPARE(maxAbsDiff(trained->forward(x).logits, fresh->forward(x).logits), 0.0);

        tkd::Wav2Vec2Model other(tkd::Wav2Vec2Config::tiny(5)); // head of another size
        QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::Wav2Vec2Pretrained::loadInto(other, file));
    }

    void refusesPickleCheckpoint()
    {
        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        std::filesystem::copy_file(fixtureDir("base_style") + "/config.json", dir + "/config.json");
        std::ofstream(dir + "/pytorch_model.bin") << "PK\x03\x04 not really";
        try {
            tkd::Wav2Vec2Pretrained::inspect(dir);
            QFAIL("a pickle checkpoint was accepted");
        } catch (const tkd::Error &e) {
            QVERIFY2(std::string(e.what()).find("safetensors") != std::string::npos, e.what());
            QVERIFY2(e.subject().find("pytorch_model.bin") != std::string::npos, e.what());
        }
    }

    // The analytic parameter list (used to inspect files without building a model) must be
    // exactly what the modules register.
    void expectedParametersMatchModules_data()
    {
        QTest::addColumn<QString>("preset");
        QTest::addColumn<int>("labels");
        QTest::newRow("tiny") << "tiny" << 12;
        QTest::newRow("tiny-nohead") << "tiny" << 0;
        QTest::newRow("raw-layernorm-bias") << "custom-large" << 3;
        QTest::newRow("raw-groupnorm") << "custom-base" << 0;
    }
    void expectedParametersMatchModules()
    {
        QFETCH(QString, preset);
        QFETCH(int, labels);
        tkd::Wav2Vec2Config cfg;
        if (preset == "tiny") {
            cfg = tkd::Wav2Vec2Config::tiny(labels);
        } else {
            const bool large = preset == "custom-large";
            cfg = tkd::Wav2Vec2Config::xlsr300m(labels);
            cfg.convDim({ 16, 16, 16 })
                .convKernel({ 10, 3, 2 })
                .convStride({ 5, 2, 2 })
                .hiddenSize(32)
                .numLayers(2)
                .numHeads(2)
                .intermediateSize(48)
                .posConvKernel(8)
                .posConvGroups(4)
                .convBias(large)
                .stableLayerNorm(large)
                .featureNorm(large ? tkd::Wav2Vec2Config::FeatureNorm::Layer
                                   : tkd::Wav2Vec2Config::FeatureNorm::Group);
        }
        tkd::Wav2Vec2Model model(cfg);
        auto params = model->named_parameters();
        auto expected = cfg.expectedParameters();
        QCOMPARE(int64_t(params.size()), int64_t(expected.size()));
        int64_t total = 0;
        for (size_t i = 0; i < expected.size(); ++i) {
            QCOMPARE(params[i].key(), expected[i].first);
            QCOMPARE(params[i].value().sizes().vec(), expected[i].second);
            total += params[i].value().numel();
        }
        QCOMPARE(cfg.parameterCount(), total);
    }

    void presetSizes()
    {
        // Published sizes: base ~95M, XLSR / large ~315M (without head), computed analytically.
        const double base = double(tkd::Wav2Vec2Config::base().parameterCount());
        const double xlsr = double(tkd::Wav2Vec2Config::xlsr300m().parameterCount());
        QVERIFY2(base > 93e6 && base < 96e6, qPrintable(QString::number(base)));
        QVERIFY2(xlsr > 310e6 && xlsr < 320e6, qPrintable(QString::number(xlsr)));
        const double tiny = double(tkd::Wav2Vec2Config::tiny(12).parameterCount());
        QVERIFY2(tiny < 1e6, qPrintable(QString::number(tiny)));
        QCOMPARE(tkd::Wav2Vec2Config::base().numFrames(16000), int64_t(49));
        QCOMPARE(tkd::Wav2Vec2Config::base().numFrames(8 * 16000), int64_t(399));
        QCOMPARE(tkd::Wav2Vec2Config::base().numFrames(399), int64_t(0));
        QCOMPARE(tkd::Wav2Vec2Config::base().numFrames(400), int64_t(1));
    }

    void shapes_data()
    {
        QTest::addColumn<QString>("preset");
        QTest::addColumn<int>("subsampling");
        QTest::addColumn<int>("inputLength"); // samples (raw) or frames (spectral)
        QTest::addColumn<int>("frames");
        QTest::newRow("tiny 1 s") << "tiny" << 1 << 49 << 49;
        QTest::newRow("tiny 8 s, 2x stacking") << "tiny" << 2 << 399 << 199;
        QTest::newRow("base 1 s") << "base" << 1 << 16000 << 49;
    }
    void shapes()
    {
        QFETCH(QString, preset);
        QFETCH(int, subsampling);
        QFETCH(int, inputLength);
        QFETCH(int, frames);
        tkd::Wav2Vec2Config cfg = tkd::Wav2Vec2Config::preset(preset.toStdString(), 5);
        cfg.spectralSubsampling(subsampling);
        QCOMPARE(cfg.numFrames(inputLength), int64_t(frames));
        tkd::Wav2Vec2Model model(cfg);
        model->eval();
        torch::NoGradGuard noGrad;
        const int64_t batch = preset == "base" ? 1 : 2;
        torch::Tensor input = preset == "base"
            ? torch::randn({ batch, inputLength }) * 0.1
            : torch::randn({ batch, inputLength, cfg.spectralBins() });
        auto out = model->forward(input);
        const int64_t d = cfg.hiddenSize(), h = cfg.numHeads();
        QCOMPARE(out.lastHiddenState.sizes().vec(), (std::vector<int64_t> { batch, frames, d }));
        QCOMPARE(int64_t(out.hiddenStates.size()), cfg.numLayers() + 1);
        QCOMPARE(int64_t(out.attentions.size()), cfg.numLayers());
        for (const auto &a : out.attentions)
            QCOMPARE(a.sizes().vec(), (std::vector<int64_t> { batch, h, frames, frames }));
        QCOMPARE(out.logits.sizes().vec(), (std::vector<int64_t> { batch, 5 }));
        QCOMPARE(out.frameLengths[0].item<int64_t>(), int64_t(frames));
        QVERIFY(torch::isfinite(out.logits).all().item<bool>());
    }

    void attentionRowsAreDistributions()
    {
        tkd::Wav2Vec2Model model(tkd::Wav2Vec2Config::tiny(4));
        model->eval();
        torch::NoGradGuard noGrad;
        auto out = model->forward(torch::randn({ 3, 60, 40 }), torch::tensor({ 60, 41, 17 }));
        for (const auto &a : out.attentions) {
            QVERIFY(a.min().item<double>() >= 0.0);
            QVERIFY(maxAbsDiff(a.sum(-1), torch::ones({ 3, 4, 60 })) < 1e-5);
            // Padded keys of item 2 (17 valid frames) receive nothing.
            QCOMPARE(a[2].narrow(-1, 17, 60 - 17).sum().item<double>(), 0.0);
        }
        QCOMPARE(out.frameLengths[1].item<int64_t>(), int64_t(41));
    }

    // Padding must not change the valid frames: an item run alone equals its padded copy.
    void paddedBatchMatchesSingleItem()
    {
        tkd::Wav2Vec2Model model(tkd::Wav2Vec2Config::tiny(3));
        model->eval();
        torch::NoGradGuard noGrad;
        torch::Tensor shortItem = torch::randn({ 1, 37, 40 });
        torch::Tensor batch = torch::cat({ torch::randn({ 1, 50, 40 }),
            torch::cat({ shortItem, torch::randn({ 1, 13, 40 }) * 5 }, 1) });
        auto alone = model->forward(shortItem);
        auto padded = model->forward(batch, torch::tensor({ 50, 37 }));
        QVERIFY(maxAbsDiff(padded.lastHiddenState[1].narrow(0, 0, 37), alone.lastHiddenState[0])
            < 1e-4);
        QVERIFY(maxAbsDiff(padded.logits[1], alone.logits[0]) < 1e-4);
        QVERIFY(maxAbsDiff(padded.attentions[2][1].narrow(1, 0, 37).narrow(2, 0, 37),
                    alone.attentions[2][0])
            < 1e-4);
    }

    // The head reads output frame 1 (c_1), not a pooled vector.
    void headReadsFirstFrame()
    {
        tkd::Wav2Vec2Model model(tkd::Wav2Vec2Config::tiny(6));
        model->eval();
        torch::NoGradGuard noGrad;
        auto out = model->forward(torch::randn({ 2, 30, 40 }));
        auto params = model->named_parameters();
        torch::Tensor w = params["head.weight"], b = params["head.bias"];
        torch::Tensor first = torch::matmul(out.lastHiddenState.select(1, 0), w.t()) + b;
        torch::Tensor pooled = torch::matmul(out.lastHiddenState.mean(1), w.t()) + b;
        QVERIFY(maxAbsDiff(out.logits, first) < 1e-5);
        QVERIFY(maxAbsDiff(out.logits, pooled) > 1e-3);
    }

    // The teacher's dropout (a counter-based mask made in parallel) must behave as dropout:
    // it keeps 1 - p of the elements, scales them so the mean holds, passes the gradient through
    // the same mask, is fixed by torch::manual_seed and thread-count independent, and is the
    // identity outside training.
    void fastDropoutIsDropout()
    {
        const double p = 0.1;
        torch::Tensor x = torch::ones({ 64, 4, 101, 33 }, torch::requires_grad()); // odd sizes
        torch::manual_seed(11);
        torch::Tensor y = tkd::fastDropout(x, p, true);
        const double kept = (y > 0).to(torch::kDouble).mean().item<double>();
        QVERIFY2(std::abs(kept - (1.0 - p)) < 0.003, qPrintable(QString::number(kept)));
        QVERIFY(std::abs(y.mean().item<double>() - 1.0) < 0.005);
        y.sum().backward();
        QVERIFY(torch::equal(x.grad(), y.detach())); // d(x * mask)/dx = mask

        // Neighbouring elements are not correlated (16 bits of one word feed four of them).
        torch::Tensor flat = (y.detach().flatten() > 0).to(torch::kDouble);
        const double both = (flat.slice(0, 0, -1) * flat.slice(0, 1)).mean().item<double>();
        QVERIFY2(std::abs(both - (1.0 - p) * (1.0 - p)) < 0.003, qPrintable(QString::number(both)));

        torch::manual_seed(11);
        torch::set_num_threads(1);
        torch::Tensor again = tkd::fastDropout(x.detach(), p, true);
        torch::set_num_threads(2);
        QVERIFY(torch::equal(again, y.detach()));
        QVERIFY(!torch::equal(tkd::fastDropout(x.detach(), p, true), y.detach()));

        QVERIFY(torch::equal(tkd::fastDropout(x.detach(), p, false), x.detach()));
        QVERIFY(torch::equal(tkd::fastDropout(x.detach(), 0.0, true), x.detach()));
        QCOMPARE(tkd::fastDropout(x.detach(), 1.0, true).abs().sum().item<double>(), 0.0);
        torch::Tensor d = torch::ones({ 1000, 100 }, torch::kDouble);
        QCOMPARE(tkd::fastDropout(d, 0.5, true).scalar_type(), torch::kDouble);
    }

    void trainsOnAToyTask()
    {
        // A few Adam steps on a separable toy problem must cut the loss: gradients flow through
        // the head, the transformer and the spectral projection.
        tkd::Wav2Vec2Config cfg = tkd::Wav2Vec2Config::tiny(2);
        cfg.hiddenSize(16)
            .numHeads(2)
            .numLayers(1)
            .intermediateSize(32)
            .posConvKernel(8)
            .posConvGroups(4);
        tkd::Wav2Vec2Model model(cfg);
        model->train();
        torch::optim::Adam opt(model->parameters(), torch::optim::AdamOptions(1e-2));
        torch::Tensor x = torch::randn({ 8, 12, 40 });
        torch::Tensor y = torch::tensor({ 0, 1, 0, 1, 1, 0, 0, 1 }, torch::kLong);
        x.index_put_({ y == 1 }, x.index({ y == 1 }) + 1.0);
        double first = 0, last = 0;
        for (int step = 0; step < 15; ++step) {
            opt.zero_grad();
            torch::Tensor loss = torch::cross_entropy_loss(model->forward(x).logits, y);
            loss.backward();
            opt.step();
            (step == 0 ? first : last) = loss.item<double>();
        }
        QVERIFY2(last < 0.5 * first, qPrintable(QString("%1 -> %2").arg(first).arg(last)));
    }

    void badInputThrows_data()
    {
        QTest::addColumn<QString>("what");
        QTest::newRow("spectral bins") << "bins";
        QTest::newRow("raw too short") << "short";
        QTest::newRow("lengths too long") << "lengths";
        QTest::newRow("unknown preset") << "preset";
        QTest::newRow("heads do not divide") << "heads";
    }
    void badInputThrows()
    {
        QFETCH(QString, what);
        torch::NoGradGuard noGrad;
        try {
            if (what == "bins") {
                tkd::Wav2Vec2Model m(tkd::Wav2Vec2Config::tiny(2));
                m->forward(torch::randn({ 1, 10, 20 }));
            } else if (what == "short") {
                tkd::Wav2Vec2Config c = tkd::Wav2Vec2Config::base();
                c.convDim({ 8, 8 })
                    .convKernel({ 10, 3 })
                    .convStride({ 5, 2 })
                    .hiddenSize(16)
                    .numLayers(1)
                    .numHeads(2)
                    .intermediateSize(16)
                    .posConvKernel(4)
                    .posConvGroups(2);
                tkd::Wav2Vec2Model m(c);
                m->forward(torch::randn({ 1, 12 }));
            } else if (what == "lengths") {
                tkd::Wav2Vec2Model m(tkd::Wav2Vec2Config::tiny(2));
                m->forward(torch::randn({ 2, 10, 40 }), torch::tensor({ 10, 11 }));
            } else if (what == "preset") {
                tkd::Wav2Vec2Config::preset("xlsr-9000");
            } else if (what == "heads") {
                tkd::Wav2Vec2Config c = tkd::Wav2Vec2Config::tiny(2);
                c.numHeads(5);
                c.validate();
            }
            QFAIL("no error");
        } catch (const tkd::Error &e) {
            QVERIFY(!e.subject().empty());
            QVERIFY(!e.reason().empty());
        }
    }
};

QTEST_GUILESS_MAIN(TestWav2Vec2)
#include "tst_wav2vec2.moc"
