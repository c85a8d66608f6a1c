// The clips view's widgets, driven for real offscreen: filtering and sorting the table, selecting
// a clip, and drawing its waveform, spectrogram and keyword window.
#include "widgets/ClipBrowser.h"
#include "widgets/WaveformView.h"

#include <QComboBox>
#include <QLineEdit>
#include <QSignalSpy>
#include <QTableView>
#include <QtTest>

#include "widgets/QCustomPlotInclude.h"
#include <cmath>

using tkd::ClipRow;

static QVector<ClipRow> sampleClips()
{
    QVector<ClipRow> rows;
    const char *labels[] = { "yes", "no", "_unknown_", "_silence_" };
    const char *splits[] = { "train", "validation", "test" };
    for (int i = 0; i < 30; ++i) {
        ClipRow r;
        r.path = QStringLiteral("/data/clip%1.wav").arg(i);
        r.label = QString::fromLatin1(labels[i % 4]);
        r.word = r.label == QLatin1String("_unknown_") ? QStringLiteral("house") : r.label;
        r.split = QString::fromLatin1(splits[i % 3]);
        r.speaker = QStringLiteral("spk%1").arg(i / 3);
        r.durationSec = 1.0 + (i * 7 % 30) / 10.0;
        rows << r;
    }
    return rows;
}

class TestClipViews : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void filtersBySplitLabelAndText()
    {
        tkd::ClipBrowser browser;
        browser.setClips(sampleClips());
        QCOMPARE(browser.filter()->rowCount(), 30);
        browser.splitBox()->setCurrentIndex(browser.splitBox()->findData(QStringLiteral("test")));
        QCOMPARE(browser.filter()->rowCount(), 10);
        browser.labelBox()->setCurrentIndex(browser.labelBox()->findData(QStringLiteral("yes")));
        // i % 3 == 2 and i % 4 == 0: i in {8, 20}
        QCOMPARE(browser.filter()->rowCount(), 2);
        browser.splitBox()->setCurrentIndex(0);
        browser.labelBox()->setCurrentIndex(0);
        QTest::keyClicks(browser.searchEdit(), "house");
        const auto all = sampleClips();
        const int houses = int(std::count_if(
            all.begin(), all.end(), [](const ClipRow &r) { return r.word == "house"; }));
        QVERIFY(houses > 0);
        QCOMPARE(browser.filter()->rowCount(), houses);
        browser.searchEdit()->clear();
        QCOMPARE(browser.filter()->rowCount(), 30);
        // The class box lists each class once, plus "All classes".
        QCOMPARE(browser.labelBox()->count(), 5);
    }

    void sortsNumericallyByLength()
    {
        tkd::ClipBrowser browser;
        browser.setClips(sampleClips());
        browser.table()->sortByColumn(tkd::ClipTableModel::Duration, Qt::DescendingOrder);
        double previous = 1e9;
        for (int r = 0; r < browser.filter()->rowCount(); ++r) {
            const double d = browser.filter()
                                 ->index(r, tkd::ClipTableModel::Duration)
                                 .data(tkd::ClipTableModel::SortRole)
                                 .toDouble();
            QVERIFY(d <= previous);
            previous = d;
        }
    }

    void selectingEmitsTheClip()
    {
        tkd::ClipBrowser browser;
        browser.setClips(sampleClips());
        browser.splitBox()->setCurrentIndex(
            browser.splitBox()->findData(QStringLiteral("validation")));
        QSignalSpy spy(&browser, &tkd::ClipBrowser::clipSelected);
        QVERIFY(browser.selectVisibleRow(2));
        QCOMPARE(spy.count(), 1);
        const auto clip = spy.at(0).at(0).value<ClipRow>();
        QCOMPARE(clip.split, QStringLiteral("validation"));
        QVERIFY(!browser.selectVisibleRow(10)); // only 10 validation rows: 0..9
    }

    void drawsWaveformSpectrogramAndWindow()
    {
        tkd::WaveformView view;
        view.resize(800, 400);
        tkd::ClipAudio clip;
        clip.sampleRate = 16000;
        clip.samples.resize(8 * 16000);
        for (int i = 0; i < clip.samples.size(); ++i)
            clip.samples[i] = float(0.3 * std::sin(2 * M_PI * 440.0 * i / 16000.0));
        clip.spectrogram.frames = 399;
        clip.spectrogram.bins = 40;
        clip.spectrogram.values.resize(clip.spectrogram.frames * clip.spectrogram.bins);
        for (int i = 0; i < clip.spectrogram.values.size(); ++i)
            clip.spectrogram.values[i] = float(i % 40);
        clip.onsetSec = 5.6;
        clip.offsetSec = 6.4;
        view.setClip(clip);
        QCOMPARE(view.durationSec(), 8.0);
        QVERIFY(view.windowShown());
        // The waveform is decimated to an envelope, but keeps its peaks.
        QVERIFY(view.waveformPointCount() > 1000 && view.waveformPointCount() <= 8000);
        const QCPRange y = view.plot()->axisRect(0)->axis(QCPAxis::atLeft)->range();
        QVERIFY(std::abs(y.upper - 0.3 * 1.05) < 0.01);
        // Rendering offscreen must not crash and must paint something.
        const QPixmap shot = view.plot()->toPixmap(800, 400);
        QVERIFY(!shot.isNull());

        clip.onsetSec = -1; // silence clip: no window
        view.setClip(clip);
        QVERIFY(!view.windowShown());
        view.clear();
        QCOMPARE(view.waveformPointCount(), 0);
    }
};

QTEST_MAIN(TestClipViews)
#include "tst_clipviews.moc"
