#include "widgets/ResultsView.h"

#include "widgets/ModelColours.h"

#include "widgets/QCustomPlotInclude.h"
#include "widgets/WarningBanner.h"

#include <QComboBox>
#include <QFile>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QImage>
#include <QLabel>
#include <QMenu>
#include <QPainter>
#include <QTableWidget>
#include <QTextDocumentFragment>
#include <QTextStream>
#include <QToolButton>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tkd {

namespace {
QString num(double v)
{
    return QString::number(v, 'g', 4);
}

QString csvField(const QString &s)
{
    if (s.contains(QLatin1Char(',')) || s.contains(QLatin1Char('"'))
        || s.contains(QLatin1Char('\n')))
        return QLatin1Char('"') + QString(s).replace(QLatin1Char('"'), QStringLiteral("\"\""))
            + QLatin1Char('"');
    return s;
}

bool writeText(const QString &path, const QString &text)
{
    QFile f(path);
    if (!f.open(QIODevice::WriteOnly | QIODevice::Truncate | QIODevice::Text))
        return false;
    QTextStream(&f) << text;
    return f.error() == QFile::NoError;
}

const struct
{
    const char *key;
    const char *name;
} kMetrics[] = { { "accuracy", "Test accuracy" }, { "map", "Test mAP" },
    { "localisation_branch", "Localisation (branch a_S)" },
    { "localisation_native", "Localisation (native attention)" }, { "loss", "Test loss" },
    { "unseen_voices_accuracy", "Unseen voices accuracy (leave-one-family-out)" } };
} // namespace

ResultsView::ResultsView(QWidget *parent)
    : QWidget(parent)
    , m_header(
          new QLabel(tr("Open a run folder or a folder of runs (File > Open run folder)."), this))
    , m_banner(new QLabel(this))
    , m_details(new QLabel(this))
    , m_metricBox(new QComboBox(this))
    , m_export(new QToolButton(this))
    , m_evaluate(new QToolButton(this))
    , m_table(new QTableWidget(this))
    , m_chart(new QCustomPlot(this))
    , m_paper(new PaperPanel(this))
{
    for (const auto &m : kMetrics)
        m_metricBox->addItem(tr(m.name), QString::fromLatin1(m.key));
    m_metricBox->setToolTip(
        tr("Metric shown in the grid (test split, best-on-validation weights)"));
    m_export->setText(tr("Export"));
    m_export->setPopupMode(QToolButton::InstantPopup);
    auto *menu = new QMenu(m_export);
    menu->addAction(tr("CSV..."), this, [this] {
        const QString p = QFileDialog::getSaveFileName(
            this, tr("Export CSV"), QStringLiteral("results.csv"), tr("CSV (*.csv)"));
        if (!p.isEmpty())
            exportCsv(p);
    });
    menu->addAction(tr("Markdown..."), this, [this] {
        const QString p = QFileDialog::getSaveFileName(
            this, tr("Export Markdown"), QStringLiteral("results.md"), tr("Markdown (*.md)"));
        if (!p.isEmpty())
            exportMarkdown(p);
    });
    menu->addAction(tr("PNG..."), this, [this] {
        const QString p = QFileDialog::getSaveFileName(
            this, tr("Export PNG"), QStringLiteral("results.png"), tr("PNG (*.png)"));
        if (!p.isEmpty())
            exportPng(p);
    });
    m_export->setMenu(menu);
    m_evaluate->setText(tr("Evaluate on a dataset..."));
    m_evaluate->setToolTip(tr("Score the open run's students and teacher on another dataset: "
                              "accuracy, per-class recall, confusion matrix"));
    connect(m_evaluate, &QToolButton::clicked, this, &ResultsView::evaluateRequested);
    m_header->setWordWrap(true);
    m_header->setTextFormat(Qt::RichText);

    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setSelectionBehavior(QAbstractItemView::SelectItems);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_table->verticalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_table->setToolTip(tr("Click a cell to open its run's curves and attention"));

    // The title on its own line, so a long one never squeezes the metric box and Export.
    makeWarningBanner(m_banner, QStringLiteral("chanceBanner"));
    auto *bar = new QHBoxLayout;
    bar->addWidget(m_evaluate);
    bar->addStretch(1);
    bar->addWidget(new QLabel(tr("Metric:"), this));
    bar->addWidget(m_metricBox);
    bar->addWidget(m_export);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_header);
    layout->addWidget(m_banner);
    layout->addLayout(bar);
    layout->addWidget(m_table, 0);
    layout->addWidget(m_chart, 3);
    layout->addWidget(m_details, 1);
    layout->addWidget(m_paper, 1);
    m_chart->setMinimumHeight(220);
    // The legend sits beside the plot, not inside it: a grid's 10-20 bars (students x lambdas)
    // would otherwise cover the bars of the middle lengths.
    m_chart->axisRect()->insetLayout()->take(m_chart->legend);
    m_chart->plotLayout()->addElement(0, 1, m_chart->legend);
    m_chart->plotLayout()->setColumnStretchFactor(1, 0.001);
    m_chart->legend->setFillOrder(QCPLayoutGrid::foRowsFirst);
    m_chart->legend->setWrap(8); // items per column
    m_chart->legend->setRowSpacing(-3);
    m_chart->legend->setFont(QFont(font().family(), std::max(7, font().pointSize() - 1)));
    m_table->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Maximum);
    m_details->setTextFormat(Qt::RichText);
    m_details->setAlignment(Qt::AlignTop | Qt::AlignLeft);
    m_details->setWordWrap(true);
    m_details->setTextInteractionFlags(Qt::TextSelectableByMouse);
    QFont tableFont = m_table->font();
    tableFont.setPointSizeF(tableFont.pointSizeF() * 1.15);
    m_table->setFont(tableFont);
    m_table->verticalHeader()->setFont(tableFont);
    m_table->horizontalHeader()->setFont(tableFont);
    m_table->verticalHeader()->setMinimumSectionSize(QFontMetrics(tableFont).height() + 12);

    connect(m_metricBox, &QComboBox::currentIndexChanged, this,
        [this] { setMetric(m_metricBox->currentData().toString()); });
    connect(m_table, &QTableWidget::cellClicked, this, &ResultsView::activateCell);
    connect(m_table, &QTableWidget::currentCellChanged, this,
        [this](int row, int column) { showDetails(row, column); });
    rebuild();
}

