// Decoding every format the product accepts into the one time base (mono float32, 16 kHz),
// writing WAVs atomically, and a clear tkd::Error naming the file for every kind of bad input.
// Fixtures are written with libsndfile into a temporary folder by the test itself.
#include "core/audio/AudioFile.h"
#include "core/util/Error.h"
#include "core/util/Rng.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QTemporaryDir>
#include <QtTest>

#include <sndfile.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>
#include <limits>

#include <grp.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr double kPi = 3.14159265358979323846;

// Channel c of a test tone: same frequency and phase everywhere, amplitude 0.3 + 0.1 c, so the
// mono mix-down (the mean) has a known amplitude that differs from any single channel.
double channelAmplitude(int c)
{
    return 0.3 + 0.1 * c;
}
double meanAmplitude(int channels)
{
    double s = 0;
    for (int c = 0; c < channels; ++c)
        s += channelAmplitude(c);
    return s / channels;
}

bool mpegSupported()
{
    SF_INFO info {};
    info.samplerate = 44100;
    info.channels = 2;
    info.format = SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III;
    if (!sf_format_check(&info))
        return false;
    int count = 0;
    sf_command(nullptr, SFC_GET_FORMAT_MAJOR_COUNT, &count, sizeof count);
    for (int k = 0; k < count; ++k) {
        SF_FORMAT_INFO fi {};
        fi.format = k;
        if (sf_command(nullptr, SFC_GET_FORMAT_MAJOR, &fi, sizeof fi) == 0
            && fi.format == SF_FORMAT_MPEG)
            return true;
    }
    return false;
}

// Writes `frames` frames of sample(frame, channel) with libsndfile; empty string on success.
QString writeFixture(const QString &path, int format, int rate, int channels, int64_t frames,
    const std::function<double(int64_t, int)> &sample)
{
    SF_INFO info {};
    info.samplerate = rate;
    info.channels = channels;
    info.format = format;
    if (!sf_format_check(&info))
        return QStringLiteral("libsndfile cannot write format 0x%1").arg(format, 0, 16);
    SNDFILE *f = sf_open(path.toLocal8Bit().constData(), SFM_WRITE, &info);
    if (!f)
        return QString::fromUtf8(sf_strerror(nullptr));
    sf_command(f, SFC_SET_CLIPPING, nullptr, SF_TRUE);
    std::vector<double> buf(size_t(frames) * size_t(channels));
    for (int64_t i = 0; i < frames; ++i)
        for (int c = 0; c < channels; ++c)
            buf[size_t(i) * size_t(channels) + size_t(c)] = sample(i, c);
    const sf_count_t w = frames > 0 ? sf_writef_double(f, buf.data(), frames) : 0;
    sf_close(f);
    return w == frames ? QString() : QStringLiteral("short write");
}

QString writeTone(
    const QString &path, int format, int rate, int channels, double seconds, double freq)
{
    return writeFixture(
        path, format, rate, channels, std::llround(seconds * rate), [&](int64_t i, int c) {
            return channelAmplitude(c) * std::sin(2 * kPi * freq * double(i) / rate);
        });
}

// Decodes a file at its own rate and mixes to mono, independently of loadAudio.
std::vector<float> decodeMonoNative(const QString &path, int *rate)
{
    SF_INFO info {};
    SNDFILE *f = sf_open(path.toLocal8Bit().constData(), SFM_READ, &info);
    if (!f)
        return {};
    std::vector<float> all(size_t(info.frames) * size_t(info.channels));
    const sf_count_t got = sf_readf_float(f, all.data(), info.frames);
    sf_close(f);
    std::vector<float> mono(static_cast<size_t>(got));
    for (sf_count_t i = 0; i < got; ++i) {
        double s = 0;
        for (int c = 0; c < info.channels; ++c)
            s += all[size_t(i) * size_t(info.channels) + size_t(c)];
        mono[size_t(i)] = float(s / info.channels);
    }
    *rate = info.samplerate;
    return mono;
}

struct SineFit
{
    double amplitude = 0; // of the least-squares sinusoid at the known frequency
    double residual = 0; // RMS of what the sinusoid does not explain, relative to amplitude
    double zeroCrossHz = 0; // frequency measured independently from zero crossings
};

