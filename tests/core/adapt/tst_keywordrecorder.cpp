// tkd-test-labels: unit audio
// Recording personal keywords: the level check and trim (checkTake) on synthetic takes and on a
// real human recording, the folder-per-class set (names, numbering, atomic writes, delete), and
// KeywordRecorder capturing through PortAudio from an ALSA file-backed device.
#include "VoiceFixture.h"

#include "core/adapt/KeywordRecorder.h"
#include "core/audio/AudioFile.h"
#include "core/data/FolderDataset.h"
#include "core/data/KeywordTake.h"
#include "core/data/RecordingSet.h"
#include "core/util/Error.h"

#include <QDir>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <random>

using namespace tkd;

namespace {

// Low noise with a 440 Hz burst of `amplitude` from `onset` for `length` seconds.
std::vector<float> burst(double seconds, double onset, double length, double amplitude)
{
    std::mt19937 rng(3);
    std::normal_distribution<float> noise(0.0f, 0.001f);
    std::vector<float> x(size_t(seconds * kSampleRate));
    for (size_t i = 0; i < x.size(); ++i) {
        const double t = double(i) / kSampleRate;
        x[i] = noise(rng);
        if (t >= onset && t < onset + length)
            x[i] += float(amplitude * std::sin(2.0 * M_PI * 440.0 * t));
    }
    return x;
}

} // namespace