void ResultsView::setEntries(const QVector<ResultEntry> &entries, const QString &title)
{
    m_entries = entries;
    m_title = title;
    rebuild();
    updateBanner();
}

void ResultsView::setPaperComparison(const PaperComparison &comparison)
{
    m_paper->setComparison(comparison);
}

void ResultsView::updateBanner()
{
    // A run at chance says so plainly (up to 1.5 x chance: 12.5% for 12 classes).
    QStringList lines;
    for (const ResultEntry &e : m_entries) {
        auto acc = e.test.constFind(QStringLiteral("accuracy"));
        // !(<=): a missing figure (NaN, the oracle teacher's) is not a model at chance.
        if (e.classes <= 1 || acc == e.test.cend() || !(*acc <= 1.5 / e.classes))
            continue;
        const QString who = e.model == QLatin1String("teacher")
            ? tr("teacher (%1)").arg(e.teacherKind)
            : tr("%1 λ = %2 seed %3").arg(e.model).arg(e.lambda).arg(e.seed);
        lines << tr("%1 at L = %2 s: test accuracy %3%, chance is %4%")
                     .arg(who.toHtmlEscaped())
                     .arg(e.lengthSec)
                     .arg(100.0 * *acc, 0, 'f', 1)
                     .arg(100.0 / e.classes, 0, 'f', 1);
    }
    if (lines.size() > 6) {
        const int more = int(lines.size()) - 5;
        lines = lines.mid(0, 5);
        lines << tr("... and %1 more").arg(more);
    }
    m_banner->setText(lines.isEmpty() ? QString()
                                      : tr("<b>At chance: these models have not learned.</b><br>%1")
                                            .arg(lines.join(QStringLiteral("<br>"))));
    m_banner->setVisible(!lines.isEmpty());
}

void ResultsView::setMetric(const QString &metric)
{
    m_metric = metric;
    const int i = m_metricBox->findData(metric);
    if (i >= 0 && i != m_metricBox->currentIndex()) {
        const QSignalBlocker block(m_metricBox);
        m_metricBox->setCurrentIndex(i);
    }
    rebuild();
}

bool ResultsView::higherIsBetter() const
{
    return m_metric != QLatin1String("loss");
}

