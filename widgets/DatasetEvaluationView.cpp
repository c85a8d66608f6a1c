#include "widgets/DatasetEvaluationView.h"

#include "widgets/ConfusionMatrixView.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QSplitter>
#include <QTableWidget>
#include <QToolButton>
#include <QVBoxLayout>

namespace tkd {

namespace {
QString percent(double v)
{
    return QString::number(100.0 * v, 'f', 1) + QLatin1Char('%');
}
} // namespace

DatasetEvaluationView::DatasetEvaluationView(QWidget *parent)
    : QWidget(parent)
    , m_header(new QLabel(this))
    , m_model(new QComboBox(this))
    , m_accuracy(new QLabel(this))
    , m_recall(new QTableWidget(this))
    , m_matrix(new ConfusionMatrixView(this))
    , m_export(new QToolButton(this))
{
    m_header->setWordWrap(true);
    m_header->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_model->setToolTip(tr("The model whose recall and confusion matrix are shown"));
    m_export->setText(tr("Export PNG..."));
    m_export->setToolTip(tr("Save the confusion matrix as a picture"));
    m_recall->setColumnCount(3);
    m_recall->setHorizontalHeaderLabels({ tr("class"), tr("clips"), tr("recall") });
    m_recall->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_recall->verticalHeader()->setVisible(false);
    m_recall->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_recall->setMinimumWidth(200);
    QFont big = m_accuracy->font();
    big.setPointSizeF(big.pointSizeF() * 1.3);
    big.setBold(true);
    m_accuracy->setFont(big);

    auto *bar = new QHBoxLayout;
    bar->addWidget(new QLabel(tr("Model:"), this));
    bar->addWidget(m_model, 1);
    bar->addWidget(m_accuracy);
    bar->addWidget(m_export);
    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(m_recall);
    split->addWidget(m_matrix);
    split->setStretchFactor(1, 3);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(2, 2, 2, 2);
    layout->addWidget(m_header);
    layout->addLayout(bar);
    layout->addWidget(split, 1);

    connect(m_model, &QComboBox::currentIndexChanged, this, &DatasetEvaluationView::selectModel);
    connect(m_export, &QToolButton::clicked, this, [this] {
        const QString p = QFileDialog::getSaveFileName(
            this, tr("Export PNG"), QStringLiteral("confusion.png"), tr("PNG (*.png)"));
        if (!p.isEmpty())
            m_matrix->exportPng(p);
    });
    m_export->setEnabled(false);
}

void DatasetEvaluationView::setSummary(const DatasetEvaluationSummary &summary)
{
    m_summary = summary;
    QString header = tr("%1 (%2, split %3): %4 clips scored")
                         .arg(summary.data, summary.datasetName, summary.split)
                         .arg(summary.clips);
    if (summary.skipped > 0)
        header += tr("; %1 clips of classes the run does not know skipped").arg(summary.skipped);
    header += QLatin1Char('\n') + tr("Classes: %1").arg(summary.mapping.join(QStringLiteral(", ")));
    header += QLatin1Char('\n') + tr("Placement: %1").arg(summary.placement);
    for (const QString &n : summary.notes)
        header += QLatin1Char('\n') + n;
    if (!summary.file.isEmpty())
        header += QLatin1Char('\n') + tr("Saved as %1").arg(summary.file);
    m_header->setText(header);
    const QSignalBlocker block(m_model);
    m_model->clear();
    for (const auto &m : summary.models)
        m_model->addItem(tr("%1 \u2014 %2").arg(m.name, percent(m.accuracy())));
    m_export->setEnabled(!summary.models.isEmpty());
    selectModel(summary.models.isEmpty() ? -1 : 0);
}

void DatasetEvaluationView::selectModel(int index)
{
    if (index < 0 || index >= m_summary.models.size()) {
        m_accuracy->clear();
        m_recall->setRowCount(0);
        m_matrix->clear();
        return;
    }
    if (m_model->currentIndex() != index) {
        const QSignalBlocker block(m_model);
        m_model->setCurrentIndex(index);
    }
    const EvaluationModelScores &m = m_summary.models[index];
    m_accuracy->setText(
        tr("accuracy %1 (%2/%3)").arg(percent(m.accuracy())).arg(m.correct).arg(m.clips));
    m_recall->setRowCount(0);
    for (int k = 0; k < m_summary.classes.size() && k < m.confusion.size(); ++k) {
        qint64 row = 0;
        for (qint64 v : m.confusion[k])
            row += v;
        if (row == 0)
            continue; // a class without clips has no recall
        const int r = m_recall->rowCount();
        m_recall->insertRow(r);
        m_recall->setItem(r, 0, new QTableWidgetItem(m_summary.classes[k]));
        m_recall->setItem(r, 1, new QTableWidgetItem(QString::number(row)));
        m_recall->setItem(
            r, 2, new QTableWidgetItem(percent(double(m.confusion[k][k]) / double(row))));
    }
    m_matrix->setMatrix(m_summary.classes, m.confusion,
        tr("%1 on %2: %3").arg(m.name, m_summary.data, percent(m.accuracy())));
}

} // namespace tkd
