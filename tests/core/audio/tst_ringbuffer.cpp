// The lock-free hand-off between the audio callback and the consumer thread: capacity,
// FIFO order across the wrap, partial writes that report overflow, and a two-thread stress run.
#include "core/audio/RingBuffer.h"
#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <QtTest>

#include <atomic>
#include <thread>
#include <vector>

namespace {

// Sample i of a test stream: exact in float up to 2^24, so order and gaps are checkable.
float marker(uint64_t i)
{
    return float(i % 16777216u);
}

} // namespace

class TestRingBuffer : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void capacityIsPowerOfTwo_data()
    {
        QTest::addColumn<qulonglong>("requested");
        QTest::addColumn<qulonglong>("capacity");
        QTest::newRow("1") << 1ull << 1ull;
        QTest::newRow("2") << 2ull << 2ull;
        QTest::newRow("3") << 3ull << 4ull;
        QTest::newRow("1000") << 1000ull << 1024ull;
        QTest::newRow("4096") << 4096ull << 4096ull;
        QTest::newRow("4097") << 4097ull << 8192ull;
    }
    void capacityIsPowerOfTwo()
    {
        QFETCH(qulonglong, requested);
        QFETCH(qulonglong, capacity);
        tkd::RingBuffer ring(requested);
        QCOMPARE(qulonglong(ring.capacity()), capacity);
        QCOMPARE(ring.readAvailable(), size_t(0));
        QCOMPARE(qulonglong(ring.writeAvailable()), capacity);
    }

    void zeroCapacityIsAnError()
    {
        try {
            tkd::RingBuffer ring(0);
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QVERIFY(QString::fromStdString(e.reason()).contains("capacity"));
        }
    }

    // A write takes only what fits, says so, and counts the rest as dropped; queued samples
    // are never overwritten.
    void partialWriteReportsOverflow()
    {
        tkd::RingBuffer ring(8);
        std::vector<float> in(12);
        for (size_t i = 0; i < in.size(); ++i)
            in[i] = marker(i);
        QCOMPARE(ring.write(in.data(), 5), size_t(5));
        QCOMPARE(ring.write(in.data() + 5, 7), size_t(3));
        QCOMPARE(ring.droppedSamples(), uint64_t(4));
        QCOMPARE(ring.write(in.data(), 1), size_t(0));
        QCOMPARE(ring.droppedSamples(), uint64_t(5));
        QCOMPARE(ring.writtenSamples(), uint64_t(8));
        std::vector<float> out(20, -1.0f);
        QCOMPARE(ring.read(out.data(), out.size()), size_t(8));
        for (size_t i = 0; i < 8; ++i)
            QCOMPARE(out[i], marker(i));
        QCOMPARE(out[8], -1.0f);
        QCOMPARE(ring.read(out.data(), 4), size_t(0));
        ring.reset();
        QCOMPARE(ring.droppedSamples(), uint64_t(0));
        QCOMPARE(ring.writeAvailable(), size_t(8));
    }

    // Odd-sized writes and reads walk the positions across the end of the array many times.
    void fifoAcrossTheWrap_data()
    {
        QTest::addColumn<int>("capacity");
        QTest::addColumn<int>("maxBlock");
        QTest::newRow("cap16-block5") << 16 << 5;
        QTest::newRow("cap16-block16") << 16 << 16;
        QTest::newRow("cap1024-block700") << 1024 << 700;
        QTest::newRow("cap1-block1") << 1 << 1;
    }
    void fifoAcrossTheWrap()
    {
        QFETCH(int, capacity);
        QFETCH(int, maxBlock);
        tkd::RingBuffer ring { size_t(capacity) };
        tkd::Rng rng(5);
        uint64_t produced = 0, consumed = 0;
        std::vector<float> block(static_cast<size_t>(maxBlock));
        for (int round = 0; round < 2000; ++round) {
            const size_t want = 1 + rng.below(uint64_t(maxBlock));
            for (size_t i = 0; i < want; ++i)
                block[i] = marker(produced + i);
            const size_t room = ring.writeAvailable();
            const size_t wrote = ring.write(block.data(), want);
            QCOMPARE(wrote, std::min(want, room));
            produced += wrote;
            const size_t got = ring.read(block.data(), 1 + rng.below(uint64_t(maxBlock)));
            for (size_t i = 0; i < got; ++i)
                QCOMPARE(block[i], marker(consumed + i));
            consumed += got;
            QCOMPARE(uint64_t(ring.readAvailable()), produced - consumed);
        }
        QVERIFY(produced > uint64_t(capacity) * 10); // really wrapped, many times
    }

    void skipDropsOldest()
    {
        tkd::RingBuffer ring(8);
        const float in[6] = { 0, 1, 2, 3, 4, 5 };
        ring.write(in, 6);
        QCOMPARE(ring.skip(4), size_t(4));
        float out[8];
        QCOMPARE(ring.read(out, 8), size_t(2));
        QCOMPARE(out[0], 4.0f);
        QCOMPARE(ring.skip(3), size_t(0));
    }

    // A producer thread and a consumer thread at full speed. Lossless: the producer retries
    // what did not fit, and the consumer must see every sample once, in order. Lossy (the
    // audio-callback policy): the producer drops what does not fit; the consumer sees an
    // increasing subsequence, and received + dropped == produced.
    void twoThreadStress_data()
    {
        QTest::addColumn<bool>("lossy");
        QTest::addColumn<int>("capacity");
        QTest::newRow("lossless-small-ring") << false << 64;
        QTest::newRow("lossless-large-ring") << false << 4096;
        QTest::newRow("lossy-small-ring") << true << 256;
    }
    void twoThreadStress()
    {
        QFETCH(bool, lossy);
        QFETCH(int, capacity);
        const uint64_t total = 3000000;
        tkd::RingBuffer ring { size_t(capacity) };
        std::atomic<bool> producerDone { false };
        uint64_t droppedByProducer = 0;

        std::thread producer([&] {
            tkd::Rng rng(9);
            std::vector<float> block(512);
            uint64_t next = 0;
            while (next < total) {
                const size_t n = size_t(std::min<uint64_t>(1 + rng.below(512), total - next));
                for (size_t i = 0; i < n; ++i)
                    block[i] = marker(next + i);
                size_t done = ring.write(block.data(), n);
                if (lossy) {
                    droppedByProducer += n - done;
                } else {
                    while (done < n) {
                        std::this_thread::yield();
                        done += ring.write(block.data() + done, n - done);
                    }
                }
                next += n;
            }
            producerDone.store(true, std::memory_order_release);
        });

        std::vector<float> out(700);
        tkd::Rng rng(10);
        uint64_t received = 0, expectedNext = 0;
        bool ordered = true;
        for (;;) {
            const bool finished = producerDone.load(std::memory_order_acquire);
            const size_t got = ring.read(out.data(), 1 + rng.below(out.size()));
            for (size_t i = 0; i < got && ordered; ++i) {
                const uint64_t value = uint64_t(out[i]);
                ordered = lossy ? value >= expectedNext : value == expectedNext;
                expectedNext = value + 1;
            }
            received += got;
            if (!ordered || (finished && got == 0 && ring.readAvailable() == 0))
                break;
            if (got == 0)
                std::this_thread::yield();
        }
        producer.join();
        QVERIFY2(ordered, "samples arrived out of order or duplicated");
        if (lossy) {
            QVERIFY(received > 0);
            QCOMPARE(received + droppedByProducer, total);
            QCOMPARE(ring.droppedSamples(), droppedByProducer);
        } else {
            QCOMPARE(received, total);
            QCOMPARE(expectedNext, total);
        }
    }
};

QTEST_GUILESS_MAIN(TestRingBuffer)
#include "tst_ringbuffer.moc"
