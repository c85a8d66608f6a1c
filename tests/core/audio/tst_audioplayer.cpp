// tkd-test-labels: audio e2e
// Playback through the real PortAudio path into an ALSA file-backed device (see
// shared/reference/virtual-audio-devices.md): what the device receives is written to a file,
// which the test reads back and compares with the clip.
#include "core/audio/AudioPlayer.h"
#include "core/audio/PortAudioSession.h"
#include "core/util/Error.h"

#include <QElapsedTimer>
#include <QFile>
#include <QTemporaryDir>
#include <QThread>
#include <QtTest>

#include <cmath>

class TestAudioPlayer : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_home;
    QString m_out;

private Q_SLOTS:
    void initTestCase()
    {
        // ALSA reads ~/.asoundrc when PortAudio first initialises: point HOME at a folder with
        // a file-backed device before any PortAudio call.
        QVERIFY(m_home.isValid());
        m_out = m_home.filePath("played.raw");
        QFile rc(m_home.filePath(".asoundrc"));
        QVERIFY(rc.open(QIODevice::WriteOnly));
        rc.write(QStringLiteral("pcm.tkdtestout {\n  type file\n  slave.pcm \"null\"\n"
                                "  file \"%1\"\n  format \"raw\"\n"
                                "  hint { show on description \"TKD test output\" }\n}\n")
                     .arg(m_out)
                     .toUtf8());
        rc.close();
        qputenv("HOME", m_home.path().toUtf8());
    }

    void listsTheVirtualDevice()
    {
        const auto devices = tkd::listAudioDevices();
        bool found = false;
        for (const auto &d : devices)
            if (d.name == "tkdtestout") {
                found = true;
                QVERIFY(d.maxOutputChannels > 0);
            }
        if (!found)
            QSKIP("PortAudio does not list the ALSA file device (no ALSA host API in this build?)");
    }

    void playsEverySampleToTheDevice()
    {
        const int rate = 16000;
        std::vector<float> clip(rate / 2);
        for (size_t i = 0; i < clip.size(); ++i)
            clip[i] = float(0.5 * std::cos(2 * M_PI * 440.0 * double(i) / rate));
        tkd::AudioPlayer player;
        try {
            player.play(clip, rate, "tkdtestout");
        } catch (const tkd::Error &e) {
            QSKIP(qPrintable(QStringLiteral("virtual device unavailable: %1").arg(e.what())));
        }
        QCOMPARE(QString::fromStdString(player.deviceName()), QStringLiteral("tkdtestout"));
        QElapsedTimer timer;
        timer.start();
        while (player.isPlaying() && timer.elapsed() < 10000)
            QThread::msleep(10);
        QVERIFY2(!player.isPlaying(), "playback did not finish within 10 s");
        const int64_t expected
            = int64_t(std::llround(clip.size() * player.deviceSampleRate() / rate));
        QVERIFY(std::abs(player.framesDelivered() - expected) <= 2);
        QVERIFY(std::abs(player.positionSec() - 0.5) < 0.01);
        player.stop();

        // The device got float32 or int16 samples (ALSA negotiates), after some priming silence.
        // Find where the clip starts (it opens at +0.5, a cosine) and compare from there.
        QFile f(m_out);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray bytes = f.readAll();
        QVERIFY2(bytes.size() > 0, "nothing reached the device");
        std::vector<double> got;
        const bool isFloat = bytes.size() >= int(expected * 4);
        if (isFloat) {
            const auto *p = reinterpret_cast<const float *>(bytes.constData());
            got.assign(p, p + bytes.size() / 4);
        } else {
            const auto *p = reinterpret_cast<const int16_t *>(bytes.constData());
            for (int i = 0; i < bytes.size() / 2; ++i)
                got.push_back(p[i] / 32768.0);
        }
        size_t start = 0;
        while (start < got.size() && std::abs(got[start]) < 1e-3)
            ++start;
        QVERIFY2(start + size_t(expected) <= got.size(), "the device got less than the whole clip");
        if (isFloat && player.deviceSampleRate() == rate) {
            // Same rate, float all the way: every sample must arrive bit for bit, in order.
            for (size_t i = 0; i < clip.size(); ++i)
                QCOMPARE(float(got[start + i]), clip[i]);
        }
        double sumSq = 0;
        int crossings = 0;
        for (int64_t i = 0; i < expected; ++i) {
            const double x = got[start + size_t(i)];
            sumSq += x * x;
            if (i > 0 && (got[start + size_t(i) - 1] < 0) != (x < 0))
                ++crossings;
        }
        const double rms = std::sqrt(sumSq / double(expected));
        QVERIFY2(std::abs(rms - 0.5 / std::sqrt(2.0)) < 0.01, qPrintable(QString::number(rms)));
        QVERIFY2(std::abs(crossings - 440) <= 4, qPrintable(QString::number(crossings)));
    }

    void stopInterruptsPlayback()
    {
        std::vector<float> clip(16000 * 20, 0.1f);
        tkd::AudioPlayer player;
        try {
            player.play(clip, 16000, "tkdtestout");
        } catch (const tkd::Error &e) {
            QSKIP(qPrintable(QStringLiteral("virtual device unavailable: %1").arg(e.what())));
        }
        player.stop();
        QVERIFY(!player.isPlaying());
        QVERIFY(player.framesDelivered() <= int64_t(clip.size()));
    }

    void unknownDeviceIsAClearError()
    {
        tkd::AudioPlayer player;
        try {
            player.play(std::vector<float>(100, 0.f), 16000, "no-such-device-xyz");
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QCOMPARE(QString::fromStdString(e.subject()), QStringLiteral("no-such-device-xyz"));
            QVERIFY(QString(e.what()).contains("no such output device"));
        }
    }
};

QTEST_GUILESS_MAIN(TestAudioPlayer)
#include "tst_audioplayer.moc"
