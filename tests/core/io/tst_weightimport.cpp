// Hugging Face config.json parsing, checkpoint location and the key mapping / report of the
// wav2vec 2.0 weight import (the model-level round trip is in tests/core/models/tst_wav2vec2).
#include "core/io/HfConfig.h"
#include "core/io/SafeTensors.h"
#include "core/io/WeightImport.h"
#include "core/util/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <filesystem>
#include <fstream>

using Status = tkd::io::MappingEntry::Status;

namespace {

std::string fixture(const std::string &rel)
{
    return std::string(TKD_TEST_DATA_DIR) + "/wav2vec2/" + rel;
}

void writeText(const std::string &path, const std::string &text)
{
    std::ofstream(path, std::ios::binary) << text;
}

// A tiny model's expected parameters, as Wav2Vec2Config::expectedParameters() would list them
// for 1 conv layer (group norm), width 4, one layer, FFN 6, pos conv 2 / 2 groups, 3 labels.
tkd::io::ShapeList tinyExpected(bool head)
{
    tkd::io::ShapeList e = {
        { "feature_extractor.conv_layers.0.conv.weight", { 8, 1, 10 } },
        { "feature_extractor.conv_layers.0.layer_norm.weight", { 8 } },
        { "feature_extractor.conv_layers.0.layer_norm.bias", { 8 } },
        { "feature_projection.layer_norm.weight", { 8 } },
        { "feature_projection.layer_norm.bias", { 8 } },
        { "feature_projection.projection.weight", { 4, 8 } },
        { "feature_projection.projection.bias", { 4 } },
        { "encoder.pos_conv_embed.conv.weight_g", { 1, 1, 2 } },
        { "encoder.pos_conv_embed.conv.weight_v", { 4, 2, 2 } },
        { "encoder.pos_conv_embed.conv.bias", { 4 } },
        { "encoder.layer_norm.weight", { 4 } },
        { "encoder.layer_norm.bias", { 4 } },
    };
    if (head) {
        e.push_back({ "head.weight", { 3, 4 } });
        e.push_back({ "head.bias", { 3 } });
    }
    return e;
}

tkd::io::ShapeList asHf(const tkd::io::ShapeList &expected, bool parametrizations)
{
    tkd::io::ShapeList s;
    for (auto [name, shape] : expected) {
        if (name.rfind("head.", 0) == 0)
            continue;
        if (parametrizations && name.find("weight_g") != std::string::npos)
            name = "encoder.pos_conv_embed.conv.parametrizations.weight.original0";
        if (parametrizations && name.find("weight_v") != std::string::npos)
            name = "encoder.pos_conv_embed.conv.parametrizations.weight.original1";
        s.push_back({ "wav2vec2." + name, shape });
    }
    return s;
}

} // namespace

