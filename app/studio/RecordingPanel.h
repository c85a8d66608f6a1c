#pragma once

#include <QWidget>

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <utility>
#include <vector>

class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTreeWidget;

namespace tkd {

class AudioPlayer;
class TrainControl;
struct KeywordRecorderOptions;

// The Live view's personal keywords: record K takes of each keyword (countdown, level bar, level
// check, trim to the word: core/adapt KeywordRecorder), list / play / delete them (a folder per
// word: core/data RecordingSet), then Adapt the Live view's student to them (core/adapt
// StudentAdaptation) with progress and cancel. Recording and adapting run on a worker thread;
// their callbacks arrive here as queued calls, so the GUI thread only shows them.
class RecordingPanel : public QWidget
{
    Q_OBJECT
public:
    explicit RecordingPanel(QWidget *parent = nullptr);
    ~RecordingPanel() override; // cancels and joins the worker

    void setFolder(const QString &folder);
    QString folder() const;
    void setWords(const QString &commaSeparated);
    void setTakesPerWord(int takes);
    void setCountdown(double seconds);
    void setTakeSeconds(double seconds);
    void setAdaptSeconds(double seconds);
    // Where takes are recorded from ("" = the default input), asked at each recording.
    void setDeviceSource(std::function<QString()> source) { m_deviceSource = std::move(source); }
    // The student Adapt starts from (the Live view's current model).
    void setModel(const QString &path);

    // What the buttons do.
    void startRecording(); // every word up to its number of takes, one after the other
    void cancel(); // stops a recording or an adaptation
    void playSelected();
    void deleteSelected();
    void adapt();
    bool isBusy() const { return m_worker.joinable(); }
    void refreshTakes();

    QTreeWidget *takeList() const { return m_takes; }
    QPushButton *recordButton() const { return m_record; }
    QPushButton *adaptButton() const { return m_adapt; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPushButton *deleteButton() const { return m_delete; }
    QProgressBar *adaptProgressBar() const { return m_progress; }
    QLabel *promptLabel() const { return m_prompt; }
    QLabel *messageLabel() const { return m_message; }

Q_SIGNALS:
    void captureStarting(); // the microphone is about to be opened (the live stream should stop)
    void takeSaved(const QString &path, const QStringList &warnings);
    void takeRejected(const QString &word, const QStringList &warnings);
    void recordingFinished(int saved);
    void adaptProgress(qint64 done, qint64 total, const QString &message);
    void adapted(const QString &runDir, const QString &summary);
    void failed(const QString &message);

private:
    void recordSession(const std::vector<std::pair<std::string, int>> &plan,
        const KeywordRecorderOptions &options, const std::string &dir);
    void adaptInBackground(const QString &model, const QString &folder, const QString &out);
    void workerDone();
    void setBusy(bool busy);
    void showMessage(const QString &text, bool error = false);
    // Runs f on the GUI thread later, if this panel still exists.
    void post(std::function<void(RecordingPanel *)> f);

    QLineEdit *m_folder;
    QLineEdit *m_words;
    QSpinBox *m_takesPerWord;
    QDoubleSpinBox *m_countdown;
    QDoubleSpinBox *m_takeSeconds;
    QDoubleSpinBox *m_adaptSeconds;
    QPushButton *m_record, *m_cancel, *m_play, *m_delete, *m_adapt;
    QLabel *m_prompt, *m_message, *m_modelLabel;
    QProgressBar *m_level, *m_progress;
    QTreeWidget *m_takes;

    QString m_model;
    std::function<QString()> m_deviceSource;
    std::thread m_worker;
    std::atomic<bool> m_stop { false };
    std::unique_ptr<TrainControl> m_control;
    std::unique_ptr<AudioPlayer> m_player;
    std::shared_ptr<std::atomic<bool>> m_alive;
};

} // namespace tkd
