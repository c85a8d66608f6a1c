#include "widgets/RollingSpectrogram.h"

#include <QImage>
#include <QPainter>
#include <QPainterPath>

#include <algorithm>
#include <cmath>

namespace tkd {

namespace {
// A perceptual ramp (dark blue -> purple -> orange -> pale yellow), close to "magma".
QRgb ramp(double t)
{
    t = std::clamp(t, 0.0, 1.0);
    static const double stops[][3] = { { 0, 0, 4 }, { 40, 11, 84 }, { 101, 21, 110 },
        { 159, 42, 99 }, { 212, 72, 66 }, { 245, 125, 21 }, { 250, 193, 39 }, { 252, 255, 164 } };
    const double x = t * 7.0;
    const int i = std::min(6, int(x));
    const double f = x - i;
    auto mix = [&](int c) { return int(stops[i][c] + f * (stops[i + 1][c] - stops[i][c])); };
    return qRgb(mix(0), mix(1), mix(2));
}
constexpr double kRangeNats = 9.0; // colour range below the running maximum (log-magnitude units)
} // namespace

RollingSpectrogram::RollingSpectrogram(QWidget *parent)
    : QWidget(parent)
{
    setAttribute(Qt::WA_OpaquePaintEvent);
}

void RollingSpectrogram::configure(int bins, double frameSec, double spanSec)
{
    m_bins = std::max(1, bins);
    m_frameSec = frameSec > 0 ? frameSec : 0.02;
    m_spanSec = spanSec > 0 ? spanSec : 6.0;
    clear();
}

void RollingSpectrogram::clear()
{
    m_frames.clear();
    m_endSec = 0.0;
    m_max = -1e30f;
    m_teacher = m_student = {};
    m_windowStart = m_windowEnd = 0.0;
    m_markers.clear();
    update();
}

void RollingSpectrogram::setPlaceholder(const QString &text)
{
    m_placeholder = text;
    update();
}

void RollingSpectrogram::appendFrames(const QVector<QVector<float>> &frames, double endSec)
{
    if (frames.isEmpty())
        return;
    const size_t keep = size_t(std::ceil(m_spanSec / m_frameSec)) + 1;
    for (const auto &f : frames) {
        m_frames.push_back(f);
        for (float v : f)
            m_max = std::max(m_max, v);
    }
    while (m_frames.size() > keep)
        m_frames.pop_front();
    m_max -= 0.002f
        * float(frames.size()); // slow decay: a loud moment does not darken the rest for long
    m_endSec = endSec;
    while (!m_markers.empty() && m_markers.front().timeSec < m_endSec - m_spanSec)
        m_markers.pop_front();
    update();
}

void RollingSpectrogram::setAttention(
    Curve which, const QVector<float> &weights, double startSec, double endSec)
{
    CurveData &c = which == Curve::Teacher ? m_teacher : m_student;
    c.weights = weights;
    c.startSec = startSec;
    c.endSec = endSec;
    update();
}

void RollingSpectrogram::setWindow(double startSec, double endSec)
{
    m_windowStart = startSec;
    m_windowEnd = endSec;
    update();
}

void RollingSpectrogram::addMarker(double timeSec, const QString &label)
{
    m_markers.push_back({ timeSec, label });
    update();
}

void RollingSpectrogram::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    const int axisH = 16;
    const QRect area(0, 0, width(), height() - axisH);
    p.fillRect(rect(), QColor(0, 0, 4));
    const double t0 = m_endSec - m_spanSec;
    auto xOf = [&](double t) { return area.left() + area.width() * (t - t0) / m_spanSec; };

