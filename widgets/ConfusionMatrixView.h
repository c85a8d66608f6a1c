#pragma once

#include <QColor>
#include <QRect>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

namespace tkd {

// A confusion matrix as a heat map: rows are true classes, columns predicted ones; each cell's
// colour is its share of the row (so recall is the diagonal, whatever the class sizes), and it
// shows its count and that share. Rows without clips are left out, and so are columns no clip
// was predicted as (unless they are a row's class), so a 35-class run on a 3-class folder stays
// readable. Plain painting; PNG export.
class ConfusionMatrixView : public QWidget
{
    Q_OBJECT
public:
    explicit ConfusionMatrixView(QWidget *parent = nullptr);

    // counts[true][predicted] over `classes`; a malformed matrix shows nothing.
    void setMatrix(const QStringList &classes, const QVector<QVector<qint64>> &counts,
        const QString &title = {});
    void clear();

    int rowCount() const { return int(m_rows.size()); }
    int columnCount() const { return int(m_cols.size()); }
    QString rowClass(int row) const;
    QString columnClass(int column) const;
    qint64 count(int row, int column) const;
    // The cell's share of its row (0 for an empty row).
    double rowShare(int row, int column) const;
    // What the cell shows: "3\n75%".
    QString cellText(int row, int column) const;
    QColor cellColour(int row, int column) const;
    // Where the cell is drawn, in widget coordinates (for the current size).
    QRect cellRect(int row, int column) const;

    bool exportPng(const QString &path);

    QSize sizeHint() const override;
    QSize minimumSizeHint() const override;

protected:
    void paintEvent(QPaintEvent *event) override;

private:
    struct Layout
    {
        int left = 0, top = 0, cell = 0;
    };
    Layout layoutFor(const QSize &size) const;
    void paint(QPainter &p, const QSize &size) const;

    QStringList m_classes;
    QVector<QVector<qint64>> m_counts;
    QVector<int> m_rows; // indices into m_classes
    QVector<int> m_cols;
    QString m_title;
};

} // namespace tkd
