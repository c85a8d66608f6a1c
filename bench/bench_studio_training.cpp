// tkd-bench-links: tkd_studio_app
// The studio while it trains: the real main window runs an experiment from its Experiment view
// (training on the RunController's worker thread, curves fed by tailing events.jsonl) while a
// 10 ms QTimer on the GUI thread measures how long the event loop stalls - the longest gap
// between ticks (goal: <= 100 ms). Also the process's peak RSS and the window's construction +
// first-show time. Not a test: numbers for the README (bench/run_studio.sh).
//
//   bench_studio_training [--config FILE] [--threads N] [--epochs N] [--speakers N] [--runs DIR]
#include "ExperimentPanel.h"
#include "MainWindow.h"
#include "RunController.h"
#include "TrainingPanel.h"

#include "core/experiment/ExperimentConfig.h"
#include "widgets/TrainingCurves.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QTemporaryDir>
#include <QThread>
#include <QTimer>

#include <sys/resource.h>

#include <algorithm>
#include <cstdio>
#include <vector>

namespace {
long peakRssKb()
{
    rusage u {};
    getrusage(RUSAGE_SELF, &u);
    return u.ru_maxrss;
}
} // namespace

int main(int argc, char **argv)
{
    QElapsedTimer sinceStart;
    sinceStart.start();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("tkd-studio-bench"));
    QApplication::setApplicationName(QStringLiteral("TKD Studio bench"));
    QString configPath
        = QStringLiteral("resources/experiments/quick.yaml"); // run from the repository root
    int threads = -1, epochs = -1, speakers = -1;
    QTemporaryDir tmp;
    QString runsDir = tmp.filePath(QStringLiteral("runs"));
    const QStringList args = app.arguments();
    for (int i = 1; i + 1 < args.size(); i += 2) {
        if (args[i] == QLatin1String("--config"))
            configPath = args[i + 1];
        else if (args[i] == QLatin1String("--threads"))
            threads = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--epochs"))
            epochs = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--speakers"))
            speakers = args[i + 1].toInt();
        else if (args[i] == QLatin1String("--runs"))
            runsDir = args[i + 1];
    }
    tkd::ExperimentConfig config = tkd::ExperimentConfig::load(configPath.toStdString());
    if (threads >= 0)
        config.train.numThreads = threads;
    if (epochs > 0)
        config.train.epochs = epochs;
    if (speakers > 0)
        config.data.corpus.speakers = speakers;
    config.output.runsDir = runsDir.toStdString();

    const long rssBefore = peakRssKb();
    QElapsedTimer windowClock;
    windowClock.start();
    tkd::MainWindow window;
    window.resize(1400, 900);
    window.show();
    QApplication::processEvents();
    const double windowMs = windowClock.nsecsElapsed() / 1e6;
    const double sinceMainMs = sinceStart.nsecsElapsed() / 1e6;
    const long rssWindow = peakRssKb();

    // The GUI thread's heartbeat: gaps between 10 ms ticks while the run trains.
    std::vector<double> gaps;
    std::vector<std::pair<double, double>> longGaps; // (seconds into the run, gap ms) over 50 ms
    QElapsedTimer runClock;
    QElapsedTimer beat;
    QTimer tick;
    tick.setTimerType(Qt::PreciseTimer);
    tick.setInterval(10);
    QObject::connect(&tick, &QTimer::timeout, [&] {
        if (beat.isValid() && window.runController()->isRunning()) {
            gaps.push_back(beat.nsecsElapsed() / 1e6);
            if (gaps.back() > 50.0)
                longGaps.emplace_back(runClock.elapsed() / 1000.0, gaps.back());
        }
        beat.restart();
    });

    bool ok = false, started = false;
    QString error;
    QObject::connect(window.runController(), &tkd::RunController::finished,
        [&](const QString &, bool completed, bool, const QString &e, const QString &) {
            ok = completed;
            error = e;
            // The log's last lines are read on the poll thread. exit(), not quit(): Qt 6's quit()
            // closes the windows, and the window asks about the form's unsaved edits.
            QTimer::singleShot(600, &app, [] { QCoreApplication::exit(0); });
        });
    QTimer::singleShot(0, [&] {
        window.experimentPanel()->setConfig(config);
        tick.start();
        started = window.experimentPanel()->run();
        if (!started) {
            std::fprintf(stderr, "could not start: %s\n",
                qPrintable(window.experimentPanel()->problems().join("; ")));
            QCoreApplication::exit(1);
        }
    });
    runClock.start();
    app.exec();
    const double runSec = runClock.elapsed() / 1000.0;
    if (!ok) {
        std::fprintf(stderr, "run did not complete: %s\n", qPrintable(error));
        return 1;
    }
    std::sort(gaps.begin(), gaps.end());
    auto pct = [&](double p) {
        return gaps.empty() ? 0.0 : gaps[std::min(gaps.size() - 1, size_t(p * gaps.size()))];
    };
    const long over50 = std::count_if(gaps.begin(), gaps.end(), [](double g) { return g > 50.0; });
    const long over100
        = std::count_if(gaps.begin(), gaps.end(), [](double g) { return g > 100.0; });
    std::printf(
        "config %s, %d speakers, %d student epochs, train.num_threads %d (0: all %d cores)\n",
        qPrintable(configPath), config.data.corpus.speakers, config.train.epochs,
        config.train.numThreads, QThread::idealThreadCount());
    std::printf(
        "window: constructed and shown in %.0f ms (%.0f ms since main)\n", windowMs, sinceMainMs);
    std::printf("run: %.1f s, %d curve points\n", runSec,
        window.trainingPanel()->curves()->totalStepPoints());
    std::printf(
        "GUI heartbeat (10 ms timer) during training: %zu ticks, median gap %.1f ms, p99 %.1f ms, "
        "max %.1f ms; gaps > 50 ms: %ld, > 100 ms: %ld\n",
        gaps.size(), pct(0.5), pct(0.99), gaps.empty() ? 0.0 : gaps.back(), over50, over100);
    for (const auto &[at, ms] : longGaps)
        std::printf("  gap of %.0f ms at %.1f s into the run\n", ms, at);
    std::printf("peak RSS: %.0f MiB (before the window %.0f MiB, with the window %.0f MiB)\n",
        peakRssKb() / 1024.0, rssBefore / 1024.0, rssWindow / 1024.0);
    return 0;
}
