// The student front end: declared/validated parameters, frame counts, parity with torchaudio
// (committed fixture from scripts/fixtures/make_feature_fixture.py), batch == per-row, and
// streaming == batch bit for bit whatever the chunk sizes.
#include "core/features/FeatureConfig.h"
#include "core/features/FeatureExtractor.h"
#include "core/features/StreamingFeatureExtractor.h"
#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QtTest>

#include <cmath>
#include <functional>
#include <limits>
#include <set>

namespace {

using Kind = tkd::FeatureConfig::Kind;

QString fixtureDir()
{
    return QStringLiteral(TKD_TEST_DATA_DIR "/features");
}

QByteArray readFixture(const QString &name)
{
    QFile f(fixtureDir() + "/" + name);
    if (!f.open(QIODevice::ReadOnly))
        qFatal("cannot open fixture %s", qPrintable(f.fileName()));
    return f.readAll();
}

// int16 little-endian PCM -> float samples (value / 32768, exact in float32). The fixture files
// are little-endian; so is every platform this builds on.
std::vector<float> readPcm16(const QString &name)
{
    const QByteArray bytes = readFixture(name);
    std::vector<float> out(size_t(bytes.size()) / 2);
    for (size_t i = 0; i < out.size(); ++i) {
        const auto lo = uint8_t(bytes[int(2 * i)]);
        const auto hi = uint8_t(bytes[int(2 * i + 1)]);
        out[i] = float(int16_t(uint16_t(lo | (hi << 8)))) / 32768.0f;
    }
    return out;
}

torch::Tensor readF32(const QString &name, int64_t rows, int64_t cols)
{
    const QByteArray bytes = readFixture(name);
    if (bytes.size() != rows * cols * 4)
        qFatal("fixture %s has %d bytes, expected %lld", qPrintable(name), int(bytes.size()),
            (long long)(rows * cols * 4));
    return torch::from_blob(const_cast<char *>(bytes.constData()), { rows, cols }, torch::kFloat)
        .clone();
}

tkd::FeatureConfig config(Kind kind, int mfcc = 20)
{
    tkd::FeatureConfig c;
    c.kind = kind;
    c.mfccCount = mfcc;
    return c;
}

// Deterministic test signal: a chirp plus seeded noise, as a plain vector.
std::vector<float> testSignal(size_t n, uint64_t seed)
{
    tkd::Rng rng(seed);
    std::vector<float> x(n);
    for (size_t i = 0; i < n; ++i) {
        const double t = double(i) / 16000.0;
        x[i] = float(0.4 * std::sin(2 * M_PI * (200.0 * t + 900.0 * t * t)) + 0.05 * rng.normal());
    }
    return x;
}

// Runs fn and returns the subject of the tkd::Error it throws ("" if it throws none).
std::string errorSubject(const std::function<void()> &fn)
{
    try {
        fn();
    } catch (const tkd::Error &e) {
        return e.subject();
    }
    return {};
}

} // namespace

