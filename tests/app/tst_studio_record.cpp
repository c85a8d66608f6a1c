// tkd-test-labels: gui e2e audio
// The Live view's personal keywords, offscreen: the recording panel records takes of a real voice
// (alsa-utils' "Side Left") from an ALSA file-backed device into <folder>/<word>/, lists them,
// deletes one, refuses a bad keyword and a missing device by name, then Adapt fine-tunes the
// view's student (trained here) with progress, and the Live view switches to the adapted one.
#include "core/adapt/VoiceFixture.h"

#include "LiveView.h"
#include "RecordingPanel.h"

#include "core/data/RecordingSet.h"
#include "widgets/LivePanel.h"

#include <QLabel>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QTreeWidget>
#include <QtTest>

using namespace tkd;

class TestStudioRecord : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    test::VoiceRun m_run;

    QString folder() const { return m_tmp.filePath("keywords"); }
    int takes(const std::string &word) const
    {
        return int(RecordingSet(folder().toStdString()).takes(word).size());
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!test::haveVoices())
            QSKIP("alsa-utils recordings are not installed");
        QVERIFY(m_tmp.isValid());
        qputenv("HOME", m_tmp.path().toUtf8()); // before PortAudio reads ~/.asoundrc
        QVERIFY(test::writeCaptureDevices(m_tmp.path(),
            { { "tkdstudiorec", test::alsaVoice("side-left") },
                { "tkdstudiorec2", test::alsaVoice("front-center") } }));
        m_run.build(m_tmp.filePath("fixture").toStdString());
    }

    void recordDeleteAdapt()
    {
        LiveView view;
        view.resize(1300, 1000);
        // PortAudio is listed once, off the GUI thread, when the view is shown: let it finish
        // before the recorder opens a device.
        QSignalSpy devices(&view, &LiveView::devicesListed);
        view.show();
        QSignalSpy loaded(&view, &LiveView::modelLoaded);
        view.openModel(QString::fromStdString(m_run.cellDir));
        QVERIFY(loaded.wait(30000));
        QVERIFY(devices.count() > 0 || devices.wait(30000));
        RecordingPanel *rec = view.recordingPanel();
        QVERIFY(rec->adaptButton()->isEnabled()); // a student to start from

        QString device = QStringLiteral("tkdstudiorec");
        rec->setDeviceSource([&device] { return device; });
        rec->setFolder(folder());
        rec->setTakesPerWord(3);
        rec->setCountdown(0.0);
        rec->setTakeSeconds(2.0);

        // A keyword that cannot name a folder: refused before anything is opened.
        QSignalSpy failed(rec, &RecordingPanel::failed);
        rec->setWords(QStringLiteral("side-left,a/b"));
        rec->recordButton()->click();
        QCOMPARE(failed.count(), 1);
        QVERIFY(failed.at(0).at(0).toString().contains("'a/b'"));
        QVERIFY(!rec->isBusy());

        QSignalSpy finished(rec, &RecordingPanel::recordingFinished);
        QSignalSpy saved(rec, &RecordingPanel::takeSaved);
        rec->setWords(QStringLiteral("side-left"));
        rec->recordButton()->click();
        QVERIFY(rec->isBusy());
        QVERIFY(!rec->recordButton()->isEnabled());
        QVERIFY(finished.wait(60000));
        if (saved.isEmpty() && rec->messageLabel()->text().contains("tkdstudiorec"))
            QSKIP("PortAudio does not see the ALSA file device here");
        QCOMPARE(finished.at(0).at(0).toInt(), 3);
        QCOMPARE(takes("side-left"), 3);
        QVERIFY(saved.at(0).at(0).toString().endsWith("side-left/side-left-001.wav"));
        QCOMPARE(rec->takeList()->topLevelItemCount(), 1);
        QCOMPARE(rec->takeList()->topLevelItem(0)->childCount(), 3);

        // Delete the second take.
        rec->takeList()->setCurrentItem(rec->takeList()->topLevelItem(0)->child(1));
        rec->deleteButton()->click();
        QCOMPARE(takes("side-left"), 2);
        QCOMPARE(rec->takeList()->topLevelItem(0)->childCount(), 2);

        // A second keyword from another device; then a device that does not exist.
        device = QStringLiteral("tkdstudiorec2");
        rec->setWords(QStringLiteral("front-center"));
        finished.clear();
        rec->recordButton()->click();
        QVERIFY(finished.wait(60000));
        QCOMPARE(takes("front-center"), 3);
        device = QStringLiteral("no-such-mic-xyz");
        rec->setWords(QStringLiteral("side-left"));
        failed.clear();
        finished.clear();
        rec->recordButton()->click();
        QVERIFY(finished.wait(30000));
        QVERIFY(!failed.isEmpty() && failed.last().at(0).toString().contains("no-such-mic-xyz"));
        QCOMPARE(takes("side-left"), 2); // nothing saved lost

        // Adapt: progress, then the Live view switches to the adapted student.
        QSignalSpy progress(rec, &RecordingPanel::adaptProgress);
        QSignalSpy adapted(rec, &RecordingPanel::adapted);
        loaded.clear();
        rec->setAdaptSeconds(20.0);
        rec->adaptButton()->click();
        QVERIFY(rec->cancelButton()->isEnabled());
        QVERIFY(adapted.wait(120000));
        QVERIFY(progress.count() > 0);
        const QString cell = adapted.at(0).at(0).toString();
        QVERIFY(cell.contains("/_adapted/"));
        QVERIFY(loaded.count() > 0 || loaded.wait(30000));
        QCOMPARE(view.modelPath(), cell);
        QVERIFY(loaded.last().at(0).toString().contains("14 classes")); // 12 + 2 new keywords
        QVERIFY(rec->messageLabel()->text().contains("new keywords: front-center, side-left"));
        QCOMPARE(rec->adaptProgressBar()->value(), rec->adaptProgressBar()->maximum());
        // The adapted runs live beside the takes but are not a keyword.
        QCOMPARE(rec->takeList()->topLevelItemCount(), 2);

        // Cancel: the view keeps the adapted student; nothing new is left behind.
        QSignalSpy failedAdapt(rec, &RecordingPanel::failed);
        rec->adaptButton()->click();
        rec->cancelButton()->click();
        QVERIFY(failedAdapt.wait(60000));
        QVERIFY(failedAdapt.last().at(0).toString().contains("cancelled"));
        QCOMPARE(
            QDir(folder() + "/_adapted").entryList(QDir::Dirs | QDir::NoDotAndDotDot).size(), 1);
        QCOMPARE(view.modelPath(), cell);
    }
};

QTEST_MAIN(TestStudioRecord)
#include "tst_studio_record.moc"
