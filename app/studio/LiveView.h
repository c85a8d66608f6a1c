#pragma once

#include "widgets/LivePanel.h"

#include <QElapsedTimer>
#include <QList>
#include <QPointer>
#include <QThread>
#include <QWidget>

#include <atomic>
#include <memory>

namespace tkd {

class LiveModel;
class LiveSession;
class RecordingPanel;

// The studio's Live view: the LivePanel plus the glue to core. A LiveSession runs the capture
// drain and all inference on its own worker thread; its callbacks arrive here as queued calls,
// so the GUI thread only paints. Model loading and device listing also run off the GUI thread.
//
// For screenshots and smoke tests: TKD_LIVE_MODEL=<run or cell folder> preselects a model and
// TKD_LIVE_SOURCE=<device name | audio file> starts listening as soon as it is loaded.
class LiveView : public QWidget
{
    Q_OBJECT
public:
    explicit LiveView(QWidget *parent = nullptr);
    ~LiveView() override;

    LivePanel *panel() const { return m_panel; }
    // Personal keywords: record takes, then Adapt the current student (which this view then
    // loads).
    RecordingPanel *recordingPanel() const { return m_recording; }

    // A run folder (its best student), <run>/students/<cell>, or a checkpoint: listed and loaded
    // in the background (modelLoaded or failed follows).
    void openModel(const QString &path);
    void refreshDevices();
    // Start/stop; errors (bad device, bad file, no model) go to failed() and the panel.
    void startDevice(const QString &device);
    void startFile(const QString &path, bool realTime = true);
    void stop();
    bool isRunning() const;
    bool hasModel() const { return bool(m_model); }
    // A model is being loaded in the background (openModel has not answered yet).
    bool isLoadingModel() const { return m_loading; }
    QString modelPath() const { return m_modelPath; }
    // Writes the last `seconds` to <folder>/<label>/...wav; returns the path ("" on error).
    QString recordLast(const QString &folder, const QString &label, double seconds);
    // Mean queued-delivery latency (samples read -> frame shown) over the frames so far, ms.
    double meanDisplayLatencyMs() const
    {
        return m_frames ? m_latencySumMs / double(m_frames) : 0.0;
    }
    qint64 framesShown() const { return m_frames; }

Q_SIGNALS:
    void devicesListed(int inputs);
    void modelLoaded(const QString &description);
    void started();
    void frameShown(qint64 hop);
    void detected(const QString &label, double timeSec);
    void stopped();
    void failed(const QString &message);

protected:
    // Devices are listed when the view is first shown, not at studio start: PortAudio's ALSA
    // probe costs startup time, and nothing else should be initialising PortAudio meanwhile.
    void showEvent(QShowEvent *event) override;

private:
    void applySettings(const LiveSettings &s);
    void fail(const QString &message);
    void sessionEnded();
    // Runs work off the GUI thread and done on it; the view joins every such thread it started.
    template <class Work, class Done> void inBackground(Work work, Done done);

    LivePanel *m_panel;
    RecordingPanel *m_recording;
    std::shared_ptr<LiveModel> m_model;
    std::unique_ptr<LiveSession> m_session;
    QString m_modelPath;
    QString m_autostart;
    bool m_devicesRequested = false;
    int m_loadGeneration = 0;
    bool m_loading = false;
    qint64 m_frames = 0;
    double m_latencySumMs = 0.0;
    // Set while the window is being destroyed: late queued calls must not touch the session.
    std::shared_ptr<std::atomic<bool>> m_alive;
    QList<QPointer<QThread>> m_background;
};

} // namespace tkd
