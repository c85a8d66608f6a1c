// `tkd teacher inspect`: what a wav2vec 2.0 checkpoint (or a built-in preset) is, and whether it
// would load completely - without reading the tensors, so a 1.2 GB XLSR file is checked in
// milliseconds.
#include "Cli.h"

#include "core/models/Wav2Vec2Config.h"
#include "core/models/Wav2Vec2Pretrained.h"
#include "core/util/Error.h"
#include "core/util/Format.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace {

void printFrames(const tkd::Wav2Vec2Config &cfg)
{
    const bool raw = cfg.frontEnd() == tkd::Wav2Vec2Config::FrontEnd::RawWaveform;
    // Spectral input arrives at 49 frames/s (40 ms window, 20 ms hop): 50 * L - 1 frames.
    auto in
        = [&](int seconds) { return raw ? int64_t(seconds) * 16000 : int64_t(50 * seconds - 1); };
    std::cout << "frames:      " << cfg.numFrames(in(1)) << " for 1 s, " << cfg.numFrames(in(8))
              << " for 8 s" << (raw ? " of 16 kHz audio" : " of log-mel input") << "\n";
}

struct InspectOptions
{
    std::string path;
    int labels = -1;
    bool verbose = false;
};

int runInspect(const InspectOptions &o)
{
    const std::string &path = o.path;
    const int64_t labels = o.labels;

    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        const auto presets = tkd::Wav2Vec2Config::presetNames();
        if (std::find(presets.begin(), presets.end(), path) != presets.end() || path == "xlsr") {
            tkd::Wav2Vec2Config cfg = tkd::Wav2Vec2Config::preset(path, labels < 0 ? 0 : labels);
            std::cout << "preset:      " << path << " (random init; no weights)\n"
                      << "config:      " << cfg.summary() << "\n"
                      << "parameters:  " << cfg.parameterCount() << " ("
                      << tkd::humanCount(cfg.parameterCount()) << ")\n";
            printFrames(cfg);
            return 0;
        }
    }

    const auto in = tkd::Wav2Vec2Pretrained::inspect(path, labels);
    std::cout << "weights:     " << in.files.weights << " (" << tkd::humanBytes(in.fileBytes)
              << ", " << in.fileTensorCount << " tensors)\n"
              << "config:      " << in.files.config << "\n";
    if (!in.hf.architectures.empty()) {
        std::cout << "architecture:";
        for (const auto &a : in.hf.architectures)
            std::cout << " " << a;
        std::cout << "\n";
    }
    std::cout << "model:       " << in.config.summary() << "\n";
    if (!in.config.labels().empty()) {
        std::cout << "labels:     ";
        for (size_t i = 0; i < in.config.labels().size(); ++i) {
            if (i == 12) {
                std::cout << " ... (" << in.config.labels().size() << " in all)";
                break;
            }
            std::cout << " " << in.config.labels()[i];
        }
        std::cout << "\n";
    }
    std::cout << "parameters:  " << in.config.parameterCount() << " ("
              << tkd::humanCount(in.config.parameterCount()) << ")\n";
    printFrames(in.config);
    std::cout << "\n" << in.report.text(o.verbose);
    if (!in.report.complete()) {
        std::cerr << "tkd teacher inspect: error: " << in.files.weights
                  << ": the weights would not load completely (see the report above)\n";
        return 1;
    }
    return 0;
}

const tkd::cli::Registrar reg("teacher inspect",
    "describe a wav2vec 2.0 checkpoint or preset and check its weight mapping",
    "Describes a wav2vec 2.0 teacher: a Hugging Face checkpoint (a folder with config.json + "
    "model.safetensors, or the .safetensors file) or a built-in preset (tiny, base, xlsr-300m). "
    "For a "
    "checkpoint, prints the config, parameter count and the weight MAPPING REPORT from the file's "
    "header "
    "alone; exits 0 only if the weights would load completely.",
    [](CLI::App &app) {
        auto o = std::make_shared<InspectOptions>();
        app.add_option("path", o->path, "checkpoint folder or .safetensors file, or a preset name")
            ->required();
        app.add_option("--labels", o->labels,
               "classification head size (default: from config.json; 0 = none)")
            ->check(CLI::Range(0, 100000));
        app.add_flag("--verbose", o->verbose, "also list every mapped key");
        return [o] { return runInspect(*o); };
    });

} // namespace
