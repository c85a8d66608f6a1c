// Issue 13's domain randomisation: flite voices and per-speaker speed / pitch / vocal-tract
// length in the built-in corpus; the synthetic room, channel, gain and clipping of the noisy
// construction (their experiment keys: tst_experimentconfig). Neutral settings must leave every
// earlier corpus and noisy set exactly as it was.
#include "core/audio/AudioFile.h"
#include "core/data/BuiltinCorpus.h"
#include "core/data/NoisyDataset.h"
#include "core/data/RoomChannel.h"
#include "core/data/SpeechActivity.h"
#include "core/util/Error.h"
#include "core/util/Paths.h"
#include "core/util/Rng.h"

#include <QTemporaryDir>
#include <QtTest>

#include <cmath>
#include <complex>
#include <filesystem>
#include <map>

namespace fs = std::filesystem;

namespace {

tkd::BuiltinCorpusConfig fliteConfig()
{
    tkd::BuiltinCorpusConfig c;
    c.speakers = 3;
    c.words = { "yes", "left", "seven" };
    c.seed = 5;
    c.fliteShare = 1.0;
    c.speedMin = 0.9;
    c.speedMax = 1.1;
    c.pitchMinSt = -3.0;
    c.pitchMaxSt = 3.0;
    c.vtlMin = 0.9;
    c.vtlMax = 1.1;
    return c;
}

// Power spectrum centroid (Hz) of x[a, b) through a plain DFT over 512-sample frames.
double spectralCentroid(const std::vector<float> &x, size_t a, size_t b)
{
    const size_t n = 512;
    double num = 0, den = 0;
    for (size_t start = a; start + n <= b; start += n / 2)
        for (size_t k = 1; k < n / 2; ++k) {
            std::complex<double> s = 0;
            for (size_t t = 0; t < n; ++t)
                s += double(x[start + t]) * std::polar(1.0, -2.0 * M_PI * double(k * t) / n);
            const double p = std::norm(s);
            num += p * double(k) * 16000.0 / n;
            den += p;
        }
    return den > 0 ? num / den : 0.0;
}

double energy(const std::vector<float> &x)
{
    double e = 0;
    for (float v : x)
        e += double(v) * v;
    return e;
}

// Energy of x in [lo, hi] Hz (DFT over the whole signal, coarse bins).
double bandEnergy(const std::vector<float> &x, double lo, double hi)
{
    const size_t n = x.size();
    double e = 0;
    for (size_t k = size_t(lo * n / 16000.0); k <= size_t(hi * n / 16000.0) && k < n / 2; k += 4) {
        std::complex<double> s = 0;
        for (size_t t = 0; t < n; ++t)
            s += double(x[t]) * std::polar(1.0, -2.0 * M_PI * double(k * t) / double(n));
        e += std::norm(s);
    }
    return e;
}

tkd::DatasetIndex tinyIndex(const tkd::BuiltinCorpus &corpus)
{
    return corpus.index12(1);
}

} // namespace

class TestVoiceRandomisation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void neutralSettingsKeepTheVersion2Corpus();
    void unseenFamilyCorpus();
    void espeakSpeakersKeepTheirVoices();
    void fliteCorpusIsReproducibleAndAudible();
    void vocalTractLengthMovesTheFormants();
    void badCorpusSettings_data();
    void badCorpusSettings();
    void impulseResponseHasItsDrrAndRt60();
    void channelBandLimitsAndClips();
    void noisyItemsInARoom();
};

void TestVoiceRandomisation::neutralSettingsKeepTheVersion2Corpus()
{
    tkd::BuiltinCorpusConfig neutral;
    QVERIFY(!neutral.randomised());
    QCOMPARE(neutral.generatorVersion(), 2);
    // The keys of the randomisation are absent from a neutral corpus's identity...
    for (const char *key : { "flite_share", "speed", "pitch_semitones", "vtl" })
        QVERIFY2(neutral.canonicalJson().find(key) == std::string::npos, key);
    // ...and any of them makes another corpus (version 3).
    tkd::BuiltinCorpusConfig v = neutral;
    v.vtlMax = 1.1;
    QVERIFY(v.randomised());
    QCOMPARE(v.generatorVersion(), 3);
    QVERIFY(v.hash() != neutral.hash());
    // The same for the noisy construction: a neutral room and channel are not in its identity.
    tkd::NoisyConfig n;
    QVERIFY(n.roomChannel.neutral());
    QVERIFY(n.canonicalJson().find("reverb_share") == std::string::npos);
    tkd::NoisyConfig r = n;
    r.roomChannel.reverbShare = 0.5;
    QVERIFY(r.canonicalJson().find("\"reverb_share\":0.5") != std::string::npos);
}

