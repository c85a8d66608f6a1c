#pragma once

class QCustomPlot;

namespace tkd {

// Replots a plot whose content changed, without stalling the window: a visible plot replots once
// on the next event-loop pass (so a rebuild and a cursor move coalesce into one replot); a hidden
// one (a tabbed dock behind another) replots only when it is shown. Browsing clips changes every
// plot of the clip and attention views, and only one of the two is on screen.
void replotWhenShown(QCustomPlot *plot);

} // namespace tkd
