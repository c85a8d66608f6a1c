// tkd export: the deployable student alone (no attention branch), with its size and CPU latency.
// tkd teacher import: Hugging Face wav2vec 2.0 weights into a teacher checkpoint `--teacher` takes.

#include "Cli.h"

#include "core/checkpoint/Checkpoint.h"
#include "core/checkpoint/TrainedModels.h"
#include "core/data/DatasetSource.h"
#include "core/data/FeatureCache.h"
#include "core/data/NoisyDataset.h"
#include "core/data/PreparedData.h"
#include "core/distill/AttentionBranch.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/export/DeploymentCard.h"
#include "core/export/OnnxInterpreter.h"
#include "core/export/OnnxQuantizer.h"
#include "core/export/OnnxRuntimeRunner.h"
#include "core/export/OnnxStudentExporter.h"
#include "core/features/FeatureExtractor.h"
#include "core/infer/LiveModel.h"
#include "core/infer/StreamEvaluation.h"
#include "core/models/Wav2Vec2Pretrained.h"
#include "core/util/BlasThreads.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <iostream>
#include <vector>

namespace fs = std::filesystem;

namespace {

// A run folder's cell, a cell folder or a checkpoint file -> the checkpoint to export.
std::string resolveCheckpoint(const std::string &path)
{
    std::error_code ec;
    if (fs::is_regular_file(path, ec))
        return path;
    if (fs::is_regular_file(path + "/best.safetensors", ec))
        return path + "/best.safetensors";
    if (fs::is_directory(path + "/students", ec)) {
        std::vector<std::string> cells;
        for (const auto &e : fs::directory_iterator(path + "/students", ec))
            if (fs::is_regular_file(e.path() / "best.safetensors"))
                cells.push_back(e.path().filename().string());
        std::sort(cells.begin(), cells.end());
        std::string list;
        for (const auto &c : cells)
            list += "\n  " + path + "/students/" + c;
        throw tkd::Error(path,
            "is a run folder: name one of its students"
                + (cells.empty() ? std::string(" (it has none yet)") : ":" + list));
    }
    throw tkd::Error(path, "is neither a student checkpoint nor a folder holding best.safetensors");
}

// The experiment that trained a checkpoint at <run>/students/<cell>/best.safetensors, if there.
std::string runConfigFor(const std::string &checkpoint)
{
    const fs::path p = fs::absolute(checkpoint);
    const fs::path run = p.parent_path().parent_path().parent_path();
    std::error_code ec;
    return fs::is_regular_file(run / "config.yaml", ec) ? (run / "config.yaml").string()
                                                        : std::string();
}

double medianMs(const std::function<void()> &fn, int repeats)
{
    std::vector<double> t;
    fn(); // warm-up
    for (int r = 0; r < repeats; ++r) {
        const auto a = std::chrono::steady_clock::now();
        fn();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a)
                        .count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

// Top-1 accuracy of logits against single-label targets.
double accuracyOf(const torch::Tensor &logits, const torch::Tensor &targets)
{
    return logits.argmax(1).eq(targets.to(torch::kLong)).to(torch::kDouble).mean().item<double>();
}

// Logits of an ONNX model over [N, T, F] frames: ONNX Runtime when installed, else the built-in
// interpreter (convolutional graphs); undefined when neither can run it.
torch::Tensor onnxLogits(const std::string &path, const torch::Tensor &frames, std::string *engine)
{
    if (tkd::OnnxRuntimeRunner::available()) {
        *engine = "ONNX Runtime";
        std::vector<torch::Tensor> parts;
        for (int64_t s = 0; s < frames.size(0); s += 512) {
            const torch::Tensor x
                = frames.narrow(0, s, std::min<int64_t>(512, frames.size(0) - s)).contiguous();
            tkd::OnnxRuntimeRunner::Tensor in { std::vector<int64_t>(
                                                    x.sizes().begin(), x.sizes().end()),
                std::vector<float>(x.data_ptr<float>(), x.data_ptr<float>() + x.numel()) };
            auto r = tkd::OnnxRuntimeRunner::run(path, { { "features", in } }, 1);
            auto &l = r.outputs.at("logits");
            parts.push_back(torch::from_blob(l.data.data(), l.dims, torch::kFloat).clone());
        }
        return torch::cat(parts);
    }
    tkd::OnnxInterpreter interpreter(tkd::readFile(path));
    if (!interpreter.supported())
        return {};
    *engine = "built-in interpreter";
    return interpreter.run({ { "features", frames } }).at("logits");
}

// tkd export --format onnx: the ONNX model, checked by ONNX Runtime when it is installed, and its
// deployment card (<cell>.card.md / .card.json) beside it.
struct ExportOptions
{
    std::string model;
    std::string format = "safetensors";
    int opset = 17;
    bool dynamicTime = false;
    bool noVerify = false;
    bool int8 = false;
    int calibration = 256;
    std::string out;
    double seconds = 0.0;
    int repeats = 50;
    bool force = false;
};

int exportOnnx(const ExportOptions &args, const std::string &ckPath, tkd::StudentModel &model,
    const tkd::FeatureNorm &norm, bool hadBranch)
{
    const tkd::LiveModelInfo info = tkd::resolveLiveModel(ckPath);
    const double windowSec = args.seconds > 0 ? args.seconds : info.windowSec;
    const int64_t frames = std::max<int64_t>(model.minFrames(),
        info.features.numFrames(int64_t(std::llround(windowSec * info.features.sampleRate))));
    tkd::OnnxExportOptions o;
    o.opset = args.opset;
    o.frames = frames;
    o.dynamicTime = args.dynamicTime;
    o.featureMean = norm.mean;
    o.featureStd = norm.std;
    o.features = info.features;
    o.windowSec = windowSec;
    o.classes = info.classes;
    o.metadata["tkd.cell"] = info.cell.name;
    o.metadata["tkd.exported_from"] = fs::absolute(ckPath).string();

    const fs::path cellDir = fs::path(ckPath).parent_path();
    std::string outPath = args.out;
    if (outPath.empty())
        outPath = (cellDir.parent_path() / (cellDir.filename().string() + ".onnx")).string();
    std::error_code ec;
    if (fs::exists(outPath, ec) && !args.force)
        throw tkd::Error(outPath, "exists already (--force overwrites it)");
    model.eval();
    const tkd::OnnxExportSummary summary = tkd::OnnxStudentExporter::write(model, o, outPath);

    tkd::DeploymentCard card;
    card.student = model.name();
    card.family = summary.family;
    card.cell = info.cell.name;
    card.parameters = model.parameterCount();
    card.classes = model.numClasses();
    card.featureDim = model.featureDim();
    card.frontEndCanonical = info.features.canonicalString();
    char fe[256];
    std::snprintf(fe, sizeof fe,
        "%d %s, %d Hz, %g ms Hann window, %g ms hop, %d mel bins %g-%g Hz (HTK), log, %s",
        info.features.featureDim(), info.features.kindName() == "mfcc" ? "MFCC" : "log-mel",
        info.features.sampleRate, info.features.windowMs, info.features.hopMs,
        info.features.melBins, info.features.fMinHz, info.features.fMaxHz,
        info.features.kindName() == "mfcc" ? "orthonormal DCT-II" : "no DCT");
    card.frontEnd = fe;
    card.windowSec = windowSec;
    card.frames = frames;
    card.dynamicTime = o.dynamicTime;
    card.opset = o.opset;
    card.macsPerWindow = model.macs(frames);
    card.hopSec = 0.1;
    card.macsPerSecond = double(card.macsPerWindow) / card.hopSec;
    card.floatFile = fs::path(outPath).filename().string();
    card.floatBytes = int64_t(fs::file_size(outPath));
    card.floatAccuracy = info.cell.testAccuracy;

    // LibTorch latency, one thread, batch 1.
    const int repeats = std::max(1, args.repeats);
    const int threadsBefore = torch::get_num_threads();
    torch::set_num_threads(1);
    tkd::setBlasThreads(1);
    torch::manual_seed(1);
    const torch::Tensor xRaw = torch::randn({ 2, frames, model.featureDim() });
    const torch::Tensor x
        = norm.mean.defined() ? xRaw * norm.std + norm.mean : xRaw; // raw-scale frames
    torch::Tensor expected;
    {
        torch::NoGradGuard noGrad;
        expected = model.forward(norm.apply(x)).logits;
        const torch::Tensor one = norm.apply(x.narrow(0, 0, 1));
        card.libtorchLatencyMs = medianMs([&] { model.forward(one); }, repeats);
    }
    torch::set_num_threads(threadsBefore);

    // The independent check and ONNX Runtime's latency.
    const std::string unavailable
        = args.noVerify ? "skipped (--no-verify)" : tkd::OnnxRuntimeRunner::unavailableReason();
    if (unavailable.empty()) {
        const torch::Tensor xc = x.contiguous();
        tkd::OnnxRuntimeRunner::Tensor in { { 2, frames, model.featureDim() },
            std::vector<float>(xc.data_ptr<float>(), xc.data_ptr<float>() + xc.numel()) };
        const auto r = tkd::OnnxRuntimeRunner::run(outPath, { { "features", in } });
        const auto &got = r.outputs.at("logits").data;
        const torch::Tensor e = expected.contiguous().view(-1);
        double diff = 0.0;
        for (int64_t i = 0; i < e.numel(); ++i)
            diff = std::max(diff, double(std::abs(e.data_ptr<float>()[i] - got[size_t(i)])));
        card.maxAbsDiffVsLibTorch = diff;
        in.dims[0] = 1;
        in.data.resize(size_t(frames * model.featureDim()));
        card.floatLatencyMs
            = tkd::OnnxRuntimeRunner::run(outPath, { { "features", in } }, 1, repeats).medianMs;
        if (diff > 1e-4)
            throw tkd::Error(
                outPath, "ONNX Runtime's logits differ from LibTorch's by " + std::to_string(diff));
    }

    // int8: calibrated on training clips, accuracy change on the test split.
    std::string int8Path, int8Engine;
    tkd::OnnxQuantizeReport qrep;
    if (args.int8) {
        const tkd::ExperimentConfig cfg = tkd::ExperimentConfig::load(info.runDir + "/config.yaml");
        const tkd::DatasetIndex index = cfg.datasetSource().open();
        const tkd::NoisyDataset data(index, cfg.noisyConfig(info.windowSec));
        const tkd::PreparedData prepared(data);
        const tkd::FeatureCache cache;
        const tkd::FeatureExtractor fx(cfg.features);
        const tkd::PreparedSplit train = prepared.split(tkd::Split::Train, fx, cache);
        const tkd::PreparedSplit test = prepared.split(tkd::Split::Test, fx, cache);
        const int64_t nCal = std::min<int64_t>(train.size(), std::max(1, args.calibration));
        // Calibration clips spread over the training split (a seeded choice).
        torch::manual_seed(7);
        const torch::Tensor pick = torch::randperm(train.size()).narrow(0, 0, nCal);
        const torch::Tensor calibration = train.features.index_select(0, pick).contiguous();
        const std::string q = tkd::quantizeOnnxInt8(tkd::readFile(outPath), calibration, &qrep);
        int8Path = (cellDir.parent_path() / (cellDir.filename().string() + ".int8.onnx")).string();
        tkd::writeFileAtomic(int8Path, q);
        card.int8File = fs::path(int8Path).filename().string();
        card.int8Bytes = int64_t(fs::file_size(int8Path));
        if (!test.multiLabel && test.size() > 0) {
            const torch::Tensor tf = test.features.contiguous();
            {
                torch::NoGradGuard noGrad;
                std::vector<torch::Tensor> parts;
                for (int64_t s = 0; s < tf.size(0); s += 256)
                    parts.push_back(model
                                        .forward(norm.apply(tf.narrow(
                                            0, s, std::min<int64_t>(256, tf.size(0) - s))))
                                        .logits);
                card.floatAccuracy = accuracyOf(torch::cat(parts), test.targets);
            }
            const torch::Tensor l8 = onnxLogits(int8Path, tf, &int8Engine);
            if (l8.defined())
                card.int8Accuracy = accuracyOf(l8, test.targets);
        }
        if (unavailable.empty()) {
            tkd::OnnxRuntimeRunner::Tensor in { { 1, frames, model.featureDim() }, {} };
            const torch::Tensor one = x.narrow(0, 0, 1).contiguous();
            in.data.assign(one.data_ptr<float>(), one.data_ptr<float>() + one.numel());
            card.int8LatencyMs
                = tkd::OnnxRuntimeRunner::run(int8Path, { { "features", in } }, 1, repeats)
                      .medianMs;
        }
    }

    // Streaming figures, when `tkd eval RUN --stream` has run.
    const std::string streamJson = info.runDir + "/stream/" + info.cell.name + ".json";
    if (fs::is_regular_file(streamJson, ec)) {
        const tkd::StreamEvaluation e = tkd::StreamEvaluation::fromJson(tkd::readFile(streamJson));
        card.faPerHour = e.atThreshold.faPerHour;
        card.missRate = e.atThreshold.missRate;
        card.threshold = e.threshold;
        card.streamHours = e.hours;
    }

    const std::string cardBase = (cellDir.parent_path() / cellDir.filename()).string() + ".card";
    tkd::writeFileAtomic(cardBase + ".md", card.markdown());
    tkd::writeFileAtomic(cardBase + ".json", card.json());

    std::printf("student:      %s (%s; %lld classes, %lld features per frame)%s\n",
        model.name().c_str(), summary.family.c_str(), (long long)model.numClasses(),
        (long long)model.featureDim(), hadBranch ? "  (attention branch left out)" : "");
    std::printf("onnx:         %s (%lld bytes, opset %d, %lld nodes, time %s)\n", outPath.c_str(),
        (long long)card.floatBytes, o.opset, (long long)summary.nodes,
        o.dynamicTime ? "dynamic" : (std::to_string(frames) + " frames").c_str());
    std::printf("checker:      passed (onnx::checker + shape inference)\n");
    if (unavailable.empty())
        std::printf("ONNX Runtime: max |logits - LibTorch| = %.2g on random frames; %.3f ms per "
                    "window (1 thread)\n",
            card.maxAbsDiffVsLibTorch, card.floatLatencyMs);
    else
        std::printf("ONNX Runtime: not run (%s)\n", unavailable.c_str());
    std::printf(
        "LibTorch:     %.3f ms per %.2f s window (1 thread)\n", card.libtorchLatencyMs, windowSec);
    std::printf("MACs:         %.2f M per window, %.1f M per second of audio at a 100 ms hop\n",
        double(card.macsPerWindow) / 1e6, card.macsPerSecond / 1e6);
    if (!int8Path.empty()) {
        std::printf("int8:         %s (%lld bytes, %.1f %% of float; %lld ops with int8 weights, "
                    "activations %s)\n",
            int8Path.c_str(), (long long)card.int8Bytes,
            100.0 * double(card.int8Bytes) / double(card.floatBytes),
            (long long)qrep.quantizedNodes,
            qrep.activationsQuantized ? (
                "uint8, calibrated on " + std::to_string(qrep.calibrationClips) + " training clips")
                                            .c_str()
                                      : qrep.note.c_str());
        if (card.int8Accuracy >= 0)
            std::printf(
                "test split:   float %.2f %%, int8 %.2f %% (%+.2f points; int8 run by %s)\n",
                100.0 * card.floatAccuracy, 100.0 * card.int8Accuracy,
                100.0 * (card.int8Accuracy - card.floatAccuracy), int8Engine.c_str());
        if (card.int8LatencyMs >= 0)
            std::printf(
                "int8 latency: %.3f ms per window (ONNX Runtime, 1 thread)\n", card.int8LatencyMs);
    }
    std::printf("card:         %s.md, %s.json\n", cardBase.c_str(), cardBase.c_str());
    return 0;
}

int runExport(const ExportOptions &o)
{
    const std::string ckPath = resolveCheckpoint(o.model);
    tkd::FeatureNorm norm;
    tkd::AttentionBranch branch { nullptr };
    tkd::StudentModel model = tkd::TrainedModels::loadStudent(ckPath, &branch, &norm);
    if (o.format == "onnx")
        return exportOnnx(o, ckPath, model, norm, !branch.is_empty());
    const tkd::Checkpoint source = tkd::Checkpoint::load(ckPath);

    tkd::Checkpoint out;
    out.step = source.step;
    out.epoch = source.epoch;
    out.configHash = source.configHash;
    out.setModule(*model.module(), "model"); // the student only: the branch stays behind
    out.setText("student", model.name());
    out.setInt("classes", model.numClasses());
    out.setInt("features", model.featureDim());
    out.setText("exported_from", fs::absolute(ckPath).string());
    if (norm.mean.defined()) {
        out.setTensor("feature_mean", norm.mean);
        out.setTensor("feature_std", norm.std);
    }
    double trainSec = 0.0;
    const std::string configPath = runConfigFor(ckPath);
    if (!configPath.empty()) {
        const tkd::ExperimentConfig cfg = tkd::ExperimentConfig::load(configPath);
        out.setText("features_config", cfg.features.canonicalString());
        const auto lengths = cfg.clipLengths();
        trainSec = lengths.empty() ? cfg.data.noisy.lengthSec : lengths.front();
        // The cell name carries its own L when the grid swept several.
        const std::string cell = fs::path(ckPath).parent_path().filename().string();
        const auto at = cell.find("-L");
        if (at != std::string::npos)
            trainSec = std::atof(cell.c_str() + at + 2);
        out.setValue("clip_seconds", trainSec);
    }

    std::string outPath = o.out;
    if (outPath.empty())
        outPath = (fs::path(ckPath).parent_path().parent_path()
            / (fs::path(ckPath).parent_path().filename().string() + ".student.safetensors"))
                      .string();
    std::error_code ec;
    if (fs::exists(outPath, ec) && !o.force)
        throw tkd::Error(outPath, "exists already (--force overwrites it)");
    out.save(outPath);

    // Latency: one thread, batch 1, the window the student was trained on (or --seconds).
    double seconds = o.seconds > 0 ? o.seconds : (trainSec > 0 ? trainSec : 1.0);
    const int threadsBefore = torch::get_num_threads();
    torch::set_num_threads(1);
    tkd::setBlasThreads(1);
    const int64_t frames = std::max<int64_t>(model.minFrames(), int64_t(seconds * 50.0) - 1);
    const torch::Tensor x = torch::randn({ 1, frames, model.featureDim() });
    torch::NoGradGuard noGrad;
    model.eval();
    const double ms = medianMs([&] { model.forward(x); }, std::max(1, o.repeats));
    torch::set_num_threads(threadsBefore);

    const auto bytes = fs::file_size(outPath);
    std::printf("student:      %s (%lld classes, %lld features per frame)\n", model.name().c_str(),
        (long long)model.numClasses(), (long long)model.featureDim());
    std::printf("parameters:   %lld%s\n", (long long)model.parameterCount(),
        branch ? "  (attention branch left out)" : "");
    std::printf("file:         %s (%llu bytes)\n", outPath.c_str(), (unsigned long long)bytes);
    std::printf(
        "MACs:         %.2f M per %g s window\n", double(model.macs(frames)) / 1e6, seconds);
    std::printf(
        "CPU latency:  %.3f ms per %g s window, %.3f ms per second of audio (1 thread, batch 1, "
        "median of %d)\n",
        ms, seconds, ms / seconds, std::max(1, o.repeats));
    return 0;
}

struct ImportOptions
{
    std::string weights;
    std::string out;
    int labels = -1;
    bool force = false;
};

int runTeacherImport(const ImportOptions &o)
{
    const std::string &outPath = o.out;
    std::error_code ec;
    if (fs::exists(outPath, ec) && !o.force)
        throw tkd::Error(outPath, "exists already (--force overwrites it)");
    const std::string weights = fs::absolute(o.weights).string();
    tkd::io::MappingReport report;
    tkd::Wav2Vec2Model model = tkd::Wav2Vec2Pretrained::load(weights, o.labels, &report);
    tkd::Checkpoint ck;
    ck.setModule(*model, "model");
    ck.setText("teacher_kind", "imported");
    ck.setText("weights", weights); // the architecture (config.json) travels by reference
    ck.setInt("labels", model->config.numLabels());
    ck.setInt("bins", model->config.spectralBins());
    ck.setInt("subsampling", model->config.spectralSubsampling());
    ck.save(outPath);
    std::cout << report.text(false) << "\nmodel:   " << model->config.summary()
              << "\nwrote:   " << outPath << " (" << fs::file_size(outPath) << " bytes)\n";
    return 0;
}

const tkd::cli::Registrar regExport("export",
    "the deployable student alone, with size and CPU latency",
    "Writes a trained student alone - no attention branch, no optimiser state - as a safetensors "
    "file with "
    "its feature standardisation and front-end settings, so the deployed model is exactly the "
    "architecture "
    "that was distilled into. Prints its parameter count, file size and measured CPU latency per "
    "second of "
    "audio (one thread, batch 1). MODEL is a cell folder <run>/students/<cell> or its "
    "best.safetensors. "
    "--format onnx writes an ONNX model instead (standardisation in the graph, front end as "
    "metadata), "
    "checks it with ONNX Runtime and writes its deployment card <cell>.card.md / .card.json.",
    [](CLI::App &app) {
        auto o = std::make_shared<ExportOptions>();
        app.add_option("model", o->model, "student checkpoint or cell folder")->required();
        app.add_option("--format", o->format, "safetensors | onnx (ONNX model + deployment card)")
            ->capture_default_str()
            ->check(CLI::IsMember({ "safetensors", "onnx" }));
        app.add_option("--opset", o->opset, "ONNX opset")
            ->capture_default_str()
            ->check(CLI::Range(13, 17));
        app.add_flag(
            "--dynamic-time", o->dynamicTime, "ONNX: symbolic time axis (any number of frames)");
        app.add_flag("--no-verify", o->noVerify, "ONNX: skip the ONNX Runtime check and latency");
        app.add_flag("--int8", o->int8,
            "ONNX: also <cell>.int8.onnx (QDQ, calibrated on training clips) and its test "
            "accuracy");
        app.add_option(
               "--calibration", o->calibration, "--int8: training clips for activation ranges")
            ->capture_default_str()
            ->check(CLI::Range(1, 1000000));
        app.add_option("--out", o->out,
            "output file (default: <cell>.student.safetensors / <cell>.onnx beside the cell)");
        app.add_option("--seconds", o->seconds,
               "window for the latency figure (default: the training clip length)")
            ->capture_default_str()
            ->check(CLI::Range(0.0, 600.0));
        app.add_option("--repeats", o->repeats, "timed forward passes (median reported)")
            ->capture_default_str()
            ->check(CLI::Range(1, 100000));
        app.add_flag("--force", o->force, "overwrite FILE if it exists");
        return [o] { return runExport(*o); };
    });
const tkd::cli::Registrar regImport("teacher import",
    "Hugging Face wav2vec 2.0 weights into a teacher checkpoint",
    "Loads Hugging Face wav2vec 2.0 weights (a folder with config.json + model.safetensors, or the "
    ".safetensors file: base, large or XLSR) through the checked weight mapping and writes a "
    "teacher "
    "checkpoint that `tkd train --teacher FILE` uses as it is. A head whose size differs from "
    "--labels is "
    "refused with the mapping report; --labels 0 drops it (then fine-tune a fresh head with "
    "teacher.kind: "
    "imported, teacher.weights and teacher.epochs > 0).",
    [](CLI::App &app) {
        auto o = std::make_shared<ImportOptions>();
        app.add_option("weights", o->weights, "Hugging Face checkpoint folder or .safetensors file")
            ->required();
        app.add_option("--out", o->out, "teacher checkpoint to write")->required();
        app.add_option("--labels", o->labels,
               "classification head size (default: from config.json; 0 = none)")
            ->check(CLI::Range(0, 100000));
        app.add_flag("--force", o->force, "overwrite FILE if it exists");
        return [o] { return runTeacherImport(*o); };
    });

} // namespace
