#include "widgets/AttentionView.h"

#include "widgets/ModelColours.h"

#include "widgets/PlotRefresh.h"
#include "widgets/QCustomPlotInclude.h"

#include <QCheckBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QLabel>
#include <QMenu>
#include <QSettings>
#include <QSvgGenerator>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tkd {

namespace {

QString number(double v)
{
    return QString::number(v, 'g', 3);
}

QString scoreString(double s)
{
    return std::isfinite(s) ? QString::number(s, 'f', 2) : QStringLiteral("-");
}
} // namespace

QString AttentionSeries::label() const
{
    if (model == QLatin1String("teacher"))
        return kind == QLatin1String("oracle")
            ? QStringLiteral("teacher: oracle (true window)")
            : QStringLiteral("teacher %1 (rollout)").arg(teacherKind);
    QString s = model;
    if (lambda >= 0)
        s += QStringLiteral(" λ=%1").arg(number(lambda));
    if (seed > 0)
        s += QStringLiteral(" seed %1").arg(seed);
    return s;
}

AttentionView::AttentionView(QWidget *parent)
    : QWidget(parent)
    , m_plot(new QCustomPlot(this))
    , m_layerPlot(new QCustomPlot(this))
    , m_header(new QLabel(this))
    , m_scores(new QLabel(this))
    , m_seriesButton(new QToolButton(this))
    , m_normalise(new QCheckBox(tr("Normalise to peak"), this))
    , m_layers(new QToolButton(this))
    , m_export(new QToolButton(this))
{
    m_header->setText(tr("Open a run folder (File > Open run folder) and select a clip."));
    m_header->setWordWrap(true);
    m_seriesButton->setText(tr("Series"));
    m_seriesButton->setToolTip(tr("Choose which attention curves are drawn"));
    m_seriesButton->setPopupMode(QToolButton::InstantPopup);
    m_seriesButton->setMenu(new QMenu(m_seriesButton));
    m_normalise->setChecked(true);
    m_normalise->setToolTip(tr("Scale every curve to a peak of 1, as in the paper's figure"));
    m_layers->setText(tr("Teacher layers"));
    m_layers->setCheckable(true);
    m_layers->setToolTip(
        tr("Show the teacher's attention of the rollout query row per layer and head"));
    m_export->setText(tr("Export..."));
    m_export->setToolTip(tr("Save the figure as PNG or SVG"));

    // The clip's title on its own line: however long it is, the buttons keep their width.
    auto *bar = new QHBoxLayout;
    bar->addStretch(1);
    bar->addWidget(m_seriesButton);
    bar->addWidget(m_normalise);
    bar->addWidget(m_layers);
    bar->addWidget(m_export);
    m_scores->setWordWrap(true);
    m_scores->setTextFormat(Qt::RichText);
    m_scores->setTextInteractionFlags(Qt::TextSelectableByMouse);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_header);
    layout->addLayout(bar);
    layout->addWidget(m_plot, 3);
    layout->addWidget(m_layerPlot, 1);
    layout->addWidget(m_scores);
    m_layerPlot->setVisible(false);
    m_layerPlot->setMinimumHeight(180);
    m_plot->setMinimumHeight(360);
    m_plot->setInteractions(QCP::iRangeDrag | QCP::iRangeZoom);
    m_plot->setAutoAddPlottableToLegend(false);

    // The two display choices are remembered between sessions.
    const QSettings settings;
    m_normalised = settings.value(QStringLiteral("attention/normalised"), true).toBool();
    m_normalise->setChecked(m_normalised);
    m_layers->setChecked(settings.value(QStringLiteral("attention/teacherLayers"), false).toBool());
    connect(m_normalise, &QCheckBox::toggled, this, [this](bool on) {
        QSettings().setValue(QStringLiteral("attention/normalised"), on);
        setNormalised(on);
    });
    connect(m_layers, &QToolButton::toggled, this, [this](bool on) {
        QSettings().setValue(QStringLiteral("attention/teacherLayers"), on);
        setLayerMapShown(on);
    });
    connect(m_export, &QToolButton::clicked, this, &AttentionView::chooseExport);
    rebuild();
}

