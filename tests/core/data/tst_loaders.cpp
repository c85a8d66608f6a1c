// Real-dataset loaders on tiny trees in the real layouts (Speech Commands v2, FSD50K,
// folder-per-class), written into a temporary folder with real 16 kHz WAV files; plus the
// dataset description and the DatasetSource entry point.
#include "core/audio/AudioFile.h"
#include "core/data/DatasetDescription.h"
#include "core/data/DatasetSource.h"
#include "core/data/FolderDataset.h"
#include "core/data/Fsd50kDataset.h"
#include "core/data/SpeechCommandsDataset.h"
#include "core/util/Error.h"

#include <nlohmann/json.hpp>

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <functional>

namespace fs = std::filesystem;
using tkd::Split;

namespace {

void tone(const std::string &path, double seconds, double hz = 440.0)
{
    fs::create_directories(fs::path(path).parent_path());
    std::vector<float> s(size_t(std::lround(seconds * tkd::kSampleRate)));
    for (size_t i = 0; i < s.size(); ++i)
        s[i] = 0.3f * float(std::sin(2.0 * M_PI * hz * double(i) / tkd::kSampleRate));
    tkd::writeWav(path, s);
}

void text(const std::string &path, const std::string &content)
{
    fs::create_directories(fs::path(path).parent_path());
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
}

// A Speech Commands v2 tree: 3 keywords' worth of clips, one non-keyword word, noise, lists.
void makeSpeechCommands(const std::string &root)
{
    tone(root + "/yes/aaaa1111_nohash_0.wav", 0.50);
    tone(root + "/yes/bbbb2222_nohash_0.wav", 0.50);
    tone(root + "/yes/cccc3333_nohash_0.wav", 0.50);
    tone(root + "/no/aaaa1111_nohash_0.wav", 0.25);
    tone(root + "/no/dddd4444_nohash_1.wav", 0.25);
    tone(root + "/bed/eeee5555_nohash_0.wav", 0.25);
    tone(root + "/_background_noise_/white_noise.wav", 20.0, 1000.0);
    tone(root + "/_background_noise_/pink_noise.wav", 12.0, 300.0);
    text(root + "/validation_list.txt", "no/dddd4444_nohash_1.wav\n");
    text(root + "/testing_list.txt", "yes/cccc3333_nohash_0.wav\r\n\r\n");
    text(root + "/README.md", "not a clip\n");
}

void makeFsd50k(const std::string &root)
{
    const std::string gt = root + "/FSD50K.ground_truth";
    text(gt + "/vocabulary.csv",
        "0,Bark,/m/05tny_\n1,Dog,/m/0bt9lr\n2,Electric_guitar,/m/02sgy\n"
        "3,Music,/m/04rlf\n");
    text(gt + "/dev.csv",
        "fname,labels,mids,split\n"
        "101,\"Bark,Dog\",\"/m/05tny_,/m/0bt9lr\",train\n"
        "102,Music,/m/04rlf,val\n"
        "103,\"Electric_guitar,Music\",\"/m/02sgy,/m/04rlf\",train\n");
    text(gt + "/eval.csv", "fname,labels,mids\n201,Dog,/m/0bt9lr\n");
    for (const char *f : { "101", "102", "103" })
        tone(root + "/FSD50K.dev_audio/" + f + ".wav", 0.3);
    tone(root + "/FSD50K.eval_audio/201.wav", 0.6);
}

std::string errorOf(const std::function<void()> &f)
{
    try {
        f();
    } catch (const tkd::Error &e) {
        return e.what();
    }
    return "<no error>";
}

const tkd::ClipRef *clipByPath(const tkd::DatasetIndex &index, const std::string &suffix)
{
    for (const auto &c : index.clips)
        if (c.path.size() >= suffix.size()
            && c.path.compare(c.path.size() - suffix.size(), suffix.size(), suffix) == 0)
            return &c;
    return nullptr;
}

} // namespace