void TestVoiceRandomisation::unseenFamilyCorpus()
{
    tkd::BuiltinCorpusConfig espeakOnly;
    espeakOnly.vtlMin = 0.9;
    const auto flite = espeakOnly.unseenFamily(60);
    QVERIFY(flite.has_value());
    QCOMPARE(flite->onlyFamily(), tkd::VoiceFamily::Flite);
    QCOMPARE(flite->speakers, 60);
    QCOMPARE(flite->vtlMin, 0.9); // the same randomisation
    QVERIFY(flite->firstSpeaker >= 200000); // nobody an experiment or the teacher has heard
    for (const auto &spk : tkd::BuiltinCorpus::planSpeakers(*flite))
        QCOMPARE(spk.family, tkd::VoiceFamily::Flite);
    tkd::BuiltinCorpusConfig fliteOnly;
    fliteOnly.fliteShare = 1.0;
    QCOMPARE(fliteOnly.unseenFamily(10)->onlyFamily(), tkd::VoiceFamily::Espeak);
    tkd::BuiltinCorpusConfig both;
    both.fliteShare = 0.3;
    QVERIFY(!both.unseenFamily(60).has_value());
    QVERIFY(!espeakOnly.unseenFamily(0).has_value());
}

void TestVoiceRandomisation::espeakSpeakersKeepTheirVoices()
{
    tkd::BuiltinCorpusConfig neutral;
    neutral.speakers = 60;
    tkd::BuiltinCorpusConfig mixed = neutral;
    mixed.fliteShare = 0.5;
    mixed.vtlMin = 0.85;
    mixed.vtlMax = 1.15;
    const auto a = tkd::BuiltinCorpus::planSpeakers(neutral);
    const auto b = tkd::BuiltinCorpus::planSpeakers(mixed);
    int flite = 0;
    std::map<std::string, int> fliteVoices;
    for (size_t i = 0; i < a.size(); ++i) {
        QCOMPARE(b[i].split, a[i].split); // splits do not depend on the voices
        QVERIFY(b[i].vtl >= 0.85 && b[i].vtl <= 1.15);
        if (b[i].family == tkd::VoiceFamily::Flite) {
            ++flite;
            ++fliteVoices[b[i].voice];
            continue;
        }
        QCOMPARE(b[i].voice, a[i].voice);
        QCOMPARE(b[i].rateWpm, a[i].rateWpm);
        QCOMPARE(b[i].pitch, a[i].pitch);
        QCOMPARE(b[i].peakDb, a[i].peakDb);
        QCOMPARE(b[i].pitchSemitones, 0.0); // espeak draws its own pitch
    }
    QVERIFY2(flite > 15 && flite < 45, qPrintable(QString::number(flite)));
    QVERIFY(fliteVoices.size() >= 4); // of the five
}

