// tkd-test-labels: ml e2e
// int8 post-training quantisation as ONNX QDQ: the built-in interpreter reproduces LibTorch on the
// float graph (so calibration sees the real activations), the int8 model passes the checker, is
// at most 30 % of the float file for TC-ResNet8, and in ONNX Runtime (the independent runtime) its
// logits stay close to float and agree with the interpreter's int8 evaluation.
#include "core/export/OnnxInterpreter.h"
#include "core/export/OnnxQuantizer.h"
#include "core/export/OnnxRuntimeRunner.h"
#include "core/export/OnnxStudentExporter.h"
#include "core/models/StudentRegistry.h"
#include "core/util/Error.h"

#include <QTemporaryDir>
#include <QtTest>

#include <torch/torch.h>

#include <fstream>

using namespace tkd;

namespace {

StudentModel student(const std::string &name, int64_t classes)
{
    torch::manual_seed(5);
    StudentModel m = StudentRegistry::create(name, classes);
    torch::NoGradGuard g;
    for (auto &kv : m.namedBuffers()) {
        if (kv.key().find("running_mean") != std::string::npos)
            kv.value().normal_(0.0, 0.2);
        else if (kv.key().find("running_var") != std::string::npos)
            kv.value().uniform_(0.5, 2.0);
    }
    m.eval();
    return m;
}

OnnxRuntimeRunner::Tensor toRunner(const torch::Tensor &t)
{
    const torch::Tensor c = t.contiguous();
    return { std::vector<int64_t>(c.sizes().begin(), c.sizes().end()),
        std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()) };
}

torch::Tensor fromRunner(OnnxRuntimeRunner::Tensor t)
{
    return torch::from_blob(t.data.data(), t.dims, torch::kFloat).clone();
}

void writeBytes(const std::string &path, const std::string &bytes)
{
    std::ofstream(path, std::ios::binary).write(bytes.data(), std::streamsize(bytes.size()));
}

} // namespace

class TestOnnxInt8 : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void interpreterMatchesLibTorch()
    {
        StudentModel m = student("tc-resnet8", 6);
        OnnxExportOptions o;
        o.featureMean = torch::randn({ 40 });
        o.featureStd = torch::rand({ 40 }) + 0.5;
        const OnnxInterpreter interpreter(OnnxStudentExporter::serialize(m, o));
        QVERIFY(interpreter.supported());
        const torch::Tensor x = torch::randn({ 4, 49, 40 }) * 2.0;
        torch::NoGradGuard g;
        const torch::Tensor expected = m.forward((x - o.featureMean) / o.featureStd).logits;
        const torch::Tensor got = interpreter.run({ { "features", x } }).at("logits");
        QVERIFY((expected - got).abs().max().item<double>() <= 1e-4);
        // A recurrent graph is refused by name, not run wrongly.
        const OnnxInterpreter rnn(
            OnnxStudentExporter::serialize(student("crnn", 6), OnnxExportOptions {}));
        QVERIFY(rnn.unsupportedOp().find("GRU") != std::string::npos);
    }

    void int8TcResNet8()
    {
        StudentModel m = student("tc-resnet8", 12);
        OnnxExportOptions o;
        o.featureMean = torch::randn({ 40 });
        o.featureStd = torch::rand({ 40 }) + 0.5;
        const std::string floatModel = OnnxStudentExporter::serialize(m, o);
        torch::manual_seed(9);
        const torch::Tensor calibration
            = torch::randn({ 128, 49, 40 }) * o.featureStd + o.featureMean;
        OnnxQuantizeReport rep;
        const std::string int8Model = quantizeOnnxInt8(floatModel, calibration, &rep);
        QVERIFY(rep.activationsQuantized);
        QCOMPARE(
            rep.quantizedNodes, int64_t(11)); // conv0, 3 x (conv1, conv2, shortcut), classifier
        const double ratio = double(int8Model.size()) / double(floatModel.size());
        QVERIFY2(ratio <= 0.30, qPrintable(QString("int8 is %1 of float").arg(ratio)));

        // Int8 in the interpreter vs float: close on held-out frames from the same distribution.
        const torch::Tensor x = torch::randn({ 64, 49, 40 }) * o.featureStd + o.featureMean;
        torch::Tensor floatLogits;
        {
            torch::NoGradGuard g;
            floatLogits = m.forward((x - o.featureMean) / o.featureStd).logits;
        }
        const torch::Tensor interp8
            = OnnxInterpreter(int8Model).run({ { "features", x } }).at("logits");
        const double spread = floatLogits.std().item<double>();
        QVERIFY((interp8 - floatLogits).abs().mean().item<double>() < 0.1 * spread);
        QVERIFY(interp8.argmax(1).eq(floatLogits.argmax(1)).to(torch::kDouble).mean().item<double>()
            >= 0.85);

        const std::string reason = OnnxRuntimeRunner::unavailableReason();
        if (!reason.empty())
            QSKIP(("ONNX Runtime unavailable: " + reason).c_str());
        QTemporaryDir dir;
        const std::string path = dir.filePath("m.int8.onnx").toStdString();
        writeBytes(path, int8Model);
        OnnxStudentExporter::check(path);
        const torch::Tensor ort8 = fromRunner(
            OnnxRuntimeRunner::run(path, { { "features", toRunner(x) } }).outputs.at("logits"));
        // ONNX Runtime's integer kernels and the interpreter's float-simulated QDQ agree closely,
        // and both stay close to float.
        QVERIFY2((ort8 - interp8).abs().max().item<double>() < 0.05 * spread + 1e-3,
            qPrintable(QString("max |ORT int8 - interpreter int8| = %1 (logit spread %2)")
                           .arg((ort8 - interp8).abs().max().item<double>())
                           .arg(spread)));
        QVERIFY(ort8.argmax(1).eq(floatLogits.argmax(1)).to(torch::kDouble).mean().item<double>()
            >= 0.85);
    }

    void int8RecurrentKeepsFloatActivations()
    {
        const std::string reason = OnnxRuntimeRunner::unavailableReason();
        StudentModel m = student("lstm-p", 5);
        const std::string floatModel = OnnxStudentExporter::serialize(m, OnnxExportOptions {});
        OnnxQuantizeReport rep;
        const std::string int8Model
            = quantizeOnnxInt8(floatModel, torch::randn({ 8, 49, 20 }), &rep);
        QVERIFY(!rep.activationsQuantized);
        QVERIFY(rep.note.find("Scan") != std::string::npos);
        QVERIFY(rep.quantizedNodes >= 2); // input projection and classifier
        QVERIFY(int8Model.size() < floatModel.size());
        if (!reason.empty())
            QSKIP(("ONNX Runtime unavailable: " + reason).c_str());
        QTemporaryDir dir;
        const std::string path = dir.filePath("m.int8.onnx").toStdString();
        writeBytes(path, int8Model);
        const torch::Tensor x = torch::randn({ 3, 49, 20 });
        const torch::Tensor ort8 = fromRunner(
            OnnxRuntimeRunner::run(path, { { "features", toRunner(x) } }).outputs.at("logits"));
        torch::NoGradGuard g;
        const torch::Tensor ref = m.forward(x).logits;
        QVERIFY(
            (ort8 - ref).abs().max().item<double>() < 0.1 * ref.abs().max().item<double>() + 1e-3);
    }
};

QTEST_GUILESS_MAIN(TestOnnxInt8)
#include "tst_onnxint8.moc"
