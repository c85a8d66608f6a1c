#pragma once

#include <QColor>
#include <QVector>
#include <QWidget>

#include <deque>

namespace tkd {

// The last few seconds of a stream as a scrolling log-mel spectrogram (time right = now), with
// attention curves drawn over the analysis window they belong to, the window itself shaded, and
// detection markers. Frames arrive in order with the stream time of the newest one.
class RollingSpectrogram : public QWidget
{
    Q_OBJECT
public:
    explicit RollingSpectrogram(QWidget *parent = nullptr);

    // bins per frame, seconds between frames, seconds shown. Clears.
    void configure(int bins, double frameSec, double spanSec);
    void clear();

    // New frames (oldest first); the last one ends at endSec of stream time.
    void appendFrames(const QVector<QVector<float>> &frames, double endSec);
    // An attention curve over [startSec, endSec] (equal cells). Empty weights hide it.
    enum class Curve { Teacher, Student };
    void setAttention(Curve which, const QVector<float> &weights, double startSec, double endSec);
    void setWindow(double startSec, double endSec); // the student's current window
    void addMarker(double timeSec, const QString &label);
    // An explanation drawn over the (empty) picture, e.g. why nothing is coming in.
    void setPlaceholder(const QString &text);

    int frameCount() const { return int(m_frames.size()); }
    double endSec() const { return m_endSec; }
    int markerCount() const { return int(m_markers.size()); }
    bool hasCurve(Curve which) const { return !curve(which).weights.isEmpty(); }

    QSize sizeHint() const override { return { 640, 220 }; }
    QSize minimumSizeHint() const override { return { 200, 100 }; }

protected:
    void paintEvent(QPaintEvent *) override;

private:
    struct CurveData
    {
        QVector<float> weights;
        double startSec = 0.0, endSec = 0.0;
    };
    struct Marker
    {
        double timeSec;
        QString label;
    };
    const CurveData &curve(Curve c) const { return c == Curve::Teacher ? m_teacher : m_student; }

    int m_bins = 40;
    double m_frameSec = 0.02;
    double m_spanSec = 6.0;
    std::deque<QVector<float>> m_frames;
    double m_endSec = 0.0;
    float m_max = -1e30f; // running maximum (decays), for the colour range
    CurveData m_teacher, m_student;
    double m_windowStart = 0.0, m_windowEnd = 0.0;
    std::deque<Marker> m_markers;
    QString m_placeholder;
};

} // namespace tkd
