#pragma once

#include "core/util/Error.h"

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

namespace tkd {

// Lock-free single-producer / single-consumer ring of float samples: the hand-off from an audio
// callback to a consumer thread. All storage is allocated in the constructor; write(), read()
// and skip() never allocate, lock, log or throw, so the producer may be a real-time callback.
// Exactly one thread may write and exactly one may read at a time.
//
// Positions are free-running 64-bit counters (they never wrap in practice) masked into a
// power-of-two array; each side publishes its counter with a release store and reads the
// other's with an acquire load, so the samples copied before a publish are visible after it.
// Header-only so the callback's copy inlines.
class RingBuffer
{
public:
    // Capacity is minCapacity rounded up to a power of two. Throws tkd::Error for 0 or absurd
    // sizes.
    explicit RingBuffer(size_t minCapacity)
    {
        if (minCapacity == 0 || minCapacity > (size_t(1) << 40))
            throw Error("ring buffer",
                "capacity must be between 1 and 2^40 samples, got " + std::to_string(minCapacity));
        size_t capacity = 1;
        while (capacity < minCapacity)
            capacity <<= 1;
        m_data.assign(capacity, 0.0f);
        m_mask = capacity - 1;
    }
    RingBuffer(const RingBuffer &) = delete;
    RingBuffer &operator=(const RingBuffer &) = delete;

    size_t capacity() const { return m_mask + 1; }

    // Producer: copies as many of the n samples as fit and returns how many. The rest is the
    // caller's overflow (also added to droppedSamples()); nothing already queued is overwritten.
    size_t write(const float *samples, size_t n)
    {
        const uint64_t w = m_writePos.load(std::memory_order_relaxed);
        const uint64_t r = m_readPos.load(std::memory_order_acquire);
        const size_t count = std::min(n, capacity() - size_t(w - r));
        copyIn(w, samples, count);
        m_writePos.store(w + count, std::memory_order_release);
        if (count < n)
            m_dropped.fetch_add(n - count, std::memory_order_relaxed);
        return count;
    }

    // Consumer: copies up to n of the oldest samples into out and returns how many.
    size_t read(float *out, size_t n)
    {
        const uint64_t r = m_readPos.load(std::memory_order_relaxed);
        const uint64_t w = m_writePos.load(std::memory_order_acquire);
        const size_t count = std::min(n, size_t(w - r));
        copyOut(r, out, count);
        m_readPos.store(r + count, std::memory_order_release);
        return count;
    }

    // Consumer: discards up to n of the oldest samples (e.g. to catch up after a stall).
    size_t skip(size_t n)
    {
        const uint64_t r = m_readPos.load(std::memory_order_relaxed);
        const uint64_t w = m_writePos.load(std::memory_order_acquire);
        const size_t count = std::min(n, size_t(w - r));
        m_readPos.store(r + count, std::memory_order_release);
        return count;
    }

    // Samples the consumer can read now (exact on the consumer thread, a snapshot elsewhere).
    size_t readAvailable() const
    {
        return size_t(
            m_writePos.load(std::memory_order_acquire) - m_readPos.load(std::memory_order_acquire));
    }
    // Room the producer can fill now (exact on the producer thread, a snapshot elsewhere).
    size_t writeAvailable() const { return capacity() - readAvailable(); }

    // Samples write() could not take since construction or reset(): the visible overflow count.
    uint64_t droppedSamples() const { return m_dropped.load(std::memory_order_relaxed); }
    // Total samples accepted by write() since construction or reset().
    uint64_t writtenSamples() const { return m_writePos.load(std::memory_order_acquire); }

    // Empties the ring. Only while neither side is running (e.g. before a stream starts).
    void reset()
    {
        m_writePos.store(0, std::memory_order_relaxed);
        m_readPos.store(0, std::memory_order_relaxed);
        m_dropped.store(0, std::memory_order_relaxed);
    }

private:
    void copyIn(uint64_t pos, const float *src, size_t n)
    {
        if (n == 0)
            return; // src may be null then
        const size_t at = size_t(pos) & m_mask;
        const size_t first = std::min(n, capacity() - at);
        std::memcpy(m_data.data() + at, src, first * sizeof(float));
        std::memcpy(m_data.data(), src + first, (n - first) * sizeof(float));
    }
    void copyOut(uint64_t pos, float *dst, size_t n) const
    {
        if (n == 0)
            return;
        const size_t at = size_t(pos) & m_mask;
        const size_t first = std::min(n, capacity() - at);
        std::memcpy(dst, m_data.data() + at, first * sizeof(float));
        std::memcpy(dst + first, m_data.data(), (n - first) * sizeof(float));
    }

    static_assert(
        std::atomic<uint64_t>::is_always_lock_free, "the ring needs lock-free 64-bit atomics");

    std::vector<float> m_data;
    size_t m_mask = 0;
    // Each counter on its own cache line: the two threads never write the same line.
    alignas(64) std::atomic<uint64_t> m_writePos { 0 };
    alignas(64) std::atomic<uint64_t> m_readPos { 0 };
    alignas(64) std::atomic<uint64_t> m_dropped { 0 };
};

} // namespace tkd
