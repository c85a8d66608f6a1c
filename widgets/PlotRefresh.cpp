#include "widgets/PlotRefresh.h"

#include "widgets/QCustomPlotInclude.h"

#include <QEvent>

namespace tkd {

namespace {
const char *const kStale = "tkdReplotWhenShown";

// Replots a stale plot as it is shown; one per plot, installed on first use.
class ShowReplotter : public QObject
{
public:
    using QObject::QObject;

protected:
    bool eventFilter(QObject *watched, QEvent *event) override
    {
        if (event->type() == QEvent::Show && watched->property(kStale).toBool()) {
            watched->setProperty(kStale, false);
            static_cast<QCustomPlot *>(watched)->replot(QCustomPlot::rpQueuedReplot);
        }
        return false;
    }
};
} // namespace

void replotWhenShown(QCustomPlot *plot)
{
    if (plot->isVisible()) {
        plot->setProperty(kStale, false);
        plot->replot(QCustomPlot::rpQueuedReplot);
        return;
    }
    if (!plot->findChild<ShowReplotter *>(QString(), Qt::FindDirectChildrenOnly))
        plot->installEventFilter(new ShowReplotter(plot));
    plot->setProperty(kStale, true);
}

} // namespace tkd