class TestFeatures : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase() { torch::set_num_threads(1); }

    void declaredListsEveryParameter()
    {
        const std::set<std::string> expected = { "sample_rate", "window_ms", "hop_ms", "mel_bins",
            "f_min_hz", "f_max_hz", "mfcc_count", "log_floor" };
        std::set<std::string> seen;
        const tkd::FeatureConfig defaults;
        for (const tkd::ParamSpec &s : tkd::FeatureConfig::declared()) {
            QVERIFY2(seen.insert(s.name).second, s.name.c_str());
            QCOMPARE(s.defaultValue, defaults.value(s.name));
            QVERIFY2(s.minValue <= s.defaultValue && s.defaultValue <= s.maxValue, s.name.c_str());
            QVERIFY(!s.help.empty());
        }
        QVERIFY(seen == expected);
        defaults.validate(); // the defaults are the paper's front end and must be valid
        QCOMPARE(defaults.windowSamples(), 640);
        QCOMPARE(defaults.hopSamples(), 320);
        QCOMPARE(defaults.fftSize(), 640);
        QCOMPARE(defaults.featureDim(), 20);
        QCOMPARE(config(Kind::LogMel).featureDim(), 40);
    }

    void validationNamesTheKey_data()
    {
        QTest::addColumn<QString>("param");
        QTest::addColumn<double>("value");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("expectedKey");
        const double nan = std::numeric_limits<double>::quiet_NaN();
        QTest::newRow("window zero") << "window_ms" << 0.0 << "mfcc"
                                     << "features.window_ms";
        QTest::newRow("window huge") << "window_ms" << 1000.0 << "mfcc"
                                     << "features.window_ms";
        QTest::newRow("window nan") << "window_ms" << nan << "mfcc"
                                    << "features.window_ms";
        QTest::newRow("hop zero") << "hop_ms" << 0.0 << "mfcc"
                                  << "features.hop_ms";
        QTest::newRow("hop > window") << "hop_ms" << 50.0 << "mfcc"
                                      << "features.hop_ms";
        QTest::newRow("mel bins zero") << "mel_bins" << 0.0 << "logmel"
                                       << "features.mel_bins";
        QTest::newRow("mel filters empty") << "mel_bins" << 200.0 << "logmel"
                                           << "features.mel_bins";
        QTest::newRow("fmin negative") << "f_min_hz" << -1.0 << "mfcc"
                                       << "features.f_min_hz";
        QTest::newRow("fmin >= fmax") << "f_min_hz" << 7600.0 << "mfcc"
                                      << "features.f_min_hz";
        QTest::newRow("fmax > nyquist") << "f_max_hz" << 9000.0 << "mfcc"
                                        << "features.f_max_hz";
        QTest::newRow("mfcc zero") << "mfcc_count" << 0.0 << "mfcc"
                                   << "features.mfcc_count";
        QTest::newRow("mfcc > mels") << "mfcc_count" << 41.0 << "mfcc"
                                     << "features.mfcc_count";
        QTest::newRow("mfcc fractional") << "mfcc_count" << 20.5 << "mfcc"
                                         << "features.mfcc_count";
        QTest::newRow("rate tiny") << "sample_rate" << 100.0 << "mfcc"
                                   << "features.sample_rate";
        QTest::newRow("floor zero") << "log_floor" << 0.0 << "mfcc"
                                    << "features.log_floor";
        QTest::newRow("floor nan") << "log_floor" << nan << "mfcc"
                                   << "features.log_floor";
        QTest::newRow("unknown key") << "hop_size" << 1.0 << "mfcc"
                                     << "features.hop_size";
        QTest::newRow("unknown kind") << "hop_ms" << 20.0 << "spectrogram"
                                      << "features.kind";
    }
    void validationNamesTheKey()
    {
        QFETCH(QString, param);
        QFETCH(double, value);
        QFETCH(QString, kind);
        QFETCH(QString, expectedKey);
        const std::string subject = errorSubject([&] {
            tkd::FeatureConfig c;
            c.kind = tkd::FeatureConfig::kindFromName(kind.toStdString());
            c.setValue(param.toStdString(), value);
            c.validate();
        });
        QCOMPARE(QString::fromStdString(subject), expectedKey);
        // The extractors refuse the same config (only meaningful where setValue accepted it).
        if (expectedKey == "features." + param && (param == "hop_ms" || param == "window_ms")) {
            tkd::FeatureConfig c;
            c.setValue(param.toStdString(), value);
            QCOMPARE(QString::fromStdString(errorSubject([&] { tkd::FeatureExtractor e(c); })),
                expectedKey);
            QCOMPARE(
                QString::fromStdString(errorSubject([&] { tkd::StreamingFeatureExtractor e(c); })),
                expectedKey);
        }
    }

    void kindOutOfEnumIsRejected()
    {
        tkd::FeatureConfig c;
        c.kind = static_cast<Kind>(7);
        QCOMPARE(
            QString::fromStdString(errorSubject([&] { c.validate(); })), QString("features.kind"));
        QVERIFY(tkd::FeatureConfig::kindFromName("logmel") == Kind::LogMel);
        QVERIFY(tkd::FeatureConfig::kindFromName("mfcc") == Kind::Mfcc);
    }

    void otherRatesValidate()
    {
        tkd::FeatureConfig c;
        c.sampleRate = 8000;
        c.fMaxHz = 3800;
        c.validate();
        QCOMPARE(c.windowSamples(), 320);
        QCOMPARE(c.numFrames(8000), int64_t(49));
        c.fMaxHz = 4001;
        QCOMPARE(QString::fromStdString(errorSubject([&] { c.validate(); })),
            QString("features.f_max_hz"));
    }

    void canonicalStringTracksEveryParameter()
    {
        const tkd::FeatureConfig base;
        const std::string text = base.canonicalString();
        QVERIFY(text.find("kind=mfcc") != std::string::npos);
        QVERIFY(text.find("window_ms=40") != std::string::npos);
        QCOMPARE(tkd::FeatureConfig().canonicalString(), text);
        for (const tkd::ParamSpec &s : tkd::FeatureConfig::declared()) {
            tkd::FeatureConfig c;
            c.setValue(s.name, s.integer ? s.defaultValue + 1 : s.defaultValue * 1.001);
            QVERIFY2(c.canonicalString() != text, s.name.c_str());
        }
        tkd::FeatureConfig a = config(Kind::LogMel, 20), b = config(Kind::LogMel, 13);
        QCOMPARE(
            a.canonicalString(), b.canonicalString()); // mfcc_count cannot change log-mel output
        QVERIFY(a.canonicalString() != text);
    }

    void frameCounts_data()
    {
        QTest::addColumn<qlonglong>("samples");
        QTest::addColumn<qlonglong>("frames");
        QTest::newRow("0") << 0LL << 0LL;
        QTest::newRow("1") << 1LL << 0LL;
        QTest::newRow("639") << 639LL << 0LL;
        QTest::newRow("640") << 640LL << 1LL;
        QTest::newRow("641") << 641LL << 1LL;
        QTest::newRow("959") << 959LL << 1LL;
        QTest::newRow("960") << 960LL << 2LL;
        QTest::newRow("1 s") << 16000LL << 49LL;
        QTest::newRow("2.5 s") << 40000LL << 124LL;
        QTest::newRow("8 s") << 128000LL << 399LL;
    }
    void frameCounts()
    {
        QFETCH(qlonglong, samples);
        QFETCH(qlonglong, frames);
        for (Kind kind : { Kind::LogMel, Kind::Mfcc }) {
            const tkd::FeatureExtractor fx(config(kind));
            const int64_t dim = fx.config().featureDim();
            QCOMPARE(fx.config().numFrames(samples), int64_t(frames));
            const auto one = fx.compute(torch::rand({ samples }));
            QCOMPARE(one.sizes().vec(), (std::vector<int64_t> { frames, dim }));
            const auto batch = fx.compute(torch::rand({ 3, samples }));
            QCOMPARE(batch.sizes().vec(), (std::vector<int64_t> { 3, frames, dim }));
            QCOMPARE(fx.compute(testSignal(size_t(samples), 5)).size(0), int64_t(frames));
            if (frames > 0)
                QVERIFY(torch::isfinite(batch).all().item<bool>());
        }
    }

    void buffersMatchTheirDefinitions()
    {
        const tkd::FeatureExtractor fx(config(Kind::Mfcc, 40));
        const auto w = fx.window();
        QCOMPARE(w.size(0), int64_t(640));
        QCOMPARE(w[0].item<float>(), 0.0f); // periodic Hann: starts at 0 ...
        QCOMPARE(w[320].item<float>(), 1.0f); // ... peaks at N/2 and is not symmetric about the end
        QVERIFY(w[639].item<float>() > 0.0f);
        const auto fb = fx.melFilterbank();
        QCOMPARE(fb.sizes().vec(), (std::vector<int64_t> { 321, 40 }));
        QVERIFY((fb.amax(0) > 0.0f).all().item<bool>()); // no empty filter
        QVERIFY(fb.max().item<float>() <= 1.0f); // peak 1, no area normalisation
        QCOMPARE(
            fb.index({ torch::indexing::Slice(0, 1) }).sum().item<float>(), 0.0f); // DC < 20 Hz
        // Orthonormal DCT-II with all 40 coefficients is an orthogonal matrix.
        const auto d = fx.dctMatrix();
        QVERIFY(torch::allclose(d.t().matmul(d), torch::eye(40), 0, 1e-5));
    }

    void parityWithTorchaudio_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<qlonglong>("samples");
        QTest::addColumn<QString>("kind");
        QTest::addColumn<int>("coeffs");
        QTest::addColumn<QString>("expected");
        QTest::addColumn<qlonglong>("rows");
        const QJsonObject meta = QJsonDocument::fromJson(readFixture("features.json")).object();
        QCOMPARE(meta.value("format").toString(), QString("tkd-feature-fixture/1"));
        const QJsonArray signalList = meta.value("signals").toArray();
        QVERIFY(signalList.size() >= 3);
        for (const auto &sv : signalList) {
            const QJsonObject s = sv.toObject();
            for (const auto &ov : s.value("outputs").toArray()) {
                const QJsonObject o = ov.toObject();
                const QString tag = s.value("name").toString() + "/" + o.value("kind").toString()
                    + QString::number(o.value("coeffs").toInt());
                QTest::newRow(qPrintable(tag))
                    << s.value("input").toString() << qlonglong(s.value("samples").toInteger())
                    << o.value("kind").toString() << o.value("coeffs").toInt()
                    << o.value("file").toString()
                    << qlonglong(o.value("shape").toArray().at(0).toInteger());
            }
        }
    }
    void parityWithTorchaudio()
    {
        QFETCH(QString, input);
        QFETCH(qlonglong, samples);
        QFETCH(QString, kind);
        QFETCH(int, coeffs);
        QFETCH(QString, expected);
        QFETCH(qlonglong, rows);
        const std::vector<float> wave = readPcm16(input);
        QCOMPARE(qlonglong(wave.size()), samples);
        tkd::FeatureConfig c;
        c.kind = tkd::FeatureConfig::kindFromName(kind.toStdString());
        if (c.kind == Kind::Mfcc)
            c.mfccCount = coeffs;
        const tkd::FeatureExtractor fx(c);
        const auto got = fx.compute(wave);
        const auto want = readF32(expected, rows, coeffs);
        QCOMPARE(got.sizes().vec(), want.sizes().vec());

        // Measure: infinity-norm relative error, max|a - b| / max(max|b|, 1e-3), per output.
        // (Element-wise relative error is meaningless for MFCCs that happen to sit near 0.)
        const double maxAbs = (got - want).abs().max().item<double>();
        const double scale = std::max(want.abs().max().item<double>(), 1e-3);
        const double rel = maxAbs / scale;
        qInfo("max |a-b| = %.3g, max |b| = %.3g, relative = %.3g", maxAbs, scale, rel);
        QVERIFY2(rel <= 1e-4, qPrintable(QString("relative error %1").arg(rel)));
        if (c.kind == Kind::LogMel) {
            // Element-wise too: an absolute error e in log(energy) is a relative error of about e
            // in that mel energy, so this bounds every single mel energy's relative error.
            QVERIFY2(maxAbs <= 1e-4, qPrintable(QString("log-mel max abs error %1").arg(maxAbs)));
        }
        if (input.contains("silence")) // digital silence must land exactly on the floor
            QVERIFY(c.kind != Kind::LogMel
                || ((got - std::log(1e-12)).abs() < 1e-5).any().item<bool>());
    }

    void batchEqualsPerRow_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("threads");
        QTest::newRow("logmel/1 thread") << int(Kind::LogMel) << 1;
        QTest::newRow("mfcc/1 thread") << int(Kind::Mfcc) << 1;
        QTest::newRow("mfcc/2 threads") << int(Kind::Mfcc) << 2;
    }
    void batchEqualsPerRow()
    {
        QFETCH(int, kind);
        QFETCH(int, threads);
        torch::set_num_threads(threads);
        const tkd::FeatureExtractor fx(config(Kind(kind)));
        std::vector<torch::Tensor> rows;
        for (uint64_t i = 0; i < 5; ++i) {
            const auto x = testSignal(20000, 100 + i);
            rows.push_back(torch::tensor(x).mul(float(0.2 + 0.4 * i)));
        }
        const auto batch = fx.compute(torch::stack(rows));
        QCOMPARE(batch.sizes().vec(), (std::vector<int64_t> { 5, 61, fx.config().featureDim() }));
        for (size_t i = 0; i < rows.size(); ++i)
            QVERIFY2(torch::equal(batch[int64_t(i)], fx.compute(rows[i])),
                qPrintable(QString::number(i)));
        // A non-contiguous batch (every other sample of a longer signal) works the same way.
        const auto wide = torch::stack(rows).repeat_interleave(2, 1);
        const auto strided = wide.index(
            { torch::indexing::Slice(), torch::indexing::Slice(0, torch::indexing::None, 2) });
        QVERIFY(!strided.is_contiguous());
        QVERIFY(torch::equal(fx.compute(strided), batch));
        torch::set_num_threads(1);
    }

    void streamingMatchesBatchExactly_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<int>("chunk"); // 0: random sizes 1..2000 from a seeded tkd::Rng
        QTest::addColumn<int>("threads");
        for (Kind k : { Kind::LogMel, Kind::Mfcc }) {
            const QString name = k == Kind::LogMel ? "logmel" : "mfcc";
            for (int chunk : { 1, 7, 320, 639, 640, 1000, 0, 40000 }) {
                const QString tag
                    = name + "/" + (chunk ? QString::number(chunk) : QString("random"));
                QTest::newRow(qPrintable(tag)) << int(k) << chunk << 1;
            }
        }
        // Two intra-op threads change how the batch side's kernels split their work; one row is
        // enough (each push wakes the pool, which is slow on a loaded CI machine).
        QTest::newRow("mfcc/random/2 threads") << int(Kind::Mfcc) << 0 << 2;
    }
    void streamingMatchesBatchExactly()
    {
        QFETCH(int, kind);
        QFETCH(int, chunk);
        QFETCH(int, threads);
        torch::set_num_threads(threads);
        const tkd::FeatureConfig c = config(Kind(kind));
        const std::vector<float> wave = readPcm16("chirp_noise_2500ms.pcm16.bin");
        const auto batch = tkd::FeatureExtractor(c).compute(wave);

        tkd::StreamingFeatureExtractor stream(c);
        tkd::Rng rng(uint64_t(chunk) + 77);
        for (int pass = 0; pass < 2; ++pass) { // second pass: after reset() it starts afresh
            std::vector<torch::Tensor> parts;
            size_t pos = 0;
            while (pos < wave.size()) {
                const size_t want = chunk ? size_t(chunk) : size_t(1 + rng.below(2000));
                const size_t n = std::min(want, wave.size() - pos);
                const auto out = stream.push(wave.data() + pos, n);
                pos += n;
                QCOMPARE(out.dim(), int64_t(2));
                QCOMPARE(out.size(1), int64_t(c.featureDim()));
                QVERIFY(stream.pendingSamples() < size_t(c.windowSamples()));
                QCOMPARE(stream.framesEmitted(),
                    c.numFrames(int64_t(pos))); // each frame as soon as it can
                parts.push_back(out);
            }
            QCOMPARE(stream.push(nullptr, 0).size(0), int64_t(0));
            const auto streamed = torch::cat(parts);
            QCOMPARE(streamed.sizes().vec(), batch.sizes().vec());
            QVERIFY2(torch::equal(streamed, batch),
                qPrintable(
                    QString("max |diff| %1").arg((streamed - batch).abs().max().item<double>())));
            QCOMPARE(stream.samplesPushed(), int64_t(wave.size()));
            stream.reset();
            QCOMPARE(stream.framesEmitted(), int64_t(0));
            QCOMPARE(stream.pendingSamples(), size_t(0));
        }
        torch::set_num_threads(1);
    }

    void badInputIsReported()
    {
        const tkd::FeatureExtractor fx { tkd::FeatureConfig() };
        const QString input("features.input");
        QCOMPARE(QString::fromStdString(errorSubject([&] { fx.compute(torch::Tensor()); })), input);
        QCOMPARE(QString::fromStdString(
                     errorSubject([&] { fx.compute(torch::zeros({ 1000 }, torch::kInt)); })),
            input);
        QCOMPARE(QString::fromStdString(errorSubject([&] {
            fx.compute(torch::zeros({ 2, 2, 1000 }));
        })),
            input);
        QCOMPARE(QString::fromStdString(errorSubject([&] {
            fx.computeFrames(torch::zeros({ 3, 639 }));
        })),
            input);
        tkd::StreamingFeatureExtractor stream { tkd::FeatureConfig() };
        QCOMPARE(QString::fromStdString(errorSubject([&] { stream.push(nullptr, 3); })), input);
        // Double input is accepted and converted, giving the float result.
        const auto x = torch::tensor(testSignal(4000, 9));
        QVERIFY(torch::equal(fx.compute(x.to(torch::kDouble)), fx.compute(x)));
    }

    void followsTheInputDevice()
    {
        if (!torch::cuda::is_available())
            QSKIP("no CUDA device in this LibTorch build / machine");
        const tkd::FeatureExtractor fx { tkd::FeatureConfig() };
        const auto x = torch::tensor(testSignal(32000, 3)).view({ 2, 16000 });
        const auto cpu = fx.compute(x);
        const auto gpu = fx.compute(x.to(torch::kCUDA));
        QVERIFY(gpu.is_cuda());
        QVERIFY(torch::allclose(gpu.cpu(), cpu, 1e-4, 1e-4));
    }
};

QTEST_GUILESS_MAIN(TestFeatures)
#include "tst_features.moc"
