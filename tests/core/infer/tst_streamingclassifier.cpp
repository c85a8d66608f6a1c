// tkd-test-labels: ml audio e2e
// The streaming classifier end to end: a tiny run trained here (LiveFixture), a recording with a
// keyword at a known time replayed through the real PortAudio path from an ALSA file-backed
// capture device, and the same recording classified offline window by window. Streaming and
// offline posteriors must agree, and the detection must come at the hop where the offline
// posteriors first cross the threshold. Real human speech (Debian's ALSA test recordings and the
// freedesktop sound theme) goes through the same path.
#include "LiveFixture.h"

#include "core/audio/AudioFile.h"
#include "core/audio/PortAudioSession.h"
#include "core/infer/LiveModel.h"
#include "core/infer/LiveSession.h"
#include "core/infer/StreamingClassifier.h"
#include "core/util/Error.h"

#include <QDir>
#include <QElapsedTimer>
#include <QFile>
#include <QProcess>
#include <QThread>
#include <QtTest>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <limits>
#include <mutex>
#include <numeric>

using namespace tkd;

namespace {

QString fileDevice(const QString &name, const QString &infile)
{
    return QStringLiteral("pcm.%1 {\n  type file\n  slave.pcm \"null\"\n  file \"/dev/null\"\n"
                          "  infile \"%2\"\n  format \"raw\"\n"
                          "  hint { show on description \"TKD live test microphone %1\" }\n}\n")
        .arg(name, infile);
}

// What the int16 device delivers for these samples: x quantised to 16 bits, read back as s/32768.
std::vector<int16_t> toInt16(const std::vector<float> &x)
{
    std::vector<int16_t> out(x.size());
    for (size_t i = 0; i < x.size(); ++i)
        out[i] = int16_t(std::clamp<long>(std::lround(double(x[i]) * 32768.0), -32768, 32767));
    return out;
}
std::vector<float> fromInt16(const std::vector<int16_t> &x)
{
    std::vector<float> out(x.size());
    for (size_t i = 0; i < x.size(); ++i)
        out[i] = float(x[i]) / 32768.0f;
    return out;
}
bool writeRaw(const QString &path, const std::vector<int16_t> &s)
{
    QFile f(path);
    return f.open(QIODevice::WriteOnly)
        && f.write(reinterpret_cast<const char *>(s.data()), qint64(s.size() * 2))
        == qint64(s.size() * 2);
}

struct Collected
{
    std::mutex mutex;
    std::vector<StreamingResult> results;
    std::vector<Detection> detections;
    std::vector<std::string> errors;
    LiveStatus status;
    int spectrogramFrames = 0;
};

LiveSession::Callbacks collect(Collected &c)
{
    LiveSession::Callbacks cb;
    cb.onUpdate = [&c](const LiveUpdate &u) {
        std::lock_guard<std::mutex> l(c.mutex);
        c.spectrogramFrames += int(u.spectrogram.size());
        if (u.result.hop >= 0)
            c.results.push_back(u.result);
    };
    cb.onDetection = [&c](const Detection &d) {
        std::lock_guard<std::mutex> l(c.mutex);
        c.detections.push_back(d);
    };
    cb.onStatus = [&c](const LiveStatus &s) {
        std::lock_guard<std::mutex> l(c.mutex);
        c.status = s;
    };
    cb.onError = [&c](const std::string &e) {
        std::lock_guard<std::mutex> l(c.mutex);
        c.errors.push_back(e);
    };
    return cb;
}

std::string topLabels(const std::vector<float> &p, const std::vector<std::string> &names, int k = 3)
{
    std::vector<size_t> order(p.size());
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return p[a] > p[b]; });
    std::string s;
    for (int i = 0; i < k && i < int(order.size()); ++i) {
        char buf[64];
        std::snprintf(buf, sizeof buf, "%s%s %.2f", i ? ", " : "", names[order[size_t(i)]].c_str(),
            p[order[size_t(i)]]);
        s += buf;
    }
    return s;
}

} // namespace

