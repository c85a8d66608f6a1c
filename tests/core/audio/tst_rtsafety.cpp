// tkd-test-labels: audio e2e
// Proof that CaptureStream's audio callback never allocates: this binary replaces malloc, free,
// calloc, realloc, the aligned allocators and every global operator new/delete with versions
// that forward to glibc and count the calls made while the calling thread is flagged "inside the
// audio callback". The flag is a thread_local the callback sets through
// CaptureStream::callbackProbe. The executable's definitions interpose on every shared library
// too (PortAudio, ALSA, Qt, libstdc++), so anything the callback calls is covered.
//
// The stream is the real PortAudio/ALSA path on a file-backed capture device (not paced, so the
// callback runs tens of thousands of times in a few hundred milliseconds), with the consumer
// reading (and allocating) on the main thread meanwhile. A negative control makes the callback
// allocate once and checks the hooks see it.
#include "core/audio/CaptureStream.h"
#include "core/audio/PortAudioSession.h"
#include "core/util/Error.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <atomic>
#include <cerrno>
#include <cmath>
#include <cstdlib>
#include <new>

extern "C" {
void *__libc_malloc(size_t);
void __libc_free(void *);
void *__libc_calloc(size_t, size_t);
void *__libc_realloc(void *, size_t);
void *__libc_memalign(size_t, size_t);
}

namespace {

// Constant-initialised thread_local in the executable: reading it never allocates.
thread_local bool t_inCallback = false;
std::atomic<uint64_t> g_callbackAllocs { 0 }; // malloc/calloc/realloc/memalign inside the callback
std::atomic<uint64_t> g_callbackFrees { 0 }; // free inside the callback
std::atomic<uint64_t> g_allAllocs { 0 }; // every allocation: shows the hooks are live
std::atomic<uint64_t> g_probeEntries { 0 }; // callbacks that flagged themselves

inline void noteAlloc()
{
    g_allAllocs.fetch_add(1, std::memory_order_relaxed);
    if (t_inCallback)
        g_callbackAllocs.fetch_add(1, std::memory_order_relaxed);
}

void probe(bool inside)
{
    t_inCallback = inside;
    if (inside)
        g_probeEntries.fetch_add(1, std::memory_order_relaxed);
}

} // namespace

// ---- C allocator ------------------------------------------------------------------------
extern "C" {
void *malloc(size_t n)
{
    noteAlloc();
    return __libc_malloc(n);
}
void free(void *p)
{
    if (p && t_inCallback)
        g_callbackFrees.fetch_add(1, std::memory_order_relaxed);
    __libc_free(p);
}
void *calloc(size_t n, size_t size)
{
    noteAlloc();
    return __libc_calloc(n, size);
}
void *realloc(void *p, size_t n)
{
    noteAlloc();
    return __libc_realloc(p, n);
}
void *memalign(size_t alignment, size_t n)
{
    noteAlloc();
    return __libc_memalign(alignment, n);
}
void *aligned_alloc(size_t alignment, size_t n)
{
    noteAlloc();
    return __libc_memalign(alignment, n);
}
int posix_memalign(void **out, size_t alignment, size_t n)
{
    if (alignment < sizeof(void *) || (alignment & (alignment - 1)) != 0)
        return EINVAL;
    noteAlloc();
    void *p = __libc_memalign(alignment, n);
    if (!p && n != 0)
        return ENOMEM;
    *out = p;
    return 0;
}
} // extern "C"

// ---- C++ allocator ----------------------------------------------------------------------
namespace {
void *newImpl(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        throw std::bad_alloc();
    return p;
}
void *newAligned(size_t n, std::align_val_t a)
{
    void *p = nullptr;
    const size_t align = std::max(size_t(a), sizeof(void *));
    if (posix_memalign(&p, align, n ? n : 1) != 0)
        throw std::bad_alloc();
    return p;
}
} // namespace

