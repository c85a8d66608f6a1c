// tkd-bench-links: tkd_features
// Throughput of the feature front end (seconds of audio per second of compute) on a batch of
// clips, plus the streaming extractor fed 20 ms chunks. Peer: bench/peer_features.py (torchaudio,
// same config); bench/run_features.sh runs both and prints the ratio.
//   bench_features [--batch 64] [--seconds 8] [--threads 1] [--reps 5] [--kind mfcc|logmel] [--mfcc
//   20]
#include "core/features/FeatureExtractor.h"
#include "core/features/StreamingFeatureExtractor.h"
#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

double seconds(std::chrono::steady_clock::time_point a, std::chrono::steady_clock::time_point b)
{
    return std::chrono::duration<double>(b - a).count();
}

} // namespace

int main(int argc, char **argv)
{
    int batch = 64, threads = 1, reps = 5, mfcc = 20;
    double clipSeconds = 8.0;
    std::string kind = "mfcc";
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : nullptr;
        if (a == "--batch" && v)
            batch = std::atoi(argv[++i]);
        else if (a == "--seconds" && v)
            clipSeconds = std::atof(argv[++i]);
        else if (a == "--threads" && v)
            threads = std::atoi(argv[++i]);
        else if (a == "--reps" && v)
            reps = std::atoi(argv[++i]);
        else if (a == "--kind" && v)
            kind = argv[++i];
        else if (a == "--mfcc" && v)
            mfcc = std::atoi(argv[++i]);
        else {
            std::fprintf(stderr,
                "usage: %s [--batch N] [--seconds S] [--threads N] [--reps N] "
                "[--kind mfcc|logmel] [--mfcc N]\n",
                argv[0]);
            return 2;
        }
    }
    if (batch < 1 || threads < 1 || reps < 1 || clipSeconds <= 0) {
        std::fprintf(stderr, "bench_features: batch, threads, reps and seconds must be positive\n");
        return 2;
    }
    torch::set_num_threads(threads);

    try {
        tkd::FeatureConfig cfg;
        cfg.kind = tkd::FeatureConfig::kindFromName(kind);
        cfg.mfccCount = mfcc;
        const tkd::FeatureExtractor fx(cfg);
        const int64_t n = int64_t(clipSeconds * cfg.sampleRate);

        // Seeded noise: the content does not change the work, but keep it reproducible.
        std::vector<float> data(size_t(batch) * size_t(n));
        tkd::Rng rng(42);
        for (float &x : data)
            x = float(0.1 * rng.normal());
        const auto wave = torch::from_blob(data.data(), { batch, n }, torch::kFloat);

        torch::NoGradGuard noGrad;
        auto out = fx.compute(wave); // warm-up: allocator, FFT plan cache
        std::vector<double> times;
        for (int r = 0; r < reps; ++r) {
            const auto t0 = std::chrono::steady_clock::now();
            out = fx.compute(wave);
            times.push_back(seconds(t0, std::chrono::steady_clock::now()));
        }
        std::sort(times.begin(), times.end());
        const double audio = batch * clipSeconds;
        std::printf(
            "tkd      %s%d threads=%d batch=%dx%gs frames=%lldx%lld best_s=%.4f median_s=%.4f "
            "throughput=%.1f\n",
            cfg.kindName().c_str(), cfg.featureDim(), threads, batch, clipSeconds,
            (long long)out.size(0), (long long)out.size(1), times.front(), times[times.size() / 2],
            audio / times.front());

        // Streaming: one clip in 20 ms pushes, as the live panel feeds it, on one intra-op thread
        // (the live configuration: a 64-row tile is too small to gain from threads, and waking
        // them costs milliseconds on a busy machine).
        torch::set_num_threads(1);
        tkd::StreamingFeatureExtractor stream(cfg);
        const int64_t chunk = cfg.hopSamples();
        double best = 1e30;
        for (int r = 0; r < std::max(1, reps / 2); ++r) {
            stream.reset();
            const auto t0 = std::chrono::steady_clock::now();
            for (int64_t pos = 0; pos < n; pos += chunk)
                stream.push(data.data() + pos, size_t(std::min(chunk, n - pos)));
            best = std::min(best, seconds(t0, std::chrono::steady_clock::now()));
        }
        std::printf(
            "tkd      streaming %s%d threads=1 chunk=%lld samples: %.1f us/push, %.0fx real time\n",
            cfg.kindName().c_str(), cfg.featureDim(), (long long)chunk,
            1e6 * best / double((n + chunk - 1) / chunk), clipSeconds / best);
    } catch (const tkd::Error &e) {
        std::fprintf(stderr, "bench_features: error: %s\n", e.what());
        return 1;
    }
    return 0;
}