// Fits a sin + b cos at `freq` over the middle 80% (the ends carry the filter's edge effects).
SineFit fitSine(const std::vector<float> &x, double freq, double rate)
{
    SineFit fit;
    const size_t lo = x.size() / 10, hi = x.size() - x.size() / 10;
    double ss = 0, cc = 0, sc = 0, xs = 0, xc = 0;
    for (size_t i = lo; i < hi; ++i) {
        const double s = std::sin(2 * kPi * freq * double(i) / rate),
                     c = std::cos(2 * kPi * freq * double(i) / rate);
        ss += s * s, cc += c * c, sc += s * c, xs += x[i] * s, xc += x[i] * c;
    }
    const double det = ss * cc - sc * sc;
    const double a = (xs * cc - xc * sc) / det, b = (xc * ss - xs * sc) / det;
    fit.amplitude = std::hypot(a, b);
    double err = 0;
    for (size_t i = lo; i < hi; ++i) {
        const double s = std::sin(2 * kPi * freq * double(i) / rate),
                     c = std::cos(2 * kPi * freq * double(i) / rate);
        err += std::pow(x[i] - (a * s + b * c), 2);
    }
    fit.residual = std::sqrt(err / double(hi - lo)) / std::max(fit.amplitude, 1e-12);
    double first = -1, last = -1;
    int crossings = 0;
    for (size_t i = lo; i + 1 < hi; ++i) {
        if ((x[i] < 0) != (x[i + 1] < 0)) {
            const double t = double(i) + double(x[i]) / double(x[i] - x[i + 1]);
            if (first < 0)
                first = t;
            last = t;
            ++crossings;
        }
    }
    if (crossings > 1)
        fit.zeroCrossHz = (crossings - 1) / (2.0 * (last - first) / rate);
    return fit;
}

double rms(const std::vector<float> &x)
{
    double s = 0;
    for (float v : x)
        s += double(v) * v;
    return x.empty() ? 0 : std::sqrt(s / double(x.size()));
}

// Runs f; returns true and the error if it threw tkd::Error.
bool catchError(const std::function<void()> &f, tkd::Error *error)
{
    try {
        f();
    } catch (const tkd::Error &e) {
        *error = e;
        return true;
    }
    return false;
}

// Calls loadAudio(file) in a child process running as user nobody; returns "subject\nreason",
// "SKIP" when the switch is not possible, or what went wrong otherwise.
QString loadAsNobody(const std::string &file)
{
    int fds[2];
    if (::pipe(fds) != 0)
        return "SKIP";
    const pid_t pid = ::fork();
    if (pid < 0)
        return "SKIP";
    if (pid == 0) {
        ::close(fds[0]);
        std::string message;
        if (::setgroups(0, nullptr) != 0 || ::setgid(65534) != 0 || ::setuid(65534) != 0) {
            message = "SKIP";
        } else {
            try {
                tkd::loadAudio(file);
                message = "no error";
            } catch (const tkd::Error &e) {
                message = e.subject() + "\n" + e.reason();
            } catch (...) {
                message = "an exception other than tkd::Error";
            }
        }
        ssize_t ignored = ::write(fds[1], message.data(), message.size());
        (void)ignored;
        ::_exit(0);
    }
    ::close(fds[1]);
    std::string message;
    char buf[512];
    ssize_t n;
    while ((n = ::read(fds[0], buf, sizeof buf)) > 0)
        message.append(buf, size_t(n));
    ::close(fds[0]);
    int status = 0;
    ::waitpid(pid, &status, 0);
    return QString::fromStdString(message);
}

void cutFile(const QString &path, double keepFraction)
{
    const auto size = std::filesystem::file_size(path.toStdString());
    std::filesystem::resize_file(path.toStdString(), uintmax_t(double(size) * keepFraction));
}

} // namespace

class TestAudioFile : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_dir;
    QString path(const QString &name) const { return m_dir.filePath(name); }

