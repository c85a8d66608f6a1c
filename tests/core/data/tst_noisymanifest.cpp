// A noisy set written to disk (`tkd data noisy --out DIR`) reads back as a dataset with every
// item's keyword window, and broken manifests are clear errors naming the file.
#include "core/audio/AudioFile.h"
#include "core/data/DatasetSource.h"
#include "core/data/FolderDataset.h"
#include "core/data/NoisyDataset.h"
#include "core/data/NoisyManifest.h"
#include "core/util/Error.h"

#include <QDir>
#include <QFile>
#include <QTemporaryDir>
#include <QtTest>

#include <nlohmann/json.hpp>

#include <filesystem>

#include <cmath>

class TestNoisyManifest : public QObject
{
    Q_OBJECT
private:
    QTemporaryDir m_tmp;
    QString m_out;

    static void writeWord(const QString &path, double freq)
    {
        // 0.3 s tone burst in the middle of a 1 s clip: a "word" with a known position.
        std::vector<float> s(16000, 0.0f);
        for (int i = 5600; i < 10400; ++i)
            s[size_t(i)] = float(0.5 * std::sin(2 * M_PI * freq * i / 16000.0));
        tkd::writeWav(path.toStdString(), s);
    }

    QString manifestPath() const { return m_out + "/manifest.json"; }

private Q_SLOTS:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        const QString root = m_tmp.filePath("words");
        int n = 0;
        for (const char *split : { "train", "validation", "test" })
            for (const char *cls : { "yes", "no" }) {
                QVERIFY(QDir().mkpath(QStringLiteral("%1/%2/%3").arg(root, split, cls)));
                for (int k = 0; k < 3; ++k)
                    writeWord(QStringLiteral("%1/%2/%3/w%4.wav").arg(root, split, cls).arg(k),
                        300.0 + 50 * (n++));
            }
        tkd::NoisyConfig config;
        config.lengthSec = 2.0;
        config.kinds = { tkd::NoiseKind::White };
        config.babbleWords = 0;
        const tkd::NoisyDataset noisy(tkd::FolderDataset::load(root.toStdString()), config);
        m_out = m_tmp.filePath("noisy");
        noisy.materialise(m_out.toStdString());
    }

    void readsItemsWithKeywordWindows()
    {
        QVERIFY(tkd::isNoisyManifestFolder(m_out.toStdString()));
        QVERIFY(!tkd::isNoisyManifestFolder(m_tmp.filePath("words").toStdString()));
        tkd::DatasetSource source;
        source.kind = tkd::DatasetSource::kindFromName("noisy");
        source.path = m_out.toStdString();
        const tkd::DatasetIndex index = source.open();
        QCOMPARE(index.clips.size(), size_t(18));
        QCOMPARE(index.clipsIn(tkd::Split::Test).size(), size_t(6));
        QCOMPARE(index.classes.size(), size_t(2));
        for (const auto &c : index.clips) {
            QVERIFY(QFile::exists(QString::fromStdString(c.path)));
            QCOMPARE(c.labels.size(), size_t(1));
            // The tone sits 0.35-0.65 s into its source clip; placed anywhere in 2 s.
            QVERIFY(c.speechOnsetSec >= 0.0 && c.speechOffsetSec <= 2.0);
            QVERIFY(std::abs((c.speechOffsetSec - c.speechOnsetSec) - 0.3) < 0.05);
            // ... and the energy really is there in the written file.
            const auto s = tkd::loadAudio(c.path);
            // At SNR >= 0 dB the window holds keyword + noise, so its mean power is at least
            // about twice the noise-only power outside it.
            double inside = 0, outside = 0;
            size_t nIn = 0, nOut = 0;
            for (size_t i = 0; i < s.size(); ++i) {
                const double t = double(i) / 16000.0, e = double(s[i]) * s[i];
                if (t >= c.speechOnsetSec && t < c.speechOffsetSec) {
                    inside += e;
                    ++nIn;
                } else {
                    outside += e;
                    ++nOut;
                }
            }
            const double ratio = (inside / double(nIn)) / (outside / double(nOut));
            QVERIFY2(ratio > 1.8, qPrintable(QString::number(ratio)));
        }
    }

    void brokenManifestsNameTheFile_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("expected");
        QTest::newRow("not json") << QByteArray("{oops") << "not valid JSON";
        QTest::newRow("other format")
            << QByteArray("{\"format\": \"x\"}") << "not a noisy-set manifest";
        QTest::newRow("no items") << QByteArray(
            "{\"format\": \"tkd-noisy-dataset\", \"dataset\": \"d\", \"classes\": [\"a\"], "
            "\"content_hash\": \"h\"}")
                                  << "malformed manifest";
        QTest::newRow("missing file") << QByteArray(
            "{\"format\": \"tkd-noisy-dataset\", \"dataset\": \"d\", \"classes\": [\"a\"], "
            "\"content_hash\": \"h\", \"items\": [{\"path\": \"train/nope.wav\", "
            "\"split\": \"train\", \"labels\": [\"a\"]}]}")
                                      << "items[0]";
        // Issue 15: items outside the set's folder are refused, not read.
        for (const char *path : { "../../etc/passwd", "/etc/passwd", "train/../../x.wav" })
            QTest::newRow(path) << QByteArray("{\"format\": \"tkd-noisy-dataset\", \"dataset\": "
                                              "\"d\", \"classes\": [\"a\"], \"content_hash\": "
                                              "\"h\", \"items\": [{\"path\": \"")
                    + path + "\", \"split\": \"train\", \"labels\": [\"a\"]}]}"
                                << "not a path inside the set's folder";
    }

    // Issue 15: an edited manifest is another content (its caches are not reused), though the
    // recorded content_hash is unchanged.
    void editedManifestIsAnotherContent()
    {
        QTemporaryDir copy;
        const std::string dir = copy.path().toStdString() + "/noisy";
        std::filesystem::copy(m_out.toStdString(), dir, std::filesystem::copy_options::recursive);
        const std::string before = tkd::readNoisyManifest(dir).contentHash;
        QCOMPARE(tkd::readNoisyManifest(dir).contentHash, before);
        QFile f(QString::fromStdString(dir + "/manifest.json"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        auto j = nlohmann::json::parse(f.readAll().toStdString());
        f.close();
        // Give the first item the other label.
        auto &labels = j["items"][0]["labels"];
        labels = nlohmann::json::array({ labels[0] == "yes" ? "no" : "yes" });
        QVERIFY(f.open(QIODevice::WriteOnly | QIODevice::Truncate));
        f.write(QByteArray::fromStdString(j.dump(1)));
        f.close();
        QVERIFY(tkd::readNoisyManifest(dir).contentHash != before);
    }
    void brokenManifestsNameTheFile()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, expected);
        QTemporaryDir dir;
        QFile f(dir.filePath("manifest.json"));
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write(text);
        f.close();
        try {
            tkd::readNoisyManifest(dir.path().toStdString());
            QFAIL("expected tkd::Error");
        } catch (const tkd::Error &e) {
            QVERIFY2(QString(e.what()).contains("manifest.json"), e.what());
            QVERIFY2(QString(e.what()).contains(expected), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestNoisyManifest)
#include "tst_noisymanifest.moc"
