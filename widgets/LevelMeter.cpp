#include "widgets/LevelMeter.h"

#include <QPainter>

#include <algorithm>
#include <cmath>

namespace tkd {

LevelMeter::LevelMeter(QWidget *parent)
    : QWidget(parent)
{
    setToolTip(tr("Input peak level (dBFS) with a 1.5 s peak hold; red means the input clipped"));
    m_holdAge.start();
}

void LevelMeter::reset()
{
    m_levelDb = m_holdDb = kFloorDb;
    m_clipped = false;
    update();
}

void LevelMeter::setPeak(float peak)
{
    const double db = peak > 0.0f ? std::max(kFloorDb, 20.0 * std::log10(double(peak))) : kFloorDb;
    m_levelDb = db;
    if (db >= m_holdDb || m_holdAge.elapsed() > 1500) {
        m_holdDb = db;
        m_holdAge.restart();
    }
    m_clipped = m_clipped || peak >= 0.999f;
    update();
}

void LevelMeter::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    const QRectF r = rect().adjusted(0, 0, -1, -1);
    p.fillRect(r, QColor(30, 30, 30));
    auto x = [&](double db) { return r.left() + r.width() * (db - kFloorDb) / -kFloorDb; };
    QLinearGradient g(r.topLeft(), r.topRight());
    g.setColorAt(0.0, QColor(40, 160, 70));
    g.setColorAt(0.75, QColor(200, 200, 40));
    g.setColorAt(1.0, QColor(220, 50, 40));
    p.fillRect(QRectF(r.left(), r.top(), x(m_levelDb) - r.left(), r.height()), g);
    p.setPen(QPen(Qt::white, 2));
    p.drawLine(QPointF(x(m_holdDb), r.top()), QPointF(x(m_holdDb), r.bottom()));
    p.setPen(QColor(255, 255, 255, 90));
    for (double db = -50; db < 0; db += 10)
        p.drawLine(QPointF(x(db), r.bottom() - 4), QPointF(x(db), r.bottom()));
    p.setPen(m_clipped ? QColor(255, 90, 80) : QColor(230, 230, 230));
    p.drawText(r.adjusted(4, 0, -4, 0), Qt::AlignVCenter | Qt::AlignRight,
        m_levelDb <= kFloorDb ? tr("-inf dB") : tr("%1 dB").arg(m_levelDb, 0, 'f', 1));
    if (m_clipped)
        p.fillRect(QRectF(r.right() - 5, r.top(), 5, r.height()), QColor(230, 40, 30));
}

} // namespace tkd
