#pragma once

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tkd {

// Runs body(k) for k in [0, count) on `threads` threads (the caller's included), handing out
// indices one at a time; the first exception thrown by any body is rethrown here after all
// threads have joined. For coarse work (building dataset items), not for tensor kernels.
template<typename Body>
void parallelFor(int64_t count, int threads, Body &&body)
{
    std::atomic<int64_t> next{0};
    std::exception_ptr failure;
    std::mutex m;
    auto work = [&] {
        for (int64_t k; (k = next.fetch_add(1)) < count;) {
            try {
                body(k);
            } catch (...) {
                std::lock_guard<std::mutex> lock(m);
                if (!failure)
                    failure = std::current_exception();
            }
        }
    };
    std::vector<std::thread> pool;
    for (int t = 1; t < threads; ++t)
        pool.emplace_back(work);
    work();
    for (auto &t : pool)
        t.join();
    if (failure)
        std::rethrow_exception(failure);
}

} // namespace tkd