class TestStreamingClassifier : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    test::LiveFixture m_fixture;
    std::shared_ptr<LiveModel> m_model;
    test::LiveRecording m_recording;
    std::vector<float> m_quantised; // what the int16 device delivers
    bool m_haveDevices = false;
    bool m_haveLeft = false;

    StreamingOptions exactOptions() const
    {
        StreamingOptions o;
        o.smoothing = PosteriorSmoothing::None;
        o.minDurationSec = 0.0;
        o.threshold = 0.5;
        return o;
    }

    // Offline reference: every hop-aligned window of `samples`, classified alone.
    std::vector<std::vector<float>> offline(
        StreamingClassifier &c, const std::vector<float> &samples)
    {
        std::vector<std::vector<float>> out;
        const int64_t w = c.windowSamples(), hop = int64_t(std::llround(c.hopSec() * kSampleRate));
        for (int64_t start = 0; start + w <= int64_t(samples.size()); start += hop)
            out.push_back(c.classifyWindow(
                std::vector<float>(samples.begin() + start, samples.begin() + start + w)));
        return out;
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        // ALSA reads ~/.asoundrc when PortAudio first initialises: HOME must point at the test's
        // folder before anything touches PortAudio.
        qputenv("HOME", m_tmp.path().toUtf8());
        QElapsedTimer t;
        t.start();
        m_fixture.build(m_tmp.path().toStdString());
        qInfo("fixture run trained in %.1f s: %s", t.elapsed() / 1000.0, m_fixture.runDir.c_str());
        m_model = LiveModel::load(m_fixture.runDir);
        StreamingClassifier probe(m_model);
        m_recording = m_fixture.recording(probe, 4.0, 1.5);
        QVERIFY2(!m_recording.samples.empty(),
            "the fixture student recognises no training keyword clip at 0.8");
        qInfo("test recording: '%s' (%s), spoken %.3f-%.3f s of 4 s", m_recording.word.c_str(),
            m_recording.sourcePath.c_str(), m_recording.keywordOnsetSec,
            m_recording.keywordOffsetSec);
        const std::vector<int16_t> pcm = toInt16(m_recording.samples);
        m_quantised = fromInt16(pcm);
        QVERIFY(writeRaw(m_tmp.filePath("keyword.raw"), pcm));
        QString rc = fileDevice("tkdlive", m_tmp.filePath("keyword.raw"));
        const QString left = "/usr/share/sounds/alsa/Front_Left.wav";
        if (QFile::exists(left)
            && QProcess::execute("sox",
                   { left, "-r", "16000", "-c", "1", "-b", "16", "-e", "signed", "-t", "raw",
                       m_tmp.filePath("left.raw") })
                == 0) {
            rc += fileDevice("tkdleft", m_tmp.filePath("left.raw"));
            m_haveLeft = true;
        }
        QFile f(m_tmp.filePath(".asoundrc"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(rc.toUtf8());
        f.close();
        for (const auto &d : listAudioDevices())
            m_haveDevices |= d.name == "tkdlive";
    }

    void resolvesRunsAndCells()
    {
        const LiveModelInfo byRun = resolveLiveModel(m_fixture.runDir);
        const LiveModelInfo byCell = resolveLiveModel(m_fixture.cellDir);
        QCOMPARE(byRun.cell.name, byCell.cell.name);
        QCOMPARE(byRun.cell.student, std::string("tc-resnet8"));
        QCOMPARE(byRun.windowSec, 1.0);
        QVERIFY(std::filesystem::exists(byRun.teacherCheckpoint));
        QCOMPARE(m_model->info().classes.size(), size_t(12));
        QCOMPARE(m_model->info().classes[10], std::string("_unknown_"));
        QVERIFY(m_model->hasTeacher());
        QCOMPARE(m_model->studentAttentionSource(), std::string("branch"));
        StreamingClassifier c(m_model);
        QCOMPARE(c.windowFrames(), int64_t(49));
        QCOMPARE(c.hopFrames(), int64_t(5));
        QCOMPARE(c.windowSamples(), int64_t(16000) - 320 + 320); // 48 hops of 320 + one 640 window

        auto expectError = [](const std::string &path, const char *needle) {
            try {
                resolveLiveModel(path);
                QFAIL(("no error for " + path).c_str());
            } catch (const Error &e) {
                QVERIFY2(std::string(e.what()).find(needle) != std::string::npos, e.what());
            }
        };
        expectError(m_tmp.filePath("missing").toStdString(), "no such file");
        expectError(m_tmp.path().toStdString(), "neither a run folder");
        expectError("", "no model given");
    }

    // Chunks of any size give the same hops, and each hop equals the offline classification
    // of its window.
    void streamingMatchesOffline()
    {
        StreamingClassifier c(m_model, exactOptions());
        const auto reference = offline(c, m_quantised);
        std::mt19937 rng(3);
        std::uniform_int_distribution<size_t> chunk(1, 2000);
        std::vector<StreamingResult> results;
        for (size_t pos = 0; pos < m_quantised.size();) {
            const size_t n = std::min(chunk(rng), m_quantised.size() - pos);
            for (auto &r : c.push(m_quantised.data() + pos, n))
                results.push_back(std::move(r));
            pos += n;
        }
        QCOMPARE(results.size(), reference.size());
        double worst = 0.0;
        for (size_t h = 0; h < results.size(); ++h) {
            QCOMPARE(results[h].hop, int64_t(h));
            QCOMPARE(results[h].timeSec, c.windowSec() + double(h) * c.hopSec());
            for (size_t k = 0; k < reference[h].size(); ++k)
                worst
                    = std::max(worst, double(std::abs(results[h].posteriors[k] - reference[h][k])));
        }
        qInfo("streaming vs offline, %zu windows: max |posterior difference| = %.2g",
            results.size(), worst);
        QVERIFY(worst < 1e-5);
    }

    // The real PortAudio path: the file-backed device replays the recording; the session's
    // hops agree with offline classification, and the keyword is detected at the hop where the
    // offline posterior first crosses the threshold, inside the physically possible span.
    void detectsKeywordThroughTheDevice()
    {
        if (!m_haveDevices)
            QSKIP("PortAudio does not list the ALSA file device (no ALSA host API?)");
        Collected got;
        LiveSession session(m_model, exactOptions(), collect(got));
        CaptureOptions cap;
        cap.device = "tkdlive";
        cap.ringSeconds = 30.0; // the file device is not paced: the whole file arrives at once
        session.startDevice(cap);
        const double length = double(m_quantised.size()) / kSampleRate;
        QTRY_VERIFY_WITH_TIMEOUT(session.lastStatus().streamSec > length + 0.5, 30000);
        session.stop();
        std::lock_guard<std::mutex> l(got.mutex);
        QVERIFY2(got.errors.empty(), got.errors.empty() ? "" : got.errors.front().c_str());

        StreamingClassifier ref(m_model, exactOptions());
        const auto reference = offline(ref, m_quantised);
        QVERIFY(got.results.size() >= reference.size());
        double worst = 0.0;
        for (size_t h = 0; h < reference.size(); ++h)
            for (size_t k = 0; k < reference[h].size(); ++k)
                worst = std::max(
                    worst, double(std::abs(got.results[h].posteriors[k] - reference[h][k])));
        qInfo("device path vs offline over %zu windows: max |posterior difference| = %.2g",
            reference.size(), worst);
        QVERIFY(worst < 1e-4);
        QVERIFY(got.spectrogramFrames >= int(ref.windowFrames()));

        // Where the offline posteriors first say "keyword" (threshold 0.5, no smoothing).
        int expectedHop = -1;
        for (size_t h = 0; h < reference.size() && expectedHop < 0; ++h)
            if (reference[h][size_t(m_recording.classIndex)] >= 0.5)
                expectedHop = int(h);
        QVERIFY(expectedHop >= 0);
        const double expectedSec = ref.windowSec() + expectedHop * ref.hopSec();
        std::vector<Detection> inFile;
        for (const auto &d : got.detections)
            if (d.timeSec <= length)
                inFile.push_back(d);
        QVERIFY2(!inFile.empty(), "no detection inside the recording");
        const Detection &d = inFile.front();
        qInfo("detected '%s' at %.2f s (score %.2f, attention peak %.2f s); offline crossing at "
              "%.2f s; "
              "word spoken %.2f-%.2f s",
            d.label.c_str(), d.timeSec, d.score, d.peakSec, expectedSec,
            m_recording.keywordOnsetSec, m_recording.keywordOffsetSec);
        QCOMPARE(d.label, m_recording.word);
        QVERIFY(std::abs(d.timeSec - expectedSec) <= ref.hopSec() + 1e-9);
        // A window can only hold the word between its onset and its offset plus one window.
        QVERIFY(d.timeSec >= m_recording.keywordOnsetSec);
        QVERIFY(d.timeSec <= m_recording.keywordOffsetSec + ref.windowSec() + ref.hopSec());
        // The unpaced device overruns the ring once the file is over; the counts are reported.
        qInfo("capture: %llu ring overflows (%llu frames dropped) after the file ran out",
            (unsigned long long)got.status.overflows, (unsigned long long)got.status.droppedFrames);
    }

    // Default smoothing (EMA) and minimum duration delay the detection by a few hops, never
    // more; the keyword is reported once (re-arm + refractory); attention curves share the
    // window's time axis; the teacher runs every hop unless limited.
    void defaultsSmoothAttentionAndTeacherRate()
    {
        StreamingClassifier exact(m_model, exactOptions());
        double exactSec = -1;
        for (const auto &r : exact.push(m_quantised))
            for (const auto &d : r.detections)
                if (d.label == m_recording.word && exactSec < 0)
                    exactSec = d.timeSec;
        QVERIFY(exactSec > 0);

        StreamingClassifier c(m_model); // defaults: EMA 0.2 s, threshold 0.6, 0.2 s, refractory 1 s
        const auto results = c.push(m_quantised);
        std::vector<Detection> dets;
        for (const auto &r : results) {
            dets.insert(dets.end(), r.detections.begin(), r.detections.end());
            QCOMPARE(int64_t(r.student.weights.size()), c.windowFrames());
            QCOMPARE(int64_t(r.teacher.weights.size()), c.windowFrames());
            QVERIFY(r.teacherFresh);
            QCOMPARE(r.student.startSec, r.windowStartSec);
            QCOMPARE(r.teacher.endSec, r.timeSec);
            QVERIFY(
                std::abs(
                    std::accumulate(r.student.weights.begin(), r.student.weights.end(), 0.0) - 1.0)
                < 1e-4);
            QVERIFY(
                std::abs(
                    std::accumulate(r.teacher.weights.begin(), r.teacher.weights.end(), 0.0) - 1.0)
                < 1e-4);
            float sum = 0;
            for (float p : r.smoothed)
                sum += p;
            QVERIFY(std::abs(sum - 1.0f) < 1e-4f);
        }
        int keyword = 0;
        for (const auto &d : dets)
            keyword += d.label == m_recording.word;
        qInfo("defaults: %zu detection(s); first '%s' at %.2f s (exact settings: %.2f s)",
            dets.size(), dets.empty() ? "-" : dets.front().label.c_str(),
            dets.empty() ? -1.0 : dets.front().timeSec, exactSec);
        if (keyword == 0)
            QSKIP("the smoothed posterior of this clip stays under the default threshold 0.6");
        QCOMPARE(keyword, 1);
        const Detection &d = *std::find_if(dets.begin(), dets.end(),
            [&](const Detection &x) { return x.label == m_recording.word; });
        QVERIFY(d.timeSec >= exactSec - 1e-9);
        QVERIFY(d.timeSec <= exactSec + 4 * c.hopSec() + 1e-9);

        const auto &teacherAt
            = results[size_t(std::min<int64_t>(d.hop, int64_t(results.size()) - 1))];
        qInfo("attention at the detection: student peak %.2f s, teacher peak %.2f s, word "
              "%.2f-%.2f s; "
              "student %.2f ms, teacher %.2f ms per hop",
            teacherAt.student.peakSec(), teacherAt.teacher.peakSec(), m_recording.keywordOnsetSec,
            m_recording.keywordOffsetSec, teacherAt.studentMs, teacherAt.teacherMs);

        // Rate limit: one teacher run per 0.3 s = every third hop; its curve keeps its own window.
        StreamingOptions o;
        o.teacherIntervalSec = 0.3;
        StreamingClassifier limited(m_model, o);
        const auto lr = limited.push(m_quantised);
        for (const auto &r : lr) {
            QCOMPARE(r.teacherFresh, r.hop % 3 == 0);
            QCOMPARE(r.teacherEvery, 3);
            QCOMPARE(r.teacher.endSec,
                limited.windowSec() + double(r.hop - r.hop % 3) * limited.hopSec());
        }
        // Turned off: no teacher curve.
        o.teacher = false;
        StreamingClassifier none(m_model, o);
        for (const auto &r : none.push(m_quantised))
            QVERIFY(r.teacher.weights.empty());
    }

    void realSpeechGoesThroughTheLivePath_data()
    {
        QTest::addColumn<QString>("path");
        QTest::addColumn<bool>("device");
        QTest::newRow("alsa Front_Left via device")
            << "/usr/share/sounds/alsa/Front_Left.wav" << true;
        QTest::newRow("alsa Front_Right") << "/usr/share/sounds/alsa/Front_Right.wav" << false;
        QTest::newRow("alsa Rear_Center") << "/usr/share/sounds/alsa/Rear_Center.wav" << false;
        QTest::newRow("freedesktop front-left")
            << "/usr/share/sounds/freedesktop/stereo/audio-channel-front-left.oga" << false;
        QTest::newRow("freedesktop side-right")
            << "/usr/share/sounds/freedesktop/stereo/audio-channel-side-right.oga" << false;
    }
    void realSpeechGoesThroughTheLivePath()
    {
        QFETCH(QString, path);
        QFETCH(bool, device);
        if (!QFile::exists(path))
            QSKIP("recording not installed");
        if (device && (!m_haveDevices || !m_haveLeft))
            QSKIP("no file-backed device (sox or ALSA missing)");
        Collected got;
        LiveSession session(m_model, StreamingOptions(), collect(got));
        const double length = device
            ? double(QFileInfo(m_tmp.filePath("left.raw")).size() / 2) / kSampleRate
            : probeAudio(path.toStdString()).durationSec();
        if (device) {
            CaptureOptions cap;
            cap.device = "tkdleft";
            cap.ringSeconds = 30.0;
            session.startDevice(cap);
            QTRY_VERIFY_WITH_TIMEOUT(session.lastStatus().streamSec > length, 30000);
            session.stop();
        } else {
            session.startFile(path.toStdString(), /*realTime=*/false);
            session.wait();
        }
        std::lock_guard<std::mutex> l(got.mutex);
        QVERIFY(got.errors.empty());
        QVERIFY(!got.results.empty());
        const auto &names = session.classes();
        // The window where the student is most sure of anything that is not unknown/silence.
        const StreamingResult *best = &got.results.front();
        for (const auto &r : got.results) {
            if (device && r.timeSec > length)
                break;
            QCOMPARE(r.posteriors.size(), names.size());
            QVERIFY(std::abs(std::accumulate(r.posteriors.begin(), r.posteriors.end(), 0.0) - 1.0)
                < 1e-4);
            if (r.topScore > best->topScore)
                best = &r;
        }
        std::string dets;
        for (const auto &d : got.detections)
            if (!device || d.timeSec <= length)
                dets += (dets.empty() ? "" : ", ") + d.label + "@"
                    + QString::number(d.timeSec, 'f', 2).toStdString();
        qInfo("%s (%.2f s): %zu hops; most confident window ending %.2f s: %s; detections: %s",
            qPrintable(QFileInfo(path).fileName()), length, got.results.size(), best->timeSec,
            topLabels(best->smoothed, names).c_str(), dets.empty() ? "none" : dets.c_str());
    }

    void recordsTheLastSeconds()
    {
        Collected got;
        LiveSession session(m_model, StreamingOptions(), collect(got));
        QVERIFY_THROWS_EXCEPTION(
            Error, session.saveRecent(m_tmp.filePath("rec").toStdString(), "false-trigger", 2.0));
        session.startSamples(m_quantised, "keyword", false);
        session.wait();
        const std::string wav
            = session.saveRecent(m_tmp.filePath("rec").toStdString(), "false-trigger", 2.0);
        QVERIFY2(QString::fromStdString(wav).startsWith(
                     m_tmp.filePath("rec/false-trigger/false-trigger-")),
            wav.c_str());
        const std::vector<float> back = loadAudio(wav);
        QCOMPARE(back.size(), size_t(2 * kSampleRate));
        // The end of the recording, as 16-bit PCM.
        for (size_t i = 0; i < back.size(); i += 997)
            QVERIFY(std::abs(back[i] - m_quantised[m_quantised.size() - back.size() + i])
                < 1.0f / 16384);
        QVERIFY_THROWS_EXCEPTION(
            Error, session.saveRecent(m_tmp.filePath("rec").toStdString(), "../x", 1.0));
    }

    void badDeviceIsNamed()
    {
        LiveSession session(m_model, StreamingOptions(), {});
        CaptureOptions cap;
        cap.device = "no-such-microphone-xyz";
        try {
            session.startDevice(cap);
            QFAIL("no error");
        } catch (const Error &e) {
            QVERIFY2(std::string(e.what()).find("no-such-microphone-xyz") != std::string::npos,
                e.what());
        }
        QVERIFY(!session.isRunning());
    }

    // Digital silence is far below any corpus's noise floor, and a student answers it with an
    // arbitrary keyword (issue 17: a false "up" at 1.00 after the audio ended). A window below
    // the silence floor is "_silence_" without running the model; the keyword still fires.
    void digitalSilenceIsSilence()
    {
        const size_t second = 16000;
        std::vector<float> stream(3 * second, 0.0f);
        stream.insert(stream.end(), m_quantised.begin(), m_quantised.end());
        stream.insert(stream.end(), 3 * second, 0.0f);
        const auto &names = m_model->info().classes;
        const int silence = int(std::find(names.begin(), names.end(), "_silence_") - names.begin());
        QVERIFY(silence < int(names.size()));

        StreamingClassifier gated(m_model, exactOptions());
        int belowFloor = 0, keywordHits = 0;
        for (const auto &r : gated.push(stream)) {
            const bool allZero = r.windowStartSec + 1e-9 >= 3.0 + 4.0 || r.timeSec <= 3.0 + 1e-9;
            QCOMPARE(r.belowFloor, allZero); // the recording's own noise is above the floor
            if (r.belowFloor) {
                ++belowFloor;
                QCOMPARE(r.topClass, silence);
                QVERIFY(r.detections.empty());
                QVERIFY(r.student.weights.empty());
                QVERIFY(std::isinf(r.levelDb));
            }
            for (const auto &d : r.detections)
                keywordHits += d.label == m_recording.word;
        }
        QVERIFY(belowFloor >= 40);
        QVERIFY(keywordHits >= 1); // the keyword is still heard between the silences

        // The gate off: the same windows go through the student, and it does not say silence.
        StreamingOptions off = exactOptions();
        off.silenceFloorDb = -std::numeric_limits<double>::infinity();
        StreamingClassifier ungated(m_model, off);
        int ran = 0;
        for (const auto &r : ungated.push(stream.data(), 2 * second)) {
            QVERIFY(!r.belowFloor);
            QVERIFY(!r.student.weights.empty());
            ++ran;
        }
        QVERIFY(ran > 0);
    }

    void badOptions()
    {
        StreamingOptions o;
        o.threshold = 0.0;
        QVERIFY_THROWS_EXCEPTION(Error, StreamingClassifier(m_model, o));
        o = {};
        o.windowSec = 0.01;
        QVERIFY_THROWS_EXCEPTION(Error, StreamingClassifier(m_model, o));
        QVERIFY_THROWS_EXCEPTION(Error, posteriorSmoothingFromName("median"));
        o = {};
        o.silenceFloorDb = 3.0;
        QVERIFY_THROWS_EXCEPTION(Error, StreamingClassifier(m_model, o));
        o.silenceFloorDb = std::nan("");
        QVERIFY_THROWS_EXCEPTION(Error, StreamingClassifier(m_model, o));
    }
};

QTEST_GUILESS_MAIN(TestStreamingClassifier)
#include "tst_streamingclassifier.moc"