void AttentionView::clear()
{
    m_figure = AttentionFigure();
    m_visible.clear();
    rebuild();
}

void AttentionView::setFigure(const AttentionFigure &figure)
{
    // Keep the user's series choice when the next clip has the same series.
    QVector<bool> visible(figure.series.size(), true);
    if (figure.series.size() == m_figure.series.size())
        for (int i = 0; i < figure.series.size(); ++i)
            if (figure.series[i].label() + figure.series[i].kind
                == m_figure.series[i].label() + m_figure.series[i].kind)
                visible[i] = m_visible.value(i, true);
    m_figure = figure;
    m_visible = visible;
    rebuild();
    Q_EMIT figureShown();
}

void AttentionView::focusStudent(const QString &student, double lambda)
{
    auto matches = [&](const AttentionSeries &s, double l) {
        return s.model == student && (l < 0 || std::abs(s.lambda - l) < 1e-9);
    };
    // A checkpoint with no attention curve of its own (lambda 0 of a student without native
    // attention has no trained branch) must not empty the plot: its student's other curves stay.
    bool any = student.isEmpty();
    for (const auto &s : m_figure.series)
        any = any || (matches(s, lambda) && !s.weights.isEmpty());
    m_focusNote = any || lambda < 0 ? QString()
                                    : tr("%1 at λ = %2 draws no attention curve of its own (no "
                                         "branch trained at λ = 0, no native attention); its "
                                         "other λ are shown.")
                                          .arg(student)
                                          .arg(lambda);
    for (int i = 0; i < m_figure.series.size(); ++i) {
        const auto &s = m_figure.series[i];
        m_visible[i] = s.model == QLatin1String("teacher") || student.isEmpty()
            || matches(s, any ? lambda : -1.0);
    }
    rebuild();
}

void AttentionView::setSeriesVisible(int index, bool visible)
{
    if (index < 0 || index >= m_visible.size())
        return;
    m_visible[index] = visible;
    rebuild();
}

bool AttentionView::isSeriesVisible(int index) const
{
    return m_visible.value(index, false);
}

void AttentionView::setNormalised(bool on)
{
    m_normalised = on;
    if (m_normalise->isChecked() != on)
        m_normalise->setChecked(on);
    rebuild();
}

void AttentionView::setLayerMapShown(bool on)
{
    if (m_layers->isChecked() != on)
        m_layers->setChecked(on);
    m_layerPlot->setVisible(on && m_figure.layers > 0);
}

bool AttentionView::layerMapShown() const
{
    return m_layerPlot->isVisible() || (m_layers->isChecked() && m_figure.layers > 0);
}

QCPAxisRect *AttentionView::addPanel(const QString &title, bool bottomAxis)
{
    const int row = m_plot->plotLayout()->rowCount();
    auto *text = new QCPTextElement(
        m_plot, title, QFont(font().family(), font().pointSize() + 1, QFont::Bold));
    m_plot->plotLayout()->addElement(row, 0, text);
    auto *rect = new QCPAxisRect(m_plot);
    m_plot->plotLayout()->addElement(row + 1, 0, rect);
    rect->setRangeDrag(Qt::Horizontal);
    rect->setRangeZoom(Qt::Horizontal);
    rect->axis(QCPAxis::atBottom)->setTickLabels(bottomAxis);
    rect->setupFullAxesBox(false);
    rect->axis(QCPAxis::atTop)->setTickLabels(false);
    rect->axis(QCPAxis::atRight)->setTickLabels(false);
    return rect;
}

