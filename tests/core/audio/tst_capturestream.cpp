// tkd-test-labels: audio e2e
// Microphone capture through the real PortAudio path from ALSA file-backed devices (see
// shared/reference/virtual-audio-devices.md): each device's "microphone" is a raw file the test
// writes, so what comes out of CaptureStream::read() can be checked sample for sample. The file
// device is not paced (it delivers as fast as the CPU allows, then silence), which makes a
// small ring overflow on purpose. A FIFO as infile gives a device that really stalls.
#include "core/audio/CaptureStream.h"
#include "core/audio/PortAudioSession.h"
#include "core/audio/Resampler.h"
#include "core/util/Error.h"

#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmath>
#include <functional>

namespace {

constexpr double kPi = 3.14159265358979323846;

bool writeRaw(const QString &path, const std::vector<int16_t> &samples)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly))
        return false;
    const auto bytes = qint64(samples.size() * sizeof(int16_t));
    return f.write(reinterpret_cast<const char *>(samples.data()), bytes) == bytes;
}

std::vector<int16_t> readRaw(const QString &path)
{
    QFile f(path);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const QByteArray b = f.readAll();
    std::vector<int16_t> out(size_t(b.size()) / 2);
    std::memcpy(out.data(), b.constData(), out.size() * 2);
    return out;
}

// Linear chirp 200 Hz -> 4 kHz, quantised to int16.
std::vector<int16_t> chirp(double rate, double seconds, double amplitude = 0.6)
{
    const size_t n = size_t(rate * seconds);
    std::vector<int16_t> out(n);
    const double f0 = 200, f1 = 4000;
    for (size_t i = 0; i < n; ++i) {
        const double t = double(i) / rate;
        const double phase = 2 * kPi * (f0 * t + 0.5 * (f1 - f0) / seconds * t * t);
        out[i] = int16_t(std::lround(amplitude * 32767.0 * std::sin(phase)));
    }
    return out;
}

QString fileDevice(const QString &name, const QString &infile)
{
    return QStringLiteral("pcm.%1 {\n  type file\n  slave.pcm \"null\"\n  file \"/dev/null\"\n"
                          "  infile \"%2\"\n  format \"raw\"\n"
                          "  hint { show on description \"TKD test microphone %1\" }\n}\n")
        .arg(name, infile);
}

bool waitFor(const std::function<bool()> &cond, int timeoutMs)
{
    QElapsedTimer t;
    t.start();
    while (!cond()) {
        if (t.elapsed() > timeoutMs)
            return false;
        QThread::msleep(2);
    }
    return true;
}

} // namespace

