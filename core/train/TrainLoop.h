#pragma once

#include "core/experiment/OptimiserKind.h"

#include <torch/torch.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace tkd {

class TrainObserver;

// Pieces every training stage shares: optimisers by name, the learning rate, the device, the
// thread count, and the stage clock behind progress + ETA.
class TrainLoop
{
public:
    // "adam" (Adam, L2 weight decay) or "sgd" (SGD with momentum, Nesterov off). Throws
    // tkd::Error("train.optimizer", ...) for anything else and ("train.lr", ...) for a bad rate.
    static std::unique_ptr<torch::optim::Optimizer> makeOptimizer(OptimiserKind kind,
        std::vector<torch::Tensor> params, double lr, double momentum, double weightDecay);
    static void setLearningRate(torch::optim::Optimizer &optimizer, double lr);

    // "cpu", "cuda" or "cuda:N". CUDA asked for but not available falls back to the CPU and says
    // so in `note`; an unknown name throws tkd::Error("train.device", ...).
    static torch::Device resolveDevice(const std::string &name, std::string *note = nullptr);
    // LibTorch intra-op threads: n > 0 as given, 0 = every core.
    static void setThreads(int n);
    // Flushes denormal floats to zero in this thread and in each of LibTorch's intra-op threads
    // (MXCSR is per thread). On x86 a denormal operand makes sgemm take microcode assists, about
    // 150x slower: the gradients of saturated LSTM gates drift there, and an LSTM-P step at 8 s
    // went from about 1 s to 18 s of CPU. Every trainer calls it; setThreads does too.
    static void flushDenormals();

    // Clock for a stage of `total` units: elapsed seconds and a linear ETA.
    class Clock
    {
    public:
        explicit Clock(int64_t total = 0)
            : m_total(total)
            , m_start(std::chrono::steady_clock::now())
        { }
        double elapsed() const
        {
            return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start)
                .count();
        }
        double eta(int64_t done) const
        {
            return done > 0 && m_total > done ? elapsed() * double(m_total - done) / double(done)
                : done >= m_total             ? 0.0
                                              : -1.0;
        }
        int64_t total() const { return m_total; }

    private:
        int64_t m_total;
        std::chrono::steady_clock::time_point m_start;
    };

    // True when every parameter of the module is finite.
    static bool allFinite(const std::vector<torch::Tensor> &tensors);
};

} // namespace tkd