void AttentionView::rebuild()
{
    m_plot->clearPlottables();
    m_plot->clearItems();
    m_plot->plotLayout()->clear();
    qDeleteAll(m_plot->findChildren<QCPMarginGroup *>(QString(), Qt::FindDirectChildrenOnly));
    m_plot->plotLayout()->setRowSpacing(0);
    m_cursors.clear();
    const AttentionFigure &f = m_figure;
    rebuildSeriesMenu();
    m_layers->setEnabled(f.layers > 0);
    m_export->setEnabled(f.clipSec > 0);

    if (f.clipSec <= 0) {
        m_scores->clear();
        auto *text = new QCPTextElement(m_plot, tr("No clip"));
        m_plot->plotLayout()->addElement(0, 0, text);
        replotWhenShown(m_plot);
        m_layerPlot->clearPlottables();
        replotWhenShown(m_layerPlot);
        return;
    }
    const bool hasWindow = f.onsetSec >= 0 && f.offsetSec > f.onsetSec;
    m_header->setText(QStringLiteral("<b>%1</b><br>class <b>%2</b>%3")
                          .arg(f.title.toHtmlEscaped(), f.trueLabel.toHtmlEscaped(),
                              hasWindow ? tr(" &nbsp; keyword %1-%2 s")
                                              .arg(f.onsetSec, 0, 'f', 2)
                                              .arg(f.offsetSec, 0, 'f', 2)
                                        : tr(" &nbsp; no keyword")));

    QCPAxisRect *spec = addSpectrogramPanel();
    QVector<QCPAxisRect *> rects { spec };
    rects += addCurvePanels();
    m_scores->setText(
        (m_focusNote.isEmpty() ? QString() : QStringLiteral("<i>%1</i><br>").arg(m_focusNote))
        + scoreLines().join(QStringLiteral("<br>")));
    linkPanels(rects, spec, hasWindow);
    // Row stretch: the spectrogram a little taller than one curve panel; titles fixed.
    for (int row = 0; row < m_plot->plotLayout()->rowCount(); ++row)
        m_plot->plotLayout()->setRowStretchFactor(
            row, row % 2 == 0 ? 0.001 : (row == 1 ? 1.2 : 1.0));
    setCursorSec(m_cursorSec);
    rebuildLayerMap(hasWindow);
    replotWhenShown(m_plot);
}

// The series menu: one checkable entry per series.
void AttentionView::rebuildSeriesMenu()
{
    const AttentionFigure &f = m_figure;
    QMenu *menu = m_seriesButton->menu();
    menu->clear();
    for (int i = 0; i < f.series.size(); ++i) {
        const auto &s = f.series[i];
        QAction *a = menu->addAction(s.label()
            + (s.model == QLatin1String("teacher") ? QString() : QStringLiteral(" · ") + s.kind));
        a->setCheckable(true);
        a->setChecked(m_visible.value(i, true));
        connect(a, &QAction::toggled, this, [this, i](bool on) { setSeriesVisible(i, on); });
    }
    m_seriesButton->setEnabled(!f.series.isEmpty());
}

QCPAxisRect *AttentionView::addSpectrogramPanel()
{
    const AttentionFigure &f = m_figure;
    QCPAxisRect *spec = addPanel(tr("Log-mel spectrogram"), false);
    spec->axis(QCPAxis::atLeft)->setLabel(tr("mel bin"));
    auto *map = new QCPColorMap(spec->axis(QCPAxis::atBottom), spec->axis(QCPAxis::atLeft));
    map->setGradient(QCPColorGradient::gpThermal);
    map->setInterpolate(false);
    f.spectrogram.drawInto(map);
    spec->axis(QCPAxis::atLeft)->setRange(0, std::max(1, f.spectrogram.bins - 1));

    return spec;
}

