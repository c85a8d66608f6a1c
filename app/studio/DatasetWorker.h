#pragma once

#include "widgets/ClipTableModel.h"
#include "widgets/WaveformView.h"

#include <QObject>
#include <QString>

#include <atomic>

namespace tkd {

// Owns the dataset-side core work of the studio and runs in a worker thread: synthesising or
// opening a dataset, decoding a clip and computing its spectrogram. It talks to the window only
// through queued signals carrying value types, and never touches a widget.
class DatasetWorker : public QObject
{
    Q_OBJECT
public:
    explicit DatasetWorker(QObject *parent = nullptr);
    // Thread-safe: asks the current job to stop at its next progress report.
    void cancel() { m_cancel.store(true); }

public Q_SLOTS:
    // kind: "builtin" | "speech-commands" | "fsd50k" | "folder"; task: 12 or 35 (keyword sets).
    void openDataset(const QString &kind, const QString &path, int task);
    void loadClip(const tkd::ClipRow &clip);

Q_SIGNALS:
    void progress(const QString &stage, qint64 done, qint64 total);
    void datasetOpened(const QString &name, const QVector<tkd::ClipRow> &clips);
    void clipLoaded(const tkd::ClipAudio &audio);
    void failed(const QString &message);

private:
    std::atomic<bool> m_cancel { false };
};

} // namespace tkd

Q_DECLARE_METATYPE(tkd::ClipAudio)
