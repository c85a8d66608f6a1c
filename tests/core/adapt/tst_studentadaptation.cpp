// tkd-test-labels: ml e2e
// Adapting a trained student to a user's recordings, with real human voices: the alsa-utils
// speaker's phrases ("Front Center", "Rear Right", "Side Left"), five takes each, are the user's
// recordings; the freedesktop theme's Vorbis copies of the same recordings are held out (the same
// utterances through another codec, not another voice: VoiceFixture.h). The adapted student must
// load as the Live view loads it, name its new classes, and classify the held-out copies better
// than the student it came from. Bad input (empty folder, bad model, existing output,
// cancel) fails by name and leaves nothing behind.
#include "VoiceFixture.h"

#include "core/adapt/StudentAdaptation.h"
#include "core/data/KeywordTake.h"
#include "core/data/RecordingSet.h"
#include "core/infer/LiveModel.h"
#include "core/infer/StreamingClassifier.h"
#include "core/train/EventLog.h"
#include "core/train/TrainControl.h"
#include "core/util/Error.h"

#include <QDir>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QtTest>

#include <random>

using namespace tkd;

namespace {

// The phrase centred in one window of low noise, classified offline; the top class's name.
std::string classify(StreamingClassifier &c, const std::vector<float> &phrase)
{
    std::mt19937 rng(11);
    std::normal_distribution<float> noise(0.0f, 0.003f);
    std::vector<float> w(size_t(c.windowSamples()));
    for (float &x : w)
        x = noise(rng);
    const long at = (long(w.size()) - long(phrase.size())) / 2;
    for (size_t i = 0; i < phrase.size(); ++i)
        if (at + long(i) >= 0 && at + long(i) < long(w.size()))
            w[size_t(at + long(i))] += phrase[i];
    const std::vector<float> p = c.classifyWindow(w);
    return c.classes()[size_t(std::max_element(p.begin(), p.end()) - p.begin())];
}

int heldOutCorrect(const std::string &model, QStringList &log)
{
    StreamingClassifier c(LiveModel::load(model, false));
    int correct = 0;
    for (const auto &[word, stem] : test::voicePhrases()) {
        const KeywordTake t = checkTake(loadAudio(test::freedesktopVoice(word)));
        const std::string got = classify(c, t.trimmed);
        log << QString::fromStdString(word + " -> " + got);
        correct += got == word;
    }
    return correct;
}

} // namespace

class TestStudentAdaptation : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    test::VoiceRun m_run;
    QString m_recordings;

    AdaptOptions options(const QString &out) const
    {
        AdaptOptions o;
        o.model = m_run.cellDir;
        o.recordings = m_recordings.toStdString();
        o.outDir = m_tmp.filePath(out).toStdString();
        o.budgetSec = 45.0;
        o.rehearsalSpeakers = 30; // the fixture's corpus: no synthesis here
        return o;
    }
    int takeFiles() const
    {
        int n = 0;
        for (const auto &w : RecordingSet(m_recordings.toStdString()).words())
            n += int(RecordingSet(m_recordings.toStdString()).takes(w).size());
        return n;
    }

