#include "EvaluationDialog.h"

#include "EvaluationWorker.h"

#include "core/infer/EvalDataSpec.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>

#include <algorithm>

namespace tkd {

EvaluationDialog::EvaluationDialog(const QString &runDir, QWidget *parent)
    : QDialog(parent)
    , m_runDir(runDir)
    , m_kind(new QComboBox(this))
    , m_folder(new QLineEdit(this))
    , m_browse(new QPushButton(tr("Browse..."), this))
    , m_noisy(new QCheckBox(tr("Build each clip with the run's noisy construction"), this))
    , m_split(new QComboBox(this))
    , m_evaluate(new QPushButton(tr("Evaluate"), this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_progress(new QProgressBar(this))
    , m_status(new QLabel(this))
    , m_view(new DatasetEvaluationView(this))
    , m_worker(new EvaluationWorker)
{
    qRegisterMetaType<tkd::DatasetEvaluationSummary>();
    setWindowTitle(tr("Evaluate %1 on a dataset").arg(QFileInfo(runDir).fileName()));
    // The kinds come from core's one list (the names tkd eval --data takes).
    for (const QString &k :
        QString::fromStdString(EvalDataSpec::kindList()).split(QStringLiteral(", ")))
        m_kind->addItem(k, k);
    m_noisy->setToolTip(tr("Off: each clip centred in the model's window over quiet pink noise. "
                           "On: placed at a random offset in the run's own noise and SNRs."));
    for (const char *s : { "auto", "all", "test", "validation", "train" })
        m_split->addItem(QString::fromLatin1(s), QString::fromLatin1(s));
    m_split->setToolTip(tr("auto: the test split of the data the run trained on, every clip of "
                           "any other data"));
    m_status->setWordWrap(true);
    m_progress->setVisible(false);
    m_cancel->setEnabled(false);

    auto *folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(m_browse);
    auto *form = new QFormLayout;
    form->addRow(tr("Run:"), new QLabel(QDir::toNativeSeparators(runDir), this));
    form->addRow(tr("Kind:"), m_kind);
    form->addRow(tr("Folder:"), folderRow);
    form->addRow(QString(), m_noisy);
    form->addRow(tr("Split:"), m_split);
    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_progress, 1);
    buttons->addWidget(m_evaluate);
    buttons->addWidget(m_cancel);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addLayout(buttons);
    layout->addWidget(m_status);
    layout->addWidget(m_view, 1);
    resize(900, 700);

    // builtin takes an optional experiment file (another experiment's corpus and clips) where
    // the other kinds take a folder.
    auto updateFolder = [this, form, folderRow] {
        const bool builtin = m_kind->currentData().toString() == QLatin1String("builtin");
        if (auto *label = qobject_cast<QLabel *>(form->labelForField(folderRow)))
            label->setText(builtin ? tr("Experiment:") : tr("Folder:"));
        m_folder->setPlaceholderText(builtin
                ? tr("empty: the run's own corpus; or an experiment file, to score its test clips")
                : tr("a folder with one subfolder of clips per class"));
        m_noisy->setText(builtin && !m_folder->text().trimmed().isEmpty()
                ? tr("Build each clip with that experiment's noisy construction")
                : tr("Build each clip with the run's noisy construction"));
    };
    connect(m_kind, &QComboBox::currentIndexChanged, this, updateFolder);
    connect(m_folder, &QLineEdit::textChanged, this, updateFolder);
    updateFolder();
    connect(m_browse, &QPushButton::clicked, this, [this] {
        const bool builtin = m_kind->currentData().toString() == QLatin1String("builtin");
        const QString picked = builtin
            ? QFileDialog::getOpenFileName(this, tr("Experiment file"), m_folder->text(),
                tr("Experiment files (*.yaml *.yml)"))
            : QFileDialog::getExistingDirectory(this, tr("Dataset folder"), m_folder->text());
        if (!picked.isEmpty())
            m_folder->setText(picked);
    });
    connect(m_evaluate, &QPushButton::clicked, this, &EvaluationDialog::start);
    connect(m_cancel, &QPushButton::clicked, this, &EvaluationDialog::cancel);

    m_worker->moveToThread(&m_thread);
    connect(&m_thread, &QThread::finished, m_worker, &QObject::deleteLater);
    connect(this, &EvaluationDialog::requestEvaluate, m_worker, &EvaluationWorker::evaluate);
    connect(m_worker, &EvaluationWorker::progress, this,
        [this](const QString &stage, qint64 done, qint64 total) {
            m_progress->setVisible(true);
            m_progress->setMaximum(int(std::max<qint64>(1, total)));
            m_progress->setValue(int(done));
            m_status->setText(stage);
        });
    connect(m_worker, &EvaluationWorker::finished, this,
        [this](const DatasetEvaluationSummary &summary) {
            setRunning(false);
            m_status->setText(tr("Scored %1 clips with %2 models.")
                                  .arg(summary.clips)
                                  .arg(summary.models.size()));
            m_view->setSummary(summary);
            Q_EMIT evaluated(summary);
        });
    connect(m_worker, &EvaluationWorker::failed, this, [this](const QString &message) {
        setRunning(false);
        m_status->setText(message);
        Q_EMIT failed(message);
    });
    m_thread.start();
}

EvaluationDialog::~EvaluationDialog()
{
    m_worker->cancel();
    m_thread.quit();
    m_thread.wait();
}

QString EvaluationDialog::dataSpec() const
{
    const QString kind = m_kind->currentData().toString();
    QString spec = kind;
    const QString path = m_folder->text().trimmed();
    if (kind != QLatin1String("builtin") || !path.isEmpty())
        spec += QLatin1Char(':') + path;
    return m_noisy->isChecked() ? QStringLiteral("noisy:") + spec : spec;
}

void EvaluationDialog::start()
{
    if (m_running)
        return;
    setRunning(true);
    m_status->setText(tr("Loading the models and the dataset..."));
    Q_EMIT requestEvaluate(m_runDir, dataSpec(), m_split->currentData().toString());
}

void EvaluationDialog::cancel()
{
    if (m_running)
        m_worker->cancel();
}

void EvaluationDialog::setRunning(bool running)
{
    m_running = running;
    m_evaluate->setEnabled(!running);
    m_cancel->setEnabled(running);
    m_progress->setVisible(running);
    if (running)
        m_progress->setValue(0);
}

} // namespace tkd
