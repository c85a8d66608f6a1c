// Hashing, deterministic random numbers and error formatting: the pieces every cache key and
// every reproducible dataset item stands on.
#include "core/util/Error.h"
#include "core/util/Hash.h"
#include "core/util/Rng.h"

#include <QTemporaryDir>
#include <QtTest>

#include <fstream>

class TestUtil : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void sha256KnownVectors_data()
    {
        QTest::addColumn<QByteArray>("input");
        QTest::addColumn<QString>("digest");
        QTest::newRow("empty") << QByteArray()
                               << "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
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
        tkd::Rng a({1, 2, 3}), b({1, 2, 3}), c({1, 2, 4});
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

    void errorNamesSubject()
    {
        const tkd::Error e("noise.snr_db", "must be a [low, high] pair");
        QCOMPARE(QString(e.what()), QString("noise.snr_db: must be a [low, high] pair"));
        QCOMPARE(QString::fromStdString(e.subject()), QString("noise.snr_db"));
    }
};

QTEST_GUILESS_MAIN(TestUtil)
#include "tst_util.moc"
