// The streaming sample-rate converter every decoded file and the microphone go through:
// exact output lengths, block-size independence, band-limiting, and errors for bad rates.
#include "core/audio/Resampler.h"
#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <QtTest>

#include <cmath>
#include <limits>
#include <vector>

namespace {

constexpr double kPi = 3.14159265358979323846;

std::vector<float> tone(double freq, double rate, size_t n, double amplitude = 0.7)
{
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i)
        x[i] = float(amplitude * std::sin(2 * kPi * freq * double(i) / rate));
    return x;
}

std::vector<float> runOneShot(
    const std::vector<float> &x, double from, double to, tkd::ResampleQuality q)
{
    tkd::Resampler r(from, to, q);
    std::vector<float> out;
    r.process(x.data(), x.size(), out);
    r.finish(out);
    return out;
}

// RMS over the middle 80%, away from the filter's edge effects.
double middleRms(const std::vector<float> &x)
{
    const size_t lo = x.size() / 10, hi = x.size() - x.size() / 10;
    double s = 0;
    for (size_t i = lo; i < hi; ++i)
        s += double(x[i]) * x[i];
    return std::sqrt(s / double(hi - lo));
}

} // namespace

Q_DECLARE_METATYPE(tkd::ResampleQuality)

class TestResampler : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void exactLength_data()
    {
        QTest::addColumn<int>("n");
        QTest::addColumn<double>("from");
        QTest::addColumn<double>("to");
        QTest::addColumn<tkd::ResampleQuality>("quality");
        const struct
        {
            int n;
            double from, to;
        } cases[] = { { 0, 44100, 16000 }, { 1, 44100, 16000 }, { 2, 8000, 16000 },
            { 12345, 44100, 16000 }, { 12345, 22050, 16000 }, { 16001, 48000, 16000 },
            { 777, 8000, 16000 }, { 5000, 16000, 44100 }, { 999, 11025, 16000 },
            { 48000, 96000, 16000 }, { 100, 16000, 16000 } };
        for (const auto &c : cases)
            for (auto q : { tkd::ResampleQuality::Best, tkd::ResampleQuality::Medium,
                     tkd::ResampleQuality::Fastest })
                QTest::addRow("%d-%g-%g-q%d", c.n, c.from, c.to, int(q))
                    << c.n << c.from << c.to << q;
    }
    void exactLength()
    {
        QFETCH(int, n);
        QFETCH(double, from);
        QFETCH(double, to);
        QFETCH(tkd::ResampleQuality, quality);
        const std::vector<float> out = runOneShot(tone(440, from, size_t(n)), from, to, quality);
        const int64_t expected = std::llround(double(n) * to / from);
        QCOMPARE(int64_t(out.size()), expected);
        QCOMPARE(tkd::Resampler::outputLength(n, from, to), expected);
    }

    // Feeding the signal in blocks of any size gives the same output as one call.
    void blockSizeDoesNotMatter_data()
    {
        QTest::addColumn<double>("from");
        QTest::addColumn<double>("to");
        QTest::newRow("44100->16000") << 44100.0 << 16000.0;
        QTest::newRow("8000->16000") << 8000.0 << 16000.0;
        QTest::newRow("48000->16000") << 48000.0 << 16000.0;
        QTest::newRow("16000->16000") << 16000.0 << 16000.0;
    }
    void blockSizeDoesNotMatter()
    {
        QFETCH(double, from);
        QFETCH(double, to);
        tkd::Rng rng(11);
        std::vector<float> x(30000);
        for (float &v : x)
            v = float(rng.uniform(-0.5, 0.5));
        const std::vector<float> whole = runOneShot(x, from, to, tkd::ResampleQuality::Best);

        tkd::Resampler r(from, to);
        std::vector<float> pieces;
        size_t at = 0;
        while (at < x.size()) {
            const size_t len = std::min<size_t>(x.size() - at, 1 + rng.below(3000));
            r.process(x.data() + at, len, pieces);
            at += len;
            QCOMPARE(r.inputCount(), int64_t(at));
            QCOMPARE(r.outputCount(), int64_t(pieces.size()));
        }
        r.finish(pieces);
        QCOMPARE(pieces.size(), whole.size());
        double maxDiff = 0;
        for (size_t i = 0; i < whole.size(); ++i)
            maxDiff = std::max(maxDiff, double(std::abs(pieces[i] - whole[i])));
        QVERIFY2(maxDiff < 1e-6, qPrintable(QString::number(maxDiff)));
    }

    void equalRatesCopyExactly()
    {
        const std::vector<float> x = tone(1234, 16000, 1000);
        const std::vector<float> out = runOneShot(x, 16000, 16000, tkd::ResampleQuality::Best);
        QVERIFY(out == x);
    }

    // Downsampling must remove what the new rate cannot carry (no aliasing) and keep what it can.
    void bandLimiting_data()
    {
        QTest::addColumn<double>("freq");
        QTest::addColumn<tkd::ResampleQuality>("quality");
        QTest::addColumn<double>("minGain");
        QTest::addColumn<double>("maxGain");
        QTest::newRow("1k-best-passes") << 1000.0 << tkd::ResampleQuality::Best << 0.999 << 1.001;
        QTest::newRow("7k-best-passes") << 7000.0 << tkd::ResampleQuality::Best << 0.99 << 1.01;
        QTest::newRow("12k-best-stopped") << 12000.0 << tkd::ResampleQuality::Best << 0.0 << 1e-4;
        QTest::newRow("9k-best-stopped") << 9000.0 << tkd::ResampleQuality::Best << 0.0 << 1e-4;
        QTest::newRow("12k-fastest-stopped")
            << 12000.0 << tkd::ResampleQuality::Fastest << 0.0 << 1e-2;
    }
    void bandLimiting()
    {
        QFETCH(double, freq);
        QFETCH(tkd::ResampleQuality, quality);
        QFETCH(double, minGain);
        QFETCH(double, maxGain);
        const std::vector<float> x = tone(freq, 44100, 22050);
        const std::vector<float> out = runOneShot(x, 44100, 16000, quality);
        const double gain = middleRms(out) / middleRms(x);
        QVERIFY2(
            gain >= minGain && gain <= maxGain, qPrintable(QStringLiteral("gain %1").arg(gain)));
    }

    void resetStartsAFreshStream()
    {
        const std::vector<float> x = tone(300, 22050, 5000);
        tkd::Resampler r(22050, 16000);
        std::vector<float> first, second;
        r.process(x.data(), x.size(), first);
        r.finish(first);
        try {
            r.process(x.data(), 10, second);
            QFAIL("input after finish() must be refused");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), QStringLiteral("resample"));
        }
        r.reset();
        QCOMPARE(r.inputCount(), int64_t(0));
        second.clear();
        r.process(x.data(), x.size(), second);
        r.finish(second);
        QVERIFY(first == second);
    }

    void badRates_data()
    {
        QTest::addColumn<double>("from");
        QTest::addColumn<double>("to");
        QTest::addColumn<QString>("reason");
        QTest::newRow("zero-from") << 0.0 << 16000.0 << "positive";
        QTest::newRow("negative-to") << 44100.0 << -16000.0 << "positive";
        QTest::newRow("nan") << std::numeric_limits<double>::quiet_NaN() << 16000.0 << "positive";
        QTest::newRow("inf") << std::numeric_limits<double>::infinity() << 16000.0 << "positive";
        QTest::newRow("ratio-too-small") << 16000.0 * 300 << 16000.0 << "1/256";
        QTest::newRow("ratio-too-large") << 16.0 << 16000.0 << "1/256";
    }
    void badRates()
    {
        QFETCH(double, from);
        QFETCH(double, to);
        QFETCH(QString, reason);
        try {
            tkd::Resampler r(from, to);
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), QStringLiteral("resample"));
            QVERIFY2(QString::fromStdString(e.reason()).contains(reason), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestResampler)
#include "tst_resampler.moc"
