#pragma once

#include <QMap>
#include <QMetaType>
#include <QString>
#include <QVector>

namespace tkd {

// What the live view shows of one hop of the streaming classifier (copied out of core by the
// studio, so the widgets never see core or torch).
struct LiveFrame
{
    qint64 hop = -1; // -1: spectrogram frames only (no hop completed)
    double timeSec = 0.0; // stream time of the window's end
    double windowStartSec = 0.0;
    QVector<float> posteriors; // this window's
    QVector<float> smoothed; // what detection looks at
    int topClass = -1;
    float topScore = 0.0f;
    QVector<float> studentAttention; // cells spanning [studentStart, studentEnd]
    double studentStart = 0.0, studentEnd = 0.0;
    QVector<float> teacherAttention; // rollout of the most recent teacher run
    double teacherStart = 0.0, teacherEnd = 0.0;
    bool teacherFresh = false;
    QVector<QVector<float>> spectrogram; // new log-mel frames, oldest first, ending at timeSec
    double studentMs = 0.0, teacherMs = 0.0;
    double latencyMs = 0.0; // samples read -> result ready
};

struct LiveDetectionRow
{
    double timeSec = 0.0;
    QString label;
    double score = 0.0;
    double peakSec = -1.0;
    QString wallClock; // hh:mm:ss.zzz when it fired
};

struct LiveStatusView
{
    QString source;
    bool fromFile = false;
    double rate = 0.0;
    float peak = 0.0f;
    quint64 overflows = 0, droppedFrames = 0, inputOverflows = 0;
    QString health; // ok | stalled | stopped | idle
    QString message;
    double streamSec = 0.0, wallSec = 0.0;
};

// The detection settings the user can change while listening.
struct LiveSettings
{
    double threshold = 0.6;
    double minDurationSec = 0.2;
    double refractorySec = 1.0;
    QString smoothing = QStringLiteral("ema"); // ema | mean | none
    double smoothingSec = 0.2;
    QMap<QString, double> classThresholds;
    bool teacher = true;
    double teacherIntervalSec = 0.0;
};

} // namespace tkd

Q_DECLARE_METATYPE(tkd::LiveFrame)
Q_DECLARE_METATYPE(tkd::LiveDetectionRow)
Q_DECLARE_METATYPE(tkd::LiveStatusView)
Q_DECLARE_METATYPE(tkd::LiveSettings)
