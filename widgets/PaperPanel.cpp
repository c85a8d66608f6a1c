#include "widgets/PaperPanel.h"

#include <QLabel>
#include <QVBoxLayout>

#include <algorithm>

namespace tkd {

namespace {
QString pct(double v)
{
    return QString::number(100.0 * v, 'f', 1);
}

QString verdictColour(const QString &verdict)
{
    if (verdict == QLatin1String("met"))
        return QStringLiteral("#1a7f37");
    if (verdict == QLatin1String("missed"))
        return QStringLiteral("#b42318");
    return QStringLiteral("#6b6b6b");
}
} // namespace

PaperPanel::PaperPanel(QWidget *parent)
    : QWidget(parent)
    , m_text(new QLabel(this))
{
    m_text->setTextFormat(Qt::RichText);
    m_text->setWordWrap(true);
    m_text->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_text->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_text);
    setVisible(false);
}

void PaperPanel::setComparison(const PaperComparison &comparison)
{
    m_comparison = comparison;
    setVisible(!comparison.isEmpty());
    if (comparison.isEmpty()) {
        m_text->clear();
        return;
    }
    // Table 2 as the paper printed it, for the shown models (rows) and lengths (columns).
    QVector<double> lengths;
    QStringList models;
    for (const auto &f : comparison.figures) {
        if (!lengths.contains(f.lengthSec))
            lengths << f.lengthSec;
        if (!models.contains(f.model))
            models << f.model;
    }
    std::sort(lengths.begin(), lengths.end());
    QString html
        = tr("<b>The paper's Table 2</b> (Noisy Speech Commands v2, test accuracy %, "
             "best KD (vanilla)); our corpus is synthetic, so compare shapes, not digits:");
    html += QStringLiteral("<table cellspacing=0 cellpadding=3><tr><th></th>");
    for (double L : lengths)
        html += QStringLiteral("<th>L = %1 s</th>").arg(L);
    html += QStringLiteral("</tr>");
    for (const QString &m : models) {
        html += QStringLiteral("<tr><td>%1</td>").arg(m.toHtmlEscaped());
        for (double L : lengths) {
            QString cell = QStringLiteral("-");
            for (const auto &f : comparison.figures)
                if (f.model == m && f.lengthSec == L)
                    cell = m == QLatin1String("teacher")
                        ? pct(f.kd)
                        : QStringLiteral("%1 (%2)").arg(pct(f.kd), pct(f.vanilla));
            html += QStringLiteral("<td align=center>%1</td>").arg(cell);
        }
        html += QStringLiteral("</tr>");
    }
    html += QStringLiteral("</table><br><b>%1</b><ul>").arg(tr("The paper's claims on these runs"));
    for (const auto &c : comparison.claims)
        html += QStringLiteral("<li>%1: <b><font color=\"%2\">%3</font></b><br><small>%4</small>"
                               "</li>")
                    .arg(c.statement.toHtmlEscaped(), verdictColour(c.verdict),
                        c.verdict.toHtmlEscaped(), c.evidence.toHtmlEscaped());
    m_text->setText(html + QStringLiteral("</ul>"));
}

} // namespace tkd
