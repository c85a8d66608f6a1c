#pragma once

#include <QMetaType>
#include <QString>
#include <QStringList>
#include <QVector>
#include <QWidget>

class QComboBox;
class QLabel;
class QTableWidget;
class QToolButton;

namespace tkd {

class ConfusionMatrixView;

// One model's scores on a dataset, plain values: confusion[true][predicted] over the classes.
struct EvaluationModelScores
{
    QString name; // "tc-resnet8-L1-lambda0-seed1", "teacher-L1"
    QString kind; // student | teacher
    double lengthSec = 0.0;
    qint64 clips = 0;
    qint64 correct = 0;
    QVector<QVector<qint64>> confusion;
    double accuracy() const { return clips ? double(correct) / double(clips) : 0.0; }
};

// A run scored on a dataset (tkd eval RUN --data), as the studio shows it.
struct DatasetEvaluationSummary
{
    QString runDir;
    QString data; // "folder:/data/alsa"
    QString datasetName;
    QString split;
    QString placement;
    QString file; // RUN/eval/<data>-<split>.json
    QStringList classes; // the run's
    QStringList mapping; // "center -> _unknown_ (3)"
    qint64 clips = 0;
    qint64 skipped = 0;
    QStringList notes;
    QVector<EvaluationModelScores> models;
};

// The result of scoring a run on a dataset: which data and how clips were placed, a model
// picker (accuracy in each entry), the chosen model's per-class recall and its confusion matrix
// heat map; PNG export of the matrix.
class DatasetEvaluationView : public QWidget
{
    Q_OBJECT
public:
    explicit DatasetEvaluationView(QWidget *parent = nullptr);

    void setSummary(const DatasetEvaluationSummary &summary);
    const DatasetEvaluationSummary &summary() const { return m_summary; }
    void selectModel(int index);

    QComboBox *modelBox() const { return m_model; }
    QLabel *headerLabel() const { return m_header; }
    QLabel *accuracyLabel() const { return m_accuracy; }
    QTableWidget *recallTable() const { return m_recall; }
    ConfusionMatrixView *matrix() const { return m_matrix; }
    QToolButton *exportButton() const { return m_export; }

private:
    DatasetEvaluationSummary m_summary;
    QLabel *m_header;
    QComboBox *m_model;
    QLabel *m_accuracy;
    QTableWidget *m_recall;
    ConfusionMatrixView *m_matrix;
    QToolButton *m_export;
};

} // namespace tkd

Q_DECLARE_METATYPE(tkd::DatasetEvaluationSummary)