QString ResultsView::formatValue(double v) const
{
    return m_metric == QLatin1String("loss") ? QString::number(v, 'f', 3)
                                             : QString::number(100.0 * v, 'f', 1);
}

QString ResultsView::rowName(int row) const
{
    if (row < 0 || row >= m_rows.size())
        return {};
    const Row &r = m_rows[row];
    if (r.model == QLatin1String("teacher"))
        return tr("teacher (%1)").arg(r.teacherKind);
    return QStringLiteral("%1, λ = %2").arg(r.model, num(r.lambda));
}

const ResultsGridCell *ResultsView::cell(int row, int column) const
{
    if (row < 0 || row >= m_cells.size() || column < 0 || column >= m_cells[row].size())
        return nullptr;
    return &m_cells[row][column];
}

void ResultsView::rebuild()
{
    buildRows();
    buildCells();
    markBest();
    fillTable();
    rebuildChart();
    // Until a cell is clicked, the details show the winner of the longest clips.
    int bestRow = -1;
    for (int r = 0; r < m_rows.size() && !m_lengths.isEmpty(); ++r)
        if (m_cells[r][m_lengths.size() - 1].best)
            bestRow = r;
    showDetails(bestRow, int(m_lengths.size()) - 1);
}

// Rows: teacher kinds first, then students in first-seen order, lambdas ascending.
void ResultsView::buildRows()
{
    m_rows.clear();
    m_lengths.clear();
    QStringList students;
    for (const auto &e : m_entries) {
        if (!m_lengths.contains(e.lengthSec))
            m_lengths << e.lengthSec;
        if (e.model != QLatin1String("teacher") && !students.contains(e.model))
            students << e.model;
    }
    std::sort(m_lengths.begin(), m_lengths.end());
    QStringList teacherKinds;
    for (const auto &e : m_entries)
        if (e.model == QLatin1String("teacher") && !teacherKinds.contains(e.teacherKind))
            teacherKinds << e.teacherKind;
    for (const auto &k : teacherKinds)
        m_rows.push_back({ QStringLiteral("teacher"), k, -1.0 });
    for (const auto &s : students) {
        QVector<double> lambdas;
        for (const auto &e : m_entries)
            if (e.model == s && !lambdas.contains(e.lambda))
                lambdas << e.lambda;
        std::sort(lambdas.begin(), lambdas.end());
        for (double l : lambdas)
            m_rows.push_back({ s, QString(), l });
    }
}

// Cells: mean and sample standard deviation over the seeds with a finite value.
void ResultsView::buildCells()
{
    m_cells = QVector<QVector<ResultsGridCell>>(
        m_rows.size(), QVector<ResultsGridCell>(m_lengths.size()));
    for (int i = 0; i < m_entries.size(); ++i) {
        const ResultEntry &e = m_entries[i];
        int row = -1;
        for (int r = 0; r < m_rows.size() && row < 0; ++r)
            if (m_rows[r].model == e.model
                && (e.model == QLatin1String("teacher")
                        ? m_rows[r].teacherKind == e.teacherKind
                        : std::abs(m_rows[r].lambda - e.lambda) < 1e-12))
                row = r;
        const int col = int(m_lengths.indexOf(e.lengthSec));
        if (row >= 0 && col >= 0)
            m_cells[row][col].entries << i;
    }
    for (int r = 0; r < m_rows.size(); ++r)
        for (int c = 0; c < m_lengths.size(); ++c) {
            ResultsGridCell &cell = m_cells[r][c];
            QVector<double> v;
            double valSum = 0.0;
            int valCount = 0;
            for (int i : cell.entries) {
                const double x = m_entries[i].test.value(m_metric, std::nan(""));
                if (std::isfinite(x))
                    v << x;
                const double y = m_entries[i].validation.value(m_metric, std::nan(""));
                if (std::isfinite(y)) {
                    valSum += y;
                    ++valCount;
                }
            }
            cell.validation = valCount ? valSum / valCount : std::nan("");
            cell.seeds = int(v.size());
            if (v.isEmpty())
                continue;
            double sum = 0.0;
            for (double x : v)
                sum += x;
            cell.mean = sum / v.size();
            double ss = 0.0;
            for (double x : v)
                ss += (x - cell.mean) * (x - cell.mean);
            cell.spread = v.size() > 1 ? std::sqrt(ss / (v.size() - 1)) : 0.0;
        }
}

