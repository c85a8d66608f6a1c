#include "core/train/TrainLoop.h"

#include "core/util/BlasThreads.h"

#include "core/util/Error.h"

#include <cmath>
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

void TrainLoop::flushDenormals()
{
    at::globalContext().setFlushDenormal(true);
    const int64_t n = at::get_num_threads();
    if (n > 1) // range n, grain 1: ATen's OpenMP loop gives each pool thread one index
        at::parallel_for(
            0, n, 1, [](int64_t, int64_t) { at::globalContext().setFlushDenormal(true); });
}

bool TrainLoop::allFinite(const std::vector<torch::Tensor> &tensors)
{
    for (const auto &t : tensors)
        if (t.defined() && !torch::isfinite(t).all().item<bool>())
            return false;
    return true;
}

} // namespace tkd
