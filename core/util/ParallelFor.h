#pragma once

#include "core/util/Progress.h"

#include <atomic>
#include <cstdint>
#include <exception>
#include <mutex>
#include <thread>
#include <vector>

namespace tkd {

// The one thread pool for coarse work (building dataset items), not for tensor kernels: runs
// body(k) for k in [0, count) on `threads` threads (the caller's included), handing out indices
// one at a time. After the first exception no new index is handed out, and it is rethrown here
// once all threads have joined; likewise a cancelled `progress` stops the hand-out and throws
// tkd::Cancelled.
template <typename Body>
void parallelFor(int64_t count, int threads, Body &&body, const Progress &progress = {})
{
    std::atomic<int64_t> next { 0 };
    std::exception_ptr failure;
    std::mutex m;
    auto work = [&] {
        for (int64_t k; !progress.cancelled() && (k = next.fetch_add(1)) < count;) {
            try {
                body(k);
            } catch (...) {
                std::lock_guard<std::mutex> lock(m);
                if (!failure)
                    failure = std::current_exception();
                next.store(count);
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
    progress.throwIfCancelled();
}

} // namespace tkd
