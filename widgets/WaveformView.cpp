#include "widgets/WaveformView.h"

#include "widgets/PlotRefresh.h"
#include "widgets/QCustomPlotInclude.h"

#include <QVBoxLayout>

#include <algorithm>

namespace tkd {

namespace {
// A waveform is drawn as a min/max envelope of at most this many buckets: an 8 s clip has 128k
// samples, far more than pixels, and plotting them all makes zooming sluggish.
constexpr int kEnvelopeBuckets = 4000;

QCPItemRect *makeWindowRect(QCustomPlot *plot, QCPAxisRect *rect)
{
    auto *r = new QCPItemRect(plot);
    r->setClipAxisRect(rect);
    r->topLeft->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    r->bottomRight->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    r->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
    r->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
    r->topLeft->setAxisRect(rect);
    r->bottomRight->setAxisRect(rect);
    r->setPen(QPen(QColor(255, 170, 0, 200), 1.5));
    r->setBrush(QColor(255, 170, 0, 50));
    r->setVisible(false);
    return r;
}

QCPItemStraightLine *makeCursor(QCustomPlot *plot, QCPAxisRect *rect)
{
    auto *l = new QCPItemStraightLine(plot);
    l->setClipAxisRect(rect);
    l->point1->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    l->point2->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
    l->setPen(QPen(QColor(220, 40, 40), 1.5));
    l->setVisible(false);
    return l;
}
} // namespace

WaveformView::WaveformView(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_plot);

    m_plot->plotLayout()->clear();
    m_waveRect = new QCPAxisRect(m_plot);
    m_specRect = new QCPAxisRect(m_plot);
    m_plot->plotLayout()->addElement(0, 0, m_waveRect);
    m_plot->plotLayout()->addElement(1, 0, m_specRect);
    m_plot->plotLayout()->setRowStretchFactor(0, 1);
    m_plot->plotLayout()->setRowStretchFactor(1, 1.4);
    auto *group = new QCPMarginGroup(m_plot);
    m_waveRect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    m_specRect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
    connect(m_waveRect->axis(QCPAxis::atBottom),
        qOverload<const QCPRange &>(&QCPAxis::rangeChanged), m_specRect->axis(QCPAxis::atBottom),
        qOverload<const QCPRange &>(&QCPAxis::setRange));
    connect(m_specRect->axis(QCPAxis::atBottom),
        qOverload<const QCPRange &>(&QCPAxis::rangeChanged), m_waveRect->axis(QCPAxis::atBottom),
        qOverload<const QCPRange &>(&QCPAxis::setRange));
    for (auto *r : { m_waveRect, m_specRect }) {
        r->setRangeDrag(Qt::Horizontal);
        r->setRangeZoom(Qt::Horizontal);
    }
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_waveRect->axis(QCPAxis::atLeft)->setLabel(tr("amplitude"));
    m_waveRect->axis(QCPAxis::atLeft)->setRange(-1.0, 1.0);
    m_specRect->axis(QCPAxis::atLeft)->setLabel(tr("mel bin"));
    m_specRect->axis(QCPAxis::atBottom)->setLabel(tr("time (s)"));

    auto *wave
        = m_plot->addGraph(m_waveRect->axis(QCPAxis::atBottom), m_waveRect->axis(QCPAxis::atLeft));
    wave->setPen(QPen(QColor(40, 120, 200), 1.0));
    wave->setAdaptiveSampling(true);
    // The min/max envelope zig-zags through every pixel column, so its line alone fills the
    // band: no brush (filling that self-crossing polygon took most of a clip change's GUI time)
    // and no antialiasing.
    wave->setAntialiased(false);

    m_spec
        = new QCPColorMap(m_specRect->axis(QCPAxis::atBottom), m_specRect->axis(QCPAxis::atLeft));
    m_spec->setGradient(QCPColorGradient::gpThermal);
    m_spec->setInterpolate(false);
    m_spec->data()->setSize(0, 0); // nothing drawn until a clip arrives

    m_waveWindow = makeWindowRect(m_plot, m_waveRect);
    m_specWindow = makeWindowRect(m_plot, m_specRect);
    m_specWindow->setBrush(Qt::NoBrush); // keep the spectrogram readable under the window
    m_waveCursor = makeCursor(m_plot, m_waveRect);
    m_specCursor = makeCursor(m_plot, m_specRect);
    setMinimumHeight(220);
}

void WaveformView::clear()
{
    m_plot->graph(0)->data()->clear();
    m_spec->data()->clear();
    m_waveWindow->setVisible(false);
    m_specWindow->setVisible(false);
    setCursorSec(-1);
    m_durationSec = 0.0;
    replotWhenShown(m_plot);
}

void WaveformView::setClip(const ClipAudio &clip)
{
    const int n = int(clip.samples.size());
    m_durationSec = clip.sampleRate > 0 ? double(n) / clip.sampleRate : 0.0;

    // Envelope: each bucket contributes its min and max, so peaks survive decimation.
    QVector<double> keys, values;
    const int buckets = std::max(1, std::min(kEnvelopeBuckets, n));
    keys.reserve(2 * buckets);
    values.reserve(2 * buckets);
    double peak = 1e-6;
    for (int b = 0; b < buckets && n > 0; ++b) {
        const int lo = int(int64_t(b) * n / buckets), hi = int(int64_t(b + 1) * n / buckets);
        if (hi <= lo)
            continue;
        const auto [mn, mx]
            = std::minmax_element(clip.samples.begin() + lo, clip.samples.begin() + hi);
        const double t = double(lo) / clip.sampleRate;
        keys << t << t + 0.5 / clip.sampleRate * (hi - lo);
        values << *mn << *mx;
        peak = std::max({ peak, std::abs(double(*mn)), std::abs(double(*mx)) });
    }
    m_plot->graph(0)->setData(keys, values, true);
    m_waveRect->axis(QCPAxis::atLeft)->setRange(-peak * 1.05, peak * 1.05);

    clip.spectrogram.drawInto(m_spec);
    m_specRect->axis(QCPAxis::atLeft)->setRange(0, std::max(1, clip.spectrogram.bins - 1));

    const bool hasWindow = clip.onsetSec >= 0 && clip.offsetSec > clip.onsetSec;
    for (auto *r : { m_waveWindow, m_specWindow }) {
        r->setVisible(hasWindow);
        r->topLeft->setCoords(clip.onsetSec, 0.0);
        r->bottomRight->setCoords(clip.offsetSec, 1.0);
    }
    m_waveRect->axis(QCPAxis::atBottom)->setRange(0, std::max(m_durationSec, 1e-3));
    setCursorSec(-1);
    replotWhenShown(m_plot);
}

void WaveformView::setCursorSec(double sec)
{
    const bool show = sec >= 0;
    for (auto *c : { m_waveCursor, m_specCursor }) {
        c->setVisible(show);
        c->point1->setCoords(sec, 0);
        c->point2->setCoords(sec, 1);
    }
    replotWhenShown(m_plot);
}

bool WaveformView::windowShown() const
{
    return m_waveWindow->visible();
}

int WaveformView::waveformPointCount() const
{
    return m_plot->graph(0)->dataCount();
}

} // namespace tkd
