// tkd-studio: the desktop workbench. With no argument it opens the built-in corpus (synthesising
// it on first start); with a folder it opens that dataset.
#include "DatasetWorker.h"
#include "ExperimentPanel.h"
#include "MainWindow.h"
#include "TrainingPanel.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDockWidget>
#include <QElapsedTimer>
#include <QFileInfo>
#include <QTimer>

#include "widgets/ClipBrowser.h"

#include "core/util/Allocator.h"
#include "core/util/BlasThreads.h"

#include <torch/torch.h>

#include <cstdio>
#include <cstring>
#include <ctime>
#include <thread>
#include <unistd.h>

namespace tkd {
QString detectDatasetKind(const QString &path);
}

// Seconds this process had lived when main() began: the dynamic loader's share of a launch
// (LibTorch's libraries are large). From /proc (10 ms resolution); -1 where unavailable.
static double processAgeSec()
{
    std::FILE *f = std::fopen("/proc/self/stat", "r");
    if (!f)
        return -1.0;
    char buf[4096];
    const size_t n = std::fread(buf, 1, sizeof buf - 1, f);
    std::fclose(f);
    buf[n] = 0;
    const char *p = std::strrchr(buf, ')'); // the command name may hold spaces
    unsigned long long start = 0;
    if (!p
        || std::sscanf(p + 2,
               "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d %llu",
               &start)
            != 1)
        return -1.0;
    timespec now {};
    clock_gettime(CLOCK_BOOTTIME, &now);
    return double(now.tv_sec) + now.tv_nsec / 1e9 - double(start) / double(sysconf(_SC_CLK_TCK));
}

int main(int argc, char **argv)
{
    const double ageAtMain = processAgeSec();
    QElapsedTimer sinceStart; // for --startup-time
    sinceStart.start();
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("tkd-studio"));
    QApplication::setApplicationName(QStringLiteral("TKD Studio"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));
    QApplication::setDesktopFileName(QStringLiteral("tkd-studio"));
    tkd::tuneAllocatorForTensors(); // freed tensor memory is reused; see Allocator.h
    // Debian's LibTorch starts with one intra-op thread.
    torch::set_num_threads(int(std::max(1u, std::thread::hardware_concurrency())));
    tkd::setBlasThreads(1); // LibTorch's pool parallelises around BLAS; see BlasThreads.h

    qRegisterMetaType<tkd::ClipRow>();
    qRegisterMetaType<tkd::ClipAudio>();
    qRegisterMetaType<QVector<tkd::ClipRow>>();

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Temporal knowledge distillation workbench"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("path"),
        QStringLiteral("dataset folder to open (default: the built-in corpus)"));
    // For documentation and smoke tests: open, select a clip, save a picture of the window, quit.
    const QCommandLineOption screenshot(QStringLiteral("screenshot"),
        QStringLiteral("save the window as PNG once a clip is shown, then quit"),
        QStringLiteral("file"));
    const QCommandLineOption selectRow(QStringLiteral("select"),
        QStringLiteral("select the N-th clip after opening"), QStringLiteral("N"),
        QStringLiteral("0"));
    // Views other than the clip panel: raise one and take the screenshot after a delay.
    const QCommandLineOption viewOption(QStringLiteral("view"),
        QStringLiteral("raise a view (experiment, training, clips, ...); with "
                       "--screenshot, take it after --delay ms"),
        QStringLiteral("name"));
    const QCommandLineOption delayOption(QStringLiteral("delay"),
        QStringLiteral("screenshot delay for --view (ms)"), QStringLiteral("ms"),
        QStringLiteral("2500"));
    const QCommandLineOption startupTime(QStringLiteral("startup-time"),
        QStringLiteral("print the time from main() to the first shown window, then quit"));
    const QCommandLineOption runOption(
        QStringLiteral("run"), QStringLiteral("with an experiment file: start it at once"));
    parser.addOption(runOption);
    parser.addOption(viewOption);
    parser.addOption(delayOption);
    parser.addOption(startupTime);
    parser.addOption(screenshot);
    parser.addOption(selectRow);
    parser.process(app);

    tkd::MainWindow window;
    window.show();
    const int row = parser.value(selectRow).toInt();
    if (row > 0)
        QObject::connect(&window, &tkd::MainWindow::datasetShown, &window,
            [&window, row] { window.clipBrowser()->selectVisibleRow(row); });
    if (parser.isSet(startupTime)) {
        // The window is on screen once its first expose event has been handled.
        QTimer::singleShot(0, &window, [&window, &sinceStart, ageAtMain] {
            window.repaint();
            std::printf(
                "first window shown %lld ms after main(), %.0f ms after the process started\n",
                (long long)sinceStart.elapsed(), ageAtMain * 1000.0 + double(sinceStart.elapsed()));
            std::fflush(stdout);
            QCoreApplication::exit(0);
        });
    }
    if (parser.isSet(screenshot) && parser.isSet(viewOption)) {
        const QString file = parser.value(screenshot);
        QTimer::singleShot(parser.value(delayOption).toInt(), &window, [&window, file] {
            const bool ok = window.grab().save(file);
            QCoreApplication::exit(ok ? 0 : 1);
        });
    }
    if (parser.isSet(screenshot) && !parser.isSet(viewOption)) {
        const QString file = parser.value(screenshot);
        QObject::connect(&window, &tkd::MainWindow::clipShown, &window, [&window, file] {
            // Let the plot finish its queued replot before grabbing.
            QTimer::singleShot(300, &window, [&window, file] {
                const bool ok = window.grab().save(file);
                QCoreApplication::exit(ok ? 0 : 1);
            });
        });
        QObject::connect(
            &window, &tkd::MainWindow::errorShown, &window, [](const QString &message) {
                qCritical("tkd-studio: %s", qPrintable(message));
                QCoreApplication::exit(1);
            });
    }
    const QStringList args = parser.positionalArguments();
    const QFileInfo arg(args.value(0));
    if (!args.isEmpty() && arg.isFile()
        && (arg.suffix() == QLatin1String("yaml") || arg.suffix() == QLatin1String("yml"))) {
        // An experiment: into the form (the clips show the built-in corpus); --run starts it.
        if (window.openExperiment(args.first()) && parser.isSet(runOption))
            QTimer::singleShot(0, &window, [&window] { window.experimentPanel()->run(); });
        window.openDataset(QStringLiteral("builtin"), QString());
    } else if (!args.isEmpty() && arg.isDir() && tkd::TrainingPanel::containsRuns(args.first())) {
        window.openRun(args.first());
    } else if (!args.isEmpty() && arg.isDir()) {
        window.openDataset(tkd::detectDatasetKind(args.first()), args.first());
    } else {
        window.openDataset(QStringLiteral("builtin"), QString());
        window.showView(QStringLiteral("start")); // nothing asked for: the first moves
    }
    if (parser.isSet(viewOption) && !window.showView(parser.value(viewOption)))
        qWarning("tkd-studio: no view named '%s'", qPrintable(parser.value(viewOption)));
    if (parser.isSet(viewOption) && parser.isSet(screenshot)) {
        const QString dockName = parser.value(viewOption) + QStringLiteral("Dock");
        // The picture is of this view alone: the docks of the other areas step aside.
        if (auto *shown = window.findChild<QDockWidget *>(dockName))
            for (QDockWidget *dock : window.findChildren<QDockWidget *>())
                if (window.dockWidgetArea(dock) != window.dockWidgetArea(shown))
                    dock->hide();
    }
    return app.exec();
}
