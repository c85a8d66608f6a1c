#pragma once

#include "DatasetWorker.h" // Q_DECLARE_METATYPE(tkd::ClipAudio)
#include "widgets/AttentionView.h"
#include "widgets/ClipTableModel.h"
#include "widgets/ResultsView.h"
#include "widgets/WaveformView.h"

#include <QObject>
#include <QPointer>
#include <QThread>

namespace tkd {

class AttentionWorker;
class EvaluationDialog;

// The studio's run views: owns the Attention and Results views and the worker thread that reads
// run folders and computes attention. Opening a run fills the results grid and the clips table
// (with predictions); selecting a run clip shows its waveform (through the main window) and its
// attention figure; clicking a grid cell focuses the attention view on that student.
class AttentionController : public QObject
{
    Q_OBJECT
public:
    explicit AttentionController(QObject *parent = nullptr);
    ~AttentionController() override;

    AttentionView *attentionView() const { return m_attention; }
    ResultsView *resultsView() const { return m_results; }
    QString runDir() const { return m_runDir; }
    double lengthSec() const { return m_lengthSec; }

    // A run folder or a folder of runs; lengthSec <= 0: the run's first clip length.
    void openRun(const QString &folder, double lengthSec = 0.0);
    // A clip of the opened run (ClipRow::runItem >= 0): audio and attention, in the background.
    void selectClip(const ClipRow &clip);
    // Students shown in the attention view (empty: all) and the seed whose students are drawn.
    void focusStudent(const QString &student, double lambda = -1.0, quint64 seed = 0);

    // The open run's "Evaluate on a dataset..." dialog (opened by evaluateRun), if any.
    EvaluationDialog *evaluationDialog() const; // defined where EvaluationDialog is complete

public Q_SLOTS:
    void setPlaybackSec(double sec);
    // Opens the dialog that scores the open run on another dataset (a notice without a run).
    void evaluateRun();

Q_SIGNALS:
    void resultsShown(int entries);
    void runOpened(const QVector<tkd::ClipRow> &clips, const QString &note);
    void clipLoaded(const tkd::ClipAudio &audio);
    void attentionShown();
    void progress(const QString &stage, qint64 done, qint64 total);
    void failed(const QString &message);
    void notice(const QString &text);
    // Forwarded from the results view for the training curves (connected by the training panel).
    void runRequested(const QString &runDir, const QString &cellName);

    void requestOpen(const QString &folder, double lengthSec);
    void requestClip(const tkd::ClipRow &clip, quint64 seed, int requestId);

private:
    AttentionView *m_attention;
    ResultsView *m_results;
    QThread m_thread;
    AttentionWorker *m_worker;
    QString m_runDir;
    double m_lengthSec = 0.0;
    QString m_focusStudent;
    double m_focusLambda = -1.0;
    quint64 m_seed = 0;
    ClipRow m_lastClip;
    QPointer<EvaluationDialog> m_evaluation;
};

} // namespace tkd
