// The attention view, driven for real offscreen with a figure built here: panels and curves per
// series kind, the keyword window, focusing a student, the per-layer map, PNG and SVG export.
#include "widgets/AttentionView.h"

#include "widgets/QCustomPlotInclude.h"

#include <QImage>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QtTest>

#include <cmath>

using tkd::AttentionFigure;
using tkd::AttentionSeries;

namespace {
// A bump centred at `centreSec` over `frames` frames of a 2 s clip, normalised to sum 1.
AttentionSeries bump(
    const QString &model, const QString &kind, double lambda, double centreSec, int frames)
{
    AttentionSeries s;
    s.model = model;
    s.kind = kind;
    s.lambda = lambda;
    s.teacherKind = QStringLiteral("tiny");
    double sum = 0.0;
    for (int i = 0; i < frames; ++i) {
        const double t = (i + 0.5) * 2.0 / frames;
        s.timesSec << t;
        s.weights << std::exp(-std::pow((t - centreSec) / 0.1, 2)) + 1e-3;
        sum += s.weights.back();
    }
    for (double &w : s.weights)
        w /= sum;
    s.score = 0.8;
    s.prediction = QStringLiteral("yes");
    s.confidence = 0.9;
    return s;
}

AttentionFigure figure()
{
    AttentionFigure f;
    f.title = QStringLiteral("test #3");
    f.trueLabel = QStringLiteral("yes");
    f.clipSec = 2.0;
    f.spectrogram.frames = 99;
    f.spectrogram.bins = 40;
    f.spectrogram.values.resize(f.spectrogram.frames * f.spectrogram.bins);
    for (int i = 0; i < f.spectrogram.values.size(); ++i)
        f.spectrogram.values[i] = float(i % 17);
    f.onsetSec = 1.1;
    f.offsetSec = 1.5;
    f.baseline = 0.2;
    f.series << bump(QStringLiteral("teacher"), QStringLiteral("rollout"), -1, 1.3, 99);
    f.series << bump(QStringLiteral("tc-resnet8"), QStringLiteral("none"), 0.0, 1.3, 0);
    f.series << bump(QStringLiteral("tc-resnet8"), QStringLiteral("branch"), 0.25, 1.3, 12);
    f.series << bump(QStringLiteral("att-rnn"), QStringLiteral("native"), 0.0, 0.5, 99);
    f.series << bump(QStringLiteral("att-rnn"), QStringLiteral("branch"), 0.25, 1.25, 99);
    f.series << bump(QStringLiteral("att-rnn"), QStringLiteral("native"), 0.25, 1.3, 99);
    f.layers = 2;
    f.heads = 3;
    f.teacherTimesSec = f.series[0].timesSec;
    f.layerRows.resize(f.layers * f.heads * 99);
    for (int i = 0; i < f.layerRows.size(); ++i)
        f.layerRows[i] = float((i % 99) == 60);
    return f;
}

int axisRectCount(QCustomPlot *plot)
{
    return int(plot->axisRects().size());
}
} // namespace