class TestKeywordRecorder : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        qputenv("HOME", m_tmp.path().toUtf8()); // before PortAudio reads ~/.asoundrc
    }

    void trimsToTheWord()
    {
        const KeywordTake t = checkTake(burst(2.0, 0.8, 0.4, 0.3));
        QVERIFY(t.usable());
        QVERIFY(t.warnings.empty());
        QVERIFY(std::abs(t.onsetSec - 0.8) < 0.03);
        QVERIFY(std::abs(t.offsetSec - 1.2) < 0.03);
        // The word plus 0.15 s either side.
        QVERIFY(std::abs(t.trimmedSec() - 0.7) < 0.05);
        QVERIFY(t.speechRmsDb > -20.0 && t.speechRmsDb < -10.0);
    }

    void levelCheck_data()
    {
        QTest::addColumn<double>("amplitude");
        QTest::addColumn<double>("onset");
        QTest::addColumn<bool>("usable");
        QTest::addColumn<bool>("quiet");
        QTest::addColumn<bool>("clipping");
        QTest::addColumn<bool>("cutOff");
        QTest::addColumn<QString>("warning");
        QTest::newRow("good") << 0.3 << 0.8 << true << false << false << false << QString();
        QTest::newRow("too quiet") << 0.008 << 0.8 << true << true << false << false << "too quiet";
        QTest::newRow("clipping") << 1.5 << 0.8 << true << false << true << false << "clipping";
        QTest::newRow("cut off") << 0.3 << 0.0 << true << false << false << true << "cut off";
        QTest::newRow("silence") << 0.0 << 0.8 << false << false << false << false << "no speech";
    }
    void levelCheck()
    {
        QFETCH(double, amplitude);
        QFETCH(double, onset);
        QFETCH(bool, usable);
        QFETCH(bool, quiet);
        QFETCH(bool, clipping);
        QFETCH(bool, cutOff);
        QFETCH(QString, warning);
        std::vector<float> x = burst(2.0, onset, 0.4, amplitude);
        for (float &v : x)
            v = std::clamp(v, -1.0f, 1.0f);
        if (amplitude == 0.0)
            std::fill(x.begin(), x.end(), 0.0f); // digital silence: a muted microphone
        const KeywordTake t = checkTake(x);
        QCOMPARE(t.usable(), usable);
        QCOMPARE(t.tooQuiet, quiet);
        QCOMPARE(t.clipping, clipping);
        QCOMPARE(t.cutOff, cutOff);
        QString all;
        for (const auto &w : t.warnings)
            all += QString::fromStdString(w) + "\n";
        if (warning.isEmpty())
            QVERIFY2(all.isEmpty(), qPrintable(all));
        else
            QVERIFY2(all.contains(warning), qPrintable(all));
    }

    void realVoiceIsTrimmed()
    {
        if (!test::haveVoices())
            QSKIP("alsa-utils / sound-theme-freedesktop recordings are not installed");
        // The recording fills its 1.43 s file; a take has room around the word: a second of
        // silence either side, as a user's take would.
        const std::vector<float> phrase = loadAudio(test::alsaVoice("front-center"));
        std::vector<float> x(16000, 0.0f);
        x.insert(x.end(), phrase.begin(), phrase.end());
        x.insert(x.end(), 16000, 0.0f);
        const KeywordTake t = checkTake(x);
        QVERIFY(t.usable());
        QVERIFY2(t.warnings.empty(), t.warnings.empty() ? "" : t.warnings.front().c_str());
        // Both words kept ("Front" ... "Center"), the silence around them dropped.
        QVERIFY(t.offsetSec - t.onsetSec > 0.5);
        QVERIFY(t.onsetSec > 0.9 && t.offsetSec < 1.0 + phrase.size() / 16000.0 + 0.1);
        QVERIFY(t.trimmed.size() < phrase.size() + 16000);
    }

    void words_data()
    {
        QTest::addColumn<QString>("word");
        QTest::addColumn<bool>("ok");
        QTest::newRow("yes") << "yes" << true;
        QTest::newRow("dash") << "lights-on" << true;
        QTest::newRow("digits") << "x_1" << true;
        QTest::newRow("empty") << "" << false;
        QTest::newRow("slash") << "a/b" << false;
        QTest::newRow("dotdot") << ".." << false;
        QTest::newRow("hidden") << ".yes" << false;
        QTest::newRow("underscore") << "_unknown_" << false;
        QTest::newRow("space") << "a b" << false;
        QTest::newRow("utf8") << "caf\u00e9" << false;
        QTest::newRow("long") << QString(65, 'a') << false;
    }
    void words()
    {
        QFETCH(QString, word);
        QFETCH(bool, ok);
        try {
            RecordingSet::checkWord(word.toStdString(), "--words");
            QVERIFY(ok);
        } catch (const Error &e) {
            QVERIFY2(!ok, e.what());
            QVERIFY(QString::fromUtf8(e.what()).startsWith("--words"));
            QVERIFY(QString::fromUtf8(e.what()).contains("'" + word + "'"));
        }
    }

    void saveListDelete()
    {
        const QString root = m_tmp.filePath("set");
        const RecordingSet set(root.toStdString());
        QVERIFY(set.words().empty());
        const std::vector<float> take = burst(0.7, 0.15, 0.4, 0.3);
        const std::string a = set.save("yes", take);
        const std::string b = set.save("yes", take);
        const std::string c = set.save("no", take);
        QVERIFY(QString::fromStdString(a).endsWith("/yes/yes-001.wav"));
        QVERIFY(QString::fromStdString(b).endsWith("/yes/yes-002.wav"));
        QCOMPARE(set.words(), (std::vector<std::string> { "no", "yes" }));
        QCOMPARE(set.takes("yes").size(), size_t(2));
        QCOMPARE(set.allTakes().size(), size_t(3));
        const AudioInfo info = probeAudio(a);
        QCOMPARE(info.sampleRate, kSampleRate);
        QCOMPARE(info.channels, 1);
        // Only the takes: no temp files left behind.
        QCOMPARE(QDir(root + "/yes").entryList(QDir::Files).size(), 2);
        // FolderDataset reads the set as it is.
        const DatasetIndex idx = FolderDataset::load(root.toStdString());
        QCOMPARE(idx.classes, (std::vector<std::string> { "no", "yes" }));
        QCOMPARE(idx.clips.size(), size_t(3));

        set.remove(a);
        QCOMPARE(set.takes("yes").size(), size_t(1));
        // Numbering goes on after the highest number, never reusing a name.
        QVERIFY(QString::fromStdString(set.save("yes", take)).endsWith("yes-003.wav"));
        set.remove(c);
        QVERIFY(!QDir(root + "/no").exists()); // an emptied word folder goes too
        QVERIFY_THROWS_EXCEPTION(Error, set.remove(m_tmp.filePath("elsewhere.wav").toStdString()));
        QVERIFY_THROWS_EXCEPTION(Error, set.save("a/b", take));
        QVERIFY_THROWS_EXCEPTION(Error, set.save("yes", {}));
    }

    void recordsFromAFileBackedDevice()
    {
        if (!test::haveVoices())
            QSKIP("alsa-utils recordings are not installed");
        QVERIFY(test::writeCaptureDevices(
            m_tmp.path(), { { "tkdrecmic", test::alsaVoice("rear-right") } }));
        KeywordRecorderOptions o;
        o.capture.device = "tkdrecmic";
        o.countdownSec = 0.2;
        o.takeSec = 2.0;
        KeywordRecorder recorder(o);
        std::vector<int> countdown;
        int levels = 0;
        KeywordRecorder::Callbacks cb;
        cb.onCountdown = [&](int left) { countdown.push_back(left); };
        cb.onLevel = [&](float, double) { ++levels; };
        KeywordTake t;
        try {
            t = recorder.record(cb);
        } catch (const Error &e) {
            if (QString::fromUtf8(e.what()).contains("tkdrecmic"))
                QSKIP("PortAudio does not see the ALSA file device here");
            throw;
        }
        QCOMPARE(t.raw.size(), size_t(2 * kSampleRate));
        QVERIFY(t.usable());
        QVERIFY(!countdown.empty() && countdown.back() == 0);
        QVERIFY(levels > 0);
        // The file's own speech, trimmed: the same window checkTake finds offline.
        const KeywordTake offline = checkTake(loadAudio(test::alsaVoice("rear-right")));
        QVERIFY(std::abs(t.onsetSec - offline.onsetSec) < 0.05);
        QVERIFY(std::abs(t.trimmedSec() - offline.trimmedSec()) < 0.1);
    }

    void recorderErrors()
    {
        KeywordRecorderOptions o;
        o.capture.device = "no-such-microphone-xyz";
        o.countdownSec = 0.0;
        try {
            KeywordRecorder(o).record();
            QFAIL("recorded from a device that does not exist");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains("no-such-microphone-xyz"), e.what());
        }
        o.takeSec = 0.1;
        QVERIFY_THROWS_EXCEPTION(Error, KeywordRecorder { o });
        // Cancelled during the countdown: nothing is opened.
        o.takeSec = 2.0;
        o.countdownSec = 5.0;
        std::atomic<bool> cancel { true };
        QVERIFY_THROWS_EXCEPTION(Cancelled, KeywordRecorder(o).record({}, &cancel));
    }
};

QTEST_GUILESS_MAIN(TestKeywordRecorder)
#include "tst_keywordrecorder.moc"
