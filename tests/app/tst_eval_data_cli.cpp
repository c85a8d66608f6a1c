// tkd-test-labels: e2e ml
// `tkd eval RUN --data KIND:PATH` as a user runs it: a tiny run trained by `tkd train`, then
// scored on a folder-per-class set of Debian's real human recordings ("left", "right" and
// "center", which the run does not know: _unknown_) and on its own noisy test split. The printed
// accuracy and the JSON's confusion rows must match the clip counts; bad input exits non-zero
// with a message naming the field or file.
#include "app/ProcessRun.h"

#include <QDir>
#include <QFile>
#include <QProcess>
#include <QRegularExpression>
#include <QtTest>

#include <nlohmann/json.hpp>

class TestEvalDataCli : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString m_run;
    QString m_alsa; // left/ right/ center/
    QMap<QString, int> m_counts;

    using Run = tkd::test::ProcessResult;
    Run tkd(const QStringList &args, int timeoutMs = 600000)
    {
        return tkd::test::runTkd(args,
            { { "TKD_CACHE_DIR", m_tmp.filePath("cache") }, { "TKD_THREADS", "1" } }, timeoutMs,
            m_tmp.path());
    }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        QFile cfg(m_tmp.filePath("tiny.yaml"));
        QVERIFY(cfg.open(QIODevice::WriteOnly));
        cfg.write(R"(name: eval-data
data:
  source: builtin
  corpus: {speakers: 10, seed: 3}
  noisy: {length_sec: 1, snr_db: [15, 25], noise: [white, pink], babble_words: 0}
teacher: {kind: tiny, epochs: 1, batch_size: 16}
students: [tc-resnet8]
kd: {lambdas: [0]}
grid: {lengths_sec: [1], seeds: [1]}
train: {epochs: 2, batch_size: 16, warmup_epochs: 0}
output: {runs_dir: runs}
)");
        cfg.close();
        const Run r = tkd({ "train", "--config", cfg.fileName() });
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        const QStringList runs
            = QDir(m_tmp.filePath("runs")).entryList(QDir::Dirs | QDir::NoDotAndDotDot);
        QCOMPARE(runs.size(), 1);
        m_run = m_tmp.filePath("runs/" + runs.first());

        const QString alsa = "/usr/share/sounds/alsa";
        m_alsa = m_tmp.filePath("alsa");
        for (const QString side : { "Left", "Right", "Center" })
            for (const QString where : { "Front", "Rear", "Side" }) {
                const QString src = alsa + "/" + where + "_" + side + ".wav";
                if (!QFile::exists(src))
                    continue;
                QVERIFY(QDir().mkpath(m_alsa + "/" + side.toLower()));
                QVERIFY(QFile::copy(src, m_alsa + "/" + side.toLower() + "/" + where + ".wav"));
                ++m_counts[side.toLower()];
            }
    }

    void folderOfRealRecordings()
    {
        if (m_counts.value("left") == 0)
            QSKIP("alsa-utils' recordings are not installed");
        const Run r = tkd({ "eval", m_run, "--data", "folder:" + m_alsa });
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        QVERIFY2(r.out.contains("split all"), qPrintable(r.out));
        QVERIFY2(r.out.contains("center -> _unknown_"), qPrintable(r.out));
        QVERIFY(r.out.contains("true \\ predicted"));
        QVERIFY(r.out.contains("teacher-L1"));
        const int total
            = m_counts.value("left") + m_counts.value("right") + m_counts.value("center");
        QVERIFY2(r.out.contains(QString("scored: %1 clips").arg(total)), qPrintable(r.out));

        // The file the studio reads: rows sum to each class's clips, accuracy = trace / clips.
        const QStringList files = QDir(m_run + "/eval").entryList({ "folder-alsa-*-all.json" });
        QCOMPARE(files.size(), 1);
        QFile f(m_run + "/eval/" + files.first());
        QVERIFY(f.open(QIODevice::ReadOnly));
        const nlohmann::json j = nlohmann::json::parse(f.readAll().toStdString());
        const auto classes = j["classes"].get<std::vector<std::string>>();
        QCOMPARE(j["models"].size(), size_t(2));
        for (const auto &m : j["models"]) {
            const auto confusion = m["confusion"].get<std::vector<std::vector<int64_t>>>();
            int64_t diagonal = 0;
            for (size_t k = 0; k < classes.size(); ++k) {
                int64_t row = 0;
                for (int64_t v : confusion[k])
                    row += v;
                diagonal += confusion[k][k];
                const QString c = QString::fromStdString(classes[k]);
                const int expected
                    = c == "_unknown_" ? m_counts.value("center") : m_counts.value(c);
                QCOMPARE(row, int64_t(expected));
            }
            QCOMPARE(m["clips"].get<int64_t>(), int64_t(total));
            QCOMPARE(m["correct"].get<int64_t>(), diagonal);
            QVERIFY(std::abs(m["accuracy"].get<double>() - double(diagonal) / total) < 1e-12);
            // The printed line carries the same accuracy.
            const QString line = QString::fromStdString(m["name"].get<std::string>());
            QVERIFY2(
                r.out.contains(QRegularExpression(QRegularExpression::escape(line) + "\\s+1\\s+"
                    + QString::number(total) + "\\s+" + QString::number(diagonal) + "\\s")),
                qPrintable(r.out));
        }
    }

    void jsonAndOwnNoisySplit()
    {
        const Run r = tkd({ "eval", m_run, "--data", "noisy:builtin", "--json", "--no-teacher" });
        QVERIFY2(r.code == 0, qPrintable(r.err + r.out));
        const nlohmann::json j = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(j["split"].get<std::string>(), std::string("test"));
        QCOMPARE(j["models"].size(), size_t(1));
        QVERIFY(QFile::exists(m_run + "/eval/noisy-builtin-test.json"));
    }

    void badInput_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<int>("code");
        QTest::addColumn<QString>("message");
        const QString missing = m_tmp.filePath("no-such-folder");
        QTest::newRow("missing folder")
            << QStringList { "--data", "folder:" + missing } << 1 << missing + ": no such folder";
        QTest::newRow("unknown kind")
            << QStringList { "--data", "zip:" + m_tmp.path() } << 1 << "--data: 'zip:";
        QTest::newRow("bad split")
            << QStringList { "--data", "builtin", "--split", "sideways" } << 1 << "--split";
        QTest::newRow("unknown cell") << QStringList { "--data", "builtin", "--cell", "nope" } << 1
                                      << "--cell: no trained student 'nope'";
        QTest::newRow("with --stream") << QStringList { "--data", "builtin", "--stream" } << 1
                                       << "--data: cannot be combined with --stream";
        QTest::newRow("no common class")
            << QStringList { "--data", "folder:" + m_tmp.filePath("animals") } << 1
            << "has no class in common with the run";
    }
    void badInput()
    {
        QFETCH(QStringList, args);
        QFETCH(int, code);
        QFETCH(QString, message);
        QVERIFY(QDir().mkpath(m_tmp.filePath("animals/cat")));
        if (m_counts.value("left") > 0 && !QFile::exists(m_tmp.filePath("animals/cat/a.wav")))
            QVERIFY(QFile::copy(m_alsa + "/left/Front.wav", m_tmp.filePath("animals/cat/a.wav")));
        if (!QFile::exists(m_tmp.filePath("animals/cat/a.wav")))
            QSKIP("needs a recording");
        const Run r = tkd(QStringList { "eval", m_run } + args);
        QCOMPARE(r.code, code);
        QVERIFY2(r.err.contains(message), qPrintable(r.err + r.out));
    }
};

QTEST_GUILESS_MAIN(TestEvalDataCli)
#include "tst_eval_data_cli.moc"
