#include "TrainingCurves.h"

#include "QCustomPlotInclude.h"

#include <QCheckBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QPushButton>
#include <QSlider>
#include <QSplitter>
#include <QTimer>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tkd {

namespace {

// Tableau 10: distinct on white and for the common colour-vision deficiencies.
const QColor kPalette[] = { QColor(31, 119, 180), QColor(255, 127, 14), QColor(44, 160, 44),
    QColor(214, 39, 40), QColor(148, 103, 189), QColor(140, 86, 75), QColor(227, 119, 194),
    QColor(127, 127, 127), QColor(188, 189, 34), QColor(23, 190, 207) };

void styleAxes(QCustomPlot *plot, const QString &x, const QString &y)
{
    plot->xAxis->setLabel(x);
    plot->yAxis->setLabel(y);
    plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    plot->axisRect()->setRangeDrag(Qt::Horizontal | Qt::Vertical);
    plot->axisRect()->setRangeZoom(Qt::Horizontal | Qt::Vertical);
    plot->setNoAntialiasingOnDrag(true);
    QFont f = plot->font();
    f.setPointSizeF(f.pointSizeF() * 0.9);
    plot->xAxis->setLabelFont(f);
    plot->yAxis->setLabelFont(f);
    plot->xAxis->setTickLabelFont(f);
    plot->yAxis->setTickLabelFont(f);
    plot->xAxis->grid()->setSubGridVisible(false);
}

Qt::PenStyle lossStyle(int loss)
{
    return loss == TrainingCurves::Task ? Qt::DashLine
        : loss == TrainingCurves::Kd    ? Qt::DotLine
                                        : Qt::SolidLine;
}

} // namespace

