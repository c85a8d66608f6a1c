// Hashing, deterministic random numbers and error formatting: the pieces every cache key and
// every reproducible dataset item stands on.
#include "core/util/Allocator.h"
#include "core/util/AtomicFile.h"
#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/Paths.h"
#include "core/util/Rng.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <optional>

#include <unistd.h>
#if defined(__GLIBC__)
#include <malloc.h>
#endif

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TKD_HAS_ASAN 1
#endif
#endif
#ifndef TKD_HAS_ASAN
#define TKD_HAS_ASAN 0
#endif

namespace {

std::string slurp(const std::string &path)
{
    std::ifstream in(path, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

// Sets (or unsets, with nullopt) an environment variable for one scope.
class EnvOverride
{
public:
    EnvOverride(const char *name, std::optional<std::string> value)
        : m_name(name)
    {
        if (const char *old = std::getenv(name))
            m_old = old;
        if (value)
            ::setenv(name, value->c_str(), 1);
        else
            ::unsetenv(name);
    }
    ~EnvOverride()
    {
        if (m_old)
            ::setenv(m_name, m_old->c_str(), 1);
        else
            ::unsetenv(m_name);
    }

private:
    const char *m_name;
    std::optional<std::string> m_old;
};

} // namespace

class TestUtil : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sha256KnownVectors_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("digest");
        QTest::newRow("empty")
            << QByteArray() << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
        QTest::newRow("abc") << QByteArray("abc")
                             << "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad";
        QTest::newRow("two-blocks")
            << QByteArray("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq")
            << "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1";
    }
    void sha256KnownVectors()
    {
        QFETCH(QByteArray, input);
        QFETCH(QString, digest);
        QCOMPARE(QString::fromStdString(tkd::Sha256::ofString(input.toStdString())), digest);
    }

    void sha256IncrementalMatchesOneShot()
    {
        std::string text(1000, 'x');
        for (size_t i = 0; i < text.size(); ++i)
            text[i] = char('a' + i % 26);
        tkd::Sha256 h;
        for (size_t i = 0; i < text.size(); i += 37)
            h.update(text.substr(i, 37));
        QCOMPARE(h.hexDigest(), tkd::Sha256::ofString(text));
    }

    void sha256OfFileAndMissingFile()
    {
        QTemporaryDir dir;
        const std::string path = dir.filePath("f.bin").toStdString();
        std::ofstream(path, std::ios::binary) << "abc";
        QCOMPARE(tkd::Sha256::ofFile(path), tkd::Sha256::ofString("abc"));
        try {
            tkd::Sha256::ofFile(path + ".missing");
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QVERIFY(std::string(e.what()).find("f.bin.missing") != std::string::npos);
        }
    }

    void rngIsDeterministicAndKeyed()
    {
        tkd::Rng a({ 1, 2, 3 }), b({ 1, 2, 3 }), c({ 1, 2, 4 });
        bool anyDiff = false;
        for (int i = 0; i < 100; ++i) {
            const uint64_t x = a.nextU64();
            QCOMPARE(x, b.nextU64());
            anyDiff |= x != c.nextU64();
        }
        QVERIFY(anyDiff);
    }

    void rngDistributions()
    {
        tkd::Rng r(42);
        const int n = 200000;
        double sum = 0, sumSq = 0, usum = 0;
        int counts[7] = {};
        for (int i = 0; i < n; ++i) {
            const double z = r.normal();
            sum += z;
            sumSq += z * z;
            const double u = r.uniform();
            QVERIFY(u >= 0.0 && u < 1.0);
            usum += u;
            counts[r.below(7)]++;
        }
        QVERIFY(std::abs(sum / n) < 0.02);
        QVERIFY(std::abs(sumSq / n - 1.0) < 0.02);
        QVERIFY(std::abs(usum / n - 0.5) < 0.01);
        for (int k : counts)
            QVERIFY(std::abs(k / double(n) - 1.0 / 7) < 0.01);
    }

    void fastNormalMatchesTheDensity()
    {
        // The ziggurat's three paths (rectangle, wedge, tail beyond 3.44) together must give N(0,
        // 1): moments up to the fourth and the tail masses, which a wrong table or wedge test would
        // skew.
        tkd::Rng r(7);
        const int n = 2000000;
        double s1 = 0, s2 = 0, s3 = 0, s4 = 0;
        int beyond1 = 0, beyond3 = 0, beyond35 = 0;
        for (int i = 0; i < n; ++i) {
            const double z = r.normalFast();
            QVERIFY(std::isfinite(z));
            s1 += z;
            s2 += z * z;
            s3 += z * z * z;
            s4 += z * z * z * z;
            beyond1 += std::abs(z) > 1.0;
            beyond3 += std::abs(z) > 3.0;
            beyond35 += std::abs(z) > 3.5;
        }
        QVERIFY(std::abs(s1 / n) < 0.003);
        QVERIFY(std::abs(s2 / n - 1.0) < 0.005);
        QVERIFY(std::abs(s3 / n) < 0.015);
        QVERIFY2(std::abs(s4 / n - 3.0) < 0.03, qPrintable(QString::number(s4 / n)));
        QVERIFY(std::abs(beyond1 / double(n) - 0.317311) < 0.002);
        QVERIFY(std::abs(beyond3 / double(n) - 0.0026998) < 0.0003);
        QVERIFY(std::abs(beyond35 / double(n) - 0.00046527) < 0.0001); // the tail path
        tkd::Rng a(11), b(11);
        for (int i = 0; i < 1000; ++i)
            QCOMPARE(a.normalFast(), b.normalFast()); // deterministic from the seed
    }

