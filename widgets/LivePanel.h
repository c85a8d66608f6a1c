#pragma once

#include "widgets/LiveTypes.h"

#include <QWidget>

#include <functional>

class QCheckBox;
class QComboBox;
class QDoubleSpinBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QTableWidget;
class QToolButton;

namespace tkd {

class LevelMeter;
class LivePosteriorBars;
class RollingSpectrogram;

// The Live view: input picker (capture devices or an audio file), student checkpoint, level
// meter, rolling spectrogram with the teacher's and the student's attention over the current
// window, posterior bars with the top class, detection log, detection settings, and "record the
// last seconds" for collecting false triggers. Pure view: it asks for work through signals and
// shows what it is given; the studio's LiveView does the rest off the GUI thread.
class LivePanel : public QWidget
{
    Q_OBJECT
public:
    explicit LivePanel(QWidget *parent = nullptr);

    // Capture devices; whyNone explains an empty list (the panel still works with files).
    void setDevices(const QStringList &inputs, int defaultIndex, const QString &whyNone = {});
    // The students of a run: names with a detail line each (tooltip), `current` selected.
    void setCells(
        const QString &runDir, const QStringList &names, const QStringList &details, int current);
    // The loaded model: a description line, its classes and the stream geometry.
    void setModel(const QString &description, const QStringList &classes, double windowSec,
        double hopSec, int spectrogramBins, double frameSec);
    void setRunning(bool running);
    // Forgets the last stream's spectrogram, posteriors, top class and detections.
    void resetStream();
    void showFrame(const LiveFrame &frame);
    void showDetection(const LiveDetectionRow &row);
    void showStatus(const LiveStatusView &status);
    void showMessage(const QString &message, bool error = false);
    void showRecorded(const QString &path);

    LiveSettings settings() const;
    QString selectedDevice() const; // empty when the file entry is selected
    QString selectedFile() const; // the audio file chosen for the file entry
    void setSelectedFile(const QString &path); // selects the file entry
    void setRecordFolder(const QString &folder);
    // Asks for the audio file to stream (a file dialog by default; tests put their own).
    void setFilePicker(std::function<QString(const QString &startDir)> picker)
    {
        m_pickFile = std::move(picker);
    }
    QString runDir() const { return m_runDir; }

    // For tests and the studio glue.
    QComboBox *inputCombo() const { return m_input; }
    QComboBox *cellCombo() const { return m_cell; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *recordButton() const { return m_record; }
    QLineEdit *recordFolderEdit() const { return m_recordFolder; }
    QComboBox *recordLabelCombo() const { return m_recordLabel; }
    QDoubleSpinBox *thresholdSpin() const { return m_threshold; }
    QTableWidget *detectionTable() const { return m_detections; }
    QTableWidget *classThresholdTable() const { return m_classThresholds; }
    RollingSpectrogram *spectrogram() const { return m_spectrogram; }
    LevelMeter *levelMeter() const { return m_level; }
    LivePosteriorBars *posteriorBars() const { return m_bars; }
    QLabel *topLabel() const { return m_top; }
    QLabel *statusLabel() const { return m_status; }
    QLabel *messageLabel() const { return m_message; }
    QLabel *timingLabel() const { return m_timing; }

Q_SIGNALS:
    void startDeviceRequested(const QString &device);
    void startFileRequested(const QString &path);
    void stopRequested();
    void refreshDevicesRequested();
    void runFolderChosen(const QString &runDir);
    void cellChosen(const QString &runDir, const QString &cell);
    void settingsChanged(const tkd::LiveSettings &settings);
    void recordRequested(const QString &folder, const QString &label, double seconds);

private:
    QLayout *buildSourceRow();
    QWidget *buildBottom();
    QWidget *buildSettings();
    QWidget *buildRecorder();
    void connectControls();
    void onStartClicked();
    void onInputActivated(int index);
    bool fileEntrySelected() const;
    bool pickFile();
    void emitSettings();
    void updateThresholdMarks();

    QString m_runDir;
    QString m_file;
    std::function<QString(const QString &)> m_pickFile;
    QStringList m_classes;
    bool m_running = false;
    bool m_fillingThresholds = false;

    QComboBox *m_input;
    QToolButton *m_refresh;
    QPushButton *m_start;
    QComboBox *m_cell;
    QToolButton *m_openRun;
    QLabel *m_modelInfo;
    LevelMeter *m_level;
    QLabel *m_status;
    QLabel *m_message;
    RollingSpectrogram *m_spectrogram;
    LivePosteriorBars *m_bars;
    QLabel *m_top;
    QLabel *m_timing;
    QTableWidget *m_detections;
    QDoubleSpinBox *m_threshold;
    QDoubleSpinBox *m_minDuration;
    QDoubleSpinBox *m_refractory;
    QComboBox *m_smoothing;
    QDoubleSpinBox *m_smoothingSec;
    QCheckBox *m_teacher;
    QDoubleSpinBox *m_teacherInterval;
    QTableWidget *m_classThresholds;
    QLineEdit *m_recordFolder;
    QToolButton *m_recordBrowse;
    QComboBox *m_recordLabel;
    QDoubleSpinBox *m_recordSeconds;
    QPushButton *m_record;
};

} // namespace tkd
