#include "widgets/Spectrogram.h"

#include "widgets/QCustomPlotInclude.h"

namespace tkd {

void Spectrogram::drawInto(QCPColorMap *map) const
{
    auto *data = map->data();
    data->clear();
    if (isEmpty())
        return;
    data->setSize(frames, bins);
    // Cell centres: frame f spans [f*hop, f*hop + window).
    data->setRange(
        QCPRange(windowSec / 2, windowSec / 2 + (frames - 1) * hopSec), QCPRange(0, bins - 1));
    for (int f = 0; f < frames; ++f)
        for (int b = 0; b < bins; ++b)
            data->setCell(f, b, values[f * bins + b]);
    map->rescaleDataRange(true);
}

} // namespace tkd
