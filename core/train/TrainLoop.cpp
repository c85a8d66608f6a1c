#include "core/train/TrainLoop.h"

#include "core/util/BlasThreads.h"

#include "core/util/Error.h"

#include <cmath>
#include <dlfcn.h>
#include <thread>

namespace tkd {

std::unique_ptr<torch::optim::Optimizer> TrainLoop::makeOptimizer(OptimiserKind kind,
    std::vector<torch::Tensor> params, double lr, double momentum, double weightDecay)
{
    if (!(lr > 0.0) || !std::isfinite(lr))
        throw Error("train.lr", "must be a positive number");
    if (weightDecay < 0.0)
        throw Error("train.weight_decay", "must be >= 0");
    if (kind == OptimiserKind::Adam)
        return std::make_unique<torch::optim::Adam>(
            std::move(params), torch::optim::AdamOptions(lr).weight_decay(weightDecay));
    if (kind == OptimiserKind::Sgd) {
        if (momentum < 0.0 || momentum >= 1.0)
            throw Error("train.momentum", "must lie in [0, 1)");
        return std::make_unique<torch::optim::SGD>(std::move(params),
            torch::optim::SGDOptions(lr).momentum(momentum).weight_decay(weightDecay));
    }
    throw Error("train.optimizer", "unknown optimiser");
}

void TrainLoop::setLearningRate(torch::optim::Optimizer &optimizer, double lr)
{
    for (auto &group : optimizer.param_groups())
        group.options().set_lr(lr);
}

torch::Device TrainLoop::resolveDevice(const std::string &name, std::string *note)
{
    if (name.empty() || name == "cpu")
        return torch::kCPU;
    if (name.rfind("cuda", 0) == 0) {
        if (!torch::cuda::is_available()) {
            if (note)
                *note = "train.device is '" + name
                    + "' but CUDA is not available here: using the CPU";
            return torch::kCPU;
        }
        try {
            return torch::Device(name);
        } catch (const std::exception &) {
            throw Error(
                "train.device", "'" + name + "' is not a device (expected cpu, cuda or cuda:N)");
        }
    }
    throw Error("train.device", "'" + name + "' is not a device (expected cpu, cuda or cuda:N)");
}

void TrainLoop::setThreads(int n)
{
    const int cores = int(std::max(1u, std::thread::hardware_concurrency()));
    torch::set_num_threads(n > 0 ? n : cores);
    setBlasThreads(1); // see BlasThreads.h: two thread pools on the same cores fight
    flushDenormals(); // the new pool's threads too
}

namespace {
void flushDenormalsHere(void *)
{
    at::globalContext().setFlushDenormal(true);
}
} // namespace

void TrainLoop::flushDenormals()
{
    flushDenormalsHere(nullptr);
    // LibTorch's pool is libgomp's team of this thread: at::parallel_for cannot reach it from
    // here (its `omp parallel` is a header template, and this code is not built with OpenMP), so
    // run a team through libgomp's own entry point, as `#pragma omp parallel` compiles to. Found
    // at run time: a LibTorch without libgomp has no such pool to reach.
    using GompParallel = void (*)(void (*)(void *), void *, unsigned, unsigned);
    static const auto gompParallel
        = reinterpret_cast<GompParallel>(::dlsym(RTLD_DEFAULT, "GOMP_parallel"));
    const int n = at::get_num_threads();
    if (gompParallel && n > 1)
        gompParallel(&flushDenormalsHere, nullptr, unsigned(n), 0);
}

bool TrainLoop::allFinite(const std::vector<torch::Tensor> &tensors)
{
    for (const auto &t : tensors)
        if (t.defined() && !torch::isfinite(t).all().item<bool>())
            return false;
    return true;
}

} // namespace tkd