// Best student per column (the teacher is a reference, not a contender), and the best lambda of
// each student (bold), as `tkd grid` marks them.
void ResultsView::markBest()
{
    for (int c = 0; c < m_lengths.size(); ++c) {
        int best = -1;
        for (int r = 0; r < m_rows.size(); ++r) {
            if (m_rows[r].model == QLatin1String("teacher") || m_cells[r][c].seeds == 0)
                continue;
            if (best < 0
                || (higherIsBetter() ? m_cells[r][c].mean > m_cells[best][c].mean
                                     : m_cells[r][c].mean < m_cells[best][c].mean))
                best = r;
        }
        if (best >= 0)
            m_cells[best][c].best = true;
        // ... and the best lambda of each student (bold), as `tkd grid` marks it: on validation.
        auto score = [](const ResultsGridCell &x) {
            return std::isfinite(x.validation) ? x.validation : x.mean;
        };
        for (int r = 0; r < m_rows.size(); ++r) {
            if (m_rows[r].model == QLatin1String("teacher") || m_cells[r][c].seeds == 0)
                continue;
            bool top = true;
            for (int o = 0; o < m_rows.size() && top; ++o)
                if (o != r && m_rows[o].model == m_rows[r].model && m_cells[o][c].seeds > 0)
                    top = higherIsBetter() ? score(m_cells[r][c]) >= score(m_cells[o][c])
                                           : score(m_cells[r][c]) <= score(m_cells[o][c]);
            m_cells[r][c].bestLambda = top;
        }
    }
}

void ResultsView::fillTable()
{
    m_table->clear();
    m_table->setRowCount(int(m_rows.size()));
    m_table->setColumnCount(int(m_lengths.size()));
    QStringList columns, rows;
    for (double l : m_lengths)
        columns << tr("L = %1 s").arg(num(l));
    for (int r = 0; r < m_rows.size(); ++r)
        rows << rowName(r);
    m_table->setHorizontalHeaderLabels(columns);
    m_table->setVerticalHeaderLabels(rows);
    QFont bold = m_table->font();
    bold.setBold(true);
    for (int r = 0; r < m_rows.size(); ++r)
        for (int c = 0; c < m_lengths.size(); ++c) {
            const ResultsGridCell &cell = m_cells[r][c];
            QString text = QStringLiteral("-");
            if (cell.seeds > 0) {
                text = formatValue(cell.mean);
                if (cell.seeds > 1)
                    text += QStringLiteral(" ± ") + formatValue(cell.spread);
                if (cell.best)
                    text += QStringLiteral("  ★");
            }
            auto *item = new QTableWidgetItem(text);
            item->setTextAlignment(Qt::AlignCenter);
            QStringList tip;
            for (int i : cell.entries) {
                const auto &e = m_entries[i];
                tip << tr("seed %1: %2 (%3)")
                           .arg(e.seed)
                           .arg(std::isfinite(e.test.value(m_metric, std::nan("")))
                                   ? formatValue(e.test.value(m_metric))
                                   : QStringLiteral("-"))
                           .arg(e.status);
            }
            item->setToolTip(tip.join(QLatin1Char('\n')));
            if (cell.bestLambda)
                item->setFont(bold);
            if (cell.best) {
                item->setBackground(QColor(200, 235, 200));
            } else if (m_rows[r].model == QLatin1String("teacher")) {
                item->setBackground(QColor(235, 240, 250));
            }
            m_table->setItem(r, c, item);
        }
    QString metricName = m_metricBox->currentText();
    const QString unit = m_metric == QLatin1String("loss") ? QString() : tr(" (%)");
    m_header->setText(m_entries.isEmpty()
            ? tr("Open a run folder or a folder of runs (File > Open run folder).")
            : tr("<b>%1</b> &nbsp; %2%3, mean ± s.d. over seeds; <b>bold</b>: best λ of each "
                 "student on validation, ★ best student per column")
                  .arg(m_title.toHtmlEscaped(), metricName, unit));
    m_export->setEnabled(!m_entries.isEmpty());
    int tableHeight
        = m_table->horizontalHeader()->sizeHint().height() + 2 * m_table->frameWidth() + 2;
    for (int r = 0; r < m_table->rowCount(); ++r)
        tableHeight += m_table->verticalHeader()->sectionSize(r);
    m_table->setMaximumHeight(std::max(tableHeight, 60));
}

