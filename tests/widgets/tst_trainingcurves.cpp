// TrainingCurves offscreen: series per run stage, step and epoch points, debiased EMA smoothing,
// log scale (zeros become gaps), loss visibility, follow / zoom, removal.
#include "widgets/QCustomPlotInclude.h"
#include "widgets/TrainingCurves.h"

#include <QCheckBox>
#include <QSignalSpy>
#include <QSlider>
#include <QtTest>

#include <cmath>

class TestTrainingCurves : public QObject
{
    Q_OBJECT
private Q_SLOTS:
    void pointsArriveAndAreCounted()
    {
        tkd::TrainingCurves curves;
        curves.resize(800, 500);
        curves.show();
        QSignalSpy added(&curves, &tkd::TrainingCurves::pointsAdded);
        QVERIFY(curves.addSeries("runA|s1", "run A: tc-resnet8"));
        QVERIFY(!curves.addSeries("runA|s1", "again")); // idempotent
        for (int i = 1; i <= 10; ++i)
            curves.addStep("runA|s1", i, 2.0 / i, 0.5, 2.0 / i + 0.25 * 0.5);
        curves.addStep("runB|s1", 1, 1.0, 0.0, 1.0); // unknown series: created on the fly
        curves.addEpoch("runA|s1", 1, 0.4);
        curves.addEpoch("runA|s1", 2, 0.55);
        QCOMPARE(curves.stepPointCount("runA|s1", tkd::TrainingCurves::Task), 10);
        QCOMPARE(curves.stepPointCount("runA|s1", tkd::TrainingCurves::Total), 10);
        QCOMPARE(curves.stepPointCount("runB|s1"), 1);
        QCOMPARE(curves.epochPointCount("runA|s1"), 2);
        QCOMPARE(curves.totalStepPoints(), 11);
        QCOMPARE(curves.seriesIds(), QStringList({ "runA|s1", "runB|s1" }));
        // Redrawn once per burst: one signal with all 11 points.
        QVERIFY(added.wait(2000));
        QCOMPARE(added.count(), 1);
        QCOMPARE(added.at(0).at(0).toInt(), 11);
        // Following: the x axis covers the data.
        QVERIFY(curves.lossPlot()->xAxis->range().contains(10.0));
        QVERIFY(curves.metricPlot()->xAxis->range().contains(2.0));
        // The two series have different colours on both plots.
        QVERIFY(curves.lossPlot()->graph(2)->pen().color()
            != curves.lossPlot()->graph(5)->pen().color());

        curves.removeSeries("runB|s1");
        QCOMPARE(curves.stepPointCount("runB|s1"), 0);
        QCOMPARE(curves.lossPlot()->graphCount(), 3);
        QCOMPARE(curves.metricPlot()->graphCount(), 1);
    }

    void smoothingIsADebiasedEma()
    {
        tkd::TrainingCurves curves;
        curves.setSmoothing(0.0);
        const double values[] = { 4.0, 2.0, 1.0, 3.0 };
        for (int i = 0; i < 4; ++i)
            curves.addStep("s", i + 1, values[i], 0.0, values[i]);
        QCOMPARE(curves.lastDrawnValue("s", tkd::TrainingCurves::Total), 3.0); // raw
        curves.smoothingSlider()->setValue(50); // the slider drives it
        QCOMPARE(curves.smoothing(), 0.5);
        // TensorBoard's EMA with bias correction, by hand.
        double ema = 0.0;
        for (int i = 0; i < 4; ++i)
            ema = 0.5 * ema + 0.5 * values[i];
        const double expected = ema / (1.0 - std::pow(0.5, 4));
        QVERIFY(
            std::fabs(curves.lastDrawnValue("s", tkd::TrainingCurves::Total) - expected) < 1e-12);
        // The first point is never pulled towards 0 (the bias correction).
        const auto first = curves.lossPlot()->graph(2)->data()->constBegin();
        QCOMPARE(first->value, 4.0);
        // New points continue the same average.
        curves.addStep("s", 5, 1.0, 0.0, 1.0);
        ema = 0.5 * ema + 0.5 * 1.0;
        QVERIFY(std::fabs(curves.lastDrawnValue("s", tkd::TrainingCurves::Total)
                    - ema / (1.0 - std::pow(0.5, 5)))
            < 1e-12);
        // A diverged (NaN) step is a gap and does not poison the average.
        curves.addStep("s", 6, std::nan(""), 0.0, std::nan(""));
        QVERIFY(std::isnan(curves.lastDrawnValue("s", tkd::TrainingCurves::Total)));
        curves.addStep("s", 7, 1.0, 0.0, 1.0);
        QVERIFY(std::isfinite(curves.lastDrawnValue("s", tkd::TrainingCurves::Total)));
    }

    void logScaleLeavesGapsForZeros()
    {
        tkd::TrainingCurves curves;
        curves.setSmoothing(0.0);
        curves.addStep("s", 1, 0.5, 0.0, 0.5); // KD 0: a lambda = 0 student
        curves.addStep("s", 2, 0.25, 0.0, 0.25);
        QCOMPARE(curves.lastDrawnValue("s", tkd::TrainingCurves::Kd), 0.0);
        curves.logScaleBox()->setChecked(true);
        QVERIFY(curves.logScale());
        QCOMPARE(curves.lossPlot()->yAxis->scaleType(), QCPAxis::stLogarithmic);
        QVERIFY(std::isnan(curves.lastDrawnValue("s", tkd::TrainingCurves::Kd)));
        QCOMPARE(curves.lastDrawnValue("s", tkd::TrainingCurves::Total), 0.25);
        curves.setLogScale(false);
        QCOMPARE(curves.lossPlot()->yAxis->scaleType(), QCPAxis::stLinear);
        QCOMPARE(curves.lastDrawnValue("s", tkd::TrainingCurves::Kd), 0.0);
    }

    void zoomPanAndVisibility()
    {
        tkd::TrainingCurves curves;
        curves.resize(800, 500);
        curves.show();
        QVERIFY(QTest::qWaitForWindowExposed(&curves));
        QVERIFY(curves.lossPlot()->interactions().testFlag(QCP::iRangeDrag));
        QVERIFY(curves.lossPlot()->interactions().testFlag(QCP::iRangeZoom));
        for (int i = 1; i <= 100; ++i)
            curves.addStep("s", i, 1.0, 0.5, 1.1);
        QTRY_VERIFY(curves.lossPlot()->xAxis->range().upper >= 100.0);
        // A drag on the plot hands the view to the user: new data no longer moves it.
        QCustomPlot *plot = curves.lossPlot();
        const QPoint c = plot->axisRect()->rect().center();
        QTest::mousePress(plot, Qt::LeftButton, {}, c);
        QTest::mouseMove(plot, c + QPoint(60, 0));
        QTest::mouseRelease(plot, Qt::LeftButton, {}, c + QPoint(60, 0));
        QVERIFY(!curves.following());
        const QCPRange before = plot->xAxis->range();
        for (int i = 101; i <= 200; ++i)
            curves.addStep("s", i, 1.0, 0.5, 1.1);
        QTest::qWait(150);
        QCOMPARE(plot->xAxis->range().upper, before.upper);
        curves.fitToData();
        QTRY_VERIFY(plot->xAxis->range().upper >= 200.0);
        QVERIFY(curves.following());

        curves.setLossVisible(tkd::TrainingCurves::Kd, false);
        QVERIFY(!plot->graph(1)->visible());
        QVERIFY(plot->graph(2)->visible());
    }
};

QTEST_MAIN(TestTrainingCurves)
#include "tst_trainingcurves.moc"