class TestLoaders : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void speechCommands12()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        makeSpeechCommands(root);
        tkd::SpeechCommandsOptions opt;
        opt.silenceClipsPerSplit = 4;
        const auto index = tkd::SpeechCommandsDataset::load(root, opt);

        QCOMPARE(int(index.classes.size()), 12);
        QCOMPARE(QString::fromStdString(index.classes[10]), QString("_unknown_"));
        QCOMPARE(QString::fromStdString(index.classes[11]), QString("_silence_"));
        QCOMPARE(int(index.clips.size()), 6 + 3 * 4);
        QCOMPARE(int(index.noiseFiles.size()), 2);
        QVERIFY(!index.multiLabel);
        QVERIFY(index.contentHash.size() == size_t(64));

        const auto *yesTest = clipByPath(index, "/yes/cccc3333_nohash_0.wav");
        QVERIFY(yesTest);
        QVERIFY(yesTest->split == Split::Test);
        QVERIFY(yesTest->labels == std::vector<int> { index.classIndex("yes") });
        QCOMPARE(QString::fromStdString(yesTest->speaker), QString("cccc3333"));
        QVERIFY(yesTest->speechOnsetSec < 0 && yesTest->speechOffsetSec < 0);
        QVERIFY(fs::path(yesTest->path).is_absolute());
        const auto *noVal = clipByPath(index, "/no/dddd4444_nohash_1.wav");
        QVERIFY(noVal && noVal->split == Split::Validation);
        const auto *bed = clipByPath(index, "/bed/eeee5555_nohash_0.wav");
        QVERIFY(bed && bed->split == Split::Train);
        QVERIFY(bed->labels == std::vector<int> { 10 });
        QCOMPARE(QString::fromStdString(bed->word), QString("bed"));

        // Silence: 1 s segments inside the split's own part of each recording.
        const double lengths[2] = { 12.0, 20.0 }; // pink, white (sorted file order)
        for (Split s : { Split::Train, Split::Validation, Split::Test }) {
            int n = 0;
            for (const auto *c : index.clipsIn(s)) {
                if (c->labels[0] != 11)
                    continue;
                ++n;
                QCOMPARE(c->durationSec, 1.0);
                const int file = c->path.find("pink") != std::string::npos ? 0 : 1;
                const double from = s == Split::Train ? 0.0 : s == Split::Validation ? 0.8 : 0.9;
                const double to = s == Split::Train ? 0.8 : s == Split::Validation ? 0.9 : 1.0;
                QVERIFY2(c->startSec >= from * lengths[file] - 1e-9
                        && c->startSec + 1.0 <= to * lengths[file] + 1e-9,
                    qPrintable(
                        QString("%1 at %2").arg(QString::fromStdString(c->path)).arg(c->startSec)));
            }
            QCOMPARE(n, 4);
        }

        // Deterministic, and the seed moves the segments.
        const auto again = tkd::SpeechCommandsDataset::load(root, opt);
        QVERIFY(again.contentHash == index.contentHash);
        for (size_t i = 0; i < index.clips.size(); ++i)
            QCOMPARE(again.clips[i].startSec, index.clips[i].startSec);
        opt.silenceSeed = 2;
        QVERIFY(tkd::SpeechCommandsDataset::load(root, opt).contentHash != index.contentHash);
    }

    void speechCommandsAutoSilenceAndNoSilence()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        makeSpeechCommands(root);
        // 25 more train "yes" clips: 28 train keyword clips -> about 3 silence clips (28 / 10).
        for (int i = 0; i < 25; ++i)
            tone(root + "/yes/f" + std::to_string(1000 + i) + "_nohash_0.wav", 0.05);
        auto index = tkd::SpeechCommandsDataset::load(root);
        int train = 0, other = 0;
        for (const auto &c : index.clips)
            if (c.labels[0] == 11)
                (c.split == Split::Train ? train : other)++;
        QCOMPARE(train, 3);
        QCOMPARE(other, 0); // validation 1 keyword clip, test 1: both round to 0
        tkd::SpeechCommandsOptions none;
        none.silenceClipsPerSplit = 0;
        index = tkd::SpeechCommandsDataset::load(root, none);
        QCOMPARE(int(index.clips.size()), 31);
    }

    void speechCommands35()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        makeSpeechCommands(root);
        tkd::SpeechCommandsOptions opt;
        opt.labelCount = 35;
        const auto index = tkd::SpeechCommandsDataset::load(root, opt);
        // Every word folder is a class (this tree has three), sorted; no silence clips.
        QCOMPARE(int(index.classes.size()), 3);
        QCOMPARE(QString::fromStdString(index.classes[0]), QString("bed"));
        QCOMPARE(int(index.clips.size()), 6);
        QVERIFY(clipByPath(index, "/yes/aaaa1111_nohash_0.wav")->labels == std::vector<int> { 2 });
        QCOMPARE(QString::fromStdString(index.name), QString("speech-commands-v2-35"));
    }

    void speakerOf_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("speaker");
        QTest::newRow("nohash") << "0a7c2a8d_nohash_0.wav"
                                << "0a7c2a8d";
        QTest::newRow("nohash high") << "ffd2ba2f_nohash_12.wav"
                                     << "ffd2ba2f";
        QTest::newRow("other underscore") << "abc_def.wav"
                                          << "abc";
        QTest::newRow("plain") << "plain.wav"
                               << "plain";
    }
    void speakerOf()
    {
        QFETCH(QString, file);
        QFETCH(QString, speaker);
        QCOMPARE(QString::fromStdString(tkd::SpeechCommandsDataset::speakerOf(file.toStdString())),
            speaker);
    }

    void contentHashTracksListingNotLocation()
    {
        QTemporaryDir tmp;
        const std::string a = tmp.path().toStdString() + "/a", b = tmp.path().toStdString() + "/b";
        makeSpeechCommands(a);
        const auto ha = tkd::SpeechCommandsDataset::load(a).contentHash;
        QVERIFY(tkd::SpeechCommandsDataset::load(a).contentHash == ha);
        // Moving the folder keeps the hash (and so its caches).
        fs::rename(a, b);
        QVERIFY(tkd::SpeechCommandsDataset::load(b).contentHash == ha);
        // A split change and a size change each give a new hash.
        text(b + "/testing_list.txt", "yes/bbbb2222_nohash_0.wav\n");
        const auto hb = tkd::SpeechCommandsDataset::load(b).contentHash;
        QVERIFY(hb != ha);
        tone(b + "/bed/eeee5555_nohash_0.wav", 0.30);
        const auto hc = tkd::SpeechCommandsDataset::load(b).contentHash;
        QVERIFY(hc != hb);
        // Issue 15: a clip replaced by another of the same size, even with its modification time
        // put back (cp -p, rsync -t), is another listing.
        const std::string clip = b + "/bed/eeee5555_nohash_0.wav";
        const auto size = fs::file_size(clip);
        const auto mtime = fs::last_write_time(clip);
        QTest::qSleep(20); // past the file system's timestamp granularity
        tone(clip, 0.30, 880.0);
        fs::last_write_time(clip, mtime);
        QCOMPARE(fs::file_size(clip), size);
        QVERIFY(tkd::SpeechCommandsDataset::load(b).contentHash != hc);
    }

    void speechCommandsErrors_data()
    {
        QTest::addColumn<int>("which");
        QTest::addColumn<QString>("expected1");
        QTest::addColumn<QString>("expected2");
        QTest::newRow("missing root") << 0 << "no-such-root"
                                      << "no such folder";
        QTest::newRow("missing validation list") << 1 << "validation_list.txt"
                                                 << "missing";
        QTest::newRow("missing testing list") << 2 << "testing_list.txt"
                                              << "missing";
        QTest::newRow("list names absent file") << 3 << "testing_list.txt:2"
                                                << "yes/zzzz_nohash_0.wav";
        QTest::newRow("list names a non-clip") << 4 << "validation_list.txt:1"
                                               << "README.md";
        QTest::newRow("no word folders") << 5 << "no word folders"
                                         << "yes/";
        QTest::newRow("no noise for silence") << 6 << "_background_noise_"
                                              << "_silence_";
        QTest::newRow("clip in both lists") << 7 << "testing_list.txt:1"
                                            << "also in validation_list.txt";
        QTest::newRow("bad task") << 8 << "dataset.task"
                                  << "20";
        QTest::newRow("noise too short") << 9 << "_background_noise_"
                                         << "long enough";
    }
    void speechCommandsErrors()
    {
        QFETCH(int, which);
        QFETCH(QString, expected1);
        QFETCH(QString, expected2);
        QTemporaryDir dir;
        std::string root = dir.path().toStdString();
        makeSpeechCommands(root);
        tkd::SpeechCommandsOptions opt;
        switch (which) {
        case 0:
            root += "/no-such-root";
            break;
        case 1:
            fs::remove(root + "/validation_list.txt");
            break;
        case 2:
            fs::remove(root + "/testing_list.txt");
            break;
        case 3:
            text(root + "/testing_list.txt", "yes/cccc3333_nohash_0.wav\nyes/zzzz_nohash_0.wav\n");
            break;
        case 4:
            text(root + "/validation_list.txt", "README.md\n");
            break;
        case 5:
            for (const char *w : { "yes", "no", "bed" })
                fs::remove_all(root + "/" + w);
            fs::create_directories(root + "/empty_word");
            break;
        case 6:
            fs::remove_all(root + "/_background_noise_");
            break;
        case 7:
            text(root + "/testing_list.txt", "no/dddd4444_nohash_1.wav\n");
            break;
        case 8:
            opt.labelCount = 20;
            break;
        case 9:
            fs::remove_all(root + "/_background_noise_");
            tone(root + "/_background_noise_/short.wav", 5.0);
            opt.silenceClipsPerSplit = 2;
            break;
        }
        const std::string what = errorOf([&] { tkd::SpeechCommandsDataset::load(root, opt); });
        QVERIFY2(what.find(expected1.toStdString()) != std::string::npos, what.c_str());
        QVERIFY2(what.find(expected2.toStdString()) != std::string::npos, what.c_str());
    }

    void csvParser()
    {
        const std::string csv = "\xEF\xBB\xBF"
                                "a,b,c\r\n"
                                "1,\"x, y\",\"say \"\"hi\"\"\"\r\n"
                                "\n"
                                "2,\"two\nlines\",\n"
                                "3,,last";
        const auto rows = tkd::Fsd50kDataset::parseCsv(csv, "t.csv");
        QCOMPARE(int(rows.size()), 4);
        QVERIFY(rows[0].fields == (std::vector<std::string> { "a", "b", "c" }));
        QVERIFY(rows[1].fields == (std::vector<std::string> { "1", "x, y", "say \"hi\"" }));
        QCOMPARE(rows[2].line, 4);
        QVERIFY(rows[2].fields == (std::vector<std::string> { "2", "two\nlines", "" }));
        QCOMPARE(rows[3].line, 6);
        QVERIFY(rows[3].fields == (std::vector<std::string> { "3", "", "last" }));
        QVERIFY(errorOf([] {
            tkd::Fsd50kDataset::parseCsv("a\n\"open,b\n", "u.csv");
        }).find("u.csv:2: unterminated")
            != std::string::npos);
        QVERIFY(errorOf([] {
            tkd::Fsd50kDataset::parseCsv("\"a\"b,c\n", "v.csv");
        }).find("v.csv:1: text after")
            != std::string::npos);
        QVERIFY(errorOf([] {
            tkd::Fsd50kDataset::parseCsv("a,b\"c\n", "w.csv");
        }).find("w.csv:1: stray quote")
            != std::string::npos);
        // Issue 15: a NUL inside a field is refused, naming the line.
        QVERIFY(errorOf([] {
            tkd::Fsd50kDataset::parseCsv(std::string("a,b\nx,y\0z.wav\n", 14), "n.csv");
        }).find("n.csv:2: holds a NUL byte")
            != std::string::npos);
    }

    void fsd50k()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        makeFsd50k(root);
        const auto index = tkd::Fsd50kDataset::load(root);
        QVERIFY(index.multiLabel);
        QCOMPARE(int(index.classes.size()), 4);
        QCOMPARE(QString::fromStdString(index.classes[2]), QString("Electric_guitar"));
        QCOMPARE(int(index.clips.size()), 4);
        const auto *c101 = clipByPath(index, "/FSD50K.dev_audio/101.wav");
        QVERIFY(c101 && c101->split == Split::Train);
        QVERIFY(c101->labels == (std::vector<int> { 0, 1 }));
        QVERIFY(clipByPath(index, "/102.wav")->split == Split::Validation);
        QVERIFY(clipByPath(index, "/103.wav")->labels == (std::vector<int> { 2, 3 }));
        const auto *c201 = clipByPath(index, "/FSD50K.eval_audio/201.wav");
        QVERIFY(c201 && c201->split == Split::Test);
        QVERIFY(c201->labels == std::vector<int> { 1 });
        QVERIFY(index.contentHash == tkd::Fsd50kDataset::load(root).contentHash);
    }

    void fsd50kErrors_data()
    {
        QTest::addColumn<QString>("file");
        QTest::addColumn<QString>("content");
        QTest::addColumn<QString>("expected1");
        QTest::addColumn<QString>("expected2");
        const QString dev = "FSD50K.ground_truth/dev.csv";
        const QString head = "fname,labels,mids,split\n";
        QTest::newRow("unterminated quote") << dev << head + "101,\"Bark,Dog,/m/05tny_,train\n"
                                            << "dev.csv:2"
                                            << "unterminated";
        QTest::newRow("unknown label")
            << dev << head + "101,Bark,/m/05tny_,train\n102,Cat,/m/01yrx,train\n"
            << "dev.csv:3"
            << "unknown label 'Cat'";
        QTest::newRow("too few fields") << dev << head + "101,Bark,train\n"
                                        << "dev.csv:2"
                                        << "expected 4 fields, got 3";
        QTest::newRow("bad split") << dev << head + "101,Bark,/m/05tny_,tets\n"
                                   << "dev.csv:2"
                                   << "split 'tets'";
        QTest::newRow("mid mismatch") << dev << head + "101,Bark,/m/0bt9lr,train\n"
                                      << "dev.csv:2"
                                      << "disagrees";
        QTest::newRow("missing audio")
            << dev << head + "101,Bark,/m/05tny_,train\n999,Bark,/m/05tny_,val\n"
            << "dev.csv:3"
            << "999.wav does not exist";
        QTest::newRow("duplicate clip")
            << dev << head + "101,Bark,/m/05tny_,train\n101,Dog,/m/0bt9lr,val\n"
            << "dev.csv:3"
            << "listed twice";
        QTest::newRow("no split column") << dev << "fname,labels,mids\n101,Bark,/m/05tny_\n"
                                         << "dev.csv:1"
                                         << "'split'";
        QTest::newRow("vocab bad index") << "FSD50K.ground_truth/vocabulary.csv"
                                         << "0,Bark,/m/05tny_\nx,Dog,/m/0bt9lr\n"
                                         << "vocabulary.csv:2"
                                         << "not a whole number";
        QTest::newRow("vocab gap") << "FSD50K.ground_truth/vocabulary.csv"
                                   << "0,Bark,/m/05tny_\n2,Dog,/m/0bt9lr\n"
                                   << "vocabulary.csv"
                                   << "1 is missing";
        QTest::newRow("eval empty label") << "FSD50K.ground_truth/eval.csv"
                                          << "fname,labels,mids\n201,,\n"
                                          << "eval.csv:2"
                                          << "empty label";
        QTest::newRow("missing eval.csv") << "FSD50K.ground_truth/eval.csv"
                                          << "<delete>"
                                          << "eval.csv"
                                          << "missing file";
        QTest::newRow("missing audio folder") << "FSD50K.eval_audio"
                                              << "<delete>"
                                              << "FSD50K.eval_audio"
                                              << "missing folder";
    }
    void fsd50kErrors()
    {
        QFETCH(QString, file);
        QFETCH(QString, content);
        QFETCH(QString, expected1);
        QFETCH(QString, expected2);
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        makeFsd50k(root);
        const std::string target = root + "/" + file.toStdString();
        if (content == "<delete>")
            fs::remove_all(target);
        else
            text(target, content.toStdString());
        const std::string what = errorOf([&] { tkd::Fsd50kDataset::load(root); });
        QVERIFY2(what.find(expected1.toStdString()) != std::string::npos, what.c_str());
        QVERIFY2(what.find(expected2.toStdString()) != std::string::npos, what.c_str());
    }

    void folderPerClassHashSplit()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        for (int i = 0; i < 15; ++i) {
            tone(root + "/cat/meow_" + std::to_string(i) + ".wav", 0.05);
            tone(root + "/dog/bark_" + std::to_string(i) + ".wav", 0.05);
        }
        tone(root + "/dog/nested/deep.wav", 0.05);
        tone(root + "/.hidden/x.wav", 0.05);
        tone(root + "/_ignored/y.wav", 0.05);
        text(root + "/cat/notes.txt", "not audio");
        const auto index = tkd::FolderDataset::load(root);
        QCOMPARE(int(index.classes.size()), 2);
        QCOMPARE(int(index.clips.size()), 31);
        int splits[3] = { 0, 0, 0 };
        for (const auto &c : index.clips) {
            const std::string rel = fs::path(c.path).lexically_relative(root).generic_string();
            QVERIFY(c.split == tkd::FolderDataset::hashSplit(rel));
            QCOMPARE(c.labels[0], index.classIndex(rel.substr(0, 3)));
            ++splits[int(c.split)];
        }
        QVERIFY(splits[0] > 0);
        const auto *deep = clipByPath(index, "/dog/nested/deep.wav");
        QVERIFY(deep && deep->labels[0] == 1);
    }

    void hashSplitProportions()
    {
        int n[3] = { 0, 0, 0 };
        for (int i = 0; i < 20000; ++i)
            ++n[int(tkd::FolderDataset::hashSplit("class/file_" + std::to_string(i) + ".wav"))];
        QVERIFY2(n[0] > 15600 && n[0] < 16400, qPrintable(QString::number(n[0])));
        QVERIFY2(n[1] > 1800 && n[1] < 2200, qPrintable(QString::number(n[1])));
        QVERIFY2(n[2] > 1800 && n[2] < 2200, qPrintable(QString::number(n[2])));
        QVERIFY(
            tkd::FolderDataset::hashSplit("a/b.wav") == tkd::FolderDataset::hashSplit("a/b.wav"));
    }

    void folderWithSplitFolders()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        tone(root + "/train/cat/a.wav", 0.05);
        tone(root + "/train/dog/b.wav", 0.05);
        tone(root + "/val/cat/c.wav", 0.05);
        tone(root + "/test/bird/d.wav", 0.05);
        const auto index = tkd::FolderDataset::load(root);
        QCOMPARE(int(index.classes.size()), 3); // bird, cat, dog
        QCOMPARE(QString::fromStdString(index.classes[0]), QString("bird"));
        QVERIFY(clipByPath(index, "/train/cat/a.wav")->split == Split::Train);
        QVERIFY(clipByPath(index, "/val/cat/c.wav")->split == Split::Validation);
        const auto *d = clipByPath(index, "/test/bird/d.wav");
        QVERIFY(d->split == Split::Test && d->labels[0] == 0);
    }

    void folderErrors()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        QVERIFY(errorOf([&] { tkd::FolderDataset::load(root + "/nope"); }).find("no such folder")
            != std::string::npos);
        QVERIFY(errorOf([&] { tkd::FolderDataset::load(root); }).find("no class folders")
            != std::string::npos);
        fs::create_directories(root + "/cat");
        QVERIFY(errorOf([&] { tkd::FolderDataset::load(root); }).find("no audio files")
            != std::string::npos);
        tone(root + "/cat/a.wav", 0.05);
        tone(root + "/train/cat/a.wav", 0.05);
        const std::string mixed = errorOf([&] { tkd::FolderDataset::load(root); });
        QVERIFY2(mixed.find("mixes split folders") != std::string::npos
                && mixed.find(root) != std::string::npos,
            mixed.c_str());

        // Issue 15: one empty class folder beside good ones is refused by name, not trained as
        // a class that is never heard.
        const std::string two = root + "/two";
        tone(two + "/cat/a.wav", 0.05);
        tone(two + "/cat/b.wav", 0.05);
        fs::create_directories(two + "/dog");
        const std::string empty = errorOf([&] { tkd::FolderDataset::load(two); });
        QVERIFY2(empty.find(two + "/dog") != std::string::npos
                && empty.find("holds no audio files") != std::string::npos,
            empty.c_str());

        // Issue 15: a symlink loop in a class folder is an error naming it, not an escaping
        // std::filesystem exception ("unexpected error").
        const std::string loop = root + "/loop";
        tone(loop + "/cat/a.wav", 0.05);
        tone(loop + "/dog/a.wav", 0.05);
        fs::create_symlink("b", loop + "/cat/a");
        fs::create_symlink("a", loop + "/cat/b");
        const std::string looped = errorOf([&] { tkd::FolderDataset::load(loop); });
        QVERIFY2(looped.find(loop + "/cat/") != std::string::npos
                && looped.find("symbolic links") != std::string::npos,
            looped.c_str());
    }

    void describeSpeechCommands()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        makeSpeechCommands(root);
        tkd::SpeechCommandsOptions opt;
        opt.silenceClipsPerSplit = 2;
        const auto index = tkd::SpeechCommandsDataset::load(root, opt);
        const auto d = tkd::DatasetDescription::describe(index, 0);
        QCOMPARE(d.clipCount, int64_t(12));
        QCOMPARE(d.splitCounts[0], int64_t(4 + 2));
        QCOMPARE(d.splitCounts[1], int64_t(1 + 2));
        QCOMPARE(d.splitCounts[2], int64_t(1 + 2));
        const int yes = index.classIndex("yes");
        QCOMPARE(d.classCounts[size_t(yes)][0], int64_t(2));
        QCOMPARE(d.classCounts[size_t(yes)][2], int64_t(1));
        QCOMPARE(d.classCounts[10][0], int64_t(1)); // bed -> _unknown_
        QCOMPARE(d.classCounts[11][1], int64_t(2));
        QCOMPARE(d.noiseFileCount, int64_t(2));
        QVERIFY(!d.sampled);
        QCOMPARE(d.probedClips, int64_t(12));
        // 3 x 0.5 s + 3 x 0.25 s + 6 x 1 s silence segments.
        QVERIFY(std::abs(d.totalSec - (1.5 + 0.75 + 6.0)) < 1e-6);
        QVERIFY(std::abs(d.minSec - 0.25) < 1e-6);
        QVERIFY(std::abs(d.maxSec - 1.0) < 1e-6);
        QVERIFY(std::abs(d.meanSec - 8.25 / 12) < 1e-6);

        const std::string table = d.toTable();
        QVERIFY(table.find("_silence_") != std::string::npos);
        QVERIFY(table.find("speech-commands-v2-12") != std::string::npos);
        const auto j = nlohmann::json::parse(d.toJson());
        QCOMPARE(j["clips"]["total"].get<int>(), 12);
        QCOMPARE(j["classes"].size(), size_t(12));
        QCOMPARE(j["classes"][yes]["train"].get<int>(), 2);
        QVERIFY(j["content_hash"].get<std::string>() == index.contentHash);

        // A sample: fewer probes, total estimated from the mean.
        const auto s = tkd::DatasetDescription::describe(index, 5);
        QVERIFY(s.sampled);
        QCOMPARE(s.probedClips, int64_t(5));
        QVERIFY(std::abs(s.totalSec - s.meanSec * 12) < 1e-6);
    }

    void describeCountsUnreadableClips()
    {
        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        tone(root + "/cat/a.wav", 0.5);
        text(root + "/dog/broken.wav", "RIFF garbage, not a wav");
        const auto d = tkd::DatasetDescription::describe(tkd::FolderDataset::load(root), 0);
        QCOMPARE(d.unreadableClips, int64_t(1));
        QCOMPARE(d.probedClips, int64_t(1));
        QVERIFY(d.unreadableExamples.at(0).find("broken.wav") != std::string::npos);
        QVERIFY(d.toTable().find("Unreadable") != std::string::npos);
    }

    void datasetSource()
    {
        QCOMPARE(
            int(tkd::DatasetSource::kindFromName("fsd50k")), int(tkd::DatasetSource::Kind::Fsd50k));
        const std::string bad = errorOf([] { tkd::DatasetSource::kindFromName("librispeech"); });
        QVERIFY(bad.find("dataset.kind") != std::string::npos
            && bad.find("librispeech") != std::string::npos);

        QTemporaryDir dir;
        const std::string root = dir.path().toStdString();
        makeSpeechCommands(root);
        tkd::DatasetSource src;
        src.kind = tkd::DatasetSource::Kind::SpeechCommands;
        src.path = root;
        src.task = 35;
        QCOMPARE(int(src.open().classes.size()), 3);
        src.task = 12;
        src.silenceClipsPerSplit = 1;
        QCOMPARE(int(src.open().clips.size()), 6 + 3);
        src.task = 7;
        QVERIFY(errorOf([&] { src.open(); }).find("dataset.task") != std::string::npos);
        src.task = 12;
        src.path.clear();
        QVERIFY(errorOf([&] { src.open(); }).find("dataset.path") != std::string::npos);

        src.kind = tkd::DatasetSource::Kind::Folder;
        src.path = root; // word folders are class folders too
        const auto folder = src.open();
        QVERIFY(folder.contentHash == tkd::FolderDataset::load(root).contentHash);
        QCOMPARE(int(folder.classes.size()), 3);
    }
};

QTEST_GUILESS_MAIN(TestLoaders)
#include "tst_loaders.moc"
