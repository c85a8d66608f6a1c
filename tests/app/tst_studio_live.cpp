// tkd-test-labels: gui e2e audio
// The studio's Live view over a run trained here (LiveFixture): the model loads off the GUI
// thread, a file and an ALSA file-backed device stream through the real LiveSession, the panel
// shows posteriors, attention and the keyword's detection, and "record last" writes a WAV.
// The main window carries it as the "live" dock.
#include "core/infer/LiveFixture.h"

#include "LiveView.h"
#include "MainWindow.h"

#include "core/audio/AudioFile.h"
#include "widgets/LivePanel.h"
#include "widgets/LivePosteriorBars.h"
#include "widgets/RollingSpectrogram.h"

#include <QComboBox>
#include <QDir>
#include <QDockWidget>
#include <QFile>
#include <QLabel>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QtTest>

using namespace tkd;

class TestStudioLive : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    test::LiveFixture m_fixture;
    test::LiveRecording m_recording;
    QString m_wav;

    bool detectionOf(const LivePanel *p, const QString &word)
    {
        for (int r = 0; r < p->detectionTable()->rowCount(); ++r)
            if (p->detectionTable()->item(r, 1)->text() == word)
                return true;
        return false;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        qputenv("HOME", m_tmp.path().toUtf8()); // before PortAudio reads ~/.asoundrc
        m_fixture.build(m_tmp.path().toStdString());
        StreamingClassifier probe(LiveModel::load(m_fixture.runDir, false));
        m_recording = m_fixture.recording(probe, 4.0, 1.5);
        QVERIFY(!m_recording.samples.empty());
        m_wav = m_tmp.filePath("keyword.wav");
        writeWav(m_wav.toStdString(), m_recording.samples);
        QVERIFY(test::writeFileCaptureDevice(m_tmp.path(), QStringLiteral("tkdstudiolive"), m_wav));
    }

    void fileThroughTheView()
    {
        LiveView view;
        view.resize(1300, 800);
        view.show();
        QSignalSpy loaded(&view, &LiveView::modelLoaded);
        QSignalSpy devices(&view, &LiveView::devicesListed);
        view.openModel(QString::fromStdString(m_fixture.runDir));
        QVERIFY(loaded.wait(30000));
        QVERIFY(loaded.at(0).at(0).toString().contains("tc-resnet8"));
        QVERIFY(loaded.at(0).at(0).toString().contains("teacher: tiny"));
        LivePanel *p = view.panel();
        QCOMPARE(p->cellCombo()->count(), 1);
        QVERIFY(p->startButton()->isEnabled());
        QVERIFY(devices.count() > 0 || devices.wait(20000));

        QSignalSpy stopped(&view, &LiveView::stopped);
        QSignalSpy detected(&view, &LiveView::detected);
        view.startFile(m_wav, /*realTime=*/false);
        QVERIFY(view.isRunning() || stopped.count() > 0);
        QVERIFY(stopped.count() > 0 || stopped.wait(30000));
        QTRY_VERIFY(view.framesShown() >= 31); // (4 s - 1 s) / 0.1 s + 1 hops, all shown
        QTRY_VERIFY(detectionOf(p, QString::fromStdString(m_recording.word)));
        QVERIFY(p->spectrogram()->frameCount() > 100);
        QVERIFY(p->spectrogram()->hasCurve(RollingSpectrogram::Curve::Student));
        QVERIFY(p->spectrogram()->hasCurve(RollingSpectrogram::Curve::Teacher));
        QVERIFY(!p->posteriorBars()->posteriors().isEmpty());
        QCOMPARE(p->startButton()->text(), QStringLiteral("Listen"));
        qInfo("file through the Live view: %lld frames, mean queued delivery latency %.2f ms, "
              "detection log %d row(s)",
            (long long)view.framesShown(), view.meanDisplayLatencyMs(),
            p->detectionTable()->rowCount());

        // Record the last 1.5 s under a label.
        const QString path = view.recordLast(m_tmp.filePath("recordings"), "false-trigger", 1.5);
        QVERIFY(QFile::exists(path));
        QCOMPARE(loadAudio(path.toStdString()).size(), size_t(24000));
        QVERIFY(p->messageLabel()->text().contains("Saved"));
        // A bad label is refused with a message, and the view keeps working.
        QSignalSpy failed(&view, &LiveView::failed);
        QVERIFY(view.recordLast(m_tmp.filePath("recordings"), "../up", 1.0).isEmpty());
        QCOMPARE(failed.count(), 1);
    }

    void deviceThroughTheView()
    {
        LiveView view;
        view.show();
        QSignalSpy loaded(&view, &LiveView::modelLoaded);
        view.openModel(QString::fromStdString(m_fixture.cellDir));
        QVERIFY(loaded.wait(30000));
        QSignalSpy failed(&view, &LiveView::failed);
        view.startDevice("no-such-microphone-xyz");
        QCOMPARE(failed.count(), 1);
        QVERIFY(failed.at(0).at(0).toString().contains("no-such-microphone-xyz"));
        QVERIFY(!view.isRunning());

        view.startDevice("tkdstudiolive");
        if (!failed.isEmpty() && failed.count() > 1)
            QSKIP("PortAudio does not see the ALSA file device");
        QVERIFY(view.isRunning());
        QTRY_VERIFY_WITH_TIMEOUT(
            detectionOf(view.panel(), QString::fromStdString(m_recording.word)), 20000);
        QTRY_VERIFY(view.panel()->statusLabel()->text().contains("tkdstudiolive"));
        view.stop();
        QVERIFY(!view.isRunning());
    }

    void listenWithTheFileEntryAsksForAFile()
    {
        // Issue 17: with "Audio file..." selected, Listen refused ("Choose a capture device or
        // an audio file first") instead of asking for the file.
        LiveView view;
        view.show();
        QSignalSpy loaded(&view, &LiveView::modelLoaded);
        view.openModel(QString::fromStdString(m_fixture.runDir));
        QVERIFY(loaded.wait(30000));
        LivePanel *p = view.panel();
        int asked = 0;
        p->setFilePicker([&](const QString &) {
            ++asked;
            return m_wav;
        });
        p->inputCombo()->setCurrentIndex(p->inputCombo()->findData(-2)); // "Audio file..."
        QVERIFY(p->inputCombo()->currentIndex() >= 0);
        QSignalSpy started(&view, &LiveView::started);
        QTest::mouseClick(p->startButton(), Qt::LeftButton);
        QCOMPARE(asked, 1);
        QVERIFY(started.count() > 0 || started.wait(5000));
        view.stop();
    }

    void shortFileIsExplainedAndResetsTheStream()
    {
        LiveView view;
        view.show();
        QSignalSpy loaded(&view, &LiveView::modelLoaded);
        view.openModel(QString::fromStdString(m_fixture.runDir));
        QVERIFY(loaded.wait(30000));
        QSignalSpy stopped(&view, &LiveView::stopped);
        view.startFile(m_wav, false);
        QVERIFY(stopped.count() > 0 || stopped.wait(30000));
        QTRY_VERIFY(!view.panel()->posteriorBars()->posteriors().isEmpty());
        // A file shorter than one window: a message like the CLI's, and the last stream's
        // posteriors are gone.
        const QString shortWav = m_tmp.filePath("short.wav");
        writeWav(shortWav.toStdString(), std::vector<float>(4800, 0.1f)); // 0.3 s
        QSignalSpy failed(&view, &LiveView::failed);
        view.startFile(shortWav, false);
        QCOMPARE(failed.count(), 1);
        QVERIFY2(failed.at(0).at(0).toString().contains("shorter than one analysis window"),
            qPrintable(failed.at(0).at(0).toString()));
        QVERIFY(view.panel()->posteriorBars()->posteriors().isEmpty());
        QCOMPARE(view.panel()->topLabel()->text(), QStringLiteral("-"));
    }

    void digitalSilenceAfterTheAudioIsSilence()
    {
        // Issue 17: digital silence after the audio triggered a false keyword at 1.00.
        LiveView view;
        view.show();
        QSignalSpy loaded(&view, &LiveView::modelLoaded);
        view.openModel(QString::fromStdString(m_fixture.runDir));
        QVERIFY(loaded.wait(30000));
        std::vector<float> samples = m_recording.samples;
        samples.insert(samples.end(), 3 * 16000, 0.0f);
        const QString wav = m_tmp.filePath("keyword-then-silence.wav");
        writeWav(wav.toStdString(), samples);
        QSignalSpy stopped(&view, &LiveView::stopped);
        view.startFile(wav, false);
        QVERIFY(stopped.count() > 0 || stopped.wait(30000));
        QTRY_COMPARE(
            view.panel()->topLabel()->text().section(' ', 0, 0), QStringLiteral("_silence_"));
        QVERIFY(detectionOf(view.panel(), QString::fromStdString(m_recording.word)));
    }

    void liveFollowsTheOpenRun()
    {
        // Issue 17: after opening a run, Live still said "No model: open a run folder".
        MainWindow w;
        w.show();
        QSignalSpy loaded(w.liveView(), &LiveView::modelLoaded);
        w.openRun(QString::fromStdString(m_fixture.runDir));
        QVERIFY(loaded.count() > 0 || loaded.wait(30000));
        QVERIFY(w.liveView()->hasModel());
        QCOMPARE(QDir::cleanPath(w.liveView()->modelPath()),
            QDir::cleanPath(QString::fromStdString(m_fixture.runDir)));
    }

    void mainWindowHasTheLiveDock()
    {
        MainWindow w;
        QVERIFY(w.liveView());
        QVERIFY(w.findChild<QDockWidget *>("liveDock"));
        QVERIFY(w.showView("live"));
    }
};

QTEST_MAIN(TestStudioLive)
#include "tst_studio_live.moc"
