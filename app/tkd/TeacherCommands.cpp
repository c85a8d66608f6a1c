// `tkd teacher inspect`: what a wav2vec 2.0 checkpoint (or a built-in preset) is, and whether it
// would load completely - without reading the tensors, so a 1.2 GB XLSR file is checked in
// milliseconds.
#include "Cli.h"

#include "core/models/Wav2Vec2Config.h"
#include "core/models/Wav2Vec2Pretrained.h"
#include "core/util/Error.h"

#include <cstdio>
#include <filesystem>
#include <iostream>

namespace {

std::string humanCount(int64_t n)
{
    char buf[64];
    if (n >= 1000000)
        std::snprintf(buf, sizeof buf, "%.1fM", double(n) / 1e6);
    else if (n >= 1000)
        std::snprintf(buf, sizeof buf, "%.1fK", double(n) / 1e3);
    else
        std::snprintf(buf, sizeof buf, "%lld", static_cast<long long>(n));
    return buf;
}

std::string humanBytes(uint64_t n)
{
    char buf[64];
    if (n >= (1ull << 30))
        std::snprintf(buf, sizeof buf, "%.2f GiB", double(n) / double(1ull << 30));
    else if (n >= (1ull << 20))
        std::snprintf(buf, sizeof buf, "%.1f MiB", double(n) / double(1ull << 20));
    else
        std::snprintf(buf, sizeof buf, "%.1f KiB", double(n) / 1024.0);
    return buf;
}

void printFrames(const tkd::Wav2Vec2Config &cfg)
{
    const bool raw = cfg.frontEnd() == tkd::Wav2Vec2Config::FrontEnd::RawWaveform;
    // Spectral input arrives at 49 frames/s (40 ms window, 20 ms hop): 50 * L - 1 frames.
    auto in = [&](int seconds) { return raw ? int64_t(seconds) * 16000 : int64_t(50 * seconds - 1); };
    std::cout << "frames:      " << cfg.numFrames(in(1)) << " for 1 s, " << cfg.numFrames(in(8))
              << " for 8 s" << (raw ? " of 16 kHz audio" : " of log-mel input") << "\n";
}

int runInspect(const std::vector<std::string> &argv)
{
    tkd::cli::Args args("tkd teacher inspect PATH [options]",
                        "Describes a wav2vec 2.0 teacher: a Hugging Face checkpoint (a folder with "
                        "config.json + model.safetensors, or the .safetensors file) or a built-in "
                        "preset (tiny, base, xlsr-300m). For a checkpoint, prints the config, "
                        "parameter count and the weight MAPPING REPORT from the file's header alone; "
                        "exits 0 only if the weights would load completely.");
    args.positional("path", "checkpoint folder or .safetensors file, or a preset name")
        .option("labels", "N", "classification head size (default: from config.json; 0 = none)", "-1")
        .flag("verbose", "also list every mapped key");
    if (!args.parse(argv))
        return 0;
    const std::string path = args.get("path");
    const int64_t labels = args.getInt("labels");

    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
        const auto presets = tkd::Wav2Vec2Config::presetNames();
        if (std::find(presets.begin(), presets.end(), path) != presets.end() || path == "xlsr") {
            tkd::Wav2Vec2Config cfg = tkd::Wav2Vec2Config::preset(path, labels < 0 ? 0 : labels);
            std::cout << "preset:      " << path << " (random init; no weights)\n"
                      << "config:      " << cfg.summary() << "\n"
                      << "parameters:  " << cfg.parameterCount() << " (" << humanCount(cfg.parameterCount())
                      << ")\n";
            printFrames(cfg);
            return 0;
        }
    }

    const auto in = tkd::Wav2Vec2Pretrained::inspect(path, labels);
    std::cout << "weights:     " << in.files.weights << " (" << humanBytes(in.fileBytes) << ", "
              << in.fileTensorCount << " tensors)\n"
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
              << humanCount(in.config.parameterCount()) << ")\n";
    printFrames(in.config);
    std::cout << "\n" << in.report.text(args.has("verbose"));
    if (!in.report.complete()) {
        std::cerr << "tkd teacher inspect: error: " << in.files.weights
                  << ": the weights would not load completely (see the report above)\n";
        return 1;
    }
    return 0;
}

const tkd::cli::Registrar reg("teacher inspect",
                              "describe a wav2vec 2.0 checkpoint or preset and check its weight mapping",
                              runInspect);

} // namespace