TrainingCurves::TrainingCurves(QWidget *parent)
    : QWidget(parent)
    , m_lossPlot(new QCustomPlot)
    , m_metricPlot(new QCustomPlot)
    , m_smoothSlider(new QSlider(Qt::Horizontal))
    , m_smoothLabel(new QLabel)
    , m_logBox(new QCheckBox(tr("Log scale")))
{
    styleAxes(m_lossPlot, tr("step"), tr("training loss"));
    styleAxes(m_metricPlot, tr("epoch"), tr("validation accuracy"));
    m_lossPlot->legend->setVisible(true);
    QFont lf = m_lossPlot->font();
    lf.setPointSizeF(lf.pointSizeF() * 0.85);
    m_lossPlot->legend->setFont(lf);
    m_lossPlot->legend->setBrush(QColor(255, 255, 255, 220));
    m_lossPlot->axisRect()->insetLayout()->setInsetAlignment(0, Qt::AlignTop | Qt::AlignRight);
    m_metricPlot->yAxis->setRange(0, 1);
    // Epochs are whole numbers: ticks on integers only.
    auto epochTicker = QSharedPointer<QCPAxisTickerFixed>::create();
    epochTicker->setTickStep(1.0);
    epochTicker->setScaleStrategy(QCPAxisTickerFixed::ssMultiples);
    m_metricPlot->xAxis->setTicker(epochTicker);
    m_lossPlot->yAxis->setRange(0, 3);
    m_lossPlot->xAxis->setRange(0, 100);
    m_metricPlot->xAxis->setRange(0, 10);

    // Controls: smoothing, log scale, which losses, fit.
    m_smoothSlider->setRange(0, 99);
    m_smoothSlider->setValue(int(std::lround(m_smoothing * 100)));
    m_smoothSlider->setToolTip(tr("Exponential moving average of the loss curves (0: raw values)"));
    m_smoothSlider->setMinimumWidth(90);
    m_smoothSlider->setMaximumWidth(200);
    m_smoothLabel->setText(QString::number(m_smoothing, 'f', 2));
    m_smoothLabel->setMinimumWidth(
        m_smoothLabel->fontMetrics().horizontalAdvance(QStringLiteral("0.00")) + 4);
    m_logBox->setToolTip(tr("Logarithmic loss axis"));
    auto *fit = new QPushButton(tr("Fit"));
    fit->setToolTip(tr("Show all data and follow new points (or double-click a plot)"));

    auto *controls = new QHBoxLayout;
    controls->setContentsMargins(0, 0, 0, 0);
    controls->addWidget(new QLabel(tr("Smoothing")));
    controls->setSpacing(4);
    controls->addWidget(m_smoothSlider);
    controls->addWidget(m_smoothLabel);
    controls->addSpacing(8);
    controls->addWidget(m_logBox);
    controls->addSpacing(8);
    controls->addWidget(new QLabel(tr("Show:")));
    // Short labels with the pen style drawn in text; the tooltips say it in words.
    const QString legendText[3]
        = { tr("task - -"), tr("KD \u00b7\u00b7\u00b7"), tr("total \u2014") };
    const QString legendTips[3]
        = { tr("Task (cross-entropy) loss, dashed"), tr("KL(a_T || a_S), unweighted, dotted"),
              tr("Total loss: task + lambda KD (+ logit KD), solid") };
    for (int l = 0; l < 3; ++l) {
        m_lossBoxes[l] = new QCheckBox(legendText[l]);
        m_lossBoxes[l]->setChecked(true);
        m_lossBoxes[l]->setToolTip(legendTips[l]);
        controls->addWidget(m_lossBoxes[l]);
        connect(m_lossBoxes[l], &QCheckBox::toggled, this,
            [this, l](bool on) { setLossVisible(Loss(l), on); });
    }
    controls->addStretch(1);
    controls->addWidget(fit);

    auto *split = new QSplitter(Qt::Vertical);
    split->addWidget(m_lossPlot);
    split->addWidget(m_metricPlot);
    split->setStretchFactor(0, 3);
    split->setStretchFactor(1, 2);
    split->setChildrenCollapsible(false);

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(controls);
    layout->addWidget(split, 1);

    m_lossPlot->setMinimumHeight(120);
    m_metricPlot->setMinimumHeight(90);

    connect(
        m_smoothSlider, &QSlider::valueChanged, this, [this](int v) { setSmoothing(v / 100.0); });
    connect(m_logBox, &QCheckBox::toggled, this, &TrainingCurves::setLogScale);
    connect(fit, &QPushButton::clicked, this, &TrainingCurves::fitToData);
    for (QCustomPlot *plot : { m_lossPlot, m_metricPlot }) {
        // The user took over the view: stop rescaling under their hands.
        connect(plot, &QCustomPlot::mousePress, this, [this] { m_follow = false; });
        connect(plot, &QCustomPlot::mouseWheel, this, [this] { m_follow = false; });
        connect(plot, &QCustomPlot::mouseDoubleClick, this, &TrainingCurves::fitToData);
    }
}

bool TrainingCurves::addSeries(const QString &id, const QString &label)
{
    if (m_series.contains(id))
        return false;
    Series s;
    s.label = label;
    s.colour = kPalette[m_order.size() % (sizeof kPalette / sizeof kPalette[0])];
    for (int l = 0; l < 3; ++l) {
        QCPGraph *g = m_lossPlot->addGraph();
        QPen pen(s.colour, l == Total ? 2.0 : 1.4, lossStyle(l));
        g->setPen(pen);
        g->setName(label);
        g->setVisible(m_lossVisible[l]);
        g->setAdaptiveSampling(true);
        if (l != Total)
            g->removeFromLegend();
        s.graphs[l] = g;
    }
    s.metric = m_metricPlot->addGraph();
    s.metric->setPen(QPen(s.colour, 2.0));
    s.metric->setScatterStyle(QCPScatterStyle(QCPScatterStyle::ssCircle, s.colour, Qt::white, 6));
    s.metric->setName(label);
    m_series.insert(id, s);
    m_order.append(id);
    schedule();
    return true;
}

