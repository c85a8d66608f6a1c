#include "widgets/ConfusionMatrixView.h"

#include <QFontMetrics>
#include <QImage>
#include <QPainter>

#include <algorithm>

namespace tkd {

namespace {
constexpr int kMargin = 8;
constexpr int kMinCell = 34;
constexpr int kMaxCell = 72;
} // namespace

ConfusionMatrixView::ConfusionMatrixView(QWidget *parent)
    : QWidget(parent)
{
    setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Expanding);
}

void ConfusionMatrixView::setMatrix(
    const QStringList &classes, const QVector<QVector<qint64>> &counts, const QString &title)
{
    clear();
    bool square = counts.size() == classes.size();
    for (const auto &row : counts)
        square = square && row.size() == classes.size();
    if (!square)
        return;
    m_classes = classes;
    m_counts = counts;
    m_title = title;
    const int k = int(classes.size());
    for (int i = 0; i < k; ++i) {
        qint64 row = 0, col = 0;
        for (int j = 0; j < k; ++j) {
            row += counts[i][j];
            col += counts[j][i];
        }
        if (row > 0)
            m_rows << i;
        if (row > 0 || col > 0)
            m_cols << i;
    }
    updateGeometry();
    update();
}

void ConfusionMatrixView::clear()
{
    m_classes.clear();
    m_counts.clear();
    m_rows.clear();
    m_cols.clear();
    m_title.clear();
    update();
}

QString ConfusionMatrixView::rowClass(int row) const
{
    return row >= 0 && row < m_rows.size() ? m_classes[m_rows[row]] : QString();
}

QString ConfusionMatrixView::columnClass(int column) const
{
    return column >= 0 && column < m_cols.size() ? m_classes[m_cols[column]] : QString();
}

qint64 ConfusionMatrixView::count(int row, int column) const
{
    if (row < 0 || row >= m_rows.size() || column < 0 || column >= m_cols.size())
        return 0;
    return m_counts[m_rows[row]][m_cols[column]];
}

double ConfusionMatrixView::rowShare(int row, int column) const
{
    if (row < 0 || row >= m_rows.size())
        return 0.0;
    qint64 total = 0;
    for (qint64 v : m_counts[m_rows[row]])
        total += v;
    return total > 0 ? double(count(row, column)) / double(total) : 0.0;
}

QString ConfusionMatrixView::cellText(int row, int column) const
{
    return QStringLiteral("%1\n%2%")
        .arg(count(row, column))
        .arg(QString::number(100.0 * rowShare(row, column), 'f', 0));
}

QColor ConfusionMatrixView::cellColour(int row, int column) const
{
    // White to a deep blue by the row share; the diagonal in green, so right answers read apart.
    const double s = std::clamp(rowShare(row, column), 0.0, 1.0);
    const bool diagonal = rowClass(row) == columnClass(column);
    const QColor full = diagonal ? QColor(0x2e, 0x8b, 0x57) : QColor(0x1f, 0x4e, 0x9c);
    auto mix = [s](int a, int b) { return int(a + (b - a) * s + 0.5); };
    return QColor(mix(255, full.red()), mix(255, full.green()), mix(255, full.blue()));
}

ConfusionMatrixView::Layout ConfusionMatrixView::layoutFor(const QSize &size) const
{
    Layout l;
    const QFontMetrics fm(font());
    int label = fm.horizontalAdvance(tr("true \u2193 / predicted \u2192"));
    for (const QString &c : m_classes)
        label = std::max(label, fm.horizontalAdvance(c));
    l.left = kMargin + label + kMargin;
    // Column headers are written upwards, so they need the longest name's width as height.
    l.top = kMargin + (m_title.isEmpty() ? 0 : fm.height() + kMargin) + label + kMargin;
    const int cols = std::max(1, int(m_cols.size())), rows = std::max(1, int(m_rows.size()));
    const int byWidth = (size.width() - l.left - kMargin) / cols;
    const int byHeight = (size.height() - l.top - kMargin) / rows;
    l.cell = std::clamp(std::min(byWidth, byHeight), kMinCell, kMaxCell);
    return l;
}

QRect ConfusionMatrixView::cellRect(int row, int column) const
{
    const Layout l = layoutFor(size());
    return QRect(l.left + column * l.cell, l.top + row * l.cell, l.cell, l.cell);
}

QSize ConfusionMatrixView::minimumSizeHint() const
{
    const Layout l = layoutFor(QSize(0, 0));
    return QSize(l.left + int(m_cols.size()) * kMinCell + kMargin,
        l.top + int(m_rows.size()) * kMinCell + kMargin);
}

QSize ConfusionMatrixView::sizeHint() const
{
    const Layout l = layoutFor(QSize(0, 0));
    const int cell = 52;
    return QSize(
        l.left + int(m_cols.size()) * cell + kMargin, l.top + int(m_rows.size()) * cell + kMargin);
}

void ConfusionMatrixView::paintEvent(QPaintEvent *)
{
    QPainter p(this);
    paint(p, size());
}

void ConfusionMatrixView::paint(QPainter &p, const QSize &size) const
{
    p.setFont(font());
    p.fillRect(QRect(QPoint(0, 0), size), Qt::white);
    p.setPen(Qt::black);
    if (m_rows.isEmpty()) {
        p.drawText(QRect(QPoint(0, 0), size), Qt::AlignCenter, tr("No evaluation yet"));
        return;
    }
    const Layout l = layoutFor(size);
    const QFontMetrics fm(font());
    if (!m_title.isEmpty())
        p.drawText(QRect(kMargin, kMargin, size.width() - 2 * kMargin, fm.height()),
            Qt::AlignLeft | Qt::AlignVCenter, m_title);
    p.drawText(QRect(kMargin, l.top - fm.height() - 2, l.left - kMargin, fm.height()),
        Qt::AlignLeft | Qt::AlignVCenter, tr("true \u2193 / predicted \u2192"));
    for (int c = 0; c < m_cols.size(); ++c) {
        p.save();
        p.translate(l.left + c * l.cell + l.cell / 2 + fm.ascent() / 2, l.top - 4);
        p.rotate(-90);
        p.drawText(0, 0, columnClass(c));
        p.restore();
    }
    for (int r = 0; r < m_rows.size(); ++r) {
        p.setPen(Qt::black);
        p.drawText(QRect(kMargin, l.top + r * l.cell, l.left - 2 * kMargin, l.cell),
            Qt::AlignRight | Qt::AlignVCenter, rowClass(r));
        for (int c = 0; c < m_cols.size(); ++c) {
            const QRect cell(l.left + c * l.cell, l.top + r * l.cell, l.cell, l.cell);
            const QColor colour = cellColour(r, c);
            p.fillRect(cell, colour);
            p.setPen(QColor(0xd0, 0xd0, 0xd0));
            p.drawRect(cell.adjusted(0, 0, -1, -1));
            p.setPen(colour.lightness() < 128 ? Qt::white : Qt::black);
            p.drawText(cell, Qt::AlignCenter, cellText(r, c));
        }
    }
}

bool ConfusionMatrixView::exportPng(const QString &path)
{
    // Drawn at its preferred size, not grabbed, so the picture does not depend on the dock.
    const QSize s = sizeHint().expandedTo(QSize(240, 160));
    QImage image(s * 2, QImage::Format_ARGB32);
    image.setDevicePixelRatio(2.0);
    QPainter p(&image);
    p.setRenderHint(QPainter::Antialiasing);
    p.setRenderHint(QPainter::TextAntialiasing);
    paint(p, s);
    p.end();
    return image.save(path, "PNG");
}

} // namespace tkd
