// tkd-bench-links: tkd_studio_app
// The studio while someone walks the clip list with the arrow keys (issue 17: the window froze
// 0.1-0.75 s per clip): the real main window opens a run (or a dataset folder), then Down is
// pressed on the clip table every --interval ms, --clips times, while a 10 ms QTimer on the GUI
// thread measures the longest gap between its ticks (goal: <= 50 ms per clip, <= 100 ms ever).
// Not a test: numbers for the README (bench/run_studio.sh).
//
//   bench_studio_browse RUN_OR_DATASET [--clips N] [--interval MS] [--view clip|attention]
#include "AttentionController.h"
#include "MainWindow.h"

#include "widgets/ClipBrowser.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QKeyEvent>
#include <QTableView>
#include <QThread>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <map>
#include <string>
#include <vector>

namespace {
// Times every event the GUI thread dispatches at the top level, by receiver class and event
// type, so the figure says which work stalls the window (a queued signal is a MetaCall event).
class TimingApplication : public QApplication
{
public:
    using QApplication::QApplication;
    bool measuring = false;
    struct Cost
    {
        int count = 0;
        double totalMs = 0, maxMs = 0;
    };
    std::map<std::string, Cost> costs;

    bool notify(QObject *receiver, QEvent *event) override
    {
        if (depth > 0 || !measuring || QThread::currentThread() != thread())
            return QApplication::notify(receiver, event);
        ++depth;
        QElapsedTimer t;
        t.start();
        std::string key = receiver->metaObject()->className();
        if (receiver->parent()) // which view a plot belongs to
            key = receiver->parent()->metaObject()->className() + std::string(">") + key;
        key += " / " + std::to_string(int(event->type()));
        const bool r = QApplication::notify(receiver, event);
        const double ms = t.nsecsElapsed() / 1e6;
        --depth;
        Cost &c = costs[key];
        ++c.count;
        c.totalMs += ms;
        c.maxMs = std::max(c.maxMs, ms);
        return r;
    }

private:
    int depth = 0; // GUI thread only
};
} // namespace

int main(int argc, char **argv)
{
    TimingApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("tkd-studio-bench"));
    QApplication::setApplicationName(QStringLiteral("TKD Studio browse bench"));
    const QStringList args = app.arguments();
    if (args.size() < 2) {
        std::fprintf(stderr,
            "usage: bench_studio_browse RUN_OR_DATASET [--clips N] [--interval MS] [--view V]\n");
        return 2;
    }
    const QString path = args[1];
    int clips = 20, intervalMs = 250;
    QString view = QStringLiteral("clip");
    for (int i = 2; i + 1 < args.size(); i += 2) {
        if (args[i] == QLatin1String("--clips"))
            clips = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--interval"))
            intervalMs = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--view"))
            view = args[i + 1];
    }

    tkd::MainWindow window;
    window.resize(1280, 720);
    window.show();
    window.showView(view);

    std::vector<double> gaps;
    QElapsedTimer beat;
    bool measuring = false;
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    tick.setInterval(10);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        if (measuring && beat.isValid())
            gaps.push_back(beat.nsecsElapsed() / 1e6);
        beat.restart();
    });
    tick.start();

    int pressed = 0, shown = 0;
    QObject::connect(&window, &tkd::MainWindow::clipShown, [&] { ++shown; });
    QTimer press;
    press.setInterval(intervalMs);
    QObject::connect(&press, &QTimer::timeout, [&] {
        if (pressed >= clips) {
            press.stop();
            // The last clip arrives; exit() rather than quit(), which would close the window.
            QTimer::singleShot(2000, &app, [] { QCoreApplication::exit(0); });
            return;
        }
        QKeyEvent down(QEvent::KeyPress, Qt::Key_Down, Qt::NoModifier);
        QApplication::sendEvent(window.clipBrowser()->table(), &down);
        ++pressed;
    });
    auto startPressing = [&] {
        window.clipBrowser()->table()->setFocus();
        QTimer::singleShot(1500, [&] { // the first clip's work settles first
            measuring = true;
            app.measuring = true;
            press.start();
        });
    };
    QObject::connect(&window, &tkd::MainWindow::runShown, startPressing);
    QObject::connect(&window, &tkd::MainWindow::datasetShown, startPressing);
    QObject::connect(&window, &tkd::MainWindow::errorShown, [&](const QString &m) {
        std::fprintf(stderr, "error: %s\n", qPrintable(m));
        app.exit(1);
    });
    if (QFileInfo::exists(path + QStringLiteral("/config.yaml"))
        || QFileInfo::exists(path + QStringLiteral("/grid.json")))
        window.openRun(path);
    else
        window.openDataset(QStringLiteral("folder"), path);
    if (app.exec() != 0)
        return 1;

    std::sort(gaps.begin(), gaps.end());
    auto pct = [&](double p) {
        return gaps.empty() ? 0.0 : gaps[std::min(gaps.size() - 1, size_t(p * gaps.size()))];
    };
    const long over50 = std::count_if(gaps.begin(), gaps.end(), [](double g) { return g > 50.0; });
    std::printf("%d Down presses every %d ms (view %s), %d clips shown\n", pressed, intervalMs,
        qPrintable(view), shown);
    std::printf("GUI heartbeat (10 ms timer): %zu ticks, median gap %.1f ms, p99 %.1f ms, max "
                "%.1f ms; gaps > 50 ms: %ld\n",
        gaps.size(), pct(0.5), pct(0.99), gaps.empty() ? 0.0 : gaps.back(), over50);
    std::vector<std::pair<std::string, TimingApplication::Cost>> top(
        app.costs.begin(), app.costs.end());
    std::sort(top.begin(), top.end(),
        [](const auto &a, const auto &b) { return a.second.totalMs > b.second.totalMs; });
    std::printf(
        "GUI-thread events by total time (receiver class / QEvent type: count, total, max):\n");
    for (size_t i = 0; i < std::min<size_t>(8, top.size()); ++i)
        std::printf("  %-44s %5d  %8.1f ms  %6.1f ms\n", top[i].first.c_str(), top[i].second.count,
            top[i].second.totalMs, top[i].second.maxMs);
    return 0;
}
