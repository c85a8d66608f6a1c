// tkd-test-labels: e2e audio
// `tkd live` as a user runs it: a run trained here (LiveFixture), a WAV with a keyword at a known
// time streamed from a file and from an ALSA file-backed capture device; detections printed with
// their times; --help, --list and the errors (missing model, bad device, no source) with their
// exit codes.
#include "app/ProcessRun.h"
#include "core/infer/LiveFixture.h"

#include "core/audio/AudioFile.h"
#include "core/infer/LiveModel.h"
#include "core/infer/StreamingClassifier.h"

#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

using namespace tkd;

class TestLiveCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    test::LiveFixture m_fixture;
    test::LiveRecording m_recording;
    QString m_wav;

    struct Run
    {
        int code = -1;
        QString out, err;
    };
    Run tkd(const QStringList &args, int timeoutMs = 120000)
    {
        // HOME: the .asoundrc with the test device.
        const auto r = tkd::test::runTkd(QStringList { "live" } + args,
            { { "HOME", m_tmp.path() }, { "TKD_THREADS", "1" } }, timeoutMs);
        return { r.code, r.out, r.err };
    }

    // "2.00 s  down  0.77  (window ...": the first detection line of the word.
    double detectionTime(const QString &out, const QString &word)
    {
        const QRegularExpression re(
            QStringLiteral("^([0-9.]+) s  %1  ").arg(word), QRegularExpression::MultilineOption);
        const auto m = re.match(out);
        return m.hasMatch() ? m.captured(1).toDouble() : -1.0;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_fixture.build(m_tmp.path().toStdString());
        StreamingClassifier probe(LiveModel::load(m_fixture.runDir, false));
        m_recording = m_fixture.recording(probe, 4.0, 1.5);
        QVERIFY(!m_recording.samples.empty());
        m_wav = m_tmp.filePath("keyword.wav");
        writeWav(m_wav.toStdString(), m_recording.samples);
        // The same recording as a capture device (int16 raw at 16 kHz).
        QVERIFY(test::writeFileCaptureDevice(m_tmp.path(), QStringLiteral("tkdlivecli"), m_wav));
    }

    void help()
    {
        const Run r = tkd({ "--help" });
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("--device") && r.out.contains("--file")
            && r.out.contains("--threshold"));
    }

    void fileDetectsTheKeyword()
    {
        const Run r = tkd({ "--model", QString::fromStdString(m_fixture.runDir), "--file", m_wav });
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        qInfo("%s", qPrintable(r.out.trimmed()));
        const double t = detectionTime(r.out, QString::fromStdString(m_recording.word));
        QVERIFY2(t > 0, qPrintable(r.out));
        // Inside the span where a 1 s window holds the word (plus the default smoothing's delay).
        QVERIFY(t >= m_recording.keywordOnsetSec);
        QVERIFY(t <= m_recording.keywordOffsetSec + 1.0 + 0.5);
        QVERIFY(r.out.contains("summary:") && r.out.contains("x real time"));
        QVERIFY(r.out.contains("teacher:  tiny"));
    }

    void cellAndJson()
    {
        const Run r = tkd({ "--model", QString::fromStdString(m_fixture.cellDir), "--file", m_wav,
            "--json", "--no-teacher", "--smoothing", "none", "--min-duration", "0", "--threshold",
            "0.5" });
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        bool detection = false, summary = false;
        for (const QString &line : r.out.split('\n', Qt::SkipEmptyParts)) {
            const QJsonObject o = QJsonDocument::fromJson(line.toUtf8()).object();
            QVERIFY2(!o.isEmpty(), qPrintable(line));
            if (o["type"] == "detection" && o["label"].toString().toStdString() == m_recording.word)
                detection = true;
            if (o["type"] == "summary") {
                summary = true;
                QCOMPARE(o["teacher_runs"].toInt(), 0);
                QCOMPARE(o["hops"].toInt(), 31); // (4 s - 1 s) / 0.1 s + 1
            }
        }
        QVERIFY(detection && summary);
    }

    void deviceDetectsTheKeyword()
    {
        const Run r = tkd({ "--model", QString::fromStdString(m_fixture.runDir), "--device",
            "tkdlivecli", "--seconds", "3", "--no-teacher" });
        if (r.err.contains("no ALSA")
            || (r.code != 0 && r.err.contains("tkdlivecli") && r.err.contains("not found")))
            QSKIP("PortAudio does not see the ALSA file device here");
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        qInfo("%s", qPrintable(r.out.trimmed()));
        const double t = detectionTime(r.out, QString::fromStdString(m_recording.word));
        QVERIFY2(t >= m_recording.keywordOnsetSec && t <= m_recording.keywordOffsetSec + 1.5,
            qPrintable(r.out));
        QVERIFY(r.out.contains("overflows"));
    }

    void noModelUsesTheDemoStudent()
    {
        // The demo student shipped in resources/students/: a person can speak to `tkd live`
        // before training anything. Here it classifies the fixture's recording as a file.
        const Run r = tkd({ "--file", m_wav, "--no-teacher" });
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        QVERIFY2(r.out.contains("no --model: the demo student shipped with TKD Studio"),
            qPrintable(r.out));
        QVERIFY(r.out.contains("kws12-demo") && r.out.contains("summary:"));
        // A missing file still names the file, not the model.
        const Run missing = tkd({ "--file", "/nonexistent.wav" });
        QVERIFY(missing.code != 0);
        QVERIFY2(missing.err.contains("/nonexistent.wav"), qPrintable(missing.err));
    }

    void listCells()
    {
        const Run r = tkd({ "--model", QString::fromStdString(m_fixture.runDir), "--list" });
        QCOMPARE(r.code, 0);
        QVERIFY(r.out.contains("tc-resnet8-L1-lambda0.25-seed1"));
    }

    void errors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("missing model") << QStringList { "--model", "/nonexistent/run", "--file",
            "x.wav" } << "/nonexistent/run: no such file";
        QTest::newRow("no source") << QStringList { "--model", "RUN" } << "exactly one of --device";
        QTest::newRow("both sources")
            << QStringList { "--model", "RUN", "--device", "a", "--file", "b" } << "exactly one of";
        QTest::newRow("bad device")
            << QStringList { "--model", "RUN", "--device", "no-such-mic-xyz", "--seconds", "1" }
            << "no-such-mic-xyz";
        QTest::newRow("missing file")
            << QStringList { "--model", "RUN", "--file", "/nonexistent.wav" } << "/nonexistent.wav";
        QTest::newRow("bad threshold") << QStringList { "--model", "RUN", "--file", "WAV",
            "--threshold", "2" } << "live.threshold";
        QTest::newRow("bad smoothing") << QStringList { "--model", "RUN", "--file", "WAV",
            "--smoothing", "median" } << "smoothing";
        QTest::newRow("unknown class")
            << QStringList { "--model", "RUN", "--file", "WAV", "--class-threshold", "banana=0.5" }
            << "banana";
        QTest::newRow("not a run")
            << QStringList { "--model", "TMP", "--file", "WAV" } << "neither a run folder";
    }
    void errors()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        args.replaceInStrings(
            QRegularExpression("^RUN$"), QString::fromStdString(m_fixture.runDir));
        args.replaceInStrings(QRegularExpression("^WAV$"), m_wav);
        args.replaceInStrings(QRegularExpression("^TMP$"), m_tmp.path());
        const Run r = tkd(args);
        QVERIFY2(r.code != 0, qPrintable(r.out));
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestLiveCli)
#include "tst_live_cli.moc"
