#pragma once

#include <QMap>
#include <QMetaType>
#include <QString>
#include <QVector>
#include <QWidget>

#include "widgets/PaperPanel.h"

class QComboBox;
class QCustomPlot;
class QLabel;
class QTableWidget;
class QToolButton;

namespace tkd {

// One trained model of a run (a student cell of one seed, or a length's teacher), plain values.
struct ResultEntry
{
    QString model; // student name, or "teacher"
    QString teacherKind; // teacher rows: tiny | oracle | ...
    double lambda = -1.0; // students only
    double lengthSec = 0.0;
    quint64 seed = 0;
    QString status; // completed | early-stopped | cancelled | failed
    QMap<QString, double> test; // accuracy, map, localisation_branch, localisation_native, ...
    QMap<QString, double> validation; // the best epoch's: accuracy, map, loss (may be empty)
    QString runDir;
    QString cellName; // students/<cellName>; empty for the teacher
    int classes = 0; // single-label classes, for the chance check (0: unknown or multi-label)
};

// One cell of the grid table: every seed of (model, lambda, L) pooled.
struct ResultsGridCell
{
    double mean = 0.0;
    double spread = 0.0; // sample standard deviation over seeds (0 with one seed)
    int seeds = 0;
    double validation = 0.0; // mean validation figure of the shown metric (NaN when unrecorded)
    bool best = false; // the best student in its column
    // The best lambda of its student in its column, chosen on validation as `tkd grid` and the
    // paper choose it (on the shown test figure where no validation figure was recorded).
    bool bestLambda = false;
    QVector<int> entries; // indices into entries()
};

// The results grid like the paper's Table 2: one row per student x lambda (teacher first), one
// column per clip length L, mean +- spread over seeds of the chosen test metric, the best student
// of each column marked. Clicking a cell asks for that run's curves and its attention. Exports
// CSV, Markdown and PNG.
class ResultsView : public QWidget
{
    Q_OBJECT
public:
    explicit ResultsView(QWidget *parent = nullptr);

    void setEntries(const QVector<ResultEntry> &entries, const QString &title = {});
    const QVector<ResultEntry> &entries() const { return m_entries; }
    // "accuracy" | "map" | "localisation_branch" | "localisation_native" | "loss"
    void setMetric(const QString &metric);
    QString metric() const { return m_metric; }

    // The aggregated grid (rows x columns as shown).
    int rowCount() const { return int(m_rows.size()); }
    // Shown when a model's test accuracy is at or near chance (1 / classes).
    QLabel *chanceBanner() const { return m_banner; }
    QLabel *headerLabel() const { return m_header; }
    QToolButton *exportButton() const { return m_export; }
    // "Evaluate on a dataset...": emits evaluateRequested (the app runs it).
    QToolButton *evaluateButton() const { return m_evaluate; }
    int columnCount() const { return int(m_lengths.size()); }
    QString rowName(int row) const;
    double lengthAt(int column) const { return m_lengths.value(column); }
    const ResultsGridCell *cell(int row, int column) const;
    QTableWidget *table() const { return m_table; }
    // The paper's Table 2 and its claims on the shown runs (hidden when empty).
    void setPaperComparison(const PaperComparison &comparison);
    PaperPanel *paperPanel() const { return m_paper; }
    // The grid as grouped bars (one group per L, one bar per student x lambda, s.d. as error
    // bars, the teacher as a dashed line).
    QCustomPlot *chart() const { return m_chart; }

    QString toCsv() const;
    QString toMarkdown() const;
    bool exportCsv(const QString &path) const;
    bool exportMarkdown(const QString &path) const;
    bool exportPng(const QString &path);

    // Emits the signals below for a cell of the table, as a click would.
    void activateCell(int row, int column);

Q_SIGNALS:
    // A cell was clicked: the run folder and the cell (students/<cellName>) of its first seed, for
    // the training curves. cellName is empty for a teacher row.
    void runRequested(const QString &runDir, const QString &cellName);
    // ... and its attention: select this student (lambda, L, seed) in the attention view.
    void attentionRequested(const QString &runDir, const QString &student, double lambda,
        double lengthSec, quint64 seed);
    // Score the open run on another dataset.
    void evaluateRequested();

private:
    struct Row
    {
        QString model;
        QString teacherKind;
        double lambda = -1.0;
    };
    void rebuild();
    void buildRows();
    void buildCells();
    void markBest();
    void fillTable();
    bool higherIsBetter() const;
    QString formatValue(double v) const;

    QVector<ResultEntry> m_entries;
    QString m_metric = QStringLiteral("accuracy");
    QString m_title;
    QVector<Row> m_rows;
    QVector<double> m_lengths;
    QVector<QVector<ResultsGridCell>> m_cells; // [row][column]
    void showDetails(int row, int column);
    void rebuildChart();

    QLabel *m_header;
    QLabel *m_banner;
    QLabel *m_details;
    QComboBox *m_metricBox;
    QToolButton *m_export;
    QToolButton *m_evaluate;
    void updateBanner();
    QTableWidget *m_table;
    QCustomPlot *m_chart;
    PaperPanel *m_paper;
};

} // namespace tkd

Q_DECLARE_METATYPE(tkd::ResultEntry)