void ResultsView::rebuildChart()
{
    m_chart->clearPlottables();
    m_chart->clearItems();
    m_chart->legend->clearItems();
    m_chart->setAutoAddPlottableToLegend(false);
    const bool percent = m_metric != QLatin1String("loss");
    const double scale = percent ? 100.0 : 1.0;
    QVector<int> students;
    for (int r = 0; r < m_rows.size(); ++r)
        if (m_rows[r].model != QLatin1String("teacher"))
            students << r;
    const int n = std::max<int>(1, int(students.size()));
    const double slot = 0.8 / n;
    double top = 0.0;
    for (int k = 0; k < students.size(); ++k) {
        const int r = students[k];
        auto *bars = new QCPBars(m_chart->xAxis, m_chart->yAxis);
        bars->setWidth(slot * 0.9);
        QColor c = modelColour(m_rows[r].model);
        if (m_rows[r].lambda == 0.0)
            c = c.lighter(150); // the vanilla student, lighter than its KD versions
        bars->setBrush(c);
        bars->setPen(QPen(c.darker(130)));
        bars->setName(rowName(r));
        auto *errors = new QCPErrorBars(m_chart->xAxis, m_chart->yAxis);
        errors->setDataPlottable(bars);
        errors->setPen(QPen(Qt::black, 1.2));
        QVector<double> keys, values, spread;
        for (int col = 0; col < m_lengths.size(); ++col) {
            const ResultsGridCell &cell = m_cells[r][col];
            if (cell.seeds == 0)
                continue;
            keys << col + (k - (n - 1) / 2.0) * slot;
            values << cell.mean * scale;
            spread << cell.spread * scale;
            top = std::max(top, (cell.mean + cell.spread) * scale);
        }
        bars->setData(keys, values, true);
        errors->setData(spread);
        m_chart->legend->addItem(new QCPPlottableLegendItem(m_chart->legend, bars));
    }
    // Teachers: a dashed reference line across each length's group.
    for (int r = 0; r < m_rows.size(); ++r) {
        if (m_rows[r].model != QLatin1String("teacher"))
            continue;
        auto *line = m_chart->addGraph();
        line->setPen(QPen(QColor(31, 119, 180), 2.0, Qt::DashLine));
        line->setName(rowName(r));
        QVector<double> keys, values;
        for (int col = 0; col < m_lengths.size(); ++col) {
            const ResultsGridCell &cell = m_cells[r][col];
            if (cell.seeds == 0)
                continue;
            keys << col - 0.45 << col + 0.45 << col + 0.46;
            values << cell.mean * scale << cell.mean * scale << std::nan("");
            top = std::max(top, cell.mean * scale);
        }
        line->setData(keys, values, true);
        m_chart->legend->addItem(new QCPPlottableLegendItem(m_chart->legend, line));
    }
    QSharedPointer<QCPAxisTickerText> ticker(new QCPAxisTickerText);
    for (int col = 0; col < m_lengths.size(); ++col)
        ticker->addTick(col, tr("L = %1 s").arg(num(m_lengths[col])));
    m_chart->xAxis->setTicker(ticker);
    m_chart->xAxis->setRange(-0.55, std::max<int>(1, int(m_lengths.size())) - 0.45);
    m_chart->xAxis->grid()->setVisible(false);
    m_chart->yAxis->setRange(0, top > 0 ? top * 1.1 : 1.0);
    m_chart->yAxis->setLabel(m_metricBox->currentText() + (percent ? tr(" (%)") : QString()));
    m_chart->legend->setVisible(!m_rows.isEmpty());
    m_chart->replot();
}