void TestVoiceRandomisation::fliteCorpusIsReproducibleAndAudible()
{
    QTemporaryDir a, b;
    tkd::BuiltinCorpus first(fliteConfig(), a.path().toStdString());
    first.ensure();
    tkd::BuiltinCorpus second(fliteConfig(), b.path().toStdString());
    second.ensure();
    QCOMPARE(first.contentHash(), second.contentHash()); // manifests (with every SHA-256) agree
    for (const auto &spk : first.speakers())
        QCOMPARE(spk.family, tkd::VoiceFamily::Flite);
    int words = 0;
    for (const auto &clip : first.clips()) {
        if (clip.word == tkd::kSilenceLabel)
            continue;
        ++words;
        const auto x = tkd::loadAudio(first.folder() + "/" + clip.path);
        QCOMPARE(x.size(), size_t(16000));
        QCOMPARE(tkd::readFile(first.folder() + "/" + clip.path),
            tkd::readFile(second.folder() + "/" + clip.path));
        const auto w = tkd::SpeechActivity().detect(x, 16000);
        QVERIFY2(w.found(), clip.path.c_str());
        // The recorded window covers what an independent detector finds (the corpus's own
        // peak-relative trim also keeps the softer onsets some flite voices have).
        QVERIFY2(
            clip.speechOnsetSec <= w.onsetSec + 0.03 && clip.speechOffsetSec >= w.offsetSec - 0.03,
            qPrintable(QString("%1: onset %2 s, detected %3 s")
                           .arg(clip.path.c_str())
                           .arg(clip.speechOnsetSec)
                           .arg(w.onsetSec)));
        QVERIFY(w.offsetSec - w.onsetSec > 0.6 * (clip.speechOffsetSec - clip.speechOnsetSec));
        QVERIFY(clip.speechOffsetSec - clip.speechOnsetSec > 0.15);
    }
    QCOMPARE(words, 9);
    // The manifest records each speaker's draw, and a reload reads it back.
    const std::string manifest = tkd::readFile(first.manifestPath());
    QVERIFY(manifest.find("\"family\": \"flite\"") != std::string::npos);
    QVERIFY(manifest.find("\"generator_version\": 3") != std::string::npos);
    tkd::BuiltinCorpus again(fliteConfig(), a.path().toStdString());
    QVERIFY(again.ensure().reused);
    QCOMPARE(again.speakers().front().vtl, first.speakers().front().vtl);
}

void TestVoiceRandomisation::vocalTractLengthMovesTheFormants()
{
    // One flite speaker, the same word, two vocal-tract factors 1.3x apart: the formants (the
    // spectral centroid of the word) move up by about that, the duration stays.
    auto corpusWith = [](double vtl, const QTemporaryDir &dir) {
        tkd::BuiltinCorpusConfig c = fliteConfig();
        c.speakers = 1;
        c.words = { "seven" };
        c.speedMin = c.speedMax = 1.0;
        c.pitchMinSt = c.pitchMaxSt = 0.0;
        c.vtlMin = c.vtlMax = vtl;
        tkd::BuiltinCorpus corpus(c, dir.path().toStdString());
        corpus.ensure();
        for (const auto &clip : corpus.clips())
            if (clip.word == "seven")
                return std::make_pair(tkd::loadAudio(corpus.folder() + "/" + clip.path), clip);
        throw std::runtime_error("no clip");
    };
    QTemporaryDir d1, d2;
    const auto [low, clipLow] = corpusWith(0.85, d1);
    const auto [high, clipHigh] = corpusWith(1.1, d2);
    const double durLow = clipLow.speechOffsetSec - clipLow.speechOnsetSec;
    const double durHigh = clipHigh.speechOffsetSec - clipHigh.speechOnsetSec;
    QVERIFY2(std::fabs(durHigh / durLow - 1.0) < 0.15,
        qPrintable(QString("durations %1 and %2 s").arg(durLow).arg(durHigh)));
    const double cLow = spectralCentroid(
        low, size_t(clipLow.speechOnsetSec * 16000), size_t(clipLow.speechOffsetSec * 16000));
    const double cHigh = spectralCentroid(
        high, size_t(clipHigh.speechOnsetSec * 16000), size_t(clipHigh.speechOffsetSec * 16000));
    const double ratio = cHigh / cLow;
    // The centroid is a crude stand-in for the formants (the fricative's energy weighs in), so
    // only the direction and the order of magnitude are checked.
    QVERIFY2(ratio > 1.15 && ratio < 1.8,
        qPrintable(QString("centroids %1 and %2 Hz, ratio %3").arg(cLow).arg(cHigh).arg(ratio)));
}

