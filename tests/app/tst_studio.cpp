// tkd-test-labels: gui e2e
// The studio's real main window, offscreen: open a dataset (core work on the worker thread), see
// the clip table fill, a clip's waveform and spectrogram appear, play it through a real PortAudio
// stream on an ALSA file-backed device, and see errors explained without blocking the window.
#include "MainWindow.h"

#include "core/audio/AudioFile.h"
#include "core/audio/PortAudioSession.h"
#include "widgets/ClipBrowser.h"
#include "widgets/WaveformView.h"

#include <QComboBox>
#include <QDir>
#include <QFile>
#include <QMessageBox>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QToolButton>
#include <QtTest>

#include <cmath>

class TestStudio : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_home;
    QString m_dataset;
    QString m_played;
    int m_clipCount = 0;

    void writeClip(const QString &path, double freq, double seconds)
    {
        std::vector<float> s(size_t(seconds * 16000));
        for (size_t i = 0; i < s.size(); ++i)
            s[i] = float(0.4 * std::sin(2 * M_PI * freq * double(i) / 16000.0));
        tkd::writeWav(path.toStdString(), s);
        ++m_clipCount;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true); // settings never touch the user's
        QVERIFY(m_home.isValid());
        m_played = m_home.filePath("played.raw");
        QFile rc(m_home.filePath(".asoundrc"));
        QVERIFY(rc.open(QIODevice::WriteOnly));
        rc.write(QStringLiteral("pcm.tkdstudioout {\n  type file\n  slave.pcm \"null\"\n"
                                "  file \"%1\"\n  format \"raw\"\n}\n")
                     .arg(m_played)
                     .toUtf8());
        rc.close();
        qputenv("HOME", m_home.path().toUtf8());
        qputenv("TKD_CACHE_DIR", m_home.filePath("cache").toUtf8());

        // A tiny folder-per-class dataset with train/validation/test folders.
        m_dataset = m_home.filePath("kws");
        for (const char *split : { "train", "validation", "test" })
            for (const char *cls : { "yes", "no" }) {
                const QString dir = QStringLiteral("%1/%2/%3").arg(m_dataset, split, cls);
                QVERIFY(QDir().mkpath(dir));
                for (int k = 0; k < 2; ++k)
                    writeClip(dir + QStringLiteral("/c%1.wav").arg(k), cls[0] == 'y' ? 440 : 660,
                        0.5 + k);
            }
    }

    void opensDatasetAndShowsAClip()
    {
        tkd::MainWindow window;
        window.setOutputDevice(QStringLiteral("tkdstudioout"));
        window.show();
        QSignalSpy shown(&window, &tkd::MainWindow::datasetShown);
        QSignalSpy clip(&window, &tkd::MainWindow::clipShown);
        window.openDataset(QStringLiteral("folder"), m_dataset);
        QVERIFY(shown.wait(60000));
        QCOMPARE(shown.at(0).at(0).toInt(), m_clipCount);
        QCOMPARE(window.clipBrowser()->filter()->rowCount(), m_clipCount);
        // The first row is selected automatically: its audio and spectrogram arrive.
        QVERIFY(clip.count() > 0 || clip.wait(30000));
        QVERIFY(window.waveformView()->waveformPointCount() > 0);
        QVERIFY(window.currentClip().spectrogram.frames > 0);
        QCOMPARE(window.currentClip().spectrogram.bins, 40);
        QVERIFY(window.playButton()->isEnabled());

        // Select another clip by clicking through the filter: only the "no" class.
        window.clipBrowser()->labelBox()->setCurrentIndex(
            window.clipBrowser()->labelBox()->findData(QStringLiteral("no")));
        QCOMPARE(window.clipBrowser()->filter()->rowCount(), m_clipCount / 2);
        clip.clear();
        QVERIFY(window.clipBrowser()->selectVisibleRow(1));
        QVERIFY(clip.wait(30000));
        const double expectedSec = window.currentClip().samples.size() / 16000.0;
        QCOMPARE(window.waveformView()->durationSec(), expectedSec);

        // Play through the real PortAudio path into the file-backed device; it finishes by itself.
        QSignalSpy started(&window, &tkd::MainWindow::playbackStarted);
        QSignalSpy stopped(&window, &tkd::MainWindow::playbackStopped);
        QTest::mouseClick(window.playButton(), Qt::LeftButton);
        if (started.isEmpty())
            QSKIP(qPrintable(QStringLiteral("virtual audio device unavailable: %1")
                                 .arg(window.playButton()->toolTip())));
        QVERIFY(stopped.wait(15000));
        QFile played(m_played);
        QVERIFY(played.open(QIODevice::ReadOnly));
        // float32 samples at 16 kHz: at least the whole clip reached the device.
        QVERIFY(played.size() >= qint64(window.currentClip().samples.size()) * 2);
    }

    void playWithoutADeviceExplainsWhy()
    {
        tkd::MainWindow window;
        window.setOutputDevice(QStringLiteral("no-such-sound-card"));
        QSignalSpy shown(&window, &tkd::MainWindow::datasetShown);
        QSignalSpy clip(&window, &tkd::MainWindow::clipShown);
        window.openDataset(QStringLiteral("folder"), m_dataset);
        QVERIFY(shown.wait(60000));
        QVERIFY(clip.count() > 0 || clip.wait(30000));
        QSignalSpy started(&window, &tkd::MainWindow::playbackStarted);
        QTest::mouseClick(window.playButton(), Qt::LeftButton);
        QCOMPARE(started.count(), 0);
        QVERIFY2(window.playButton()->toolTip().contains(QStringLiteral("no-such-sound-card")),
            qPrintable(window.playButton()->toolTip()));
        // Everything else keeps working: another clip still loads.
        clip.clear();
        QVERIFY(window.clipBrowser()->selectVisibleRow(2));
        QVERIFY(clip.wait(30000));
    }

    void aNewDeviceShowsAfterPlayback()
    {
        // Issue 17: the device refresh did not find a newly added device until a restart - the
        // player kept PortAudio initialised, so its device list was never read again.
        tkd::MainWindow window;
        window.setOutputDevice(QStringLiteral("tkdstudioout"));
        QSignalSpy shown(&window, &tkd::MainWindow::datasetShown);
        QSignalSpy clip(&window, &tkd::MainWindow::clipShown);
        window.openDataset(QStringLiteral("folder"), m_dataset);
        QVERIFY(shown.wait(60000));
        QVERIFY(clip.count() > 0 || clip.wait(30000));
        QSignalSpy started(&window, &tkd::MainWindow::playbackStarted);
        QSignalSpy stopped(&window, &tkd::MainWindow::playbackStopped);
        QTest::mouseClick(window.playButton(), Qt::LeftButton);
        if (started.isEmpty())
            QSKIP("virtual audio device unavailable");
        QVERIFY(stopped.wait(15000));
        QFile rc(m_home.filePath(".asoundrc"));
        QVERIFY(rc.open(QIODevice::Append));
        rc.write(QStringLiteral("pcm.tkdstudionew {\n  type file\n  slave.pcm \"null\"\n"
                                "  file \"%1\"\n  format \"raw\"\n}\n")
                     .arg(m_home.filePath("new.raw"))
                     .toUtf8());
        rc.close();
        bool found = false;
        for (const auto &d : tkd::listAudioDevices())
            found = found || d.name == "tkdstudionew";
        QVERIFY(found);
    }

    void badDatasetIsAnErrorNotACrash()
    {
        tkd::MainWindow window;
        QSignalSpy error(&window, &tkd::MainWindow::errorShown);
        window.openDataset(QStringLiteral("folder"), m_home.filePath("does-not-exist"));
        QVERIFY(error.wait(30000));
        QVERIFY(error.at(0).at(0).toString().contains(QStringLiteral("does-not-exist")));
        // The message is shown without blocking, and the window still opens a good dataset.
        QVERIFY(!window.findChildren<QMessageBox *>().isEmpty());
        QSignalSpy shown(&window, &tkd::MainWindow::datasetShown);
        window.openDataset(QStringLiteral("folder"), m_dataset);
        QVERIFY(shown.wait(60000));
    }
};

QTEST_MAIN(TestStudio)
#include "tst_studio.moc"