class TestCaptureStream : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_home;
    std::vector<int16_t> m_chirp; // tkdchirp: 16 kHz mono
    std::vector<int16_t> m_voice; // tkdvoice: a Debian recording converted by sox (may be empty)
    std::vector<int16_t> m_stereo; // tkdstereo: interleaved L/R
    std::vector<int16_t> m_tone48; // tkd48k: 48 kHz mono
    int m_fifoFd = -1; // write end of tkdfifo's infile (held open: see initTestCase)
    bool m_haveDevices = false;

    void requireDevices()
    {
        if (!m_haveDevices)
            QSKIP(
                "PortAudio does not list the ALSA file devices (no ALSA host API in this build?)");
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_home.isValid());
        QString rc;

        m_chirp = chirp(16000, 1.5);
        QVERIFY(writeRaw(m_home.filePath("chirp.raw"), m_chirp));
        rc += fileDevice("tkdchirp", m_home.filePath("chirp.raw"));

        // A real recording, the way a user would prepare one (sox is a test-only tool here).
        const QString wav = "/usr/share/sounds/alsa/Front_Center.wav";
        if (QFile::exists(wav)
            && QProcess::execute("sox",
                   { wav, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed", "-t", "raw",
                       m_home.filePath("voice.raw") })
                == 0) {
            m_voice = readRaw(m_home.filePath("voice.raw"));
            rc += fileDevice("tkdvoice", m_home.filePath("voice.raw"));
        }

        // Stereo: left = chirp, right = a 1 kHz tone, so first-channel and mean differ.
        const auto left = chirp(16000, 0.5);
        m_stereo.resize(left.size() * 2);
        for (size_t i = 0; i < left.size(); ++i) {
            m_stereo[2 * i] = left[i];
            m_stereo[2 * i + 1]
                = int16_t(std::lround(0.3 * 32767 * std::sin(2 * kPi * 1000 * double(i) / 16000)));
        }
        QVERIFY(writeRaw(m_home.filePath("stereo.raw"), m_stereo));
        rc += fileDevice("tkdstereo", m_home.filePath("stereo.raw"));

        m_tone48.resize(48000);
        for (size_t i = 0; i < m_tone48.size(); ++i)
            m_tone48[i]
                = int16_t(std::lround(0.5 * 32767 * std::sin(2 * kPi * 1000 * double(i) / 48000)));
        QVERIFY(writeRaw(m_home.filePath("tone48.raw"), m_tone48));
        rc += fileDevice("tkd48k", m_home.filePath("tone48.raw"));

        // ALSA opens a file device's infile whenever PortAudio opens the PCM, even just to list
        // it; on a FIFO that open blocks until a writer exists. Holding a read-write end for the
        // whole test lets every open succeed at once, and reads block until we write: a
        // microphone that really stops delivering.
        const QString fifo = m_home.filePath("mic.fifo");
        QCOMPARE(::mkfifo(fifo.toLocal8Bit().constData(), 0600), 0);
        m_fifoFd = ::open(fifo.toLocal8Bit().constData(), O_RDWR);
        QVERIFY(m_fifoFd >= 0);
        rc += fileDevice("tkdfifo", fifo);

        QFile f(m_home.filePath(".asoundrc"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(rc.toUtf8());
        f.close();
        // ALSA reads ~/.asoundrc when PortAudio first initialises: set HOME before that.
        qputenv("HOME", m_home.path().toUtf8());

        for (const auto &d : tkd::listAudioDevices())
            if (d.name == "tkdchirp")
                m_haveDevices = true;
    }

    void cleanupTestCase()
    {
        if (m_fifoFd >= 0)
            ::close(m_fifoFd);
    }

    void listsTheVirtualDevices()
    {
        requireDevices();
        const auto devices = tkd::listAudioDevices();
        int inputs = 0, defaults = 0;
        for (const auto &d : devices) {
            if (d.name.rfind("tkd", 0) == 0) {
                QVERIFY2(d.maxInputChannels > 0, d.name.c_str());
                QCOMPARE(QString::fromStdString(d.hostApi), QStringLiteral("ALSA"));
                QVERIFY(d.defaultSampleRate > 0);
                ++inputs;
            }
            defaults += d.isDefaultInput ? 1 : 0;
        }
        QCOMPARE(inputs, m_voice.empty() ? 4 : 5);
        QCOMPARE(defaults, 1);
    }

    void capturesTheFileExactly_data()
    {
        QTest::addColumn<QString>("device");
        QTest::addColumn<bool>("recording");
        QTest::newRow("chirp") << "tkdchirp" << false;
        QTest::newRow("recording") << "tkdvoice" << true;
    }
    void capturesTheFileExactly()
    {
        requireDevices();
        QFETCH(QString, device);
        QFETCH(bool, recording);
        const std::vector<int16_t> &file = recording ? m_voice : m_chirp;
        if (file.empty())
            QSKIP("sox or /usr/share/sounds/alsa/Front_Center.wav missing");

        tkd::CaptureStream capture;
        capture.start(device.toStdString(), /*ringSeconds=*/8.0);
        QVERIFY(capture.isRunning());
        QCOMPARE(capture.health().state, tkd::CaptureHealth::State::Ok);
        // The device is not paced: the whole file (and then silence) arrives within milliseconds.
        QVERIFY(
            waitFor([&] { return capture.stats().framesCaptured >= file.size() + 16000; }, 10000));
        capture.stop();
        QVERIFY(!capture.isRunning());

        const tkd::CaptureStats s = capture.stats();
        QCOMPARE(QString::fromStdString(s.device), device);
        QCOMPARE(s.rate, 16000.0); // negotiated: no resampling
        QCOMPARE(s.channels, 1);
        QCOMPARE(s.inputOverflows, uint64_t(0));

        std::vector<float> got;
        const size_t n = capture.read(got);
        QCOMPARE(n, got.size());
        // Everything the device delivered is either read or counted as dropped.
        QCOMPARE(uint64_t(n) + s.droppedFrames, s.framesCaptured);
        QVERIFY(n >= file.size());
        for (size_t i = 0; i < file.size(); ++i)
            if (got[i] != float(file[i]) / 32768.0f)
                QFAIL(qPrintable(QStringLiteral("sample %1: got %2, file has %3")
                                     .arg(i)
                                     .arg(double(got[i]) * 32768)
                                     .arg(file[i])));
        // (After the file the device keeps delivering, but not silence: ALSA's file plugin leaves
        // its buffer's previous content there, so nothing is asserted past the file's end.)
        QCOMPARE(capture.read(got), size_t(0)); // drained
        QCOMPARE(capture.stats().samplesRead, uint64_t(n));
    }

    void peakFollowsTheSignal()
    {
        requireDevices();
        tkd::CaptureStream capture;
        capture.start("tkdchirp", 8.0);
        // A level meter polls stats(), each call taking the peak since the previous one.
        float held = 0.0f;
        QVERIFY(waitFor(
            [&] {
                const tkd::CaptureStats s = capture.stats();
                held = std::max(held, s.peak);
                return s.framesCaptured >= m_chirp.size();
            },
            10000));
        capture.stop();
        held = std::max(held, capture.stats().peak);
        int maxAbs = 0;
        for (int16_t v : m_chirp)
            maxAbs = std::max(maxAbs, std::abs(int(v)));
        QCOMPARE(held, float(maxAbs) / 32768.0f);
        QCOMPARE(capture.stats().peak, 0.0f); // stopped: nothing new since the last call
    }

    void smallRingOverflowsVisibly()
    {
        requireDevices();
        tkd::CaptureStream capture;
        capture.start("tkdchirp", /*ringSeconds=*/0.25); // 4096 frames: far less than 1.5 s of file
        QVERIFY(waitFor([&] { return capture.stats().overflows > 0; }, 10000));
        QThread::msleep(20);
        capture.stop();
        const tkd::CaptureStats s = capture.stats();
        QVERIFY(s.overflows > 0);
        QVERIFY(s.droppedFrames > 0);
        std::vector<float> got;
        const size_t n = capture.read(got);
        QCOMPARE(n, size_t(4096)); // the ring was full; nothing queued was overwritten
        QCOMPARE(uint64_t(n) + s.droppedFrames, s.framesCaptured);
        // Drop-newest policy: what survived is the beginning of the file, in order.
        for (size_t i = 0; i < n; ++i)
            QCOMPARE(got[i], float(m_chirp[i]) / 32768.0f);
    }

    void mixesChannels_data()
    {
        QTest::addColumn<bool>("average");
        QTest::addColumn<int>("format");
        QTest::newRow("int16 mean") << true << int(tkd::CaptureSampleFormat::Int16);
        QTest::newRow("int16 first") << false << int(tkd::CaptureSampleFormat::Int16);
        QTest::newRow("float32 mean") << true << int(tkd::CaptureSampleFormat::Float32);
        QTest::newRow("float32 first") << false << int(tkd::CaptureSampleFormat::Float32);
    }
    void mixesChannels()
    {
        requireDevices();
        QFETCH(bool, average);
        QFETCH(int, format);
        const size_t frames = m_stereo.size() / 2;
        tkd::CaptureStream capture;
        tkd::CaptureOptions opt;
        opt.device = "tkdstereo";
        opt.channels = 2;
        opt.averageChannels = average;
        opt.format = tkd::CaptureSampleFormat(format);
        opt.ringSeconds = 4.0;
        if (opt.format == tkd::CaptureSampleFormat::Float32) {
            // The file device reads its infile in the negotiated format: give it float32.
            std::vector<float> f(m_stereo.size());
            for (size_t i = 0; i < f.size(); ++i)
                f[i] = float(m_stereo[i]) / 32768.0f;
            QFile raw(m_home.filePath("stereo.raw"));
            QVERIFY(raw.open(QIODevice::WriteOnly));
            raw.write(reinterpret_cast<const char *>(f.data()), qint64(f.size() * sizeof(float)));
        }
        capture.start(opt);
        QVERIFY(waitFor([&] { return capture.stats().framesCaptured >= frames; }, 10000));
        capture.stop();
        if (opt.format == tkd::CaptureSampleFormat::Float32)
            QVERIFY(writeRaw(m_home.filePath("stereo.raw"), m_stereo)); // restore for other rows
        QCOMPARE(capture.stats().channels, 2);
        std::vector<float> got;
        QVERIFY(capture.read(got) >= frames);
        for (size_t i = 0; i < frames; ++i) {
            const float l = float(m_stereo[2 * i]) / 32768.0f,
                        r = float(m_stereo[2 * i + 1]) / 32768.0f;
            const float expected = average ? (l + r) * 0.5f : l;
            if (std::abs(got[i] - expected) > 1e-6f)
                QFAIL(qPrintable(QStringLiteral("frame %1: got %2, expected %3")
                                     .arg(i)
                                     .arg(got[i])
                                     .arg(expected)));
        }
    }

    void resamplesANativeRateTo16k()
    {
        requireDevices();
        tkd::CaptureStream capture;
        tkd::CaptureOptions opt;
        opt.device = "tkd48k";
        opt.preferredRate = 48000; // a device that insists on 48 kHz
        opt.ringSeconds = 2.0;
        capture.start(opt);
        QVERIFY(waitFor([&] { return capture.stats().framesCaptured >= 60000; }, 10000));
        capture.stop();
        const tkd::CaptureStats s = capture.stats();
        QCOMPARE(s.rate, 48000.0);
        std::vector<float> got;
        const size_t n = capture.read(got);
        const uint64_t kept = s.framesCaptured - s.droppedFrames;
        // Streaming output lags by the filter's half length; it never exceeds a third of the input.
        QVERIFY(n <= kept / 3 && n + 200 >= kept / 3);

        // The same conversion done offline on the file. Past the file's end the device delivers
        // stale buffer content, so compare only output that depends on the file alone (the
        // Medium filter reaches a few hundred input samples ahead).
        std::vector<float> in(m_tone48.size());
        for (size_t i = 0; i < in.size(); ++i)
            in[i] = float(m_tone48[i]) / 32768.0f;
        tkd::Resampler offline(48000, 16000, opt.quality);
        std::vector<float> expected;
        offline.process(in.data(), in.size(), expected);
        const size_t compared = in.size() / 3 - 400;
        QVERIFY(expected.size() >= compared && n >= compared);
        for (size_t i = 0; i < compared; ++i)
            QVERIFY2(std::abs(got[i] - expected[i]) < 1e-5f, qPrintable(QString::number(i)));
        // And it is the 1 kHz tone at 16 kHz: 0.5 amplitude, 16 samples per period.
        double sumSq = 0;
        int crossings = 0;
        for (size_t i = 1000; i < 15000; ++i) {
            sumSq += double(got[i]) * got[i];
            crossings += (got[i - 1] < 0) != (got[i] < 0);
        }
        QVERIFY(std::abs(std::sqrt(sumSq / 14000) - 0.5 / std::sqrt(2.0)) < 0.01);
        QVERIFY(std::abs(crossings - 1750) <= 4);
    }

    void defaultDeviceIsTheDefaultInput()
    {
        requireDevices();
        std::string def;
        for (const auto &d : tkd::listAudioDevices())
            if (d.isDefaultInput)
                def = d.name;
        QVERIFY(!def.empty());
        tkd::CaptureStream capture;
        capture.start(); // no name: the default input
        QCOMPARE(capture.stats().device, def);
        capture.stop();
    }

    void unknownDeviceIsAClearError()
    {
        tkd::CaptureStream capture;
        try {
            capture.start("no-such-microphone-xyz");
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), QStringLiteral("no-such-microphone-xyz"));
            QVERIFY2(QString(e.what()).contains("no such input device"), e.what());
        }
        QVERIFY(!capture.isRunning());
        QCOMPARE(capture.health().state, tkd::CaptureHealth::State::Idle);
    }

    void badOptionsAreClearErrors_data()
    {
        QTest::addColumn<double>("ringSeconds");
        QTest::addColumn<double>("rate");
        QTest::addColumn<int>("channels");
        QTest::addColumn<QString>("subject");
        QTest::newRow("zero ring") << 0.0 << 16000.0 << 0 << "capture ring seconds";
        QTest::newRow("NaN ring") << double(NAN) << 16000.0 << 0 << "capture ring seconds";
        QTest::newRow("negative rate") << 1.0 << -16000.0 << 0 << "capture rate";
        QTest::newRow("negative channels") << 1.0 << 16000.0 << -1 << "capture channels";
        QTest::newRow("too many channels") << 1.0 << 16000.0 << 100000 << "tkdchirp";
    }
    void badOptionsAreClearErrors()
    {
        QFETCH(double, ringSeconds);
        QFETCH(double, rate);
        QFETCH(int, channels);
        QFETCH(QString, subject);
        if (subject == "tkdchirp")
            requireDevices();
        tkd::CaptureOptions opt;
        opt.device = "tkdchirp";
        opt.ringSeconds = ringSeconds;
        opt.preferredRate = rate;
        opt.channels = channels;
        tkd::CaptureStream capture;
        try {
            capture.start(opt);
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), subject);
        }
        QVERIFY(!capture.isRunning());
    }

    void restartsInProcess()
    {
        requireDevices();
        tkd::CaptureStream capture;
        std::vector<float> got;
        for (int round = 0; round < 3; ++round) {
            capture.start("tkdchirp", 4.0);
            QVERIFY(
                waitFor([&] { return capture.stats().framesCaptured >= m_chirp.size(); }, 10000));
            capture.stop();
            QVERIFY(capture.read(got) >= m_chirp.size());
            // Each start reopens the device: the file plays from its beginning again.
            for (size_t i = 0; i < m_chirp.size(); i += 97)
                QCOMPARE(got[i], float(m_chirp[i]) / 32768.0f);
        }
        // A device that vanished (its name is no longer found) is a clear error...
        try {
            capture.start("tkd-unplugged-usb-mic");
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), QStringLiteral("tkd-unplugged-usb-mic"));
        }
        QCOMPARE(capture.health().state, tkd::CaptureHealth::State::Idle);
        // ...and a later start on a good device works.
        capture.start("tkdchirp", 4.0);
        QVERIFY(waitFor([&] { return capture.stats().framesCaptured > 0; }, 10000));
        QVERIFY(capture.isRunning());
        capture.stop();
    }

    void reportsAStreamThatStopped()
    {
        requireDevices();
        tkd::CaptureStream capture;
        capture.start("tkdchirp", 4.0);
        QCOMPARE(capture.health().state, tkd::CaptureHealth::State::Ok);
        // As a device error would: the callback ends the stream.
        tkd::CaptureStream::testFault.store(int(tkd::CaptureStream::TestFault::AbortStream));
        QVERIFY(waitFor([&] { return !capture.isRunning(); }, 5000));
        const tkd::CaptureHealth h = capture.health();
        QCOMPARE(h.state, tkd::CaptureHealth::State::Stopped);
        QVERIFY2(QString::fromStdString(h.message).contains("tkdchirp"), h.message.c_str());
        // Recover in-process: stop + start.
        capture.stop();
        capture.start("tkdchirp", 4.0);
        QVERIFY(waitFor([&] { return capture.stats().framesCaptured >= m_chirp.size(); }, 10000));
        QCOMPARE(capture.health().state, tkd::CaptureHealth::State::Ok);
        capture.stop();
    }

    void reportsAStalledDevice()
    {
        requireDevices();
        tkd::CaptureStream capture;
        tkd::CaptureOptions opt;
        opt.device = "tkdfifo";
        opt.stallSeconds = 0.3;
        opt.ringSeconds = 4.0;
        capture.start(opt);
        // 0.25 s of audio, then nothing: ALSA's read of the FIFO blocks, callbacks stop arriving.
        const auto block = chirp(16000, 0.25);
        QCOMPARE(::write(m_fifoFd, block.data(), block.size() * 2), ssize_t(block.size() * 2));
        QVERIFY(waitFor([&] { return capture.stats().framesCaptured >= block.size(); }, 5000));
        QVERIFY(waitFor(
            [&] { return capture.health().state == tkd::CaptureHealth::State::Stalled; }, 5000));
        const tkd::CaptureHealth h = capture.health();
        QVERIFY(h.secondsSinceCallback > 0.3);
        QVERIFY2(QString::fromStdString(h.message).contains("tkdfifo"), h.message.c_str());
        QVERIFY(
            capture.isRunning()); // PortAudio still thinks it runs: only the stall detector knows

        // Audio again: healthy again.
        QCOMPARE(::write(m_fifoFd, block.data(), block.size() * 2), ssize_t(block.size() * 2));
        QVERIFY(
            waitFor([&] { return capture.health().state == tkd::CaptureHealth::State::Ok; }, 5000));

        std::vector<float> got;
        capture.read(got);
        QVERIFY(got.size() >= block.size());
        for (size_t i = 0; i < block.size(); ++i)
            QCOMPARE(got[i], float(block[i]) / 32768.0f);

        // Stopping a stalled stream must not hang (the callback thread is blocked in read()).
        QVERIFY(waitFor(
            [&] { return capture.health().state == tkd::CaptureHealth::State::Stalled; }, 5000));
        QElapsedTimer t;
        t.start();
        capture.stop();
        QVERIFY2(t.elapsed() < 3000, qPrintable(QString::number(t.elapsed())));
        QCOMPARE(capture.health().state, tkd::CaptureHealth::State::Idle);
        // The close waits in the background for the driver; audio lets it finish.
        QVERIFY(tkd::CaptureStream::pendingCloses() <= 1);
        const auto more = chirp(16000, 1.0);
        QCOMPARE(::write(m_fifoFd, more.data(), more.size() * 2), ssize_t(more.size() * 2));
        QVERIFY(waitFor([] { return tkd::CaptureStream::pendingCloses() == 0; }, 5000));

        // And a good device works afterwards.
        capture.start("tkdchirp", 4.0);
        QVERIFY(waitFor([&] { return capture.stats().framesCaptured > 0; }, 10000));
        capture.stop();
    }
};

QTEST_GUILESS_MAIN(TestCaptureStream)
#include "tst_capturestream.moc"
