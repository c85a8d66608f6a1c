#pragma once

#include "widgets/ClipTableModel.h"

#include <QWidget>

class QComboBox;
class QLineEdit;
class QCheckBox;
class QLabel;
class QTableView;

namespace tkd {

// The clips view's table half: split / class / text filters over a sortable table. Emits the
// selected clip; knows nothing about audio or models.
class ClipBrowser : public QWidget
{
    Q_OBJECT
public:
    explicit ClipBrowser(QWidget *parent = nullptr);

    void setClips(QVector<ClipRow> clips);
    ClipTableModel *model() const { return m_model; }
    ClipFilterModel *filter() const { return m_filter; }
    QTableView *table() const { return m_table; }
    QComboBox *splitBox() const { return m_split; }
    QComboBox *labelBox() const { return m_label; }
    QLineEdit *searchEdit() const { return m_search; }
    // Selects the n-th visible row (as sorted / filtered); false when out of range.
    bool selectVisibleRow(int n);

Q_SIGNALS:
    void clipSelected(const tkd::ClipRow &clip);

private:
    void updateCount();

    ClipTableModel *m_model;
    ClipFilterModel *m_filter;
    QComboBox *m_split;
    QComboBox *m_label;
    QLineEdit *m_search;
    QCheckBox *m_onlyWrong;
    QLabel *m_count;
    QTableView *m_table;
};

} // namespace tkd
