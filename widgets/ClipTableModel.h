#pragma once

#include <QAbstractTableModel>
#include <QMetaType>
#include <QSortFilterProxyModel>
#include <QString>
#include <QVector>

namespace tkd {

// One clip as the clip table shows it: plain values, no core types, so the GUI holds a snapshot.
struct ClipRow
{
    QString path;
    QString split; // "train" | "validation" | "test"
    QString label; // class name ("_unknown_", "_silence_" included)
    QString word; // the spoken word (differs from label for "_unknown_")
    QString speaker;
    double durationSec = 0.0;
    double startSec = 0.0; // a segment of a longer file (e.g. silence cut from noise):
    double segmentSec = 0.0; // its start and length; segmentSec == 0 means the whole file
    double onsetSec = -1.0; // keyword window inside the clip; < 0 when unknown / none
    double offsetSec = -1.0;
    // Filled once a model has been evaluated on the clip; empty / < 0 otherwise.
    QString prediction;
    double teacherConfidence = -1.0;
    double studentConfidence = -1.0;
    // A clip of an opened run's noisy dataset (rebuilt on demand, no file of its own): its index
    // in `split` and the run's clip length; runItem < 0 for a clip file.
    int runItem = -1;
    double runLengthSec = 0.0;
};

// The dataset's clips as a sortable table (numeric columns sort numerically).
class ClipTableModel : public QAbstractTableModel
{
    Q_OBJECT
public:
    enum Column {
        Split,
        Label,
        Word,
        Speaker,
        Duration,
        Window,
        Prediction,
        Correct,
        TeacherConf,
        StudentConf,
        ColumnCount
    };
    static constexpr int SortRole = Qt::UserRole + 1;

    explicit ClipTableModel(QObject *parent = nullptr);

    void setClips(QVector<ClipRow> clips);
    const QVector<ClipRow> &clips() const { return m_clips; }
    const ClipRow *clipAt(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role) const override;
    QVariant headerData(int section, Qt::Orientation o, int role) const override;

private:
    QVector<ClipRow> m_clips;
};

// Filters by split, label and free text (path, word or speaker), case-insensitively.
class ClipFilterModel : public QSortFilterProxyModel
{
    Q_OBJECT
public:
    explicit ClipFilterModel(QObject *parent = nullptr);
    void setSplit(const QString &split); // empty: all
    void setLabel(const QString &label); // empty: all
    void setText(const QString &text);
    void setOnlyWrong(bool onlyWrong);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    QString m_split, m_label, m_text;
    bool m_onlyWrong = false;
};

} // namespace tkd
Q_DECLARE_METATYPE(tkd::ClipRow)
