// tkd-test-labels: ml e2e
// ONNX export of every registry student, checked by an independent runtime: the model built with
// Debian's ONNX library (checker + shape inference) runs in ONNX Runtime (npm onnxruntime-node,
// driven through scripts/ort-run.js under node) on random inputs and on MFCC / log-mel frames of
// a real recording, and its logits must equal LibTorch's within 1e-4. Students have random
// weights and randomised batch-norm statistics (so folding is exercised), fixed and dynamic time.
#include "core/audio/AudioFile.h"
#include "core/export/OnnxRuntimeRunner.h"
#include "core/export/OnnxStudentExporter.h"
#include "core/features/FeatureExtractor.h"
#include "core/models/StudentRegistry.h"
#include "core/util/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <torch/torch.h>

using namespace tkd;

namespace {

const char *kRecording = "/usr/share/sounds/freedesktop/stereo/audio-channel-front-left.oga";

// Random weights are the registry's own initialisation; batch-norm running statistics get random
// values too, so an eval-mode graph that ignored them would not match.
StudentModel randomStudent(const std::string &name, int64_t classes, uint64_t seed)
{
    torch::manual_seed(seed);
    StudentModel m = StudentRegistry::create(name, classes);
    torch::NoGradGuard g;
    for (auto &kv : m.namedBuffers()) {
        if (kv.key().find("running_mean") != std::string::npos)
            kv.value().normal_(0.0, 0.3);
        else if (kv.key().find("running_var") != std::string::npos)
            kv.value().uniform_(0.5, 2.0);
    }
    for (auto &kv : m.namedParameters())
        if (kv.key().find("bn") != std::string::npos)
            kv.value().uniform_(0.5, 1.5);
    m.eval();
    return m;
}

OnnxRuntimeRunner::Tensor toRunner(const torch::Tensor &t)
{
    const torch::Tensor c = t.contiguous();
    return { std::vector<int64_t>(c.sizes().begin(), c.sizes().end()),
        std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()) };
}

torch::Tensor realFrames(const StudentSpec &spec, int64_t frames)
{
    const std::vector<float> audio = loadAudio(kRecording);
    const torch::Tensor f = FeatureExtractor(spec.defaultFeatures()).compute(audio);
    // The recording is longer than the window: its loudest stretch.
    const torch::Tensor energy = f.abs().sum(1);
    int64_t best = 0;
    double bestSum = -1.0;
    for (int64_t s = 0; s + frames <= f.size(0); s += 5) {
        const double e = energy.narrow(0, s, frames).sum().item<double>();
        if (e > bestSum) {
            bestSum = e;
            best = s;
        }
    }
    return f.narrow(0, best, frames).unsqueeze(0).contiguous();
}

double maxAbsDiff(const torch::Tensor &a, const OnnxRuntimeRunner::Tensor &b)
{
    const torch::Tensor bt = torch::from_blob(
        const_cast<float *>(b.data.data()), { int64_t(b.data.size()) }, torch::kFloat);
    return (a.contiguous().view(-1) - bt).abs().max().item<double>();
}

} // namespace

class TestOnnxExport : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void everyRegistryStudentExports()
    {
        for (const auto &spec : StudentRegistry::specs()) {
            const StudentModel m = StudentRegistry::create(spec.name, 5);
            QVERIFY2(OnnxStudentExporter::supports(m), spec.name.c_str());
        }
    }

    void matchesLibTorchInOnnxRuntime_data()
    {
        QTest::addColumn<QString>("student");
        QTest::addColumn<bool>("dynamicTime");
        for (const auto &spec : StudentRegistry::specs()) {
            QTest::newRow((spec.name + " fixed").c_str())
                << QString::fromStdString(spec.name) << false;
            QTest::newRow((spec.name + " dynamic").c_str())
                << QString::fromStdString(spec.name) << true;
        }
    }

    void matchesLibTorchInOnnxRuntime()
    {
        QFETCH(QString, student);
        QFETCH(bool, dynamicTime);
        const std::string reason = OnnxRuntimeRunner::unavailableReason();
        if (!reason.empty())
            QSKIP(("ONNX Runtime unavailable: " + reason).c_str());
        const std::string name = student.toStdString();
        const StudentSpec &spec = StudentRegistry::spec(name);
        const int64_t classes = 7;
        StudentModel model = randomStudent(name, classes, 11);
        const int64_t f = model.featureDim();
        const int64_t frames = 49;

        OnnxExportOptions o;
        o.frames = frames;
        o.dynamicTime = dynamicTime;
        o.features = spec.defaultFeatures();
        torch::manual_seed(3);
        o.featureMean = torch::randn({ f }) * 2.0;
        o.featureStd = torch::rand({ f }) + 0.5;
        QTemporaryDir dir;
        const std::string path = dir.filePath("m.onnx").toStdString();
        const OnnxExportSummary s = OnnxStudentExporter::write(model, o, path);
        QCOMPARE(s.family, spec.family);
        OnnxStudentExporter::check(path); // the written file passes the checker too

        // The front end and standardisation travel as metadata.
        const auto meta = OnnxStudentExporter::metadata(path);
        QCOMPARE(meta.at("tkd.student"), name);
        QCOMPARE(meta.at("tkd.front_end"), spec.defaultFeatures().canonicalString());
        QVERIFY(meta.count("tkd.feature_mean") && meta.count("tkd.feature_std"));

        // Random (batch 3) and real (batch 1) frames; dynamic graphs also at another length.
        std::vector<torch::Tensor> inputs { torch::randn({ 3, frames, f }) * 3.0 + o.featureMean,
            realFrames(spec, frames) };
        if (dynamicTime)
            inputs.push_back(torch::randn({ 2, 73, f }) + o.featureMean);
        for (const auto &x : inputs) {
            torch::Tensor expected;
            {
                torch::NoGradGuard g;
                expected = model.forward((x - o.featureMean) / o.featureStd).logits;
            }
            const auto r = OnnxRuntimeRunner::run(path, { { "features", toRunner(x) } });
            QVERIFY(r.outputs.count("logits") && r.outputs.count("probabilities"));
            const auto &logits = r.outputs.at("logits");
            QCOMPARE(logits.dims, (std::vector<int64_t> { x.size(0), classes }));
            const double diff = maxAbsDiff(expected, logits);
            QVERIFY2(diff <= 1e-4,
                qPrintable(QString("%1 x %2: max |ONNX Runtime - LibTorch| = %3")
                               .arg(student)
                               .arg(QString::fromStdString(c10::str(x.sizes())))
                               .arg(diff)));
            // And the logits are not trivially equal (a graph ignoring its input would fail here).
            QVERIFY(expected.std().item<double>() > 1e-4 || x.size(0) == 1);
        }
    }

    void refusesWhatCannotWork()
    {
        const StudentModel m = StudentRegistry::create("tc-resnet8", 4);
        OnnxExportOptions o;
        o.opset = 12;
        QVERIFY_THROWS_EXCEPTION(Error, OnnxStudentExporter::serialize(m, o));
        o.opset = 17;
        o.featureMean = torch::zeros({ 3 });
        o.featureStd = torch::ones({ 3 });
        QVERIFY_THROWS_EXCEPTION(Error, OnnxStudentExporter::serialize(m, o));
        OnnxExportOptions crnnShort;
        crnnShort.frames = 3;
        QVERIFY_THROWS_EXCEPTION(
            Error, OnnxStudentExporter::serialize(StudentRegistry::create("crnn", 4), crnnShort));
    }
};

QTEST_GUILESS_MAIN(TestOnnxExport)
#include "tst_onnxexport.moc"
