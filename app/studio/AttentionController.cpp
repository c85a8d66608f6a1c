#include "AttentionController.h"

#include "AttentionWorker.h"
#include "EvaluationDialog.h"
#include "RunInspector.h"

#include <QDir>
#include <QThread>

#include <cmath>

namespace tkd {

AttentionController::AttentionController(QObject *parent)
    : QObject(parent)
    , m_attention(new AttentionView)
    , m_results(new ResultsView)
    , m_worker(new AttentionWorker)
{
    qRegisterMetaType<tkd::ClipRow>();
    qRegisterMetaType<tkd::ClipAudio>();
    qRegisterMetaType<tkd::AttentionFigure>();
    qRegisterMetaType<QVector<tkd::ClipRow>>();
    qRegisterMetaType<QVector<tkd::ResultEntry>>();
    qRegisterMetaType<tkd::PaperComparison>();

    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &AttentionController::requestOpen, m_worker, &AttentionWorker::openRun);
    connect(this, &AttentionController::requestClip, m_worker, &AttentionWorker::loadClip);
    connect(m_worker, &AttentionWorker::progress, this, &AttentionController::progress);
    connect(m_worker, &AttentionWorker::failed, this, &AttentionController::failed);
    connect(m_worker, &AttentionWorker::notice, this, &AttentionController::notice);
    connect(m_worker, &AttentionWorker::resultsLoaded, this,
        [this](const QString &, const QString &title, const QVector<ResultEntry> &entries) {
            m_results->setEntries(entries, title);
            Q_EMIT resultsShown(int(entries.size()));
        });
    connect(m_worker, &AttentionWorker::paperCompared, m_results, &ResultsView::setPaperComparison);
    connect(m_worker, &AttentionWorker::runOpened, this,
        [this](const QString &runDir, double lengthSec, const QVector<ClipRow> &clips,
            const QString &note) {
            m_runDir = runDir;
            m_lengthSec = lengthSec;
            Q_EMIT runOpened(clips, note);
        });
    connect(m_worker, &AttentionWorker::clipLoaded, this, &AttentionController::clipLoaded);
    connect(
        m_worker, &AttentionWorker::attentionReady, this, [this](const AttentionFigure &figure) {
            m_attention->setFigure(figure);
            if (!m_focusStudent.isEmpty())
                m_attention->focusStudent(m_focusStudent, m_focusLambda);
            Q_EMIT attentionShown();
        });
    connect(m_results, &ResultsView::runRequested, this, &AttentionController::runRequested);
    connect(m_results, &ResultsView::evaluateRequested, this, &AttentionController::evaluateRun);
    connect(m_results, &ResultsView::attentionRequested, this,
        [this](const QString &runDir, const QString &student, double lambda, double lengthSec,
            quint64 seed) {
            if (runDir.isEmpty()) { // a grid table without its run folders
                Q_EMIT notice(tr("This table's run folders are not here: no clips or attention "
                                 "to show."));
                return;
            }
            if (!RunInspector::keepsCheckpoints(runDir)) {
                Q_EMIT notice(tr("%1 has no checkpoints (a copy of a run's results, or a run "
                                 "that has saved none yet): no clips or attention to show.")
                                  .arg(QDir::toNativeSeparators(runDir)));
                return;
            }
            if (student == QLatin1String("teacher"))
                focusStudent(QString(), -1.0, m_seed);
            else
                focusStudent(student, lambda, seed);
            if (QDir::cleanPath(runDir) != QDir::cleanPath(m_runDir)
                || std::abs(lengthSec - m_lengthSec) > 1e-9)
                openRun(runDir,
                    lengthSec); // the clips table follows; its first clip shows the attention
        });
    m_thread.start();
}

AttentionController::~AttentionController()
{
    m_worker->cancel();
    m_thread.quit();
    m_thread.wait();
    // The views are owned by whoever docked them; unparented ones go with the controller.
    if (!m_attention->parent())
        delete m_attention;
    if (!m_results->parent())
        delete m_results;
}

void AttentionController::openRun(const QString &folder, double lengthSec)
{
    Q_ASSERT(QThread::currentThread() == thread()); // GUI side: the work is queued to the worker
    Q_EMIT requestOpen(folder, lengthSec);
}

void AttentionController::selectClip(const ClipRow &clip)
{
    Q_ASSERT(QThread::currentThread() == thread());
    if (clip.runItem < 0)
        return;
    m_lastClip = clip;
    Q_EMIT requestClip(clip, m_seed, m_worker->nextClipRequest());
}

void AttentionController::focusStudent(const QString &student, double lambda, quint64 seed)
{
    m_focusStudent = student;
    m_focusLambda = lambda;
    // Other seeds are other checkpoints: recompute unless the figure already has this one.
    bool shown = seed == 0 || student.isEmpty();
    for (const auto &s : m_attention->figure().series)
        shown = shown || (s.model == student && s.seed == seed);
    const bool seedChanged = !shown;
    if (seed != 0)
        m_seed = seed;
    if (seedChanged && m_lastClip.runItem >= 0)
        selectClip(m_lastClip);
    else
        m_attention->focusStudent(student, lambda);
}

void AttentionController::evaluateRun()
{
    if (m_runDir.isEmpty()) {
        Q_EMIT notice(tr("Open a run folder first: the evaluation scores its trained models."));
        return;
    }
    if (!m_evaluation || m_evaluation->property("runDir").toString() != m_runDir) {
        if (m_evaluation)
            m_evaluation->close();
        m_evaluation = new EvaluationDialog(m_runDir, m_results->window());
        m_evaluation->setAttribute(Qt::WA_DeleteOnClose);
        m_evaluation->setProperty("runDir", m_runDir);
    }
    m_evaluation->show();
    m_evaluation->raise();
}

void AttentionController::setPlaybackSec(double sec)
{
    m_attention->setCursorSec(sec);
}

EvaluationDialog *AttentionController::evaluationDialog() const
{
    return m_evaluation;
}

} // namespace tkd