void *operator new(size_t n)
{
    return newImpl(n);
}
void *operator new[](size_t n)
{
    return newImpl(n);
}
void *operator new(size_t n, const std::nothrow_t &) noexcept
{
    return malloc(n ? n : 1);
}
void *operator new[](size_t n, const std::nothrow_t &) noexcept
{
    return malloc(n ? n : 1);
}
void *operator new(size_t n, std::align_val_t a)
{
    return newAligned(n, a);
}
void *operator new[](size_t n, std::align_val_t a)
{
    return newAligned(n, a);
}
void *operator new(size_t n, std::align_val_t a, const std::nothrow_t &) noexcept
{
    void *p = nullptr;
    return posix_memalign(&p, std::max(size_t(a), sizeof(void *)), n ? n : 1) == 0 ? p : nullptr;
}
void *operator new[](size_t n, std::align_val_t a, const std::nothrow_t &t) noexcept
{
    return operator new(n, a, t);
}
void operator delete(void *p) noexcept
{
    free(p);
}
void operator delete[](void *p) noexcept
{
    free(p);
}
void operator delete(void *p, size_t) noexcept
{
    free(p);
}
void operator delete[](void *p, size_t) noexcept
{
    free(p);
}
void operator delete(void *p, const std::nothrow_t &) noexcept
{
    free(p);
}
void operator delete[](void *p, const std::nothrow_t &) noexcept
{
    free(p);
}
void operator delete(void *p, std::align_val_t) noexcept
{
    free(p);
}
void operator delete[](void *p, std::align_val_t) noexcept
{
    free(p);
}
void operator delete(void *p, size_t, std::align_val_t) noexcept
{
    free(p);
}
void operator delete[](void *p, size_t, std::align_val_t) noexcept
{
    free(p);
}
void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept
{
    free(p);
}
void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept
{
    free(p);
}

// ------------------------------------------------------------------------------------------