    if (!m_frames.empty()) {
        // One image column per frame, scaled to the area: cheap (a few hundred x 40 pixels).
        const int cols = int(std::ceil(m_spanSec / m_frameSec));
        QImage img(cols, m_bins, QImage::Format_RGB32);
        img.fill(qRgb(0, 0, 4));
        const int n = int(m_frames.size());
        for (int i = 0; i < n; ++i) {
            const int col = cols - n + i;
            if (col < 0)
                continue;
            const QVector<float> &f = m_frames[size_t(i)];
            for (int b = 0; b < m_bins && b < f.size(); ++b)
                img.setPixel(col, m_bins - 1 - b, ramp((f[b] - (m_max - kRangeNats)) / kRangeNats));
        }
        p.drawImage(area, img);
    }

    // The student's window.
    if (m_windowEnd > m_windowStart) {
        const double a = std::max<double>(area.left(), xOf(m_windowStart)), b = xOf(m_windowEnd);
        p.fillRect(QRectF(a, area.top(), b - a, 3), QColor(120, 200, 255, 160));
        p.setPen(QPen(QColor(120, 200, 255, 120), 1, Qt::DashLine));
        p.drawLine(QPointF(a, area.top()), QPointF(a, area.bottom()));
    }

    // Attention curves: the heaviest cell reaches 85 % of the height.
    auto drawCurve = [&](const CurveData &c, const QColor &colour) {
        if (c.weights.isEmpty() || c.endSec <= c.startSec)
            return;
        const float peak = *std::max_element(c.weights.begin(), c.weights.end());
        if (!(peak > 0.0f))
            return;
        QPainterPath path;
        const int n = c.weights.size();
        for (int i = 0; i < n; ++i) {
            const double t = c.startSec + (c.endSec - c.startSec) * (i + 0.5) / n;
            const QPointF pt(xOf(t), area.bottom() - 0.85 * area.height() * c.weights[i] / peak);
            if (i == 0)
                path.moveTo(pt);
            else
                path.lineTo(pt);
        }
        p.setPen(QPen(colour, 2.2));
        p.setClipRect(area);
        p.drawPath(path);
        p.setClipping(false);
    };
    p.setRenderHint(QPainter::Antialiasing);
    drawCurve(m_teacher, QColor(255, 160, 40));
    drawCurve(m_student, QColor(80, 220, 255));
    p.setRenderHint(QPainter::Antialiasing, false);

    // Legend, on a dark box so it reads over any spectrogram.
    p.fillRect(QRect(area.left() + 2, area.top() + 2, 130, 32), QColor(0, 0, 0, 150));
    p.setPen(QColor(255, 160, 40));
    p.drawText(area.adjusted(6, 4, -6, 0), Qt::AlignTop | Qt::AlignLeft, tr("teacher rollout"));
    p.setPen(QColor(80, 220, 255));
    p.drawText(area.adjusted(6, 18, -6, 0), Qt::AlignTop | Qt::AlignLeft, tr("student attention"));

    // Detections.
    for (const auto &m : m_markers) {
        const double x = xOf(m.timeSec);
        p.setPen(QPen(QColor(120, 255, 120), 2));
        p.drawLine(QPointF(x, area.top()), QPointF(x, area.bottom()));
        p.drawText(QRectF(x + 3, area.top() + 4, 120, 16), Qt::AlignLeft | Qt::AlignTop, m.label);
    }

    // Time axis: whole seconds of stream time.
    p.fillRect(QRect(0, area.bottom() + 1, width(), axisH), palette().window());
    p.setPen(palette().windowText().color());
    for (double t = std::ceil(std::max(0.0, t0)); t <= m_endSec; t += 1.0) {
        const double x = xOf(t);
        p.drawLine(QPointF(x, area.bottom() + 1), QPointF(x, area.bottom() + 4));
        p.drawText(QRectF(x - 30, area.bottom() + 2, 60, axisH - 2), Qt::AlignCenter,
            QStringLiteral("%1 s").arg(t, 0, 'f', 0));
    }

    if (!m_placeholder.isEmpty() && m_frames.empty()) {
        p.setPen(QColor(220, 220, 220));
        p.drawText(
            area.adjusted(20, 20, -20, -20), Qt::AlignCenter | Qt::TextWordWrap, m_placeholder);
    }
}

} // namespace tkd
