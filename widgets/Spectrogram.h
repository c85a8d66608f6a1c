#pragma once

#include <QVector>

class QCPColorMap;

namespace tkd {

// The one spectrogram value type of the widgets (clip view, attention view): log-mel values
// row-major [frames][bins]; frame f covers [f * hopSec, f * hopSec + windowSec) seconds.
struct Spectrogram
{
    QVector<float> values;
    int frames = 0;
    int bins = 0;
    double hopSec = 0.02;
    double windowSec = 0.04;

    bool isEmpty() const { return frames <= 0 || bins <= 0; }
    // Fills a colour map (time on x at the frame centres, mel bin on y) and rescales its data
    // range; clears it when empty.
    void drawInto(QCPColorMap *map) const;
};

} // namespace tkd
