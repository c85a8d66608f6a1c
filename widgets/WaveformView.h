#pragma once

#include "widgets/Spectrogram.h"

#include <QString>
#include <QVector>
#include <QWidget>

class QCustomPlot;
class QCPAxisRect;
class QCPColorMap;
class QCPItemRect;
class QCPItemStraightLine;

namespace tkd {

// What the clip display needs, as plain values (computed off the GUI thread by the app).
struct ClipAudio
{
    QString title;
    QVector<float> samples; // mono
    int sampleRate = 16000;
    Spectrogram spectrogram; // log-mel
    double onsetSec = -1.0; // keyword window; < 0: none
    double offsetSec = -1.0;
};

// Waveform above, log-mel spectrogram below, on one shared time axis; the keyword's true window
// shaded on both, and a playback cursor. Zoom and pan with the mouse (x only).
class WaveformView : public QWidget
{
    Q_OBJECT
public:
    explicit WaveformView(QWidget *parent = nullptr);

    void setClip(const ClipAudio &clip);
    void clear();
    // Playback position in seconds; < 0 hides the cursor.
    void setCursorSec(double sec);

    QCustomPlot *plot() const { return m_plot; }
    double durationSec() const { return m_durationSec; }
    bool windowShown() const;
    int waveformPointCount() const;

private:
    QCustomPlot *m_plot;
    QCPAxisRect *m_waveRect;
    QCPAxisRect *m_specRect;
    QCPColorMap *m_spec;
    QCPItemRect *m_waveWindow;
    QCPItemRect *m_specWindow;
    QCPItemStraightLine *m_waveCursor;
    QCPItemStraightLine *m_specCursor;
    double m_durationSec = 0.0;
};

} // namespace tkd