    // Issue 15: in a folder others can write to, a symlink planted where the temp file will be
    // must not make us write through it. The planted names are every name the old scheme
    // (pid + counter) could pick; the victim must keep its bytes.
    void atomicWritesNeverFollowAPlantedSymlink()
    {
        QTemporaryDir dir;
        const std::string victim = dir.filePath("victim").toStdString();
        const std::string target = dir.filePath("out.bin").toStdString();
        tkd::writeFileAtomic(victim, "keep");
        const std::string stem = target + ".tmp-" + std::to_string(::getpid());
        std::filesystem::create_symlink(victim, stem);
        for (int i = 0; i < 200; ++i)
            std::filesystem::create_symlink(victim, stem + "-" + std::to_string(i));
        for (int i = 0; i < 5; ++i)
            tkd::writeFileAtomic(target, "new " + std::to_string(i));
        QCOMPARE(QString::fromStdString(slurp(victim)), QString("keep"));
        QCOMPARE(QString::fromStdString(slurp(target)), QString("new 4"));
        // The temp files were created afresh (never an existing name) and none is left behind.
        int temps = 0;
        for (const auto &e : std::filesystem::directory_iterator(dir.path().toStdString()))
            temps += e.path().filename().string().rfind("out.bin.tmp-", 0) == 0 ? 1 : 0;
        QCOMPARE(temps, 201);

        std::string a, b;
        const int fa = tkd::createTempBeside(target, a);
        const int fb = tkd::createTempBeside(target, b);
        QVERIFY(fa >= 0 && fb >= 0 && a != b);
        QVERIFY(!std::filesystem::is_symlink(a) && std::filesystem::is_regular_file(a));
        ::close(fa);
        ::close(fb);
    }

    // Issue 15: with HOME unset the cache is never a fixed path under /tmp that another user
    // could create first; it is the account's home from the password database.
    void cacheRootNeverFallsBackToASharedPath()
    {
        const EnvOverride cache("TKD_CACHE_DIR", std::nullopt);
        const EnvOverride xdg("XDG_CACHE_HOME", std::nullopt);
        const EnvOverride home("HOME", std::nullopt);
        std::string root;
        try {
            root = tkd::cacheRoot();
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), QString("TKD_CACHE_DIR"));
            return; // an account without a home: a clear error is the right answer too
        }
        QVERIFY2(root.rfind("/tmp", 0) != 0, root.c_str());
        QVERIFY2(root.find("/.cache/tkd-studio") != std::string::npos, root.c_str());
    }

    // After tuning, an 80 MB block (an 8 s teacher layer's attention probabilities) comes from
    // the heap and stays there when freed, instead of a fresh mmap the kernel faults in again.
    void allocatorKeepsTensorSizedBlocks()
    {
#if defined(__SANITIZE_ADDRESS__) || TKD_HAS_ASAN
        QSKIP("AddressSanitizer replaces glibc's allocator: mallopt has nothing to tune");
#elif defined(__GLIBC__)
        QVERIFY(tkd::tuneAllocatorForTensors());
        const size_t mappedBefore = mallinfo2().hblkhd;
        auto *block = static_cast<volatile char *>(std::malloc(80u << 20));
        QVERIFY(block != nullptr);
        block[0] = 1;
        QCOMPARE(mallinfo2().hblkhd, mappedBefore); // not mmapped
        std::free(const_cast<char *>(block));
        QVERIFY(mallinfo2().fordblks >= (80u << 20)); // kept as free heap, not trimmed
#else
        QSKIP("glibc only");
#endif
    }

    void errorNamesSubject()
    {
        const tkd::Error e("noise.snr_db", "must be a [low, high] pair");
        QCOMPARE(QString(e.what()), QString("noise.snr_db: must be a [low, high] pair"));
        QCOMPARE(QString::fromStdString(e.subject()), QString("noise.snr_db"));
    }
};

QTEST_GUILESS_MAIN(TestUtil)
#include "tst_util.moc"
