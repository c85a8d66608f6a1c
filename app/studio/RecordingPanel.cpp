#include "RecordingPanel.h"

#include "core/adapt/KeywordRecorder.h"
#include "core/adapt/StudentAdaptation.h"
#include "core/audio/AudioFile.h"
#include "core/audio/AudioPlayer.h"
#include "core/data/RecordingSet.h"
#include "core/train/TrainControl.h"
#include "core/train/TrainObserver.h"
#include "core/util/Error.h"

#include <QDateTime>
#include <QDir>
#include <QDoubleSpinBox>
#include <QFileDialog>
#include <QFileInfo>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QSpinBox>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <algorithm>
#include <cmath>

namespace tkd {

namespace {

QStringList toQ(const std::vector<std::string> &v)
{
    QStringList out;
    for (const auto &s : v)
        out << QString::fromStdString(s);
    return out;
}

QString percent(double a)
{
    return a < 0.0 ? QStringLiteral("-") : QStringLiteral("%1%").arg(100.0 * a, 0, 'f', 0);
}

// Core's training reports, as queued calls on the panel.
class QueuedAdaptObserver : public TrainObserver
{
public:
    explicit QueuedAdaptObserver(std::function<void(qint64, qint64, QString)> post)
        : m_post(std::move(post))
    { }
    void onStage(const StageReport &r) override
    {
        m_post(r.done, r.total, QString::fromStdString(r.message));
    }

private:
    std::function<void(qint64, qint64, QString)> m_post;
};

} // namespace

RecordingPanel::RecordingPanel(QWidget *parent)
    : QWidget(parent)
    , m_folder(new QLineEdit)
    , m_words(new QLineEdit)
    , m_takesPerWord(new QSpinBox)
    , m_countdown(new QDoubleSpinBox)
    , m_takeSeconds(new QDoubleSpinBox)
    , m_adaptSeconds(new QDoubleSpinBox)
    , m_record(new QPushButton(tr("Record")))
    , m_cancel(new QPushButton(tr("Cancel")))
    , m_play(new QPushButton(tr("Play")))
    , m_delete(new QPushButton(tr("Delete")))
    , m_adapt(new QPushButton(tr("Adapt")))
    , m_prompt(new QLabel)
    , m_message(new QLabel)
    , m_modelLabel(new QLabel(tr("Adapt starts from: no student loaded")))
    , m_level(new QProgressBar)
    , m_progress(new QProgressBar)
    , m_takes(new QTreeWidget)
    , m_alive(std::make_shared<std::atomic<bool>>(true))
{
    m_words->setPlaceholderText(tr("yes,no,lights-on"));
    m_words->setToolTip(tr("Keywords, comma-separated: letters, digits, '-' and '_' (each names a "
                           "folder)"));
    m_takesPerWord->setRange(1, 100);
    m_takesPerWord->setValue(5);
    m_countdown->setRange(0.0, 10.0);
    m_countdown->setValue(3.0);
    m_countdown->setSuffix(tr(" s"));
    m_takeSeconds->setRange(0.5, 10.0);
    m_takeSeconds->setValue(2.0);
    m_takeSeconds->setSuffix(tr(" s"));
    m_adaptSeconds->setRange(5.0, 3600.0);
    m_adaptSeconds->setValue(60.0);
    m_adaptSeconds->setSuffix(tr(" s"));
    m_level->setRange(0, 100);
    m_level->setFormat(tr("level"));
    m_progress->setRange(0, 1);
    m_progress->setValue(0);
    QFont big = m_prompt->font();
    big.setPointSizeF(big.pointSizeF() * 1.6);
    big.setBold(true);
    m_prompt->setFont(big);
    m_message->setWordWrap(true);
    m_takes->setColumnCount(2);
    m_takes->setHeaderLabels({ tr("Keyword / take"), tr("Seconds") });
    m_takes->header()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_takes->setMinimumHeight(120);

    auto *browse = new QPushButton(tr("Browse..."));
    auto *folderRow = new QHBoxLayout;
    folderRow->addWidget(m_folder, 1);
    folderRow->addWidget(browse);
    auto *form = new QFormLayout;
    form->addRow(tr("Recordings folder"), folderRow);
    form->addRow(tr("Keywords"), m_words);
    auto *numbers = new QHBoxLayout;
    numbers->addWidget(new QLabel(tr("Takes each")));
    numbers->addWidget(m_takesPerWord);
    numbers->addWidget(new QLabel(tr("Countdown")));
    numbers->addWidget(m_countdown);
    numbers->addWidget(new QLabel(tr("Take length")));
    numbers->addWidget(m_takeSeconds);
    numbers->addStretch(1);
    form->addRow(numbers);
    auto *buttons = new QHBoxLayout;
    for (QPushButton *b : { m_record, m_cancel, m_play, m_delete })
        buttons->addWidget(b);
    buttons->addStretch(1);
    buttons->addWidget(new QLabel(tr("Budget")));
    buttons->addWidget(m_adaptSeconds);
    buttons->addWidget(m_adapt);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(form);
    layout->addLayout(buttons);
    auto *promptRow = new QHBoxLayout;
    promptRow->addWidget(m_prompt, 1);
    promptRow->addWidget(m_level, 1);
    layout->addLayout(promptRow);
    layout->addWidget(m_takes, 1);
    layout->addWidget(m_modelLabel);
    layout->addWidget(m_progress);
    layout->addWidget(m_message);

    connect(browse, &QPushButton::clicked, this, [this] {
        const QString dir
            = QFileDialog::getExistingDirectory(this, tr("Recordings folder"), folder());
        if (!dir.isEmpty())
            setFolder(dir);
    });
    connect(m_folder, &QLineEdit::editingFinished, this, &RecordingPanel::refreshTakes);
    connect(m_record, &QPushButton::clicked, this, &RecordingPanel::startRecording);
    connect(m_cancel, &QPushButton::clicked, this, &RecordingPanel::cancel);
    connect(m_play, &QPushButton::clicked, this, &RecordingPanel::playSelected);
    connect(m_delete, &QPushButton::clicked, this, &RecordingPanel::deleteSelected);
    connect(m_adapt, &QPushButton::clicked, this, &RecordingPanel::adapt);
    setBusy(false);
}

RecordingPanel::~RecordingPanel()
{
    *m_alive = false;
    m_stop = true;
    if (m_control)
        m_control->requestCancel();
    if (m_worker.joinable())
        m_worker.join(); // a recording stops within one poll, adaptation within one step
}

void RecordingPanel::post(std::function<void(RecordingPanel *)> f)
{
    if (!*m_alive)
        return;
    QPointer<RecordingPanel> self(this);
    QMetaObject::invokeMethod(
        this,
        [self, f = std::move(f)] {
            if (self)
                f(self.data());
        },
        Qt::QueuedConnection);
}

void RecordingPanel::setFolder(const QString &folder)
{
    m_folder->setText(folder);
    refreshTakes();
}
QString RecordingPanel::folder() const
{
    return m_folder->text().trimmed();
}
void RecordingPanel::setWords(const QString &words)
{
    m_words->setText(words);
}
void RecordingPanel::setTakesPerWord(int takes)
{
    m_takesPerWord->setValue(takes);
}
void RecordingPanel::setCountdown(double seconds)
{
    m_countdown->setValue(seconds);
}
void RecordingPanel::setTakeSeconds(double seconds)
{
    m_takeSeconds->setValue(seconds);
}
void RecordingPanel::setAdaptSeconds(double seconds)
{
    m_adaptSeconds->setValue(seconds);
}

void RecordingPanel::setModel(const QString &path)
{
    m_model = path;
    m_modelLabel->setText(
        tr("Adapt starts from: %1")
            .arg(path.isEmpty() ? tr("no student loaded") : QDir::toNativeSeparators(path)));
    setBusy(isBusy());
}

void RecordingPanel::showMessage(const QString &text, bool error)
{
    m_message->setText(text);
    m_message->setStyleSheet(error ? QStringLiteral("color: #b00020;") : QString());
}

void RecordingPanel::setBusy(bool busy)
{
    m_record->setEnabled(!busy);
    m_adapt->setEnabled(!busy && !m_model.isEmpty());
    m_delete->setEnabled(!busy);
    m_cancel->setEnabled(busy);
    m_words->setEnabled(!busy);
    m_folder->setEnabled(!busy);
}

void RecordingPanel::refreshTakes()
{
    m_takes->clear();
    if (folder().isEmpty())
        return;
    try {
        const RecordingSet set(folder().toStdString());
        for (const std::string &word : set.words()) {
            const auto takes = set.takes(word);
            auto *top = new QTreeWidgetItem(m_takes,
                { QString::fromStdString(word), tr("%n take(s)", nullptr, int(takes.size())) });
            for (const auto &t : takes) {
                auto *item = new QTreeWidgetItem(
                    top, { QString::fromStdString(t.name), QString::number(t.seconds, 'f', 2) });
                item->setData(0, Qt::UserRole, QString::fromStdString(t.path));
            }
            top->setExpanded(true);
        }
    } catch (const std::exception &e) {
        showMessage(QString::fromUtf8(e.what()), true);
    }
}

void RecordingPanel::startRecording()
{
    if (isBusy())
        return;
    std::vector<std::pair<std::string, int>> plan; // word, takes still to record
    try {
        if (folder().isEmpty())
            throw Error("recordings folder", "choose a folder first");
        const RecordingSet set(folder().toStdString());
        const QStringList words = m_words->text().split(',', Qt::SkipEmptyParts);
        if (words.isEmpty())
            throw Error("keywords", "type the keywords to record, e.g. yes,no");
        for (const QString &w : words) {
            const std::string word = w.trimmed().toStdString();
            RecordingSet::checkWord(word, "keywords");
            const int missing = m_takesPerWord->value() - int(set.takes(word).size());
            if (missing > 0)
                plan.emplace_back(word, missing);
        }
    } catch (const std::exception &e) {
        showMessage(QString::fromUtf8(e.what()), true);
        Q_EMIT failed(QString::fromUtf8(e.what()));
        return;
    }
    if (plan.empty()) {
        showMessage(tr("Every keyword has its %1 takes already.").arg(m_takesPerWord->value()));
        Q_EMIT recordingFinished(0);
        return;
    }
    Q_EMIT captureStarting();
    const std::string device = m_deviceSource ? m_deviceSource().toStdString() : std::string();
    m_stop = false;
    setBusy(true);
    showMessage({});
    // Settings are read here, on the GUI thread; the worker only gets copies.
    KeywordRecorderOptions ro;
    ro.capture.device = device == "default" ? std::string() : device;
    ro.countdownSec = m_countdown->value();
    ro.takeSec = m_takeSeconds->value();
    m_worker = std::thread(
        [this, plan, ro, dir = folder().toStdString()] { recordSession(plan, ro, dir); });
}

// Worker thread: the takes of every planned word, each retried twice when it holds no speech.
void RecordingPanel::recordSession(const std::vector<std::pair<std::string, int>> &plan,
    const KeywordRecorderOptions &options, const std::string &dir)
{
    int saved = 0;
    QString error;
    try {
        KeywordRecorder recorder(options);
        const RecordingSet set(dir);
        for (const auto &[word, count] : plan) {
            const QString w = QString::fromStdString(word);
            for (int k = 0; k < count && !m_stop; ++k) {
                for (int attempt = 0; attempt < 3 && !m_stop; ++attempt) {
                    KeywordRecorder::Callbacks cb;
                    cb.onCountdown = [this, w](int left) {
                        post([w, left](RecordingPanel *p) {
                            p->m_prompt->setText(left > 0 ? tr("%1 in %2...").arg(w).arg(left)
                                                          : tr("Say \"%1\" now").arg(w));
                        });
                    };
                    cb.onLevel = [this](float peak, double) {
                        // -60..0 dBFS across the bar.
                        const double db = 20.0 * std::log10(std::max(double(peak), 1e-6));
                        const int v = int(std::clamp((db + 60.0) * 100.0 / 60.0, 0.0, 100.0));
                        post([v](RecordingPanel *p) { p->m_level->setValue(v); });
                    };
                    const KeywordTake take = recorder.record(cb, &m_stop);
                    const QStringList warnings = toQ(take.warnings);
                    if (!take.usable()) {
                        post([w, warnings](RecordingPanel *p) {
                            p->showMessage(
                                tr("%1: %2").arg(w, warnings.join(QStringLiteral("; "))), true);
                            Q_EMIT p->takeRejected(w, warnings);
                        });
                        continue;
                    }
                    const QString path = QString::fromStdString(set.save(word, take.trimmed));
                    ++saved;
                    post([path, warnings](RecordingPanel *p) {
                        p->refreshTakes();
                        p->showMessage(warnings.isEmpty()
                                ? tr("Saved %1").arg(QFileInfo(path).fileName())
                                : tr("Saved %1, but: %2")
                                      .arg(QFileInfo(path).fileName(),
                                          warnings.join(QStringLiteral("; "))),
                            !warnings.isEmpty());
                        Q_EMIT p->takeSaved(path, warnings);
                    });
                    break;
                }
            }
        }
    } catch (const Cancelled &) {
        error = tr("Recording cancelled: the takes saved so far are kept.");
    } catch (const std::exception &e) {
        error = QString::fromUtf8(e.what());
    }
    post([saved, error](RecordingPanel *p) {
        p->workerDone();
        p->m_prompt->clear();
        p->m_level->setValue(0);
        if (!error.isEmpty()) {
            p->showMessage(error, true);
            Q_EMIT p->failed(error);
        }
        Q_EMIT p->recordingFinished(saved);
    });
}

void RecordingPanel::workerDone()
{
    if (m_worker.joinable())
        m_worker.join(); // it posted this as its last act: the join is immediate
    m_control.reset();
    setBusy(false);
}

void RecordingPanel::cancel()
{
    m_stop = true;
    if (m_control)
        m_control->requestCancel();
}

void RecordingPanel::playSelected()
{
    const QTreeWidgetItem *item = m_takes->currentItem();
    const QString path = item ? item->data(0, Qt::UserRole).toString() : QString();
    if (path.isEmpty()) {
        showMessage(tr("Select a take to play."), true);
        return;
    }
    try {
        if (!m_player)
            m_player = std::make_unique<AudioPlayer>();
        m_player->play(loadAudio(path.toStdString()), kSampleRate);
        showMessage(tr("Playing %1").arg(QFileInfo(path).fileName()));
    } catch (const std::exception &e) {
        showMessage(QString::fromUtf8(e.what()), true);
        Q_EMIT failed(QString::fromUtf8(e.what()));
    }
}

void RecordingPanel::deleteSelected()
{
    const QTreeWidgetItem *item = m_takes->currentItem();
    const QString path = item ? item->data(0, Qt::UserRole).toString() : QString();
    if (path.isEmpty() || isBusy()) {
        showMessage(tr("Select a take to delete."), true);
        return;
    }
    try {
        if (m_player)
            m_player->stop();
        RecordingSet(folder().toStdString()).remove(path.toStdString());
        showMessage(tr("Deleted %1").arg(QFileInfo(path).fileName()));
    } catch (const std::exception &e) {
        showMessage(QString::fromUtf8(e.what()), true);
        Q_EMIT failed(QString::fromUtf8(e.what()));
    }
    refreshTakes();
}

void RecordingPanel::adapt()
{
    if (isBusy())
        return;
    if (m_model.isEmpty() || folder().isEmpty()) {
        const QString m = m_model.isEmpty() ? tr("Load a student in the Live view first.")
                                            : tr("Choose the recordings folder first.");
        showMessage(m, true);
        Q_EMIT failed(m);
        return;
    }
    // Beside the takes, in a folder RecordingSet and FolderDataset skip (it starts with '_').
    const QString out = QDir(folder()).filePath(
        QStringLiteral("_adapted/%1-%2")
            .arg(QFileInfo(m_model).fileName(),
                QDateTime::currentDateTime().toString(QStringLiteral("yyyyMMdd-HHmmss"))));
    m_control = std::make_unique<TrainControl>();
    setBusy(true);
    m_progress->setRange(0, 0);
    showMessage(tr("Adapting %1 to your recordings...").arg(QFileInfo(m_model).fileName()));
    adaptInBackground(m_model, folder(), out);
}

void RecordingPanel::adaptInBackground(
    const QString &model, const QString &folder, const QString &out)
{
    AdaptOptions o;
    o.model = model.toStdString();
    o.recordings = folder.toStdString();
    o.outDir = out.toStdString();
    o.budgetSec = m_adaptSeconds->value();
    const TrainControl *control = m_control.get();
    m_worker = std::thread([this, o, control] {
        QueuedAdaptObserver observer([this](qint64 done, qint64 total, QString message) {
            post([done, total, message](RecordingPanel *p) {
                if (total > 0) {
                    p->m_progress->setRange(0, int(std::min<qint64>(total, 1 << 30)));
                    p->m_progress->setValue(int(std::min(done, total)));
                }
                p->m_progress->setFormat(message + QStringLiteral("  %p%"));
                Q_EMIT p->adaptProgress(done, total, message);
            });
        });
        AdaptResult r;
        QString error;
        try {
            r = StudentAdaptation(o, &observer, control).run();
        } catch (const Cancelled &) {
            error = tr("Adaptation cancelled; the Live view keeps its student.");
        } catch (const std::exception &e) {
            error = QString::fromUtf8(e.what());
        }
        const QString runDir = QString::fromStdString(r.cellDir);
        const QString summary = error.isEmpty()
            ? tr("Adapted in %1 s (%2 epochs): held-out takes %3 -> %4, built-in clips %5 -> %6%7")
                  .arg(r.seconds, 0, 'f', 0)
                  .arg(r.epochs)
                  .arg(percent(r.recordedBefore), percent(r.recordedAfter),
                      percent(r.rehearsalBefore), percent(r.rehearsalAfter))
                  .arg(r.newWords.empty() ? QString()
                                          : tr("; new keywords: %1")
                                                .arg(toQ(r.newWords).join(QStringLiteral(", "))))
            : QString();
        post([error, runDir, summary](RecordingPanel *p) {
            p->workerDone();
            p->m_progress->setRange(0, 1);
            p->m_progress->setValue(error.isEmpty() ? 1 : 0);
            p->m_progress->setFormat(error.isEmpty() ? tr("done") : tr("not adapted"));
            if (!error.isEmpty()) {
                p->showMessage(error, true);
                Q_EMIT p->failed(error);
                return;
            }
            p->showMessage(summary);
            Q_EMIT p->adapted(runDir, summary);
        });
    });
}

} // namespace tkd