void TrainingCurves::removeSeries(const QString &id)
{
    auto it = m_series.find(id);
    if (it == m_series.end())
        return;
    for (QCPGraph *g : it->graphs)
        m_lossPlot->removeGraph(g);
    m_metricPlot->removeGraph(it->metric);
    m_series.erase(it);
    m_order.removeAll(id);
    schedule();
}

void TrainingCurves::clear()
{
    m_lossPlot->clearGraphs();
    m_metricPlot->clearGraphs();
    m_series.clear();
    m_order.clear();
    m_totalSteps = 0;
    schedule();
}

double TrainingCurves::smoothNext(Series &s, int loss, double value)
{
    if (!std::isfinite(value))
        return value; // a diverged step shows as a gap, and does not poison the average
    const double w = m_smoothing;
    s.ema[loss] = w * s.ema[loss] + (1.0 - w) * value;
    ++s.emaCount[loss];
    const double debias = 1.0 - std::pow(w, s.emaCount[loss]);
    return debias > 0.0 ? s.ema[loss] / debias : value;
}

double TrainingCurves::drawable(double v) const
{
    // A log axis has no place for zero (the KD loss of a lambda = 0 student): leave a gap.
    return m_logScale && !(v > 0.0) ? qQNaN() : v;
}

void TrainingCurves::addStep(const QString &id, double step, double task, double kd, double total)
{
    addSeries(id, id);
    Series &s = m_series[id];
    s.steps.append(step);
    const double values[3] = { task, kd, total };
    for (int l = 0; l < 3; ++l) {
        s.raw[l].append(values[l]);
        s.graphs[l]->addData(step, drawable(smoothNext(s, l, values[l])));
    }
    ++m_totalSteps;
    ++m_pendingSteps;
    schedule();
}

void TrainingCurves::addEpoch(const QString &id, double epoch, double metric)
{
    addSeries(id, id);
    m_series[id].metric->addData(epoch, metric);
    schedule();
}

void TrainingCurves::setMetricName(const QString &name)
{
    m_metricPlot->yAxis->setLabel(name);
    schedule();
}

void TrainingCurves::setSmoothing(double weight)
{
    weight = std::clamp(weight, 0.0, 0.99);
    if (weight == m_smoothing)
        return;
    m_smoothing = weight;
    m_smoothLabel->setText(QString::number(weight, 'f', 2));
    const QSignalBlocker block(m_smoothSlider);
    m_smoothSlider->setValue(int(std::lround(weight * 100)));
    rebuild();
}

void TrainingCurves::setLogScale(bool on)
{
    if (on == m_logScale)
        return;
    m_logScale = on;
    const QSignalBlocker block(m_logBox);
    m_logBox->setChecked(on);
    if (on) {
        m_lossPlot->yAxis->setScaleType(QCPAxis::stLogarithmic);
        m_lossPlot->yAxis->setTicker(QSharedPointer<QCPAxisTickerLog>::create());
    } else {
        m_lossPlot->yAxis->setScaleType(QCPAxis::stLinear);
        m_lossPlot->yAxis->setTicker(QSharedPointer<QCPAxisTicker>::create());
    }
    rebuild();
    m_follow = true; // the old range means nothing on the new scale
}

void TrainingCurves::setLossVisible(Loss loss, bool visible)
{
    m_lossVisible[loss] = visible;
    const QSignalBlocker block(m_lossBoxes[loss]);
    m_lossBoxes[loss]->setChecked(visible);
    for (Series &s : m_series)
        s.graphs[loss]->setVisible(visible);
    schedule();
}

void TrainingCurves::rebuild()
{
    for (Series &s : m_series)
        for (int l = 0; l < 3; ++l) {
            s.ema[l] = 0.0;
            s.emaCount[l] = 0;
            QVector<double> y(s.steps.size());
            for (int i = 0; i < s.steps.size(); ++i)
                y[i] = drawable(smoothNext(s, l, s.raw[l][i]));
            s.graphs[l]->setData(s.steps, y, true);
        }
    schedule();
}

