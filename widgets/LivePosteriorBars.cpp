#include "widgets/LivePosteriorBars.h"

#include <QPainter>

#include <algorithm>

namespace tkd {

LivePosteriorBars::LivePosteriorBars(QWidget *parent)
    : QWidget(parent)
{
    setMinimumWidth(180);
}

QSize LivePosteriorBars::sizeHint() const
{
    return { 260, std::max(60, int(m_classes.size()) * 17 + 4) };
}

void LivePosteriorBars::setClasses(const QStringList &classes)
{
    m_classes = classes;
    m_posteriors.clear();
    m_thresholds = QVector<double>(classes.size(), 0.6);
    updateGeometry();
    update();
}

void LivePosteriorBars::setThresholds(const QVector<double> &thresholds)
{
    m_thresholds = thresholds;
    update();
}

void LivePosteriorBars::setPosteriors(const QVector<float> &posteriors)
{
    m_posteriors = posteriors;
    update();
}

int LivePosteriorBars::topClass() const
{
    if (m_posteriors.isEmpty())
        return -1;
    return int(std::max_element(m_posteriors.begin(), m_posteriors.end()) - m_posteriors.begin());
}

void LivePosteriorBars::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    const int n = m_classes.size();
    if (n == 0)
        return;
    const double rowH = std::min(22.0, double(height()) / n);
    const int labelW = 78;
    const int top = topClass();
    const QFontMetrics fm(font());
    for (int i = 0; i < n; ++i) {
        const QRectF row(0, i * rowH, width(), rowH);
        const QRectF bar(labelW, row.top() + 2, width() - labelW - 42, rowH - 4);
        const bool ignored = m_classes[i].startsWith('_');
        p.setPen(palette().windowText().color());
        QFont f = font();
        f.setBold(i == top);
        p.setFont(f);
        p.drawText(QRectF(2, row.top(), labelW - 6, rowH), Qt::AlignVCenter | Qt::AlignRight,
            fm.elidedText(m_classes[i], Qt::ElideRight, labelW - 6));
        p.fillRect(bar, palette().base());
        const float v = i < m_posteriors.size() ? m_posteriors[i] : 0.0f;
        const QColor c = ignored ? QColor(150, 150, 150)
                                 : (i == top ? QColor(60, 170, 90) : QColor(70, 120, 200));
        p.fillRect(QRectF(bar.left(), bar.top(), bar.width() * double(v), bar.height()), c);
        if (!ignored && i < m_thresholds.size()) {
            const double x = bar.left() + bar.width() * m_thresholds[i];
            p.setPen(QPen(QColor(220, 60, 50), 2));
            p.drawLine(QPointF(x, bar.top()), QPointF(x, bar.bottom()));
        }
        p.setPen(palette().windowText().color());
        p.drawText(QRectF(bar.right() + 4, row.top(), 38, rowH), Qt::AlignVCenter | Qt::AlignLeft,
            QString::number(double(v), 'f', 2));
    }
}

} // namespace tkd