void TestVoiceRandomisation::badCorpusSettings_data()
{
    QTest::addColumn<int>("which");
    QTest::addColumn<QString>("key");
    QTest::newRow("flite share above 1") << 0 << "corpus.flite_share";
    QTest::newRow("vtl reversed") << 1 << "corpus.vtl";
    QTest::newRow("speed nan") << 2 << "corpus.speed";
    QTest::newRow("pitch out of range") << 3 << "corpus.pitch_semitones";
}

void TestVoiceRandomisation::badCorpusSettings()
{
    QFETCH(int, which);
    QFETCH(QString, key);
    tkd::BuiltinCorpusConfig c;
    if (which == 0)
        c.fliteShare = 1.5;
    else if (which == 1) {
        c.vtlMin = 1.2;
        c.vtlMax = 0.9;
    } else if (which == 2)
        c.speedMin = std::nan("");
    else
        c.pitchMaxSt = 30;
    try {
        c.validate();
        QFAIL("accepted");
    } catch (const tkd::Error &e) {
        QCOMPARE(QString::fromStdString(e.subject()), key);
    }
}

void TestVoiceRandomisation::impulseResponseHasItsDrrAndRt60()
{
    tkd::RoomChannelDraw d;
    d.rt60 = 0.6;
    d.drrDb = 3.0;
    tkd::Rng rng(11);
    const auto ir = tkd::RoomChannel::impulseResponse(d, rng);
    QCOMPARE(ir.front(), 1.0f);
    double tail = 0;
    for (size_t k = 1; k < ir.size(); ++k)
        tail += double(ir[k]) * ir[k];
    QVERIFY(std::fabs(10 * std::log10(1.0 / tail) - 3.0) < 0.01);
    // Schroeder backward integration of the tail: the -5 to -25 dB slope gives T20 x 3 = RT60.
    std::vector<double> edc(ir.size(), 0.0);
    double acc = 0;
    for (size_t k = ir.size(); k-- > 1;)
        edc[k] = (acc += double(ir[k]) * ir[k]);
    auto timeAt = [&](double db) {
        for (size_t k = 1; k < edc.size(); ++k)
            if (10 * std::log10(edc[k] / edc[1]) <= db)
                return double(k) / 16000.0;
        return -1.0;
    };
    const double rt60 = 3.0 * (timeAt(-25) - timeAt(-5));
    QVERIFY2(std::fabs(rt60 - 0.6) < 0.12, qPrintable(QString("estimated RT60 %1 s").arg(rt60)));
}

void TestVoiceRandomisation::channelBandLimitsAndClips()
{
    tkd::Rng rng(3);
    std::vector<float> noise(8000);
    for (float &v : noise)
        v = float(0.1 * rng.normal());
    // Telephone band: little left below 200 Hz or above 4.5 kHz, the middle kept.
    tkd::RoomChannelDraw phone;
    phone.channel = true;
    phone.highpassHz = 300;
    phone.lowpassHz = 3400;
    std::vector<float> x = noise;
    tkd::RoomChannel::colour(x, phone);
    const double keptMid = bandEnergy(x, 800, 2500) / bandEnergy(noise, 800, 2500);
    const double keptLow = bandEnergy(x, 20, 150) / bandEnergy(noise, 20, 150);
    const double keptHigh = bandEnergy(x, 5000, 7800) / bandEnergy(noise, 5000, 7800);
    QVERIFY2(keptMid > 0.7, qPrintable(QString::number(keptMid)));
    QVERIFY2(keptLow < 0.1, qPrintable(QString::number(keptLow)));
    QVERIFY2(keptHigh < 0.1, qPrintable(QString::number(keptHigh)));
    // Gain: -20 dB is a factor 0.01 in energy.
    tkd::RoomChannelDraw quiet;
    quiet.gainDb = -20;
    x = noise;
    tkd::RoomChannel::colour(x, quiet);
    QVERIFY(std::fabs(energy(x) / energy(noise) - 0.01) < 1e-4);
    // Clipping: peaks 6 dB past the clip level are flattened there; +30 dB hits full scale.
    tkd::RoomChannelDraw clip;
    clip.driveDb = 6;
    x = noise;
    tkd::RoomChannel::colour(x, clip);
    float peak = 0, peakIn = 0;
    for (size_t i = 0; i < x.size(); ++i) {
        peak = std::max(peak, std::fabs(x[i]));
        peakIn = std::max(peakIn, std::fabs(noise[i]));
    }
    QVERIFY(std::fabs(peak - peakIn / 2.0f) < 0.01f);
    tkd::RoomChannelDraw loud;
    loud.gainDb = 30;
    x = noise;
    tkd::RoomChannel::colour(x, loud);
    peak = 0;
    for (float v : x)
        peak = std::max(peak, std::fabs(v));
    QCOMPARE(peak, 1.0f);
}