class TestRtSafety : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_home;
    bool m_haveDevice = false;

    // Runs the stream for `ms` with a consumer draining it; returns the callback count.
    uint64_t drive(tkd::CaptureStream &capture, const tkd::CaptureOptions &opt, int ms)
    {
        capture.start(opt);
        std::vector<float> out;
        QElapsedTimer t;
        t.start();
        while (t.elapsed() < ms) {
            capture.read(out); // consumer side: allocates freely (not flagged)
            (void)capture.health();
            (void)capture.stats();
            QThread::msleep(5);
        }
        capture.stop();
        return capture.stats().callbacks;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        // Any content will do (the test is about what the callback does, not the samples):
        // 2 s of a 16 kHz s16 tone.
        std::vector<int16_t> raw(32000);
        for (size_t i = 0; i < raw.size(); ++i)
            raw[i] = int16_t(std::lround(12000 * std::sin(2 * M_PI * 440 * double(i) / 16000)));
        QFile f(m_home.filePath("tone.raw"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(reinterpret_cast<const char *>(raw.data()), qint64(raw.size() * 2));
        f.close();
        QFile rc(m_home.filePath(".asoundrc"));
        QVERIFY(rc.open(QIODevice::WriteOnly));
        rc.write(QStringLiteral("pcm.tkdrtmic {\n  type file\n  slave.pcm \"null\"\n"
                                "  file \"/dev/null\"\n  infile \"%1\"\n  format \"raw\"\n}\n")
                     .arg(f.fileName())
                     .toUtf8());
        rc.close();
        qputenv("HOME", m_home.path().toUtf8());
        for (const auto &d : tkd::listAudioDevices())
            if (d.name == "tkdrtmic")
                m_haveDevice = true;
    }

    void cleanup()
    {
        tkd::CaptureStream::callbackProbe.store(nullptr);
        tkd::CaptureStream::testFault.store(0);
    }

    void hooksSeeAllocations()
    {
        // From this binary, flagged: counted.
        const uint64_t before = g_callbackAllocs.load(), frees = g_callbackFrees.load();
        probe(true);
        static std::atomic<std::vector<float> *> sink { nullptr }; // escapes: cannot be elided
        sink.store(new std::vector<float>(1000));
        delete sink.exchange(nullptr);
        probe(false);
        QVERIFY(g_callbackAllocs.load() >= before + 2);
        QVERIFY(g_callbackFrees.load() >= frees + 2);
        // From a shared library (Qt's allocations go through libc's malloc symbol): counted too.
        const uint64_t all = g_allAllocs.load();
        QByteArray big(100000, 'x');
        QVERIFY(g_allAllocs.load() > all);
        QCOMPARE(big.size(), 100000);
        // Unflagged allocations are not blamed on the callback.
        const uint64_t flagged = g_callbackAllocs.load();
        std::vector<int> v(100);
        QCOMPARE(g_callbackAllocs.load(), flagged);
        QCOMPARE(v.size(), size_t(100));
    }

    void callbackNeverAllocates_data()
    {
        QTest::addColumn<int>("channels");
        QTest::addColumn<bool>("average");
        QTest::addColumn<int>("format");
        QTest::addColumn<double>("rate");
        const int i16 = int(tkd::CaptureSampleFormat::Int16),
                  f32 = int(tkd::CaptureSampleFormat::Float32);
        QTest::newRow("int16 mono 16k") << 1 << true << i16 << 16000.0;
        QTest::newRow("int16 stereo mean") << 2 << true << i16 << 16000.0;
        QTest::newRow("int16 stereo first") << 2 << false << i16 << 16000.0;
        QTest::newRow("float32 mono") << 1 << true << f32 << 16000.0;
        QTest::newRow("float32 4ch mean") << 4 << true << f32 << 16000.0;
        QTest::newRow("int16 mono 48k") << 1 << true << i16 << 48000.0;
    }
    void callbackNeverAllocates()
    {
        if (!m_haveDevice)
            QSKIP("PortAudio does not list the ALSA file device (no ALSA host API in this build?)");
        QFETCH(int, channels);
        QFETCH(bool, average);
        QFETCH(int, format);
        QFETCH(double, rate);
        tkd::CaptureOptions opt;
        opt.device = "tkdrtmic";
        opt.channels = channels;
        opt.averageChannels = average;
        opt.format = tkd::CaptureSampleFormat(format);
        opt.preferredRate = rate;
        opt.ringSeconds = 0.5; // small: the overflow path runs too
        tkd::CaptureStream capture;
        const uint64_t allocs = g_callbackAllocs.load(), frees = g_callbackFrees.load();
        const uint64_t all = g_allAllocs.load(), entries = g_probeEntries.load();
        tkd::CaptureStream::callbackProbe.store(&probe);
        const uint64_t callbacks = drive(capture, opt, 250);
        tkd::CaptureStream::callbackProbe.store(nullptr);
        const tkd::CaptureStats s = capture.stats();
        QCOMPARE(s.rate, rate);
        QCOMPARE(s.channels, channels);
        QVERIFY2(callbacks >= 100, qPrintable(QString::number(callbacks)));
        // Every callback ran flagged (the probe was really called from the audio thread).
        QCOMPARE(g_probeEntries.load() - entries, callbacks);
        QVERIFY(s.overflows > 0); // the overflow branch was exercised as well
        QVERIFY(g_allAllocs.load() > all); // the consumer allocated meanwhile: hooks were live
        QCOMPARE(g_callbackAllocs.load() - allocs, uint64_t(0));
        QCOMPARE(g_callbackFrees.load() - frees, uint64_t(0));
        qInfo("%llu callbacks, %llu frames, 0 allocations inside the callback",
            static_cast<unsigned long long>(callbacks),
            static_cast<unsigned long long>(s.framesCaptured));
    }

    void negativeControlIsCaught()
    {
        if (!m_haveDevice)
            QSKIP("PortAudio does not list the ALSA file device");
        tkd::CaptureOptions opt;
        opt.device = "tkdrtmic";
        tkd::CaptureStream capture;
        const uint64_t allocs = g_callbackAllocs.load(), frees = g_callbackFrees.load();
        tkd::CaptureStream::callbackProbe.store(&probe);
        capture.start(opt);
        QVERIFY(QTest::qWaitFor([&] { return capture.stats().callbacks > 10; }, 5000));
        tkd::CaptureStream::testFault.store(int(tkd::CaptureStream::TestFault::AllocateOnce));
        QVERIFY(QTest::qWaitFor([] { return tkd::CaptureStream::testFault.load() == 0; }, 5000));
        const uint64_t at = capture.stats().callbacks;
        QVERIFY(QTest::qWaitFor([&] { return capture.stats().callbacks > at + 10; }, 5000));
        capture.stop();
        tkd::CaptureStream::callbackProbe.store(nullptr);
        QCOMPARE(g_callbackAllocs.load() - allocs, uint64_t(1));
        QCOMPARE(g_callbackFrees.load() - frees, uint64_t(1));
    }
};

QTEST_GUILESS_MAIN(TestRtSafety)
#include "tst_rtsafety.moc"
