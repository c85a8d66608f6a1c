// tkd-bench-links: tkd_export
// ONNX export of every registry student (random weights, BN statistics randomised, seeded):
// float and int8 file sizes, max |ONNX Runtime - LibTorch| logit difference, latency per 1 s
// window on one thread in ONNX Runtime (float / int8) and LibTorch, and the deployment card of
// one student. A trained run's figures come from `tkd export CELL --format onnx --int8`.
//   build/bin/bench_onnx_export [--card STUDENT] [--repeats N]
#include "core/export/DeploymentCard.h"
#include "core/export/OnnxQuantizer.h"
#include "core/export/OnnxRuntimeRunner.h"
#include "core/export/OnnxStudentExporter.h"
#include "core/models/StudentRegistry.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>

using namespace tkd;

namespace {

double medianMs(const std::function<void()> &fn, int repeats)
{
    std::vector<double> t;
    fn();
    for (int r = 0; r < repeats; ++r) {
        const auto a = std::chrono::steady_clock::now();
        fn();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a)
                        .count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

OnnxRuntimeRunner::Tensor toRunner(const torch::Tensor &t)
{
    const torch::Tensor c = t.contiguous();
    return { std::vector<int64_t>(c.sizes().begin(), c.sizes().end()),
        std::vector<float>(c.data_ptr<float>(), c.data_ptr<float>() + c.numel()) };
}

} // namespace

int main(int argc, char **argv)
{
    std::string cardStudent = "tc-resnet8";
    int repeats = 50;
    for (int i = 1; i + 1 < argc; ++i) {
        if (std::string(argv[i]) == "--card")
            cardStudent = argv[++i];
        else if (std::string(argv[i]) == "--repeats")
            repeats = std::atoi(argv[++i]);
    }
    torch::set_num_threads(1);
    const std::string why = OnnxRuntimeRunner::unavailableReason();
    const std::string dir = (std::filesystem::temp_directory_path() / "tkd-bench-onnx").string();
    std::filesystem::create_directories(dir);
    std::printf("%-16s %9s %10s %10s %6s %9s %9s %9s %9s\n", "student", "params", "float B",
        "int8 B", "int8%", "max|diff|", "ORT ms", "ORT8 ms", "torch ms");
    const int64_t classes = 12, frames = 49;
    std::string cardText;
    for (const auto &spec : StudentRegistry::specs()) {
        torch::manual_seed(1);
        StudentModel m = StudentRegistry::create(spec.name, classes);
        {
            torch::NoGradGuard g;
            for (auto &kv : m.namedBuffers()) {
                if (kv.key().find("running_mean") != std::string::npos)
                    kv.value().normal_(0.0, 0.2);
                else if (kv.key().find("running_var") != std::string::npos)
                    kv.value().uniform_(0.5, 2.0);
            }
        }
        m.eval();
        const int64_t f = m.featureDim();
        OnnxExportOptions o;
        o.frames = frames;
        o.features = spec.defaultFeatures();
        o.featureMean = torch::randn({ f });
        o.featureStd = torch::rand({ f }) + 0.5;
        const std::string floatPath = dir + "/" + spec.name + ".onnx";
        const std::string int8Path = dir + "/" + spec.name + ".int8.onnx";
        const OnnxExportSummary s = OnnxStudentExporter::write(m, o, floatPath);
        const torch::Tensor calibration
            = torch::randn({ 128, frames, f }) * o.featureStd + o.featureMean;
        std::ifstream in(floatPath, std::ios::binary);
        const std::string bytes(
            (std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        OnnxQuantizeReport rep;
        const std::string q = quantizeOnnxInt8(bytes, calibration, &rep);
        std::ofstream(int8Path, std::ios::binary).write(q.data(), std::streamsize(q.size()));

        const torch::Tensor x = torch::randn({ 1, frames, f }) * o.featureStd + o.featureMean;
        const torch::Tensor xn = (x - o.featureMean) / o.featureStd;
        torch::Tensor ref;
        double torchMs;
        {
            torch::NoGradGuard g;
            ref = m.forward(xn).logits;
            torchMs = medianMs([&] { m.forward(xn); }, repeats);
        }
        DeploymentCard card;
        card.student = spec.name;
        card.family = s.family;
        card.cell = "random weights (bench_onnx_export)";
        card.parameters = m.parameterCount();
        card.classes = classes;
        card.featureDim = f;
        card.frontEnd = spec.featureLabel()
            + ": 16 kHz, 40 ms periodic Hann window, 20 ms hop, 640-point FFT, "
            + "40 HTK mel bins 20-7600 Hz, log(max(x, 1e-12))"
            + (spec.featureKind == FeatureConfig::Kind::Mfcc ? ", orthonormal DCT-II" : "");
        card.frames = frames;
        card.macsPerWindow = m.macs(frames);
        card.macsPerSecond = double(card.macsPerWindow) / card.hopSec;
        card.floatFile = spec.name + ".onnx";
        card.int8File = spec.name + ".int8.onnx";
        card.floatBytes = int64_t(std::filesystem::file_size(floatPath));
        card.int8Bytes = int64_t(std::filesystem::file_size(int8Path));
        card.libtorchLatencyMs = torchMs;
        if (why.empty()) {
            const auto r
                = OnnxRuntimeRunner::run(floatPath, { { "features", toRunner(x) } }, 1, repeats);
            const auto &l = r.outputs.at("logits").data;
            double diff = 0.0;
            for (int64_t i = 0; i < ref.numel(); ++i)
                diff = std::max(diff, double(std::abs(ref.data_ptr<float>()[i] - l[size_t(i)])));
            card.maxAbsDiffVsLibTorch = diff;
            card.floatLatencyMs = r.medianMs;
            card.int8LatencyMs
                = OnnxRuntimeRunner::run(int8Path, { { "features", toRunner(x) } }, 1, repeats)
                      .medianMs;
        }
        std::printf("%-16s %9lld %10lld %10lld %5.1f%% %9.1e %9.3f %9.3f %9.3f%s\n",
            spec.name.c_str(), (long long)card.parameters, (long long)card.floatBytes,
            (long long)card.int8Bytes, 100.0 * double(card.int8Bytes) / double(card.floatBytes),
            card.maxAbsDiffVsLibTorch, card.floatLatencyMs, card.int8LatencyMs,
            card.libtorchLatencyMs, rep.activationsQuantized ? "" : "  (int8: weights only)");
        if (spec.name == cardStudent)
            cardText = card.markdown();
    }
    if (!why.empty())
        std::printf("ONNX Runtime not run: %s\n", why.c_str());
    std::printf("\n%s", cardText.c_str());
    return 0;
}
