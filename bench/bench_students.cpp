// Forward and forward+backward time of every student for a batch at 1 s and 8 s of input, to set
// against the same models in PyTorch Python (bench/peer_students.py; bench/run_students.sh runs
// both and prints the ratios).
//   bench_students [--threads N] [--batch 32] [--frames 49,400] [--repeats 5] [--models a,b]
// Prints one JSON object per (model, frames) line: median milliseconds over the repeats.
#include "core/models/StudentRegistry.h"

#include <torch/torch.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

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

template <class F>
double medianMs(int repeats, F &&f)
{
    f(); // warm-up: allocator, first-touch, lazy init
    std::vector<double> ms;
    for (int i = 0; i < repeats; ++i) {
        const auto t0 = std::chrono::steady_clock::now();
        f();
        ms.push_back(std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count());
    }
    std::sort(ms.begin(), ms.end());
    return ms[ms.size() / 2];
}

} // namespace

int main(int argc, char **argv)
{
    int threads = 1, batch = 32, repeats = 5;
    std::string framesList = "49,400";
    std::vector<std::string> models = tkd::StudentRegistry::names();
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
        else {
            std::cerr << "unknown option " << k << "\n";
            return 2;
        }
    }
    torch::set_num_threads(std::max(1, threads));
    torch::manual_seed(0);

    for (const auto &name : models) {
        auto model = tkd::StudentRegistry::create(name, 12);
        for (const auto &fs : splitList(framesList)) {
            const int64_t frames = std::atoll(fs.c_str());
            const auto x = torch::randn({batch, frames, model.featureDim()});
            const auto target = torch::randint(0, 12, {batch}, torch::kLong);

            model.eval();
            const double fwd = medianMs(repeats, [&] {
                torch::NoGradGuard noGrad;
                auto out = model.forward(x);
            });
            model.train();
            const double train = medianMs(repeats, [&] {
                model.zeroGrad();
                const auto out = model.forward(x);
                const auto loss = torch::nn::functional::cross_entropy(out.logits, target) +
                                  out.context.pow(2).mean();
                loss.backward();
            });
            std::printf("{\"impl\": \"libtorch-cpp\", \"model\": \"%s\", \"frames\": %lld, \"batch\": %d, "
                        "\"threads\": %d, \"params\": %lld, \"forward_ms\": %.3f, \"train_ms\": %.3f}\n",
                        name.c_str(), static_cast<long long>(frames), batch, threads,
                        static_cast<long long>(model.parameterCount()), fwd, train);
            std::fflush(stdout);
        }
    }
    return 0;
}
