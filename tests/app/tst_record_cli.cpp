// tkd-test-labels: e2e audio
// `tkd record` and `tkd adapt` as a user runs them: a real voice (alsa-utils' recordings) comes in
// through ALSA file-backed capture devices, lands trimmed in DIR/<word>/, and a student trained
// here is adapted to it in a new run folder that `tkd live` uses; the errors (a keyword that
// cannot name a folder, no such microphone, an empty folder, a bad model, an existing output)
// name what is wrong and lose nothing.
#include "app/ProcessRun.h"
#include "core/adapt/VoiceFixture.h"

#include "core/audio/AudioFile.h"
#include "core/data/KeywordTake.h"
#include "core/data/RecordingSet.h"

#include <QDir>
#include <QElapsedTimer>
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

using namespace tkd;

class TestRecordCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    test::VoiceRun m_run;
    bool m_haveDevices = false;

    struct Run
    {
        int code = -1;
        QString out, err;
        double seconds = 0.0;
    };
    Run tkd(const QStringList &args, int timeoutMs = 180000)
    {
        QElapsedTimer t;
        t.start();
        // HOME: the .asoundrc with the test devices.
        const auto r = tkd::test::runTkd(
            args, { { "HOME", m_tmp.path() }, { "TKD_THREADS", "2" } }, timeoutMs);
        return { r.code, r.out, r.err, t.elapsed() / 1000.0 };
    }
    QString recordings() const { return m_tmp.filePath("recordings"); }

private Q_SLOTS:
    void initTestCase()
    {
        if (!test::haveVoices())
            QSKIP("alsa-utils / sound-theme-freedesktop recordings are not installed");
        QVERIFY(m_tmp.isValid());
        std::map<QString, std::string> devices;
        for (const auto &[word, stem] : test::voicePhrases())
            devices[QString::fromStdString("tkdrec-" + word)] = test::alsaVoice(word);
        QVERIFY(test::writeCaptureDevices(m_tmp.path(), devices));
        m_run.build(m_tmp.filePath("fixture").toStdString());
    }

    void recordsEachWordIntoItsFolder()
    {
        for (const auto &[word, stem] : test::voicePhrases()) {
            const QString w = QString::fromStdString(word);
            const Run r = tkd({ "record", "--out", recordings(), "--words", w, "--count", "3",
                "--device", "tkdrec-" + w, "--countdown", "0", "--seconds", "2" });
            if (r.code != 0 && r.err.contains("tkdrec-") && r.err.contains("not found"))
                QSKIP("PortAudio does not see the ALSA file devices here");
            QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
            QVERIFY2(r.out.contains("saved ") && r.out.contains("dBFS"), qPrintable(r.out));
            const auto takes = RecordingSet(recordings().toStdString()).takes(word);
            QCOMPARE(takes.size(), size_t(3));
            QVERIFY(QString::fromStdString(takes[0].name) == w + "-001.wav");
            // 16 kHz mono, trimmed to the phrase: shorter than the 2 s taken, as long as the
            // offline trim of the same recording.
            const AudioInfo info = probeAudio(takes[0].path);
            QCOMPARE(info.sampleRate, kSampleRate);
            QCOMPARE(info.channels, 1);
            const KeywordTake offline = checkTake(loadAudio(test::alsaVoice(word)));
            QVERIFY2(std::abs(takes[0].seconds - offline.trimmedSec()) < 0.1,
                qPrintable(QString("%1 vs %2").arg(takes[0].seconds).arg(offline.trimmedSec())));
        }
        m_haveDevices = true;
    }

    void adaptsAndLiveUsesIt()
    {
        if (!m_haveDevices)
            QSKIP("no recordings (the devices were not available)");
        const QString out = m_tmp.filePath("adapted");
        const Run r = tkd({ "adapt", "--model", QString::fromStdString(m_run.runDir), "--data",
            recordings(), "--out", out, "--seconds", "30" });
        QVERIFY2(r.code == 0, qPrintable(r.out + r.err));
        qInfo("%s(%.1f s wall)", qPrintable(r.out), r.seconds);
        QVERIFY(r.out.contains("new: front-center rear-right side-left"));
        QVERIFY(r.out.contains("tkd live --model " + out));
        QVERIFY(r.seconds < 30.0 + 15.0); // the budget, plus process start and model loading
        QVERIFY(QFile::exists(out + "/adaptation.json"));

        // tkd live loads it and names the new keyword: the Vorbis copy of the "Rear Right"
        // recording.
        const std::vector<float> phrase
            = checkTake(loadAudio(test::freedesktopVoice("rear-right"))).trimmed;
        std::vector<float> clip(size_t(3 * kSampleRate), 0.0f);
        for (size_t i = 0; i < phrase.size() && i + kSampleRate / 2 < clip.size(); ++i)
            clip[i + kSampleRate / 2] = phrase[i];
        const QString wav = m_tmp.filePath("rear-right.wav");
        writeWav(wav.toStdString(), clip);
        const Run live = tkd({ "live", "--model", out, "--file", wav, "--hops", "--no-teacher" });
        QVERIFY2(live.code == 0, qPrintable(live.out + live.err));
        QVERIFY2(live.out.contains("classes:  15"), qPrintable(live.out));
        qInfo("%s", qPrintable(live.out));
    }

    void errors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("bad word") << QStringList { "record", "--out", "REC", "--words", "yes,a/b",
            "--countdown", "0" } << "--words: 'a/b' contains '/'";
        QTest::newRow("word twice")
            << QStringList { "record", "--out", "REC", "--words", "yes,yes" } << "listed twice";
        QTest::newRow("no such microphone") << QStringList { "record", "--out", "REC", "--words",
            "yes", "--device", "no-such-mic-xyz", "--countdown", "0" }
                                            << "no-such-mic-xyz";
        QTest::newRow("empty folder") << QStringList { "adapt", "--model", "RUN", "--data", "EMPTY",
            "--out", "OUT" } << "holds no recordings";
        QTest::newRow("bad model") << QStringList { "adapt", "--model", "/nonexistent/run",
            "--data", "REC", "--out", "OUT" }
                                   << "/nonexistent/run: no such file";
        QTest::newRow("output exists") << QStringList { "adapt", "--model", "RUN", "--data", "REC",
            "--out", "REC" } << "already exists and is not empty";
        QTest::newRow("no data") << QStringList { "adapt", "--model", "RUN", "--out", "OUT" }
                                 << "--data is required";
    }
    void errors()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        QDir(m_tmp.path()).mkpath("empty");
        const int before = int(RecordingSet(recordings().toStdString()).allTakes().size());
        args.replaceInStrings(QRegularExpression("^RUN$"), QString::fromStdString(m_run.runDir));
        args.replaceInStrings(QRegularExpression("^REC$"), recordings());
        args.replaceInStrings(QRegularExpression("^EMPTY$"), m_tmp.filePath("empty"));
        args.replaceInStrings(QRegularExpression("^OUT$"), m_tmp.filePath("never-made"));
        const Run r = tkd(args);
        QVERIFY2(r.code != 0, qPrintable(r.out));
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QVERIFY(!QDir(m_tmp.filePath("never-made")).exists());
        QCOMPARE(int(RecordingSet(recordings().toStdString()).allTakes().size()), before);
    }
};

QTEST_GUILESS_MAIN(TestRecordCli)
#include "tst_record_cli.moc"