void TrainingCurves::fitToData()
{
    m_follow = true;
    schedule();
}

void TrainingCurves::schedule()
{
    if (m_refreshPending)
        return;
    m_refreshPending = true;
    // Points arrive in bursts (one poll of a log, many queued reports): draw once per burst, and
    // at most ~20 times a second, so a fast run never floods the event loop with replots.
    QTimer::singleShot(50, this, &TrainingCurves::refresh);
}

void TrainingCurves::refresh()
{
    m_refreshPending = false;
    if (m_follow) {
        bool found = false;
        QCPRange x, y;
        for (const Series &s : m_series)
            for (int l = 0; l < 3; ++l) {
                const QCPGraph *g = s.graphs[l];
                if (!g->visible() || g->dataCount() == 0)
                    continue;
                bool ok = false;
                const QCPRange gx = g->getKeyRange(ok);
                if (!ok)
                    continue;
                const QCPRange gy = g->getValueRange(ok, QCP::sdBoth);
                if (!ok)
                    continue;
                x = found ? QCPRange(std::min(x.lower, gx.lower), std::max(x.upper, gx.upper)) : gx;
                y = found ? QCPRange(std::min(y.lower, gy.lower), std::max(y.upper, gy.upper)) : gy;
                found = true;
            }
        if (found) {
            if (x.size() <= 0)
                x = QCPRange(x.lower - 1, x.upper + 1);
            m_lossPlot->xAxis->setRange(x);
            if (m_logScale) {
                m_lossPlot->yAxis->setRange(
                    std::max(y.lower, 1e-6) / 1.5, std::max(y.upper, 1e-5) * 1.5);
            } else {
                const double pad = std::max(0.05 * y.size(), 1e-3);
                m_lossPlot->yAxis->setRange(std::min(0.0, y.lower - pad), y.upper + pad);
            }
        }
        double maxEpoch = 0.0, lo = 0.0, hi = 1.0;
        bool metricFound = false;
        for (const Series &s : m_series) {
            bool ok = false;
            const QCPRange k = s.metric->getKeyRange(ok);
            if (ok)
                maxEpoch = std::max(maxEpoch, k.upper);
            const QCPRange v = s.metric->getValueRange(ok);
            if (ok) {
                lo = metricFound ? std::min(lo, v.lower) : std::min(0.0, v.lower);
                hi = metricFound ? std::max(hi, v.upper) : std::max(1.0, v.upper);
                metricFound = true;
            }
        }
        m_metricPlot->xAxis->setRange(0.5, std::max(2.0, maxEpoch) + 0.5);
        m_metricPlot->yAxis->setRange(lo, hi * 1.02);
    }
    m_lossPlot->legend->setVisible(!m_series.isEmpty());
    m_lossPlot->replot(QCustomPlot::rpQueuedReplot);
    m_metricPlot->replot(QCustomPlot::rpQueuedReplot);
    if (m_pendingSteps > 0) {
        const int n = m_pendingSteps;
        m_pendingSteps = 0;
        Q_EMIT pointsAdded(n);
    }
}

int TrainingCurves::stepPointCount(const QString &id, Loss loss) const
{
    auto it = m_series.constFind(id);
    return it == m_series.cend() ? 0 : it->graphs[loss]->dataCount();
}

int TrainingCurves::epochPointCount(const QString &id) const
{
    auto it = m_series.constFind(id);
    return it == m_series.cend() ? 0 : it->metric->dataCount();
}

double TrainingCurves::lastDrawnValue(const QString &id, Loss loss) const
{
    auto it = m_series.constFind(id);
    if (it == m_series.cend() || it->graphs[loss]->dataCount() == 0)
        return qQNaN();
    const QCPGraph *g = it->graphs[loss];
    return (g->data()->constEnd() - 1)->value;
}

} // namespace tkd