void TestVoiceRandomisation::noisyItemsInARoom()
{
    QTemporaryDir dir;
    tkd::BuiltinCorpusConfig c;
    c.speakers = 3;
    c.words = { "yes", "no", "left", "right", "bed" };
    tkd::BuiltinCorpus corpus(c, dir.path().toStdString());
    corpus.ensure();
    tkd::NoisyConfig dry;
    dry.lengthSec = 2.0;
    dry.babbleWords = 0;
    dry.snrDbMin = dry.snrDbMax = 20.0;
    tkd::NoisyConfig wet = dry;
    wet.roomChannel.reverbShare = 1.0;
    wet.roomChannel.rt60Min = wet.roomChannel.rt60Max = 0.8;
    wet.roomChannel.drrMin = wet.roomChannel.drrMax = 0.0;
    wet.roomChannel.gainMin = wet.roomChannel.gainMax = -12.0;
    const tkd::NoisyDataset a(tinyIndex(corpus), dry), b(tinyIndex(corpus), wet);
    QVERIFY(a.contentHash() != b.contentHash());
    // The reverberant tail: energy just after the keyword, relative to the background far from
    // it, is much larger in the room (the items differ in placement and noise: the config is part
    // of every item's seed, so the comparison is over the whole split).
    auto tailRatio = [](const tkd::NoisyDataset &d, bool room) {
        double sum = 0;
        int n = 0;
        for (size_t i = 0; i < d.size(tkd::Split::Train); ++i) {
            const tkd::NoisyItem it = d.item(tkd::Split::Train, i);
            if (room) {
                if (it.roomChannel.rt60 != 0.8 || it.roomChannel.gainDb != -12.0)
                    return -1.0;
                float peak = 0;
                for (float v : it.samples)
                    peak = std::max(peak, std::fabs(v));
                if (peak > 0.99f * 0.2512f) // the gain came after the mix was levelled
                    return -2.0;
            }
            if (it.silence())
                continue;
            const size_t on = size_t(it.keywordOnsetSec * 16000);
            const size_t off = size_t(it.keywordOffsetSec * 16000);
            const size_t a = off + 400, b = std::min(it.samples.size(), off + 4000);
            const size_t quietA = on > 8000 ? 0 : std::min(it.samples.size(), off + 12000);
            const size_t quietB = std::min(it.samples.size(), quietA + 4000);
            if (b < a + 1600 || quietB < quietA + 1600 || (quietA < on && quietB > on))
                continue;
            double tail = 0, quiet = 0;
            for (size_t k = a; k < b; ++k)
                tail += double(it.samples[k]) * it.samples[k] / double(b - a);
            for (size_t k = quietA; k < quietB; ++k)
                quiet += double(it.samples[k]) * it.samples[k] / double(quietB - quietA);
            sum += 10 * std::log10(tail / quiet);
            ++n;
        }
        return n >= 3 ? sum / n : -3.0;
    };
    const double dryDb = tailRatio(a, false), wetDb = tailRatio(b, true);
    QVERIFY2(wetDb > dryDb + 6.0,
        qPrintable(QString("tail over background: dry %1 dB, room %2 dB").arg(dryDb).arg(wetDb)));
    // Items are still a pure function of their index.
    QCOMPARE(b.item(tkd::Split::Train, 1).samples, b.item(tkd::Split::Train, 1).samples);
}

QTEST_GUILESS_MAIN(TestVoiceRandomisation)
#include "tst_voicerandomisation.moc"