private Q_SLOTS:
    void initTestCase()
    {
        if (!test::haveVoices())
            QSKIP("alsa-utils / sound-theme-freedesktop recordings are not installed");
        QVERIFY(m_tmp.isValid());
        m_run.build(m_tmp.path().toStdString());
        // Five takes of each phrase: the one speaker a little faster or slower, softer or louder.
        m_recordings = m_tmp.filePath("recordings");
        const RecordingSet set(m_recordings.toStdString());
        const double speeds[] = { 0.92, 0.96, 1.0, 1.04, 1.08 };
        const double gains[] = { 0.6, 1.0, 1.4, 0.8, 1.2 };
        for (const auto &[word, stem] : test::voicePhrases())
            for (int k = 0; k < 5; ++k) {
                const KeywordTake t
                    = checkTake(test::variantTake(test::alsaVoice(word), speeds[k], gains[k]));
                QVERIFY(t.usable());
                set.save(word, t.trimmed);
            }
        QCOMPARE(takeFiles(), 15);
    }

    void adaptsToNewKeywords()
    {
        QStringList before, after;
        const int correctBefore = heldOutCorrect(m_run.cellDir, before);
        QElapsedTimer timer;
        timer.start();
        const AdaptResult r = StudentAdaptation(options("adapted")).run();
        const double wall = timer.elapsed() / 1000.0;
        qInfo("adapted in %.1f s, %d epochs; held-out takes %.2f -> %.2f, built-in %.2f -> %.2f",
            wall, r.epochs, r.recordedBefore, r.recordedAfter, r.rehearsalBefore, r.rehearsalAfter);
        QVERIFY2(wall < 45.0 + 10.0, qPrintable(QString::number(wall)));
        QCOMPARE(
            r.newWords, (std::vector<std::string> { "front-center", "rear-right", "side-left" }));
        QCOMPARE(r.classes.size(), size_t(15)); // 12 + 3
        QCOMPARE(r.recordedTakes, int64_t(15));
        QVERIFY(r.epochs >= 1);

        // A run folder the Live view opens: classes named, the teacher along.
        for (const char *f :
            { "config.yaml", "provenance.json", "adaptation.json", "events.jsonl" })
            QVERIFY2(QFile::exists(QString::fromStdString(r.runDir) + "/" + f), f);
        const auto model = LiveModel::load(r.runDir);
        QCOMPARE(model->info().classes, r.classes);
        QCOMPARE(model->info().cell.checkpoint, r.checkpoint);
        QVERIFY(model->hasTeacher());
        const auto events = readEventLog(r.runDir + "/events.jsonl");
        QVERIFY(!events.empty() && events.back().type == Event::Type::Done);

        // The held-out copies: better than before (the source student cannot name these phrases
        // at all), and most of them right.
        const int correctAfter = heldOutCorrect(r.runDir, after);
        qInfo("held-out copies before: %s", qPrintable(before.join(", ")));
        qInfo("held-out copies after:  %s", qPrintable(after.join(", ")));
        QVERIFY2(correctAfter > correctBefore, qPrintable(after.join(", ")));
        QVERIFY2(correctAfter >= 2, qPrintable(after.join(", ")));
        QVERIFY(r.recordedAfter > r.recordedBefore);
        // The old keywords still work about as well.
        QVERIFY2(r.rehearsalAfter >= r.rehearsalBefore - 0.15,
            qPrintable(QString("%1 -> %2").arg(r.rehearsalBefore).arg(r.rehearsalAfter)));

        // Adapting the adapted student again: its own class names carry over.
        AdaptOptions again = options("again");
        again.model = r.runDir;
        again.budgetSec = 10.0;
        again.maxEpochs = 1;
        const AdaptResult r2 = StudentAdaptation(again).run();
        QCOMPARE(r2.classes, r.classes);
        QVERIFY(r2.newWords.empty());
    }

    void badInput_data()
    {
        QTest::addColumn<QString>("what");
        QTest::addColumn<QString>("message");
        QTest::newRow("empty folder") << "empty"
                                      << "holds no recordings";
        QTest::newRow("missing folder") << "missing"
                                        << "no such recordings folder";
        QTest::newRow("bad model") << "model"
                                   << "no such file or folder";
        QTest::newRow("not a model") << "notmodel"
                                     << "neither a run folder";
        QTest::newRow("output exists") << "exists"
                                       << "already exists and is not empty";
        QTest::newRow("bad word folder") << "badword"
                                         << "contains ' '";
        QTest::newRow("unreadable take") << "badtake"
                                         << "cannot be read as audio";
    }
    void badInput()
    {
        QFETCH(QString, what);
        QFETCH(QString, message);
        AdaptOptions o = options("bad-" + what);
        QDir(m_tmp.path()).mkpath("empty-recordings");
        if (what == "empty")
            o.recordings = m_tmp.filePath("empty-recordings").toStdString();
        else if (what == "missing")
            o.recordings = m_tmp.filePath("no-such-recordings").toStdString();
        else if (what == "model")
            o.model = m_tmp.filePath("no-such-run").toStdString();
        else if (what == "notmodel")
            o.model = m_recordings.toStdString();
        else if (what == "exists") {
            QDir(m_tmp.path()).mkpath("bad-exists");
            QFile f(m_tmp.filePath("bad-exists/keep.txt"));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("mine");
        } else if (what == "badword" || what == "badtake") {
            const QString dir
                = m_tmp.filePath("odd-recordings/" + QString(what == "badword" ? "a b" : "yes"));
            QDir().mkpath(dir);
            QFile f(dir + "/take.wav");
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write("not audio");
            o.recordings = m_tmp.filePath("odd-recordings").toStdString();
        }
        try {
            StudentAdaptation(o).run();
            QFAIL("adapted from bad input");
        } catch (const Error &e) {
            QVERIFY2(QString::fromUtf8(e.what()).contains(message), e.what());
        }
        if (what == "exists")
            QVERIFY(QFile::exists(m_tmp.filePath("bad-exists/keep.txt"))); // nothing overwritten
        else
            QVERIFY(!QDir(QString::fromStdString(o.outDir)).exists()); // nothing half-made
        QDir(m_tmp.filePath("odd-recordings")).removeRecursively();
        QCOMPARE(takeFiles(), 15); // the recordings are only read
    }

    void cancelLeavesNothing()
    {
        TrainControl control;
        control.requestCancel();
        const AdaptOptions o = options("cancelled");
        QVERIFY_THROWS_EXCEPTION(Cancelled, StudentAdaptation(o, nullptr, &control).run());
        QVERIFY(!QDir(QString::fromStdString(o.outDir)).exists());
        QCOMPARE(takeFiles(), 15);
    }
};

QTEST_GUILESS_MAIN(TestStudentAdaptation)
#include "tst_studentadaptation.moc"
