// tkd export: the deployable student alone (no attention branch), with its size and CPU latency.
// tkd teacher import: Hugging Face wav2vec 2.0 weights into a teacher checkpoint `--teacher` takes.

#include "Cli.h"

#include "core/checkpoint/TrainedModels.h"
#include "core/distill/AttentionBranch.h"
#include "core/models/Wav2Vec2Pretrained.h"
#include "core/checkpoint/Checkpoint.h"
#include "core/experiment/ExperimentConfig.h"
#include "core/train/StudentTrainer.h"
#include "core/util/BlasThreads.h"
#include "core/util/Error.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <functional>
#include <cstdio>
#include <filesystem>
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
        throw tkd::Error(path, "is a run folder: name one of its students" +
                                   (cells.empty() ? std::string(" (it has none yet)") : ":" + list));
    }
    throw tkd::Error(path, "is neither a student checkpoint nor a folder holding best.safetensors");
}

// The experiment that trained a checkpoint at <run>/students/<cell>/best.safetensors, if there.
std::string runConfigFor(const std::string &checkpoint)
{
    const fs::path p = fs::absolute(checkpoint);
    const fs::path run = p.parent_path().parent_path().parent_path();
    std::error_code ec;
    return fs::is_regular_file(run / "config.yaml", ec) ? (run / "config.yaml").string() : std::string();
}

double medianMs(const std::function<void()> &fn, int repeats)
{
    std::vector<double> t;
    fn(); // warm-up
    for (int r = 0; r < repeats; ++r) {
        const auto a = std::chrono::steady_clock::now();
        fn();
        t.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - a).count());
    }
    std::sort(t.begin(), t.end());
    return t[t.size() / 2];
}

struct ExportOptions
{
    std::string model;
    std::string out;
    double seconds = 0.0;
    int repeats = 50;
    bool force = false;
};

int runExport(const ExportOptions &o)
{
    const std::string ckPath = resolveCheckpoint(o.model);
    tkd::FeatureNorm norm;
    tkd::AttentionBranch branch{nullptr};
    tkd::StudentModel model = tkd::TrainedModels::loadStudent(ckPath, &branch, &norm);
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
        outPath = (fs::path(ckPath).parent_path().parent_path() /
                   (fs::path(ckPath).parent_path().filename().string() + ".student.safetensors"))
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
    const torch::Tensor x = torch::randn({1, frames, model.featureDim()});
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
    std::printf("MACs:         %.2f M per %g s window\n", double(model.macs(frames)) / 1e6, seconds);
    std::printf("CPU latency:  %.3f ms per %g s window, %.3f ms per second of audio (1 thread, batch 1, "
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
    std::cout << report.text(false) << "\nmodel:   " << model->config.summary() << "\nwrote:   " << outPath
              << " (" << fs::file_size(outPath) << " bytes)\n";
    return 0;
}

const tkd::cli::Registrar regExport(
    "export", "the deployable student alone, with size and CPU latency",
    "Writes a trained student alone - no attention branch, no optimiser state - as a safetensors file with "
    "its feature standardisation and front-end settings, so the deployed model is exactly the architecture "
    "that was distilled into. Prints its parameter count, file size and measured CPU latency per second of "
    "audio (one thread, batch 1). MODEL is a cell folder <run>/students/<cell> or its best.safetensors.",
    [](CLI::App &app) {
        auto o = std::make_shared<ExportOptions>();
        app.add_option("model", o->model, "student checkpoint or cell folder")->required();
        app.add_option("--out", o->out, "output file (default: <cell>.student.safetensors beside the cell)");
        app.add_option("--seconds", o->seconds, "window for the latency figure (default: the training clip length)")
            ->capture_default_str();
        app.add_option("--repeats", o->repeats, "timed forward passes (median reported)")->capture_default_str();
        app.add_flag("--force", o->force, "overwrite FILE if it exists");
        return [o] { return runExport(*o); };
    });
const tkd::cli::Registrar regImport(
    "teacher import", "Hugging Face wav2vec 2.0 weights into a teacher checkpoint",
    "Loads Hugging Face wav2vec 2.0 weights (a folder with config.json + model.safetensors, or the "
    ".safetensors file: base, large or XLSR) through the checked weight mapping and writes a teacher "
    "checkpoint that `tkd train --teacher FILE` uses as it is. A head whose size differs from --labels is "
    "refused with the mapping report; --labels 0 drops it (then fine-tune a fresh head with teacher.kind: "
    "imported, teacher.weights and teacher.epochs > 0).",
    [](CLI::App &app) {
        auto o = std::make_shared<ImportOptions>();
        app.add_option("weights", o->weights, "Hugging Face checkpoint folder or .safetensors file")->required();
        app.add_option("--out", o->out, "teacher checkpoint to write")->required();
        app.add_option("--labels", o->labels, "classification head size (default: from config.json; 0 = none)")
            ->capture_default_str();
        app.add_flag("--force", o->force, "overwrite FILE if it exists");
        return [o] { return runTeacherImport(*o); };
    });

} // namespace
