#pragma once

#include "widgets/DatasetEvaluationView.h"

#include <QDialog>
#include <QThread>

class QCheckBox;
class QComboBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;

namespace tkd {

class EvaluationWorker;

// "Evaluate on a dataset...": asks for the data (kind, folder, the run's noisy construction or
// not, split), scores the run's students and teachers on it in a worker thread with progress and
// cancel, and shows accuracy, per-class recall and the confusion matrix. Closing it cancels a
// running evaluation and waits for the worker.
class EvaluationDialog : public QDialog
{
    Q_OBJECT
public:
    explicit EvaluationDialog(const QString &runDir, QWidget *parent = nullptr);
    ~EvaluationDialog() override;

    // "folder:/path", "noisy:folder:/path", "builtin" from the fields.
    QString dataSpec() const;

    QComboBox *kindBox() const { return m_kind; }
    QLineEdit *folderEdit() const { return m_folder; }
    QCheckBox *noisyBox() const { return m_noisy; }
    QComboBox *splitBox() const { return m_split; }
    QPushButton *evaluateButton() const { return m_evaluate; }
    QLabel *statusLabel() const { return m_status; }
    DatasetEvaluationView *view() const { return m_view; }

public Q_SLOTS:
    void start();
    void cancel();

Q_SIGNALS:
    void evaluated(const tkd::DatasetEvaluationSummary &summary);
    void failed(const QString &message);

    void requestEvaluate(const QString &runDir, const QString &data, const QString &split);

private:
    void setRunning(bool running);

    QString m_runDir;
    QComboBox *m_kind;
    QLineEdit *m_folder;
    QPushButton *m_browse;
    QCheckBox *m_noisy;
    QComboBox *m_split;
    QPushButton *m_evaluate;
    QPushButton *m_cancel;
    QProgressBar *m_progress;
    QLabel *m_status;
    DatasetEvaluationView *m_view;
    QThread m_thread;
    EvaluationWorker *m_worker;
    bool m_running = false;
};

} // namespace tkd
