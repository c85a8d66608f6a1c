#pragma once

#include <QColor>
#include <QHash>
#include <QString>
#include <QVector>
#include <QWidget>

class QCheckBox;
class QCustomPlot;
class QCPGraph;
class QLabel;
class QSlider;

namespace tkd {

// Live training curves for one or several runs overlaid (TensorBoard's scalars, as a widget):
// the task, KD and total loss per optimiser step above, the validation metric per epoch below.
// A series is one training stage of one run ("run A / tc-resnet8 lambda=0.25"); it keeps one
// colour on both plots, and the loss kinds are told apart by pen style. Raw values are kept, so
// the EMA smoothing and the log scale can change at any time. Zoom and pan with the mouse wheel
// and drag (the plot stops following new data until double-clicked or "Fit" is pressed).
class TrainingCurves : public QWidget
{
    Q_OBJECT
public:
    enum Loss { Task = 0, Kd = 1, Total = 2 };

    explicit TrainingCurves(QWidget *parent = nullptr);

    // Creates the series if needed (idempotent); returns whether it was new.
    bool addSeries(const QString &id, const QString &label);
    bool hasSeries(const QString &id) const { return m_series.contains(id); }
    void removeSeries(const QString &id);
    void clear();
    QStringList seriesIds() const { return m_order; }

    // One optimiser step; the series is created (labelled by its id) if unknown.
    void addStep(const QString &id, double step, double task, double kd, double total);
    // One validation result at the end of an epoch.
    void addEpoch(const QString &id, double epoch, double metric);
    void setMetricName(const QString &name);

    // EMA weight in [0, 0.99] (TensorBoard's debiased exponential moving average; 0: raw).
    void setSmoothing(double weight);
    double smoothing() const { return m_smoothing; }
    void setLogScale(bool on);
    bool logScale() const { return m_logScale; }
    void setLossVisible(Loss loss, bool visible);
    // Rescales both plots to the data and follows new points again.
    void fitToData();
    bool following() const { return m_follow; }

    int stepPointCount(const QString &id, Loss loss = Total) const;
    int epochPointCount(const QString &id) const;
    int totalStepPoints() const { return m_totalSteps; }
    // The smoothed value drawn for the last point of a loss curve (NaN when none).
    double lastDrawnValue(const QString &id, Loss loss) const;

    QCustomPlot *lossPlot() const { return m_lossPlot; }
    QCustomPlot *metricPlot() const { return m_metricPlot; }
    QSlider *smoothingSlider() const { return m_smoothSlider; }
    QCheckBox *logScaleBox() const { return m_logBox; }

Q_SIGNALS:
    void pointsAdded(int stepPoints);

private:
    struct Series
    {
        QString label;
        QColor colour;
        QVector<double> steps;
        QVector<double> raw[3];
        double ema[3] = { 0, 0, 0 };
        int emaCount[3] = { 0, 0, 0 };
        QCPGraph *graphs[3] = { nullptr, nullptr, nullptr };
        QCPGraph *metric = nullptr;
    };

    double smoothNext(Series &s, int loss, double value);
    double drawable(double v) const;
    void rebuild();
    void schedule();
    void refresh();

    QCustomPlot *m_lossPlot;
    QCustomPlot *m_metricPlot;
    QSlider *m_smoothSlider;
    QLabel *m_smoothLabel;
    QCheckBox *m_logBox;
    QCheckBox *m_lossBoxes[3];
    QHash<QString, Series> m_series;
    QStringList m_order;
    double m_smoothing = 0.6;
    bool m_logScale = false;
    bool m_lossVisible[3] = { true, true, true };
    bool m_follow = true;
    bool m_refreshPending = false;
    int m_totalSteps = 0;
    int m_pendingSteps = 0;
};

} // namespace tkd