class TestWeightImport : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void parsesFixtureConfigs()
    {
        auto base = tkd::io::HfConfig::fromFile(fixture("base_style/config.json"));
        QCOMPARE(base.hiddenSize, int64_t(32));
        QCOMPARE(base.numHiddenLayers, int64_t(2));
        QCOMPARE(base.featExtractNorm, std::string("group"));
        QCOMPARE(base.doStableLayerNorm, false);
        QCOMPARE(base.convKernel, (std::vector<int64_t> { 10, 3, 2 }));
        QCOMPARE(base.numLabels, int64_t(3));
        QCOMPARE(base.labels, (std::vector<std::string> { "yes", "no", "up" }));
        QCOMPARE(base.classifierProjSize, int64_t(8));
        auto large = tkd::io::HfConfig::fromFile(fixture("large_style/config.json"));
        QCOMPARE(large.doStableLayerNorm, true);
        QCOMPARE(large.convBias, true);
        QCOMPARE(large.numLabels, int64_t(0));
        QCOMPARE(large.architectures.at(0), std::string("Wav2Vec2ForPreTraining"));
    }

    void defaultsAreWav2Vec2Base()
    {
        auto c = tkd::io::HfConfig::fromJson("{}");
        QCOMPARE(c.hiddenSize, int64_t(768));
        QCOMPARE(c.convDim.size(), size_t(7));
        QCOMPARE(c.numConvPosEmbeddings, int64_t(128));
        auto n = tkd::io::HfConfig::fromJson(R"({"num_labels": 4})");
        QCOMPARE(n.numLabels, int64_t(4));
        QCOMPARE(n.labels.at(3), std::string("LABEL_3"));
    }

    void badConfigNamesTheKey_data()
    {
        QTest::addColumn<QString>("json");
        QTest::addColumn<QString>("key");
        QTest::newRow("not json") << "{\"hidden_size\": "
                                  << "JSON";
        QTest::newRow("string width") << R"({"hidden_size": "big"})"
                                      << "hidden_size";
        QTest::newRow("negative layers") << R"({"num_hidden_layers": -2})"
                                         << "num_hidden_layers";
        QTest::newRow("heads") << R"({"hidden_size": 100, "num_attention_heads": 12})"
                               << "num_attention_heads";
        QTest::newRow("conv lengths") << R"({"conv_dim": [512, 512], "conv_kernel": [10]})"
                                      << "conv_dim";
        QTest::newRow("norm") << R"({"feat_extract_norm": "batch"})"
                              << "feat_extract_norm";
        QTest::newRow("activation") << R"({"hidden_act": "relu"})"
                                    << "hidden_act";
        QTest::newRow("model type") << R"({"model_type": "hubert"})"
                                    << "model_type";
        QTest::newRow("id2label gap") << R"({"id2label": {"0": "a", "2": "c"}})"
                                      << "id2label";
        QTest::newRow("labels disagree") << R"({"id2label": {"0": "a"}, "num_labels": 3})"
                                         << "num_labels";
        QTest::newRow("bool") << R"({"do_stable_layer_norm": "yes"})"
                              << "do_stable_layer_norm";
    }
    void badConfigNamesTheKey()
    {
        QFETCH(QString, json);
        QFETCH(QString, key);
        try {
            tkd::io::HfConfig::fromJson(json.toStdString(), "cfg.json");
            QFAIL("accepted");
        } catch (const tkd::Error &e) {
            QCOMPARE(e.subject(), std::string("cfg.json"));
            QVERIFY2(e.reason().find(key.toStdString()) != std::string::npos, e.what());
        }
    }

    void locatesModelFiles()
    {
        auto f = tkd::io::locateHfModel(fixture("base_style"));
        QVERIFY(f.weights.find("base_style/model.safetensors") != std::string::npos);
        QVERIFY(f.config.find("base_style/config.json") != std::string::npos);
        auto g = tkd::io::locateHfModel(fixture("base_style/model.safetensors"));
        QCOMPARE(g.config, f.config);

        QTemporaryDir tmp;
        const std::string dir = tmp.path().toStdString();
        // Weights without config.json.
        std::filesystem::copy_file(
            fixture("base_style/model.safetensors"), dir + "/model.safetensors");
        QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::io::locateHfModel(dir));
        // A pickle is refused with conversion advice.
        writeText(dir + "/pytorch_model.bin", "PK");
        try {
            tkd::io::locateHfModel(dir + "/pytorch_model.bin");
            QFAIL("pickle accepted");
        } catch (const tkd::Error &e) {
            QVERIFY(std::string(e.what()).find("safetensors") != std::string::npos);
        }
        QVERIFY_THROWS_EXCEPTION(tkd::Error, tkd::io::locateHfModel(dir + "/nothing-here"));
    }

    void mapsPrefixesAndWeightNormNames_data()
    {
        QTest::addColumn<bool>("parametrizations");
        QTest::newRow("weight_g / weight_v") << false;
        QTest::newRow("parametrizations original0/1") << true;
    }
    void mapsPrefixesAndWeightNormNames()
    {
        QFETCH(bool, parametrizations);
        auto expected = tinyExpected(false);
        auto source = asHf(expected, parametrizations);
        source.push_back({ "wav2vec2.masked_spec_embed", { 4 } });
        source.push_back({ "quantizer.codevectors", { 1, 8, 2 } });
        source.push_back({ "project_q.weight", { 4, 4 } });
        auto plan = tkd::io::planHfImport(source, expected);
        QVERIFY2(plan.report.complete(), plan.report.text().c_str());
        QCOMPARE(plan.report.count(Status::Mapped), int(expected.size()));
        QCOMPARE(plan.report.count(Status::Ignored), 3);
        QCOMPARE(plan.copies.size(), expected.size());
    }

    void composesSequenceClassificationHead()
    {
        auto expected = tinyExpected(true);
        auto source = asHf(expected, false);
        source.push_back({ "projector.weight", { 5, 4 } });
        source.push_back({ "projector.bias", { 5 } });
        source.push_back({ "classifier.weight", { 3, 5 } });
        source.push_back({ "classifier.bias", { 3 } });
        auto plan = tkd::io::planHfImport(source, expected);
        QVERIFY2(plan.report.complete(), plan.report.text().c_str());
        QCOMPARE(plan.report.count(Status::Composed), 2);
        QVERIFY(plan.composeHead);

        // Numerically: head(x) == classifier(projector(x)).
        std::map<std::string, torch::Tensor> tensors;
        for (const auto &[name, shape] : source)
            tensors[name] = torch::randn(shape);
        auto out = tkd::io::applyHfImport(plan, tensors, "mem");
        torch::Tensor x = torch::randn({ 7, 4 });
        torch::Tensor ref = torch::linear(
            torch::linear(x, tensors["projector.weight"], tensors["projector.bias"]),
            tensors["classifier.weight"], tensors["classifier.bias"]);
        torch::Tensor got = torch::linear(x, out.at("head.weight"), out.at("head.bias"));
        QVERIFY((ref - got).abs().max().item<double>() < 1e-5);
        QCOMPARE(out.size(), expected.size());

        // A head for the wrong number of labels is mis-shaped, not silently dropped.
        auto wrong = source;
        wrong[wrong.size() - 2] = { "classifier.weight", { 6, 5 } };
        wrong[wrong.size() - 1] = { "classifier.bias", { 6 } };
        auto bad = tkd::io::planHfImport(wrong, expected);
        QVERIFY(!bad.report.complete());
        QVERIFY(bad.report.count(Status::Misshaped) > 0);
    }

    void headMayStartFresh()
    {
        auto expected = tinyExpected(true);
        auto plan = tkd::io::planHfImport(asHf(expected, false), expected);
        QVERIFY(plan.report.complete());
        QCOMPARE(plan.report.count(Status::FreshInit), 2);
        QVERIFY(plan.report.text().find("head.weight") != std::string::npos);
    }

    // Missing, mis-shaped and unknown keys make the plan incomplete, and applying it throws an
    // error whose text names each of them.
    void incompletePlanThrowsNamingEveryProblem()
    {
        auto expected = tinyExpected(false);
        auto source = asHf(expected, false);
        source.erase(source.begin() + 4); // feature_projection.layer_norm.bias
        source[4].second = { 4, 9 }; // projection.weight (index 4 after the erase)
        source.push_back({ "wav2vec2.encoder.adapter.proj.weight", { 2, 2 } });
        auto plan = tkd::io::planHfImport(source, expected);
        QVERIFY(!plan.report.complete());
        QCOMPARE(plan.report.count(Status::Missing), 1);
        QCOMPARE(plan.report.count(Status::Misshaped), 1);
        QCOMPARE(plan.report.count(Status::Unknown), 1);
        std::map<std::string, torch::Tensor> tensors;
        for (const auto &[name, shape] : source)
            tensors[name] = torch::zeros(shape);
        try {
            tkd::io::applyHfImport(plan, tensors, "broken.safetensors");
            QFAIL("an incomplete plan was applied");
        } catch (const tkd::Error &e) {
            const std::string w = e.what();
            QCOMPARE(e.subject(), std::string("broken.safetensors"));
            QVERIFY2(w.find("feature_projection.layer_norm.bias") != std::string::npos, e.what());
            QVERIFY2(w.find("feature_projection.projection.weight: file [4, 9], model [4, 8]")
                    != std::string::npos,
                e.what());
            QVERIFY2(w.find("wav2vec2.encoder.adapter.proj.weight") != std::string::npos, e.what());
        }
    }

    // The fixture's real header plans completely against its own (HF-named) key list.
    void fixtureHeaderIsReadable()
    {
        auto header = tkd::safetensors::readHeader(fixture("large_style/model.safetensors"));
        bool sawParametrization = false;
        for (const auto &e : header.entries)
            sawParametrization
                |= e.name.find("parametrizations.weight.original1") != std::string::npos;
        QVERIFY(sawParametrization);
    }
};

QTEST_GUILESS_MAIN(TestWeightImport)
#include "tst_weightimport.moc"
