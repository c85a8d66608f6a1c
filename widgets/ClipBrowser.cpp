#include "widgets/ClipBrowser.h"

#include <QCheckBox>
#include <QComboBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QSet>
#include <QTableView>
#include <QVBoxLayout>

#include <algorithm>

namespace tkd {

ClipBrowser::ClipBrowser(QWidget *parent)
    : QWidget(parent)
    , m_model(new ClipTableModel(this))
    , m_filter(new ClipFilterModel(this))
    , m_split(new QComboBox(this))
    , m_label(new QComboBox(this))
    , m_search(new QLineEdit(this))
    , m_onlyWrong(new QCheckBox(tr("Only misclassified"), this))
    , m_count(new QLabel(this))
    , m_table(new QTableView(this))
{
    m_filter->setSourceModel(m_model);
    m_split->addItem(tr("All splits"), QString());
    for (const char *s : { "train", "validation", "test" })
        m_split->addItem(QString::fromLatin1(s), QString::fromLatin1(s));
    m_label->addItem(tr("All classes"), QString());
    m_search->setPlaceholderText(tr("Filter by word, speaker or path"));
    m_search->setClearButtonEnabled(true);

    m_table->setModel(m_filter);
    m_table->setSortingEnabled(true);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setAlternatingRowColors(true);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(fontMetrics().height() + 6);
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->sortByColumn(-1, Qt::AscendingOrder);

    auto *bar = new QHBoxLayout;
    bar->addWidget(m_split);
    bar->addWidget(m_label);
    bar->addWidget(m_search, 1);
    bar->addWidget(m_onlyWrong);
    bar->addWidget(m_count);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(bar);
    layout->addWidget(m_table, 1);

    connect(m_split, &QComboBox::currentIndexChanged, this, [this] {
        m_filter->setSplit(m_split->currentData().toString());
        updateCount();
    });
    connect(m_label, &QComboBox::currentIndexChanged, this, [this] {
        m_filter->setLabel(m_label->currentData().toString());
        updateCount();
    });
    connect(m_search, &QLineEdit::textChanged, this, [this](const QString &t) {
        m_filter->setText(t);
        updateCount();
    });
    connect(m_onlyWrong, &QCheckBox::toggled, this, [this](bool on) {
        m_filter->setOnlyWrong(on);
        updateCount();
    });
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
        [this](const QModelIndex &current) {
            const QModelIndex src = m_filter->mapToSource(current);
            if (const ClipRow *c = m_model->clipAt(src.row()))
                Q_EMIT clipSelected(*c);
        });
    updateCount();
}

void ClipBrowser::setClips(QVector<ClipRow> clips)
{
    QSet<QString> labels;
    for (const auto &c : clips)
        labels.insert(c.label);
    QStringList sorted(labels.begin(), labels.end());
    std::sort(sorted.begin(), sorted.end());
    const QSignalBlocker block(m_label);
    m_label->clear();
    m_label->addItem(tr("All classes"), QString());
    for (const auto &l : sorted)
        m_label->addItem(l, l);
    m_filter->setLabel(QString());
    // The model columns only when a run's predictions came with the clips.
    bool predicted = false, teacher = false;
    for (const auto &c : clips) {
        predicted = predicted || !c.prediction.isEmpty();
        teacher = teacher || c.teacherConfidence >= 0;
    }
    for (int col :
        { ClipTableModel::Prediction, ClipTableModel::Correct, ClipTableModel::StudentConf })
        m_table->setColumnHidden(col, !predicted);
    m_table->setColumnHidden(ClipTableModel::TeacherConf, !teacher);
    m_onlyWrong->setEnabled(predicted);
    if (!predicted)
        m_onlyWrong->setChecked(false);
    m_model->setClips(std::move(clips));
    m_table->resizeColumnsToContents();
    updateCount();
}

bool ClipBrowser::selectVisibleRow(int n)
{
    if (n < 0 || n >= m_filter->rowCount())
        return false;
    m_table->setCurrentIndex(m_filter->index(n, 0));
    return true;
}

void ClipBrowser::updateCount()
{
    m_count->setText(tr("%1 of %2 clips").arg(m_filter->rowCount()).arg(m_model->rowCount()));
}

} // namespace tkd
