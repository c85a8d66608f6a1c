// The Live view's widgets offscreen, driven as a user would: device picker (and the explanation
// when there is none), model, frames with posteriors and attention, detections, settings with
// per-class thresholds, start/stop and record requests, status with overflows, level meter and
// the rolling spectrogram's bookkeeping.
#include "widgets/LevelMeter.h"
#include "widgets/LivePanel.h"
#include "widgets/LivePosteriorBars.h"
#include "widgets/RollingSpectrogram.h"

#include <QComboBox>
#include <QDoubleSpinBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QTableWidget>
#include <QtTest>

using namespace tkd;

namespace {
QStringList classes12()
{
    return { "yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go", "_unknown_",
        "_silence_" };
}

LiveFrame frame(qint64 hop, int top, float score)
{
    LiveFrame f;
    f.hop = hop;
    f.windowStartSec = 0.1 * double(hop);
    f.timeSec = f.windowStartSec + 1.0;
    f.smoothed = QVector<float>(12, (1.0f - score) / 11.0f);
    f.smoothed[top] = score;
    f.posteriors = f.smoothed;
    f.topClass = top;
    f.topScore = score;
    f.studentAttention = QVector<float>(49, 1.0f / 49);
    f.studentAttention[20] = 0.3f;
    f.studentStart = f.windowStartSec;
    f.studentEnd = f.timeSec;
    f.teacherAttention = QVector<float>(49, 1.0f / 49);
    f.teacherStart = f.windowStartSec;
    f.teacherEnd = f.timeSec;
    f.teacherFresh = true;
    f.studentMs = 0.4;
    f.teacherMs = 3.0;
    f.latencyMs = 2.5;
    for (int i = 0; i < (hop == 0 ? 50 : 5); ++i)
        f.spectrogram.push_back(QVector<float>(40, float(i % 7)));
    return f;
}
} // namespace