class TestAttentionView : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
    } // remembered choices: not the user's
    void init() { QSettings().clear(); } // each test starts from the defaults

    void drawsOnePanelPerKindAndOneCurvePerSeries()
    {
        tkd::AttentionView view;
        view.resize(1000, 800);
        QSignalSpy shown(&view, &tkd::AttentionView::figureShown);
        view.setFigure(figure());
        QCOMPARE(shown.count(), 1);
        // spectrogram, teacher, branches, native attention
        QCOMPARE(axisRectCount(view.plot()), 4);
        // Every series with attention is a curve; the vanilla tc-resnet8 (kind none) is not.
        QCOMPARE(view.curveCount(), 5);
        const QStringList names = view.curveNames();
        QVERIFY(names.first().startsWith(QStringLiteral("teacher tiny (rollout)")));
        QVERIFY(names.join(QLatin1Char('\n')).contains(QStringLiteral("tc-resnet8 λ=0.25")));
        QVERIFY(names.first().contains(QStringLiteral("0.80 in window")));
        // Scores and predictions are listed, the vanilla student included.
        QVERIFY(view.scoreText().contains(QStringLiteral("no attention")));
        QVERIFY(view.scoreText().contains(QStringLiteral("uniform attention would score 0.20")));
        // Normalised: every curve peaks at 1.
        for (int i = 0; i < view.plot()->graphCount(); ++i) {
            double peak = 0;
            for (auto it = view.plot()->graph(i)->data()->begin();
                 it != view.plot()->graph(i)->data()->end(); ++it)
                peak = std::max(peak, it->value);
            QCOMPARE(peak, 1.0);
        }
        view.setNormalised(false);
        double peak = 0;
        for (auto it = view.plot()->graph(0)->data()->begin();
             it != view.plot()->graph(0)->data()->end(); ++it)
            peak = std::max(peak, it->value);
        QVERIFY(peak < 0.5);
        // The keyword window is shaded in every panel (and outlined on the spectrogram).
        int windows = 0;
        for (int i = 0; i < view.plot()->itemCount(); ++i)
            if (auto *r = qobject_cast<QCPItemRect *>(view.plot()->item(i)))
                windows += std::abs(r->topLeft->coords().x() - 1.1) < 1e-9;
        QCOMPARE(windows, 4);
    }

    void focusesOneStudent()
    {
        tkd::AttentionView view;
        view.setFigure(figure());
        view.focusStudent(QStringLiteral("att-rnn"), 0.25);
        QCOMPARE(view.curveCount(), 3); // teacher + att-rnn λ=0.25 branch and native
        QVERIFY(!view.isSeriesVisible(3));
        view.focusStudent(QStringLiteral("att-rnn"));
        QCOMPARE(view.curveCount(), 4);
        view.focusStudent(QString());
        QCOMPARE(view.curveCount(), 5);
        view.setSeriesVisible(0, false);
        QCOMPARE(view.curveCount(), 4);
        // The same series on the next clip keep the choice.
        view.setFigure(figure());
        QVERIFY(!view.isSeriesVisible(0));
    }

    void focusingACheckpointWithoutACurveKeepsTheOthers()
    {
        // Issue 17: clicking the lambda = 0 cell of a student with no attention of its own (no
        // branch trained at lambda 0, no native attention) left no student plotted.
        tkd::AttentionView view;
        view.resize(460, 700);
        view.show();
        view.setFigure(figure());
        view.focusStudent(QStringLiteral("tc-resnet8"), 0.0);
        QVERIFY(view.isSeriesVisible(0)); // the teacher
        QVERIFY(view.isSeriesVisible(2)); // tc-resnet8 at lambda 0.25 stays
        QVERIFY(!view.isSeriesVisible(4)); // other students go
        QCOMPARE(view.curveCount(), 2);
        QVERIFY(view.scoreText().contains("no attention curve"));
        // The export button is whole at this width.
        QTRY_VERIFY(view.exportButton()->isVisible());
        QVERIFY(view.exportButton()->width() >= view.exportButton()->sizeHint().width());
        QVERIFY(view.exportButton()->geometry().right() < view.width());
    }

    void layerMapAndCursor()
    {
        tkd::AttentionView view;
        view.resize(1000, 900);
        view.show();
        view.setFigure(figure());
        QVERIFY(!view.layerMapShown());
        view.setLayerMapShown(true);
        QVERIFY(view.layerMapShown());
        auto *map = qobject_cast<QCPColorMap *>(view.layerPlot()->plottable(0));
        QVERIFY(map);
        QCOMPARE(map->data()->valueSize(), 6); // 2 layers x 3 heads
        QCOMPARE(map->data()->keySize(), 99);
        QCOMPARE(map->data()->cell(60, 0), 1.0);
        QCOMPARE(map->data()->cell(10, 0), 0.0);
        view.setCursorSec(0.7);
        int cursors = 0;
        for (int i = 0; i < view.plot()->itemCount(); ++i)
            if (auto *l = qobject_cast<QCPItemStraightLine *>(view.plot()->item(i)))
                cursors += l->visible() && std::abs(l->point1->coords().x() - 0.7) < 1e-9;
        QCOMPARE(cursors, 4);
        view.setCursorSec(-1);
        for (int i = 0; i < view.plot()->itemCount(); ++i)
            if (auto *l = qobject_cast<QCPItemStraightLine *>(view.plot()->item(i)))
                QVERIFY(!l->visible());
    }

    void exportsPngAndSvg()
    {
        QTemporaryDir dir;
        tkd::AttentionView view;
        view.setFigure(figure());
        const QString png = dir.filePath(QStringLiteral("a.png")),
                      svg = dir.filePath(QStringLiteral("a.svg"));
        QVERIFY(view.exportPng(png, 900, 700));
        const QImage image(png);
        QCOMPARE(image.size(), QSize(900, 700));
        // Not blank: the spectrogram and curves put many colours in the picture.
        QSet<QRgb> colours;
        for (int y = 0; y < image.height(); y += 7)
            for (int x = 0; x < image.width(); x += 7)
                colours.insert(image.pixel(x, y));
        QVERIFY(colours.size() > 20);
        QVERIFY(view.exportSvg(svg, 900, 700));
        QFile f(svg);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const QByteArray text = f.readAll();
        QVERIFY(text.contains("<svg"));
        QVERIFY(text.contains("Teacher model"));
        QVERIFY(text.count("<path") + text.count("<polyline") > 5);
    }

    void emptyFigure()
    {
        tkd::AttentionView view;
        view.setFigure(AttentionFigure());
        QCOMPARE(view.curveCount(), 0);
        view.clear();
        QCOMPARE(view.curveCount(), 0);
    }
};

QTEST_MAIN(TestAttentionView)
#include "tst_attentionview.moc"