void ResultsView::showDetails(int row, int column)
{
    const ResultsGridCell *c = cell(row, column);
    if (!c || c->entries.isEmpty()) {
        m_details->setText(tr("Click a cell: its seeds and metrics show here, its training curves "
                              "in the Training view "
                              "and the attention of its student in the Attention view."));
        return;
    }
    auto pct = [](const QMap<QString, double> &m, const char *key) {
        const double v = m.value(QString::fromLatin1(key), std::nan(""));
        return std::isfinite(v) ? QString::number(100.0 * v, 'f', 1) : QStringLiteral("-");
    };
    QString html = QStringLiteral(
        "<b>%1</b>, L = %2 s<table cellspacing='0' cellpadding='3'>"
        "<tr><th align='left'>seed</th><th>status</th><th>accuracy %</th><th>mAP %</th>"
        "<th>loc. branch %</th><th>loc. native %</th><th>uniform %</th><th "
        "align='left'>run</th></tr>")
                       .arg(rowName(row).toHtmlEscaped(), num(m_lengths.value(column)));
    for (int i : c->entries) {
        const ResultEntry &e = m_entries[i];
        const QString loc = e.model == QLatin1String("teacher")
            ? pct(e.test, "localisation")
            : pct(e.test, "localisation_branch");
        html += QStringLiteral(
            "<tr><td>%1</td><td>%2</td><td align='right'>%3</td><td align='right'>%4</td>"
            "<td align='right'>%5</td><td align='right'>%6</td><td "
            "align='right'>%7</td><td>%8</td></tr>")
                    .arg(e.model == QLatin1String("teacher") ? QStringLiteral("-")
                                                             : QString::number(e.seed),
                        e.status, pct(e.test, "accuracy"), pct(e.test, "map"), loc,
                        pct(e.test, "localisation_native"), pct(e.test, "localisation_baseline"),
                        (QFileInfo(e.runDir).fileName()
                            + (e.cellName.isEmpty() ? QString() : QLatin1Char('/') + e.cellName))
                            .toHtmlEscaped());
    }
    m_details->setText(html + QStringLiteral("</table>"));
}

void ResultsView::activateCell(int row, int column)
{
    showDetails(row, column);
    const ResultsGridCell *c = cell(row, column);
    if (!c || c->entries.isEmpty())
        return;
    const ResultEntry &e = m_entries[c->entries.first()];
    Q_EMIT runRequested(e.runDir, e.cellName);
    Q_EMIT attentionRequested(e.runDir, e.model, e.lambda, e.lengthSec, e.seed);
}

QString ResultsView::toCsv() const
{
    QString s = QStringLiteral("model,lambda,length_sec,metric,mean,std,seeds,best,best_lambda\n");
    for (int r = 0; r < m_rows.size(); ++r)
        for (int c = 0; c < m_lengths.size(); ++c) {
            const ResultsGridCell &cell = m_cells[r][c];
            if (cell.entries.isEmpty())
                continue;
            const Row &row = m_rows[r];
            const QString model = row.model == QLatin1String("teacher")
                ? QStringLiteral("teacher:") + row.teacherKind
                : row.model;
            s += QStringList { csvField(model), row.lambda >= 0 ? num(row.lambda) : QString(),
                num(m_lengths[c]), m_metric,
                cell.seeds ? QString::number(cell.mean, 'g', 6) : QString(),
                cell.seeds ? QString::number(cell.spread, 'g', 6) : QString(),
                QString::number(cell.seeds), cell.best ? QStringLiteral("1") : QStringLiteral("0"),
                cell.bestLambda ? QStringLiteral("1") : QStringLiteral("0") }
                     .join(QLatin1Char(','))
                + QLatin1Char('\n');
        }
    return s;
}

QString ResultsView::toMarkdown() const
{
    QString metricName;
    for (const auto &m : kMetrics)
        if (m_metric == QLatin1String(m.key))
            metricName = tr(m.name);
    QString s = QStringLiteral("%1%2, mean ± s.d. over seeds; **bold**: best λ of each student; ★: "
                               "best student per column.\n\n")
                    .arg(metricName, m_metric == QLatin1String("loss") ? QString() : tr(" (%)"));
    s += QStringLiteral("| model |");
    QString rule = QStringLiteral("|---|");
    for (double l : m_lengths) {
        s += QStringLiteral(" L = %1 s |").arg(num(l));
        rule += QStringLiteral("---:|");
    }
    s += QLatin1Char('\n') + rule + QLatin1Char('\n');
    for (int r = 0; r < m_rows.size(); ++r) {
        s += QStringLiteral("| %1 |").arg(rowName(r));
        for (int c = 0; c < m_lengths.size(); ++c) {
            const ResultsGridCell &cell = m_cells[r][c];
            QString v = QStringLiteral("-");
            if (cell.seeds > 0) {
                v = formatValue(cell.mean);
                if (cell.seeds > 1)
                    v += QStringLiteral(" ± ") + formatValue(cell.spread);
                if (cell.bestLambda)
                    v = QStringLiteral("**") + v + QStringLiteral("**");
                if (cell.best)
                    v += QStringLiteral(" ★");
            }
            s += QLatin1Char(' ') + v + QStringLiteral(" |");
        }
        s += QLatin1Char('\n');
    }
    return s;
}

