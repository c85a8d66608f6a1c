// Forward and forward+backward time of every student for a batch at 1 s and 8 s of input, to set
// against the same models in PyTorch Python (bench/peer_students.py; bench/run_students.sh runs
// both and prints the ratios).
//   bench_students [--threads N] [--batch 32] [--frames 49,400] [--repeats 5] [--models a,b]
//                  [--allocator tuned|default]
// --allocator tuned (the default) is glibc tuned as tkd and the studio run it
// (tkd::tuneAllocatorForTensors); default is glibc as it starts.
// Prints one JSON object per (model, frames) line: median wall and CPU milliseconds over the
// repeats (CPU time is what to compare on a shared, oversubscribed machine). The pseudo-model
// "<student>-unfused" times the step-by-step autograd path instead of the fused sequence node:
// LSTM-P's own cell, or LibTorch's LSTM / GRU module loop for the others (tkd::useModuleRnn).
#include "core/models/FusedRnn.h"
#include "core/models/LstmP.h"
#include "core/models/StudentRegistry.h"
#include "core/util/Allocator.h"
#include "core/util/BlasThreads.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include <time.h>

namespace {

std::vector<std::string> splitList(const std::string &s)
{
    std::vector<std::string> out;
    std::stringstream ss(s);
    std::string item;
    while (std::getline(ss, item, ','))
        if (!item.empty())
            out.push_back(item);
    return out;
}

double cpuMs()
{
    timespec ts {};
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) * 1e3 + double(ts.tv_nsec) * 1e-6;
}

struct Timing
{
    double wallMs, cpuMs;
};

// Medians of wall and process CPU time over `repeats` runs after one warm-up run.
template <class F> Timing medianMs(int repeats, F &&f)
{
    f(); // warm-up: allocator, first-touch, lazy init
    std::vector<double> wall, cpu;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        const double c0 = cpuMs();
        f();
        cpu.push_back(cpuMs() - c0);
        wall.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0)
                .count());
    }
    std::sort(wall.begin(), wall.end());
    std::sort(cpu.begin(), cpu.end());
    return { wall[wall.size() / 2], cpu[cpu.size() / 2] };
}

} // namespace

int main(int argc, char **argv)
{
    int threads = 1, batch = 32, repeats = 5;
    std::string framesList = "49,400";
    std::vector<std::string> models = tkd::StudentRegistry::names();
    bool tuneAllocator = true; // as tkd and the studio run
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string k = argv[i], v = argv[i + 1];
        if (k == "--threads")
            threads = std::atoi(v.c_str());
        else if (k == "--batch")
            batch = std::atoi(v.c_str());
        else if (k == "--repeats")
            repeats = std::max(1, std::atoi(v.c_str()));
        else if (k == "--frames")
            framesList = v;
        else if (k == "--models")
            models = splitList(v);
        else if (k == "--allocator" && (v == "tuned" || v == "default"))
            tuneAllocator = v == "tuned";
        else {
            std::cerr << "unknown option " << k << "\n";
            return 2;
        }
    }
    if (tuneAllocator)
        tkd::tuneAllocatorForTensors();
    torch::set_num_threads(std::max(1, threads));
    tkd::setBlasThreads(1);
    torch::manual_seed(0);

    for (const auto &name : models) {
        const std::string suffix = "-unfused";
        const bool ablation = name.size() > suffix.size()
            && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0;
        const std::string student = ablation ? name.substr(0, name.size() - suffix.size()) : name;
        auto model = tkd::StudentRegistry::create(student, 12);
        auto lstmP = std::dynamic_pointer_cast<tkd::LstmPImpl>(model.module());
        const bool unfused = ablation && lstmP != nullptr;
        tkd::useModuleRnn(ablation && !unfused);
        const auto forward = [&](const torch::Tensor &x) {
            if (!unfused)
                return model.forward(x);
            tkd::StudentOutput out;
            auto zerosM = torch::zeros({ x.size(0), lstmP->options.proj_size() });
            auto zerosC = torch::zeros({ x.size(0), lstmP->options.hidden_size() });
            out.context = std::get<0>(lstmP->lstm->forwardUnfused(x, zerosM, zerosC));
            out.logits
                = lstmP->classifier->forward(lstmP->dropout->forward(out.context.select(1, -1)));
            return out;
        };
        for (const auto &fs : splitList(framesList)) {
            const int64_t frames = std::atoll(fs.c_str());
            const auto x = torch::randn({ batch, frames, model.featureDim() });
            const auto target = torch::randint(0, 12, { batch }, torch::kLong);

            model.eval();
            const Timing fwd = medianMs(repeats, [&] {
                torch::NoGradGuard noGrad;
                auto out = forward(x);
            });
            model.train();
            const Timing train = medianMs(repeats, [&] {
                model.zeroGrad();
                const auto out = forward(x);
                const auto loss = torch::nn::functional::cross_entropy(out.logits, target)
                    + out.context.pow(2).mean();
                loss.backward();
            });
            std::printf(
                "{\"impl\": \"libtorch-cpp\", \"model\": \"%s\", \"frames\": %lld, \"batch\": %d, "
                "\"threads\": %d, \"params\": %lld, \"forward_ms\": %.3f, \"train_ms\": %.3f, "
                "\"forward_cpu_ms\": %.3f, "
                "\"train_cpu_ms\": %.3f}\n",
                name.c_str(), static_cast<long long>(frames), batch, threads,
                static_cast<long long>(model.parameterCount()), fwd.wallMs, train.wallMs, fwd.cpuMs,
                train.cpuMs);
            std::fflush(stdout);
        }
    }
    return 0;
}