private Q_SLOTS:
    void initTestCase() { QVERIFY(m_dir.isValid()); }

    // Every format/bit depth: written by libsndfile at 44.1 kHz stereo, decoded to 16 kHz mono.
    void roundTripFormats_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<int>("format");
        QTest::addColumn<int>("rate");
        QTest::addColumn<QString>("formatName");
        QTest::addColumn<double>("amplitudeTol"); // relative
        QTest::addColumn<double>("residualTol"); // relative to the amplitude
        QTest::newRow("wav-u8") << "u8.wav" << (SF_FORMAT_WAV | SF_FORMAT_PCM_U8) << 44100
                                << "WAV PCM 8-bit" << 0.01 << 0.03;
        QTest::newRow("wav-16") << "s16.wav" << (SF_FORMAT_WAV | SF_FORMAT_PCM_16) << 44100
                                << "WAV PCM 16-bit" << 0.002 << 0.002;
        QTest::newRow("wav-24") << "s24.wav" << (SF_FORMAT_WAV | SF_FORMAT_PCM_24) << 44100
                                << "WAV PCM 24-bit" << 0.002 << 0.002;
        QTest::newRow("wav-32") << "s32.wav" << (SF_FORMAT_WAV | SF_FORMAT_PCM_32) << 44100
                                << "WAV PCM 32-bit" << 0.002 << 0.002;
        QTest::newRow("wav-float") << "f32.wav" << (SF_FORMAT_WAV | SF_FORMAT_FLOAT) << 44100
                                   << "WAV float 32-bit" << 0.002 << 0.002;
        QTest::newRow("wav-double") << "f64.wav" << (SF_FORMAT_WAV | SF_FORMAT_DOUBLE) << 44100
                                    << "WAV float 64-bit" << 0.002 << 0.002;
        QTest::newRow("wavex-16") << "ex16.wav" << (SF_FORMAT_WAVEX | SF_FORMAT_PCM_16) << 44100
                                  << "WAV PCM 16-bit" << 0.002 << 0.002;
        QTest::newRow("aiff-16") << "s16.aiff" << (SF_FORMAT_AIFF | SF_FORMAT_PCM_16) << 44100
                                 << "AIFF PCM 16-bit" << 0.002 << 0.002;
        QTest::newRow("flac-8") << "s8.flac" << (SF_FORMAT_FLAC | SF_FORMAT_PCM_S8) << 44100
                                << "FLAC 8-bit" << 0.01 << 0.03;
        QTest::newRow("flac-16") << "s16.flac" << (SF_FORMAT_FLAC | SF_FORMAT_PCM_16) << 44100
                                 << "FLAC 16-bit" << 0.002 << 0.002;
        QTest::newRow("flac-24") << "s24.flac" << (SF_FORMAT_FLAC | SF_FORMAT_PCM_24) << 44100
                                 << "FLAC 24-bit" << 0.002 << 0.002;
        QTest::newRow("ogg-vorbis") << "v.ogg" << (SF_FORMAT_OGG | SF_FORMAT_VORBIS) << 44100
                                    << "OGG Vorbis" << 0.05 << 0.1;
        QTest::newRow("ogg-opus") << "o.opus" << (SF_FORMAT_OGG | SF_FORMAT_OPUS) << 48000
                                  << "OGG Opus" << 0.05 << 0.1;
        QTest::newRow("mp3") << "m.mp3" << (SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III) << 44100
                             << "MP3" << 0.05 << 0.1;
    }
    void roundTripFormats()
    {
        QFETCH(QString, file);
        QFETCH(int, format);
        QFETCH(int, rate);
        QFETCH(QString, formatName);
        QFETCH(double, amplitudeTol);
        QFETCH(double, residualTol);
        if ((format & SF_FORMAT_TYPEMASK) == SF_FORMAT_MPEG && !mpegSupported())
            QSKIP("the installed libsndfile was built without MPEG (MP3) support");
        const QString p = path(file);
        const int channels = 2;
        const double seconds = 0.5, freq = 440.0;
        const QString failure = writeTone(p, format, rate, channels, seconds, freq);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));

        const tkd::AudioInfo info = tkd::probeAudio(p.toStdString());
        QCOMPARE(info.sampleRate, rate);
        QCOMPARE(info.channels, channels);
        QCOMPARE(info.frames, int64_t(std::llround(seconds * rate)));
        QCOMPARE(QString::fromStdString(info.format), formatName);
        QCOMPARE(info.durationSec(), seconds);

        const std::vector<float> mono = tkd::loadAudio(p.toStdString());
        QCOMPARE(int64_t(mono.size()), int64_t(std::llround(double(info.frames) * 16000 / rate)));
        const SineFit fit = fitSine(mono, freq, 16000);
        const double expected = meanAmplitude(channels);
        QVERIFY2(std::abs(fit.amplitude - expected) <= amplitudeTol * expected,
            qPrintable(
                QStringLiteral("amplitude %1, expected %2").arg(fit.amplitude).arg(expected)));
        QVERIFY2(fit.residual <= residualTol,
            qPrintable(QStringLiteral("residual %1").arg(fit.residual)));
        QVERIFY2(std::abs(fit.zeroCrossHz - freq) <= 0.01 * freq,
            qPrintable(QStringLiteral("zero crossings give %1 Hz").arg(fit.zeroCrossHz)));
    }

    // Rates x channel counts: frequency, amplitude and exact length survive, and the block-wise
    // streaming decode equals a one-shot resample of the whole mono signal.
    void ratesAndChannels_data()
    {
        QTest::addColumn<int>("rate");
        QTest::addColumn<int>("channels");
        for (int rate : { 8000, 16000, 22050, 44100, 48000 })
            for (int channels : { 1, 2, 6 })
                QTest::addRow("%d-Hz-%dch", rate, channels) << rate << channels;
    }
    void ratesAndChannels()
    {
        QFETCH(int, rate);
        QFETCH(int, channels);
        const QString p = path(QStringLiteral("tone-%1-%2.wav").arg(rate).arg(channels));
        const double freq = 1000.0,
                     seconds = 0.73; // odd length: rounding of the output length matters
        QString failure
            = writeTone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_24, rate, channels, seconds, freq);
        QVERIFY2(failure.isEmpty(), qPrintable(failure));

        const std::vector<float> mono = tkd::loadAudio(p.toStdString());
        const int64_t frames = std::llround(seconds * rate);
        QCOMPARE(int64_t(mono.size()), int64_t(std::llround(double(frames) * 16000.0 / rate)));
        const SineFit fit = fitSine(mono, freq, 16000);
        const double expected = meanAmplitude(channels);
        QVERIFY2(std::abs(fit.amplitude - expected) <= 0.002 * expected,
            qPrintable(
                QStringLiteral("amplitude %1, expected %2").arg(fit.amplitude).arg(expected)));
        QVERIFY2(fit.residual <= 1e-3, qPrintable(QStringLiteral("residual %1").arg(fit.residual)));
        QVERIFY2(std::abs(fit.zeroCrossHz - freq) <= 0.002 * freq,
            qPrintable(QStringLiteral("zero crossings give %1 Hz").arg(fit.zeroCrossHz)));

        int nativeRate = 0;
        const std::vector<float> native = decodeMonoNative(p, &nativeRate);
        QCOMPARE(nativeRate, rate);
        const std::vector<float> oneShot = tkd::resample(native.data(), native.size(), rate, 16000);
        QCOMPARE(oneShot.size(), mono.size());
        double maxDiff = 0;
        for (size_t i = 0; i < mono.size(); ++i)
            maxDiff = std::max(maxDiff, double(std::abs(mono[i] - oneShot[i])));
        QVERIFY2(maxDiff < 1e-5,
            qPrintable(QStringLiteral("streamed vs one-shot differ by %1").arg(maxDiff)));
    }

    // At the target rate nothing is resampled: a float WAV comes back bit for bit.
    void sixteenKiloHertzFloatIsExact()
    {
        const QString p = path("exact.wav");
        tkd::Rng rng(7);
        std::vector<double> values(4000);
        for (double &v : values)
            v = float(rng.uniform(-1.5, 1.5)); // beyond +-1 too: float files are not clipped
        QVERIFY(
            writeFixture(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000, 1, 4000, [&](int64_t i, int) {
                return values[size_t(i)];
            }).isEmpty());
        const std::vector<float> got = tkd::loadAudio(p.toStdString());
        QCOMPARE(got.size(), values.size());
        for (size_t i = 0; i < got.size(); ++i)
            QCOMPARE(got[i], float(values[i]));
    }

    // The mix-down is the mean of the channels: opposite channels cancel.
    void stereoInAntiphaseMixesToSilence()
    {
        const QString p = path("antiphase.wav");
        QVERIFY(
            writeFixture(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 22050, 2, 11025, [](int64_t i, int c) {
                return (c == 0 ? 0.5 : -0.5) * std::sin(2 * kPi * 300 * double(i) / 22050);
            }).isEmpty());
        const std::vector<float> mono = tkd::loadAudio(p.toStdString());
        QCOMPARE(mono.size(), size_t(8000));
        QVERIFY(rms(mono) < 1e-6);
    }

    // Other target rates and qualities keep the length contract.
    void targetRateAndQuality_data()
    {
        QTest::addColumn<int>("targetRate");
        QTest::addColumn<int>("quality");
        QTest::newRow("8k-best") << 8000 << int(tkd::ResampleQuality::Best);
        QTest::newRow("22050-medium") << 22050 << int(tkd::ResampleQuality::Medium);
        QTest::newRow("16k-fastest") << 16000 << int(tkd::ResampleQuality::Fastest);
        QTest::newRow("48k-best") << 48000 << int(tkd::ResampleQuality::Best);
    }
    void targetRateAndQuality()
    {
        QFETCH(int, targetRate);
        QFETCH(int, quality);
        const QString p = path("target.flac");
        QVERIFY(writeTone(p, SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100, 1, 0.6, 500).isEmpty());
        const std::vector<float> out
            = tkd::loadAudio(p.toStdString(), targetRate, tkd::ResampleQuality(quality));
        QCOMPARE(int64_t(out.size()), int64_t(std::llround(26460.0 * targetRate / 44100.0)));
        const SineFit fit = fitSine(out, 500, targetRate);
        QVERIFY2(
            std::abs(fit.amplitude - 0.3) < 0.01 * 0.3, qPrintable(QString::number(fit.amplitude)));
        QVERIFY(std::abs(fit.zeroCrossHz - 500) < 2.0);
    }

    void badTargetRateNamesTheFile()
    {
        const QString p = path("target-rate.wav");
        QVERIFY(writeTone(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 0.1, 440).isEmpty());
        for (int rate : { 0, -16000, 16000 * 300 }) {
            tkd::Error error("", "");
            QVERIFY(catchError([&] { tkd::loadAudio(p.toStdString(), rate); }, &error));
            QCOMPARE(QString::fromStdString(error.subject()), p);
            QVERIFY2(
                QString::fromStdString(error.reason()).contains("cannot resample"), error.what());
        }
    }

    // Every kind of bad input: a tkd::Error whose subject is the file, with a reason that says
    // what is wrong, from loadAudio and (where the header shows it) from probeAudio.
    void badInput_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QString>("reason"); // expected in the message
        QTest::addColumn<bool>("probeFails"); // detectable from the header alone
        QTest::newRow("missing") << "missing"
                                 << "no such file" << true;
        QTest::newRow("missing-folder") << "missing-folder"
                                        << "no such file" << true;
        QTest::newRow("folder") << "folder"
                                << "folder" << true;
        QTest::newRow("unreadable") << "unreadable"
                                    << "cannot open for reading" << true;
        QTest::newRow("empty-file") << "empty-file"
                                    << "empty file" << true;
        QTest::newRow("zero-frames-wav") << "zero-frames-wav"
                                         << "no audio" << true;
        QTest::newRow("zero-frames-aiff") << "zero-frames-aiff"
                                          << "no audio" << true;
        QTest::newRow("text-file") << "text-file"
                                   << "not an audio file" << true;
        QTest::newRow("random-bytes") << "random-bytes"
                                      << "not an audio file" << true;
        QTest::newRow("random-bytes-as-wav") << "random-bytes-as-wav"
                                             << "not an audio file" << true;
        QTest::newRow("riff-header-then-garbage") << "riff-garbage"
                                                  << "" << true;
        QTest::newRow("truncated-wav16") << "truncated-wav16"
                                         << "truncated" << true;
        QTest::newRow("truncated-wav-float") << "truncated-wav-float"
                                             << "truncated" << true;
        QTest::newRow("truncated-aiff") << "truncated-aiff"
                                        << "truncated" << true;
        QTest::newRow("truncated-flac") << "truncated-flac"
                                        << "truncated" << false;
        QTest::newRow("truncated-ogg") << "truncated-ogg"
                                       << "truncated" << true;
        QTest::newRow("truncated-mp3") << "truncated-mp3"
                                       << "truncated" << false;
        // Issue 15: a data chunk declaring ~1G frames in a small file is refused before any
        // buffer is sized from it (it used to end in std::bad_alloc).
        QTest::newRow("huge-declared-wav") << "huge-declared-wav"
                                           << "truncated" << true;
        QTest::newRow("nan-float") << "nan-float"
                                   << "NaN" << false;
        QTest::newRow("inf-float") << "inf-float"
                                   << "infinity" << false;
        QTest::newRow("nan-double") << "nan-double"
                                    << "NaN" << false;
        // The fuzzer's find: 3.4e38 is finite, but the resampler's sums made it infinity.
        QTest::newRow("huge-float") << "huge-float"
                                    << "beyond any audio level" << false;
    }
    void badInput()
    {
        QFETCH(QString, kind);
        QFETCH(QString, reason);
        QFETCH(bool, probeFails);
        QString p = path(QStringLiteral("bad-%1.wav").arg(kind));
        const auto tone
            = [&](int format, int rate) { return writeTone(p, format, rate, 2, 0.5, 440); };
        if (kind == "missing") {
            // nothing written
        } else if (kind == "missing-folder") {
            p = path("no-such-folder/clip.wav");
        } else if (kind == "folder") {
            QVERIFY(QDir(m_dir.path()).mkpath(p));
        } else if (kind == "unreadable") {
            QVERIFY(tone(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000).isEmpty());
            QVERIFY(QFile::setPermissions(p, QFileDevice::WriteOwner));
            if (std::ifstream(p.toStdString()).good()) {
                // Root reads anything: ask again as an unprivileged user in a child process.
                QVERIFY(QFile::setPermissions(m_dir.path(),
                    QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner
                        | QFileDevice::ExeOther));
                const QStringList lines = loadAsNobody(p.toStdString()).split('\n');
                if (lines.value(0) == "SKIP")
                    QSKIP(
                        "running as root and cannot switch to user nobody to deny the permission");
                QCOMPARE(lines.size(), 2);
                QCOMPARE(lines[0], p);
                QVERIFY2(lines[1].contains(reason), qPrintable(lines[1]));
                return;
            }
        } else if (kind == "empty-file") {
            QFile f(p);
            QVERIFY(f.open(QIODevice::WriteOnly));
        } else if (kind == "zero-frames-wav") {
            QVERIFY(writeFixture(p, SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000, 1, 0, {}).isEmpty());
            QVERIFY(QFileInfo(p).size() > 0);
        } else if (kind == "zero-frames-aiff") {
            p = path("bad-zero.aiff");
            QVERIFY(writeFixture(p, SF_FORMAT_AIFF | SF_FORMAT_PCM_16, 16000, 1, 0, {}).isEmpty());
            QVERIFY(QFileInfo(p).size() > 0);
        } else if (kind == "text-file") {
            p = path("notes.txt");
            QFile f(p);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("This is a text file, not a recording.\nSecond line.\n");
        } else if (kind == "random-bytes" || kind == "random-bytes-as-wav"
            || kind == "riff-garbage") {
            if (kind == "random-bytes")
                p = path("noise.bin");
            tkd::Rng rng(42);
            QByteArray bytes;
            if (kind == "riff-garbage")
                bytes = QByteArray("RIFF\x10\x00\x01\x00WAVEfmt ", 16);
            while (bytes.size() < 8192)
                bytes.append(char(rng.below(256)));
            QFile f(p);
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(bytes);
        } else if (kind == "truncated-wav16") {
            QVERIFY(tone(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000).isEmpty());
            cutFile(p, 0.5);
        } else if (kind == "huge-declared-wav") {
            QVERIFY(tone(SF_FORMAT_WAV | SF_FORMAT_PCM_16, 16000).isEmpty());
            QFile f(p);
            QVERIFY(f.open(QIODevice::ReadWrite));
            QByteArray bytes = f.readAll();
            const int data = bytes.indexOf("data");
            QVERIFY(data > 0);
            const char size[4] = { char(0xF0), char(0xFF), char(0xFF), char(0xFF) };
            bytes.replace(data + 4, 4, QByteArray(size, 4));
            QVERIFY(f.seek(0));
            QCOMPARE(f.write(bytes), qint64(bytes.size()));
        } else if (kind == "truncated-wav-float") {
            QVERIFY(tone(SF_FORMAT_WAV | SF_FORMAT_FLOAT, 16000).isEmpty());
            cutFile(p, 0.9);
        } else if (kind == "truncated-aiff") {
            p = path("bad-cut.aiff");
            QVERIFY(tone(SF_FORMAT_AIFF | SF_FORMAT_PCM_24, 44100).isEmpty());
            cutFile(p, 0.7);
        } else if (kind == "truncated-flac") {
            p = path("bad-cut.flac");
            QVERIFY(tone(SF_FORMAT_FLAC | SF_FORMAT_PCM_16, 44100).isEmpty());
            cutFile(p, 0.5);
        } else if (kind == "truncated-ogg") {
            p = path("bad-cut.ogg");
            QVERIFY(writeTone(p, SF_FORMAT_OGG | SF_FORMAT_VORBIS, 44100, 2, 2.0, 440).isEmpty());
            cutFile(p, 0.9);
        } else if (kind == "truncated-mp3") {
            if (!mpegSupported())
                QSKIP("the installed libsndfile was built without MPEG (MP3) support");
            p = path("bad-cut.mp3");
            QVERIFY(writeTone(p, SF_FORMAT_MPEG | SF_FORMAT_MPEG_LAYER_III, 44100, 2, 2.0, 440)
                        .isEmpty());
            cutFile(p, 0.5);
        } else if (kind == "nan-float" || kind == "inf-float" || kind == "nan-double"
            || kind == "huge-float") {
            const double bad = kind.startsWith("nan") ? std::numeric_limits<double>::quiet_NaN()
                : kind == "huge-float"                ? 3.4e38
                                                      : -std::numeric_limits<double>::infinity();
            const int format
                = SF_FORMAT_WAV | (kind.endsWith("double") ? SF_FORMAT_DOUBLE : SF_FORMAT_FLOAT);
            QVERIFY(writeFixture(p, format, 16000, 2, 20000, [&](int64_t i, int c) {
                return (i == 12345 && c == 1) ? bad : 0.1;
            }).isEmpty());
        } else {
            QFAIL("unknown kind");
        }

        const std::string file = p.toStdString();
        tkd::Error error("", "");
        QVERIFY2(catchError([&] { tkd::loadAudio(file); }, &error),
            "loadAudio did not throw tkd::Error");
        QCOMPARE(QString::fromStdString(error.subject()), p);
        QVERIFY(QString::fromUtf8(error.what()).contains(p));
        QVERIFY2(QString::fromStdString(error.reason()).contains(reason, Qt::CaseInsensitive),
            error.what());
        if (kind.startsWith("nan") || kind.startsWith("inf") || kind == "huge-float")
            QVERIFY2(QString::fromStdString(error.reason()).contains("channel 2"), error.what());

        tkd::Error probeError("", "");
        const bool probeThrew = catchError([&] { tkd::probeAudio(file); }, &probeError);
        if (probeFails) {
            QVERIFY2(probeThrew, "probeAudio did not throw tkd::Error");
            QCOMPARE(QString::fromStdString(probeError.subject()), p);
            QVERIFY2(
                QString::fromStdString(probeError.reason()).contains(reason, Qt::CaseInsensitive),
                probeError.what());
        }
        if (kind == "unreadable")
            QFile::setPermissions(p, QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    }

    // probeAudio reads the header only: it reports a file whose samples are bad without
    // decoding them (loadAudio is what rejects those).
    void probeReadsHeaderOnly()
    {
        const QString p = path("probe-nan.wav");
        QVERIFY(
            writeFixture(p, SF_FORMAT_WAV | SF_FORMAT_FLOAT, 32000, 3, 64000, [](int64_t i, int) {
                return i == 60000 ? std::numeric_limits<double>::quiet_NaN() : 0.0;
            }).isEmpty());
        const tkd::AudioInfo info = tkd::probeAudio(p.toStdString());
        QCOMPARE(info.sampleRate, 32000);
        QCOMPARE(info.channels, 3);
        QCOMPARE(info.frames, int64_t(64000));
        QCOMPARE(info.durationSec(), 2.0);
        QCOMPARE(QString::fromStdString(info.format), QStringLiteral("WAV float 32-bit"));
        tkd::Error error("", "");
        QVERIFY(catchError([&] { tkd::loadAudio(p.toStdString()); }, &error));
        QVERIFY2(QString::fromStdString(error.reason()).contains("frame 60000"), error.what());
    }

    void writeWavRoundTrip_data()
    {
        QTest::addColumn<int>("format");
        QTest::addColumn<int>("rate");
        QTest::addColumn<QString>("formatName");
        QTest::addColumn<double>("tolerance");
        QTest::newRow("pcm16-16k")
            << int(tkd::WavFormat::Pcm16) << 16000 << "WAV PCM 16-bit" << 1.0 / 32767;
        QTest::newRow("float32-16k")
            << int(tkd::WavFormat::Float32) << 16000 << "WAV float 32-bit" << 0.0;
        QTest::newRow("pcm16-8k") << int(tkd::WavFormat::Pcm16) << 8000 << "WAV PCM 16-bit"
                                  << 1.0 / 32767;
    }
    void writeWavRoundTrip()
    {
        QFETCH(int, format);
        QFETCH(int, rate);
        QFETCH(QString, formatName);
        QFETCH(double, tolerance);
        const QString p = path(QStringLiteral("written-%1-%2.wav").arg(format).arg(rate));
        tkd::Rng rng(3);
        std::vector<float> samples(5000);
        for (float &s : samples)
            s = float(rng.uniform(-0.99, 0.99));
        tkd::writeWav(p.toStdString(), samples, rate, tkd::WavFormat(format));
        const tkd::AudioInfo info = tkd::probeAudio(p.toStdString());
        QCOMPARE(info.sampleRate, rate);
        QCOMPARE(info.channels, 1);
        QCOMPARE(info.frames, int64_t(samples.size()));
        QCOMPARE(QString::fromStdString(info.format), formatName);
        const std::vector<float> back = tkd::loadAudio(p.toStdString(), rate);
        QCOMPARE(back.size(), samples.size());
        double maxErr = 0;
        for (size_t i = 0; i < back.size(); ++i)
            maxErr = std::max(maxErr, double(std::abs(back[i] - samples[i])));
        QVERIFY2(maxErr <= tolerance, qPrintable(QString::number(maxErr)));
        // Nothing but the finished file is left in the folder.
        const QStringList leftovers
            = QDir(m_dir.path())
                  .entryList({ QFileInfo(p).fileName() + ".*" }, QDir::Files | QDir::Hidden);
        QVERIFY2(leftovers.isEmpty(), qPrintable(leftovers.join(", ")));
    }

    // Issue 15: a symlink planted at any name the old temp scheme (pid + counter) would pick is
    // never written through.
    void writeWavNeverFollowsAPlantedSymlink()
    {
        const std::string victim = path(QStringLiteral("victim.txt")).toStdString();
        const std::string target = path(QStringLiteral("planted.wav")).toStdString();
        {
            std::ofstream(victim) << "keep";
        }
        const std::string stem = target + ".tmp-" + std::to_string(::getpid()) + "-";
        for (int i = 0; i < 100; ++i)
            std::filesystem::create_symlink(victim, stem + std::to_string(i));
        tkd::writeWav(target, std::vector<float>(800, 0.25f), 16000, tkd::WavFormat::Pcm16);
        std::ifstream in(victim);
        QCOMPARE(QString::fromStdString(std::string(std::istreambuf_iterator<char>(in), {})),
            QString("keep"));
        QCOMPARE(tkd::probeAudio(target).frames, int64_t(800));
    }

    void writeWavClipsPcm16()
    {
        const QString p = path("clipped.wav");
        const std::vector<float> samples { 1.5f, -2.0f, 0.5f, 1.0f, -1.0f };
        tkd::writeWav(p.toStdString(), samples, 16000, tkd::WavFormat::Pcm16);
        const std::vector<float> back = tkd::loadAudio(p.toStdString());
        QCOMPARE(back.size(), samples.size());
        QVERIFY(std::abs(back[0] - 1.0f) < 1e-4f); // clipped, not wrapped to negative
        QVERIFY(std::abs(back[1] + 1.0f) < 1e-4f);
        QVERIFY(std::abs(back[2] - 0.5f) < 1e-4f);
    }

    // A failed write leaves the previous file untouched and no temp file behind.
    void writeWavErrorsLeaveOldFile()
    {
        const QString p = path("keep.wav");
        tkd::writeWav(p.toStdString(), std::vector<float>(800, 0.25f));
        const QByteArray before = [&] {
            QFile f(p);
            return f.open(QIODevice::ReadOnly) ? f.readAll() : QByteArray();
        }();
        QVERIFY(!before.isEmpty());

        std::vector<float> withNan(800, 0.1f);
        withNan[400] = std::numeric_limits<float>::quiet_NaN();
        tkd::Error error("", "");
        QVERIFY(catchError([&] { tkd::writeWav(p.toStdString(), withNan); }, &error));
        QCOMPARE(QString::fromStdString(error.subject()), p);
        QVERIFY2(QString::fromStdString(error.reason()).contains("NaN"), error.what());
        QVERIFY(
            catchError([&] { tkd::writeWav(p.toStdString(), std::vector<float>(10), 0); }, &error));
        QCOMPARE(QString::fromStdString(error.subject()), p);

        QFile f(p);
        QVERIFY(f.open(QIODevice::ReadOnly));
        QCOMPARE(f.readAll(), before);
        QCOMPARE(
            QDir(m_dir.path()).entryList({ "keep.wav.*" }, QDir::Files | QDir::Hidden).size(), 0);

        const QString nowhere = path("no-such-folder/out.wav");
        QVERIFY(catchError(
            [&] { tkd::writeWav(nowhere.toStdString(), std::vector<float>(10)); }, &error));
        QCOMPARE(QString::fromStdString(error.subject()), nowhere);
    }

    void overwriteReplacesFile()
    {
        const QString p = path("replace.wav");
        tkd::writeWav(p.toStdString(), std::vector<float>(1000, 0.5f));
        tkd::writeWav(
            p.toStdString(), std::vector<float>(300, -0.25f), 16000, tkd::WavFormat::Float32);
        const std::vector<float> back = tkd::loadAudio(p.toStdString());
        QCOMPARE(back.size(), size_t(300));
        QCOMPARE(back.front(), -0.25f);
    }

    void extensions()
    {
        const std::vector<std::string> exts = tkd::audioFileExtensions();
        const auto has
            = [&](const char *e) { return std::find(exts.begin(), exts.end(), e) != exts.end(); };
        QVERIFY(has("wav"));
        QVERIFY(has("flac"));
        QVERIFY(has("ogg"));
        QVERIFY(has("aiff"));
        QVERIFY(!has("raw"));
        QCOMPARE(has("mp3"), mpegSupported());
    }

    // Real recordings shipped by Debian (alsa-utils, sound-theme-freedesktop).
    void realRecordings_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("formatName");
        QTest::newRow("alsa-front-left-wav") << "/usr/share/sounds/alsa/Front_Left.wav"
                                             << "WAV PCM 16-bit";
        QTest::newRow("freedesktop-bell-oga") << "/usr/share/sounds/freedesktop/stereo/bell.oga"
                                              << "OGG Vorbis";
    }
    void realRecordings()
    {
        QFETCH(QString, file);
        QFETCH(QString, formatName);
        if (!QFileInfo::exists(file))
            QSKIP(qPrintable(file + " is not installed"));
        const tkd::AudioInfo info = tkd::probeAudio(file.toStdString());
        QCOMPARE(QString::fromStdString(info.format), formatName);
        QVERIFY(info.sampleRate != 16000); // both need real resampling
        const std::vector<float> mono = tkd::loadAudio(file.toStdString());
        QCOMPARE(int64_t(mono.size()),
            int64_t(std::llround(double(info.frames) * 16000 / info.sampleRate)));
        for (float v : mono)
            QVERIFY(std::isfinite(v));
        // Resampling keeps the energy below 8 kHz, which is nearly all of it for these sounds.
        int rate = 0;
        const std::vector<float> native = decodeMonoNative(file, &rate);
        const double ratio = rms(mono) / rms(native);
        QVERIFY2(rms(native) > 0.01, qPrintable(QString::number(rms(native))));
        QVERIFY2(
            ratio > 0.9 && ratio < 1.02, qPrintable(QStringLiteral("RMS ratio %1").arg(ratio)));
    }
};

QTEST_GUILESS_MAIN(TestAudioFile)
#include "tst_audiofile.moc"