class TestLivePanel : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void noDeviceExplainsAndFilesStillWork()
    {
        LivePanel p;
        p.show();
        p.setDevices({}, -1, QStringLiteral("No capture device: PortAudio sees no microphone."));
        QVERIFY(p.messageLabel()->isVisibleTo(&p));
        QVERIFY(p.messageLabel()->text().contains("No capture device"));
        QVERIFY(p.messageLabel()->text().contains("Audio file"));
        QCOMPARE(p.inputCombo()->count(), 1); // the file entry
        QVERIFY(p.selectedDevice().isEmpty());
        p.setModel("m", classes12(), 1.0, 0.1, 40, 0.02);
        QSignalSpy file(&p, &LivePanel::startFileRequested);
        p.setSelectedFile("/tmp/clip.wav");
        QVERIFY(p.inputCombo()->currentText().contains("clip.wav"));
        QTest::mouseClick(p.startButton(), Qt::LeftButton);
        QCOMPARE(file.count(), 1);
        QCOMPARE(file.at(0).at(0).toString(), QStringLiteral("/tmp/clip.wav"));
    }

    void devicesModelStartStop()
    {
        LivePanel p;
        p.show();
        p.setDevices({ "default", "USB mic", "tkdlive" }, 1);
        QCOMPARE(p.selectedDevice(), QStringLiteral("USB mic"));
        QVERIFY(!p.messageLabel()->isVisibleTo(&p));
        QVERIFY(!p.startButton()->isEnabled()); // no model yet
        p.setCells("/runs/r", { "tc-resnet8-L1-lambda0-seed1", "tc-resnet8-L1-lambda0.25-seed1" },
            { "a", "b" }, 1);
        QCOMPARE(p.cellCombo()->currentText(), QStringLiteral("tc-resnet8-L1-lambda0.25-seed1"));
        p.setModel("tc-resnet8: 64176 parameters", classes12(), 1.0, 0.1, 40, 0.02);
        QVERIFY(p.startButton()->isEnabled());
        QCOMPARE(p.classThresholdTable()->rowCount(), 10); // unknown and silence are never detected
        QSignalSpy start(&p, &LivePanel::startDeviceRequested);
        QSignalSpy stop(&p, &LivePanel::stopRequested);
        QTest::mouseClick(p.startButton(), Qt::LeftButton);
        QCOMPARE(start.count(), 1);
        QCOMPARE(start.at(0).at(0).toString(), QStringLiteral("USB mic"));
        p.setRunning(true);
        QCOMPARE(p.startButton()->text(), QStringLiteral("Stop"));
        QVERIFY(!p.inputCombo()->isEnabled());
        QTest::mouseClick(p.startButton(), Qt::LeftButton);
        QCOMPARE(stop.count(), 1);
        // Refreshing keeps the chosen device.
        p.setDevices({ "tkdlive", "USB mic" }, 0);
        QCOMPARE(p.selectedDevice(), QStringLiteral("USB mic"));
    }

    void framesDetectionsAndStatus()
    {
        LivePanel p;
        p.resize(1200, 800);
        p.show();
        p.setDevices({ "mic" }, 0);
        p.setModel("m", classes12(), 1.0, 0.1, 40, 0.02);
        p.setRunning(true);
        p.showFrame(frame(0, 3, 0.77f));
        QCOMPARE(p.spectrogram()->frameCount(), 50);
        p.showFrame(frame(1, 3, 0.8f));
        QCOMPARE(p.spectrogram()->frameCount(), 55);
        QCOMPARE(p.spectrogram()->endSec(), 1.1);
        QVERIFY(p.spectrogram()->hasCurve(RollingSpectrogram::Curve::Student));
        QVERIFY(p.spectrogram()->hasCurve(RollingSpectrogram::Curve::Teacher));
        QCOMPARE(p.posteriorBars()->topClass(), 3);
        QVERIFY2(p.topLabel()->text().startsWith("down") && p.topLabel()->text().contains("80 %"),
            qPrintable(p.topLabel()->text()));
        QVERIFY(p.timingLabel()->text().contains("student 0.40 ms"));
        QVERIFY(p.timingLabel()->text().contains("teacher 3.0 ms"));

        LiveDetectionRow d;
        d.timeSec = 1.1;
        d.label = "down";
        d.score = 0.8;
        d.peakSec = 0.55;
        d.wallClock = "12:00:00.000";
        p.showDetection(d);
        QCOMPARE(p.detectionTable()->rowCount(), 1);
        QCOMPARE(p.detectionTable()->item(0, 1)->text(), QStringLiteral("down"));
        QCOMPARE(p.detectionTable()->item(0, 0)->text(), QStringLiteral("1.10 s"));
        QCOMPARE(p.spectrogram()->markerCount(), 1);

        LiveStatusView s;
        s.source = "mic";
        s.rate = 48000;
        s.peak = 0.5f;
        s.overflows = 3;
        s.droppedFrames = 1200;
        s.health = "ok";
        s.streamSec = 1.1;
        p.showStatus(s);
        QVERIFY2(p.statusLabel()->text().contains("overflows 3 (1200 frames lost)"),
            qPrintable(p.statusLabel()->text()));
        QVERIFY(p.statusLabel()->styleSheet().contains("c0392b"));
        QVERIFY(std::abs(p.levelMeter()->levelDb() - (-6.0206)) < 1e-3);
        const QImage shot = p.grab().toImage();
        QVERIFY(!shot.isNull());
    }

    void settingsAndPerClassThresholds()
    {
        LivePanel p;
        p.setModel("m", classes12(), 1.0, 0.1, 40, 0.02);
        QSignalSpy spy(&p, &LivePanel::settingsChanged);
        p.thresholdSpin()->setValue(0.75);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.last().at(0).value<LiveSettings>().threshold, 0.75);
        p.classThresholdTable()->item(0, 1)->setText("0.9"); // "yes"
        QVERIFY(spy.count() >= 2);
        const LiveSettings s = spy.last().at(0).value<LiveSettings>();
        QCOMPARE(s.classThresholds.value("yes"), 0.9);
        QCOMPARE(s.classThresholds.size(), 1);
        p.classThresholdTable()->item(1, 1)->setText("banana"); // ignored, not an error
        QCOMPARE(p.settings().classThresholds.size(), 1);
    }

    void recordRequest()
    {
        LivePanel p;
        p.setModel("m", classes12(), 1.0, 0.1, 40, 0.02);
        p.setRunning(true);
        p.showFrame(frame(0, 3, 0.5f));
        QVERIFY(p.recordButton()->isEnabled());
        p.setRecordFolder("/tmp/recs");
        p.recordLabelCombo()->setCurrentText("false-trigger");
        QSignalSpy spy(&p, &LivePanel::recordRequested);
        QTest::mouseClick(p.recordButton(), Qt::LeftButton);
        QCOMPARE(spy.count(), 1);
        QCOMPARE(spy.at(0).at(0).toString(), QStringLiteral("/tmp/recs"));
        QCOMPARE(spy.at(0).at(1).toString(), QStringLiteral("false-trigger"));
        QCOMPARE(spy.at(0).at(2).toDouble(), 2.0);
    }

    void levelMeterAndSpectrogram()
    {
        LevelMeter m;
        m.setPeak(0.0f);
        QCOMPARE(m.levelDb(), LevelMeter::kFloorDb);
        QVERIFY(!m.clipped());
        m.setPeak(1.0f);
        QVERIFY(m.clipped());
        QCOMPARE(m.holdDb(), 0.0);
        m.reset();
        QVERIFY(!m.clipped());

        RollingSpectrogram s;
        s.configure(40, 0.02, 2.0); // 100 frames + 1 kept
        QVector<QVector<float>> frames(250, QVector<float>(40, 1.0f));
        s.addMarker(0.5, "old");
        s.appendFrames(frames, 5.0);
        QCOMPARE(s.frameCount(), 101);
        QCOMPARE(s.markerCount(), 0); // older than the span shown
        s.addMarker(4.5, "new");
        QCOMPARE(s.markerCount(), 1);
        s.resize(400, 200);
        QVERIFY(!s.grab().isNull());
    }
};

QTEST_MAIN(TestLivePanel)
#include "tst_livepanel.moc"