bool ResultsView::exportCsv(const QString &path) const
{
    return writeText(path, toCsv());
}

bool ResultsView::exportMarkdown(const QString &path) const
{
    return writeText(path, toMarkdown());
}

bool ResultsView::exportPng(const QString &path)
{
    // Drawn directly (not a grab of the table), so the picture does not depend on the dock's size.
    QFont plain = font();
    plain.setPointSizeF(plain.pointSizeF() * 1.15);
    QFont bold = plain;
    bold.setBold(true);
    const QFontMetrics fm(plain), fb(bold);
    const int pad = 10, rowH = fb.height() + 12;
    int nameW = fb.horizontalAdvance(tr("model"));
    for (int r = 0; r < m_rows.size(); ++r)
        nameW = std::max(nameW, fb.horizontalAdvance(rowName(r)));
    nameW += 2 * pad;
    QVector<int> colW;
    for (int c = 0; c < m_lengths.size(); ++c) {
        int w = fb.horizontalAdvance(tr("L = %1 s").arg(num(m_lengths[c])));
        for (int r = 0; r < m_rows.size(); ++r)
            w = std::max(w,
                fb.horizontalAdvance(
                    m_table->item(r, c) ? m_table->item(r, c)->text() : QString()));
        colW << w + 2 * pad;
    }
    const QString caption = QTextDocumentFragment::fromHtml(m_header->text()).toPlainText();
    int tableW = nameW;
    for (int w : colW)
        tableW += w;
    const int width = std::max({ tableW, 640, fm.horizontalAdvance(caption) }) + 2 * pad;
    const int captionH = fm.height() + 2 * pad;
    const int chartW = std::max(tableW, 640), chartH = m_rows.isEmpty() ? 0 : 340;
    const int height = captionH + rowH * (int(m_rows.size()) + 1) + pad + chartH;
    QImage image(width, height, QImage::Format_RGB32);
    image.fill(Qt::white);
    QPainter p(&image);
    p.setRenderHint(QPainter::TextAntialiasing);
    p.setFont(plain);
    p.setPen(Qt::black);
    p.drawText(QRect(pad, 0, width - 2 * pad, captionH), Qt::AlignVCenter | Qt::AlignLeft, caption);
    int y = captionH;
    // Header row.
    p.fillRect(QRect(pad, y, tableW, rowH), QColor(235, 235, 235));
    p.setFont(bold);
    p.drawText(
        QRect(pad + pad, y, nameW - pad, rowH), Qt::AlignVCenter | Qt::AlignLeft, tr("model"));
    int x = pad + nameW;
    for (int c = 0; c < m_lengths.size(); ++c) {
        p.drawText(
            QRect(x, y, colW[c], rowH), Qt::AlignCenter, tr("L = %1 s").arg(num(m_lengths[c])));
        x += colW[c];
    }
    y += rowH;
    for (int r = 0; r < m_rows.size(); ++r) {
        const bool teacher = m_rows[r].model == QLatin1String("teacher");
        if (teacher)
            p.fillRect(QRect(pad, y, tableW, rowH), QColor(235, 240, 250));
        p.setFont(plain);
        p.setPen(Qt::black);
        p.drawText(
            QRect(pad + pad, y, nameW - pad, rowH), Qt::AlignVCenter | Qt::AlignLeft, rowName(r));
        x = pad + nameW;
        for (int c = 0; c < m_lengths.size(); ++c) {
            const ResultsGridCell &cell = m_cells[r][c];
            if (cell.best)
                p.fillRect(QRect(x + 2, y + 2, colW[c] - 4, rowH - 4), QColor(200, 235, 200));
            p.setFont(cell.bestLambda ? bold : plain);
            p.drawText(QRect(x, y, colW[c], rowH), Qt::AlignCenter,
                m_table->item(r, c) ? m_table->item(r, c)->text() : QString());
            x += colW[c];
        }
        p.setPen(QColor(210, 210, 210));
        p.drawLine(pad, y + rowH - 1, pad + tableW, y + rowH - 1);
        y += rowH;
    }
    if (chartH > 0)
        p.drawPixmap(pad, y + pad, m_chart->toPixmap(chartW, chartH - pad));
    p.end();
    return image.save(path, "PNG");
}

} // namespace tkd