// One panel per kind of curve: teacher, students' branches, attention-based students' own
// attention; returns their axis rects, top to bottom.
QVector<QCPAxisRect *> AttentionView::addCurvePanels()
{
    const AttentionFigure &f = m_figure;
    QVector<int> teacher, branch, native;
    for (int i = 0; i < f.series.size(); ++i) {
        if (!m_visible.value(i, true))
            continue;
        const QString &k = f.series[i].kind;
        if (k == QLatin1String("none"))
            continue; // a student without any attention: listed with its prediction only
        (f.series[i].model == QLatin1String("teacher") ? teacher
                : k == QLatin1String("native")         ? native
                                                       : branch)
            << i;
    }
    struct Panel
    {
        QString title;
        QVector<int> series;
    };
    QVector<Panel> panels;
    panels.push_back({ tr("Teacher model"), teacher });
    if (!branch.isEmpty())
        panels.push_back(
            { tr("Students: attention branch a_S (trained with temporal KD)"), branch });
    if (!native.isEmpty())
        panels.push_back({ tr("Attention-based students: their own attention"), native });

    QVector<QCPAxisRect *> rects;
    for (int p = 0; p < panels.size(); ++p) {
        QCPAxisRect *rect = addPanel(panels[p].title, p + 1 == panels.size());
        rects << rect;
        auto *legend = new QCPLegend;
        rect->insetLayout()->addElement(legend, Qt::AlignLeft | Qt::AlignTop);
        legend->setLayer(QStringLiteral("legend"));
        legend->setBrush(QColor(255, 255, 255, 215));
        legend->setFont(QFont(font().family(), std::max(7, font().pointSize() - 1)));
        legend->setRowSpacing(-2);
        double peak = 0.0;
        for (int i : panels[p].series) {
            const AttentionSeries &s = f.series[i];
            auto *g = m_plot->addGraph(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
            g->removeFromLegend();
            QVector<double> w = s.weights;
            const double mx = w.isEmpty() ? 0.0 : *std::max_element(w.begin(), w.end());
            if (m_normalised && mx > 0)
                for (double &v : w)
                    v /= mx;
            peak = std::max(peak, m_normalised ? 1.0 : mx);
            g->setData(s.timesSec, w, true);
            QPen pen(modelColour(s.model), 2.2);
            if (s.model != QLatin1String("teacher") && s.lambda == 0.0)
                pen.setStyle(Qt::DashLine); // the vanilla student (no temporal KD)
            g->setPen(pen);
            if (s.kind == QLatin1String("oracle"))
                g->setLineStyle(QCPGraph::lsStepCenter);
            g->setName(tr("%1  [%2 in window]").arg(s.label(), scoreString(s.score)));
            legend->addItem(new QCPPlottableLegendItem(legend, g));
        }
        if (panels[p].series.isEmpty())
            legend->setVisible(false);
        rect->axis(QCPAxis::atLeft)->setRange(0, peak > 0 ? peak * 1.12 : 1.0);
        rect->axis(QCPAxis::atLeft)
            ->setLabel(m_normalised ? tr("attention / peak") : tr("attention"));
        if (p + 1 == panels.size())
            rect->axis(QCPAxis::atBottom)->setLabel(tr("time (s)"));
    }
    return rects;
}

// The score list under the plot: each series' localisation and prediction, and the baseline.
QStringList AttentionView::scoreLines() const
{
    const AttentionFigure &f = m_figure;
    QStringList lines;
    for (int i = 0; i < f.series.size(); ++i) {
        const auto &s = f.series[i];
        QString line = s.kind == QLatin1String("none")
            ? QStringLiteral(
                "<b>%1</b>: no attention (vanilla student without an attention branch)")
                  .arg(s.label().toHtmlEscaped())
            : QStringLiteral("<b>%1</b>%2: %3 of the attention in the keyword window")
                  .arg(s.label().toHtmlEscaped(),
                      s.model == QLatin1String("teacher")
                          ? QString()
                          : QStringLiteral(" (") + s.kind + QLatin1Char(')'),
                      scoreString(s.score));
        if (!s.prediction.isEmpty())
            line += tr(", predicts <b>%1</b> (%2%)%3")
                        .arg(s.prediction.toHtmlEscaped())
                        .arg(100.0 * s.confidence, 0, 'f', 0)
                        .arg(s.prediction == f.trueLabel
                                ? QString()
                                : tr(" <span style='color:#c62828'>wrong</span>"));
        lines << line;
    }
    if (std::isfinite(f.baseline))
        lines << tr("uniform attention would score %1").arg(scoreString(f.baseline));
    if (f.computeSec >= 0)
        lines.last() += tr(
            " &nbsp; <span style='color:#777'>(clip rebuilt and every model run in %1 ms)</span>")
                            .arg(f.computeSec * 1000.0, 0, 'f', 0);
    return lines;
}

// One time axis for every panel (zoom one, zoom all), the keyword window shaded, a cursor each.
void AttentionView::linkPanels(
    const QVector<QCPAxisRect *> &rects, QCPAxisRect *spec, bool hasWindow)
{
    const AttentionFigure &f = m_figure;
    auto *group = new QCPMarginGroup(m_plot);
    for (QCPAxisRect *rect : rects) {
        rect->setMarginGroup(QCP::msLeft | QCP::msRight, group);
        rect->axis(QCPAxis::atBottom)->setRange(0, f.clipSec);
        for (QCPAxisRect *other : rects)
            if (other != rect)
                connect(rect->axis(QCPAxis::atBottom),
                    qOverload<const QCPRange &>(&QCPAxis::rangeChanged),
                    other->axis(QCPAxis::atBottom),
                    qOverload<const QCPRange &>(&QCPAxis::setRange));
        if (hasWindow) {
            auto *r = new QCPItemRect(m_plot);
            r->setClipAxisRect(rect);
            for (auto *pos : { r->topLeft, r->bottomRight }) {
                pos->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
                pos->setAxisRect(rect);
                pos->setTypeY(QCPItemPosition::ptAxisRectRatio);
            }
            r->topLeft->setCoords(f.onsetSec, 0.0);
            r->bottomRight->setCoords(f.offsetSec, 1.0);
            if (rect == spec) {
                r->setPen(QPen(QColor(255, 255, 255, 220), 1.5, Qt::DashLine));
                r->setBrush(Qt::NoBrush);
            } else {
                r->setPen(Qt::NoPen);
                r->setBrush(QColor(0, 0, 0, 38));
                r->setLayer(QStringLiteral("background"));
            }
        }
        auto *cursor = new QCPItemStraightLine(m_plot);
        cursor->setClipAxisRect(rect);
        cursor->point1->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        cursor->point2->setAxes(rect->axis(QCPAxis::atBottom), rect->axis(QCPAxis::atLeft));
        cursor->setPen(QPen(QColor(220, 40, 40), 1.5));
        m_cursors << cursor;
    }
}

// The per-layer/head map: rows are (layer, head), columns the teacher's frames.
void AttentionView::rebuildLayerMap(bool hasWindow)
{
    const AttentionFigure &f = m_figure;
    m_layerPlot->clearPlottables();
    m_layerPlot->clearItems();
    if (f.layers > 0 && f.heads > 0 && !f.teacherTimesSec.isEmpty()) {
        const int rows = f.layers * f.heads, cols = int(f.teacherTimesSec.size());
        auto *lm = new QCPColorMap(m_layerPlot->xAxis, m_layerPlot->yAxis);
        lm->setGradient(QCPColorGradient::gpHot);
        lm->setInterpolate(false);
        lm->data()->setSize(cols, rows);
        lm->data()->setRange(
            QCPRange(f.teacherTimesSec.first(), f.teacherTimesSec.last()), QCPRange(0, rows - 1));
        // Each row scaled to its own peak so weak and sharp heads are both readable.
        for (int r = 0; r < rows; ++r) {
            float mx = 1e-12f;
            for (int c = 0; c < cols; ++c)
                mx = std::max(mx, f.layerRows.value(r * cols + c));
            for (int c = 0; c < cols; ++c)
                lm->data()->setCell(c, r, f.layerRows.value(r * cols + c) / mx);
        }
        lm->setDataRange(QCPRange(0, 1));
        QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
        for (int l = 0; l < f.layers; ++l)
            for (int h = 0; h < f.heads; ++h)
                ticker->addTick(
                    l * f.heads + h, h == 0 ? tr("layer %1 h1").arg(l + 1) : tr("h%1").arg(h + 1));
        m_layerPlot->yAxis->setTicker(ticker);
        m_layerPlot->yAxis->setRange(-0.5, rows - 0.5);
        m_layerPlot->xAxis->setRange(0, f.clipSec);
        m_layerPlot->xAxis->setLabel(tr("time (s): teacher attention of the query row, per layer "
                                        "and head (each row / its peak)"));
        if (hasWindow) {
            auto *r = new QCPItemRect(m_layerPlot);
            r->topLeft->setTypeY(QCPItemPosition::ptAxisRectRatio);
            r->bottomRight->setTypeY(QCPItemPosition::ptAxisRectRatio);
            r->topLeft->setCoords(f.onsetSec, 0.0);
            r->bottomRight->setCoords(f.offsetSec, 1.0);
            r->setPen(QPen(QColor(80, 160, 255), 1.5, Qt::DashLine));
        }
    }
    m_layerPlot->setVisible(m_layers->isChecked() && f.layers > 0);
    replotWhenShown(m_layerPlot);
}

void AttentionView::setCursorSec(double sec)
{
    m_cursorSec = sec;
    for (auto *c : m_cursors) {
        c->setVisible(sec >= 0);
        c->point1->setCoords(sec, 0);
        c->point2->setCoords(sec, 1);
    }
    replotWhenShown(m_plot);
}

int AttentionView::curveCount() const
{
    return m_plot->graphCount();
}

QStringList AttentionView::curveNames() const
{
    QStringList names;
    for (int i = 0; i < m_plot->graphCount(); ++i)
        names << m_plot->graph(i)->name();
    return names;
}

QString AttentionView::scoreText() const
{
    return m_scores->text();
}

namespace {
QSize exportSize(const QCustomPlot *plot, int width, int height, int panels)
{
    const int w = width > 0 ? width : std::max(plot->width(), 1100);
    const int h = height > 0 ? height : std::max(plot->height(), 190 * panels);
    return { w, h };
}
} // namespace

bool AttentionView::exportPng(const QString &path, int width, int height)
{
    const QSize s = exportSize(m_plot, width, height, m_plot->plotLayout()->rowCount() / 2);
    return m_plot->savePng(path, s.width(), s.height(), 1.0);
}

bool AttentionView::exportSvg(const QString &path, int width, int height)
{
    const QSize s = exportSize(m_plot, width, height, m_plot->plotLayout()->rowCount() / 2);
    QSvgGenerator svg;
    svg.setFileName(path);
    svg.setSize(s);
    svg.setViewBox(QRect(QPoint(0, 0), s));
    svg.setTitle(tr("TKD Studio attention: %1").arg(m_figure.title));
    QCPPainter painter;
    if (!painter.begin(&svg))
        return false;
    m_plot->toPainter(&painter, s.width(), s.height());
    painter.end();
    return QFileInfo(path).size() > 0;
}

void AttentionView::chooseExport()
{
    QString selected;
    const QString path = QFileDialog::getSaveFileName(this, tr("Export the attention figure"),
        QStringLiteral("attention.png"), tr("PNG image (*.png);;SVG drawing (*.svg)"), &selected);
    if (path.isEmpty())
        return;
    if (path.endsWith(QLatin1String(".svg"), Qt::CaseInsensitive))
        exportSvg(path);
    else
        exportPng(path.endsWith(QLatin1String(".png"), Qt::CaseInsensitive)
                ? path
                : path + QStringLiteral(".png"));
}

} // namespace tkd
