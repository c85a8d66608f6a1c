// Forward time of the wav2vec 2.0 teacher presets (random init), batch 1, for 1 s and 8 s clips.
// The tiny teacher reads log-mel frames (49 frames/s); base and xlsr-300m read 16 kHz audio.
//
//   bench_teacher [--threads N] [--repeats N] [--no-xlsr-8s]
//
// xlsr-300m at 8 s takes many seconds per forward on 2 cores, so it runs once.
#include "core/models/Wav2Vec2Model.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

double seconds(std::chrono::steady_clock::duration d)
{
    return std::chrono::duration<double>(d).count();
}

} // namespace

int main(int argc, char **argv)
{
    int threads = 2;
    int repeats = 5;
    bool xlsr8 = true;
    for (int i = 1; i < argc; ++i) {
        if (!std::strcmp(argv[i], "--threads") && i + 1 < argc)
            threads = std::atoi(argv[++i]);
        else if (!std::strcmp(argv[i], "--repeats") && i + 1 < argc)
            repeats = std::max(1, std::atoi(argv[++i]));
        else if (!std::strcmp(argv[i], "--no-xlsr-8s"))
            xlsr8 = false;
        else {
            std::fprintf(
                stderr, "usage: bench_teacher [--threads N] [--repeats N] [--no-xlsr-8s]\n");
            return 2;
        }
    }
    torch::set_num_threads(threads);
    torch::manual_seed(1);
    torch::NoGradGuard noGrad;
    std::printf(
        "wav2vec 2.0 teacher forward, batch 1, %d threads (LibTorch %s)\n", threads, TORCH_VERSION);
    std::printf("%-10s %10s %6s %7s %9s %12s %12s\n", "model", "params", "clip", "frames",
        "build s", "forward ms", "x realtime");
    for (const std::string name : { "tiny", "base", "xlsr-300m" }) {
        tkd::Wav2Vec2Config cfg = tkd::Wav2Vec2Config::preset(name, 12);
        auto t0 = std::chrono::steady_clock::now();
        tkd::Wav2Vec2Model model(cfg);
        model->eval();
        const double build = seconds(std::chrono::steady_clock::now() - t0);
        for (int clip : { 1, 8 }) {
            if (name == "xlsr-300m" && clip == 8 && !xlsr8)
                continue;
            const bool raw = cfg.frontEnd() == tkd::Wav2Vec2Config::FrontEnd::RawWaveform;
            torch::Tensor input = raw ? torch::randn({ 1, clip * 16000 }) * 0.1
                                      : torch::randn({ 1, 50 * clip - 1, cfg.spectralBins() });
            // Heavy cases run once (plus no warm-up): they take seconds each.
            const bool heavy = name == "xlsr-300m" || (name == "base" && clip == 8);
            const int reps = heavy ? 1 : repeats;
            if (!heavy)
                model->forward(input); // warm-up
            int64_t frames = 0;
            auto s = std::chrono::steady_clock::now();
            for (int r = 0; r < reps; ++r)
                frames = model->forward(input).lastHiddenState.size(1);
            const double ms = 1000.0 * seconds(std::chrono::steady_clock::now() - s) / reps;
            std::printf("%-10s %10lld %5ds %7lld %9.2f %12.1f %12.1f\n", name.c_str(),
                static_cast<long long>(cfg.parameterCount()), clip, static_cast<long long>(frames),
                build, ms, 1000.0 * clip / ms);
            std::fflush(stdout);
        }
    }
    return 0;
}
