// tkd-studio: the desktop workbench. With no argument it opens the built-in corpus (synthesising
// it on first start); with a folder it opens that dataset.
#include "DatasetWorker.h"
#include "MainWindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>
#include <QTimer>

#include "widgets/ClipBrowser.h"

#include "core/util/BlasThreads.h"

#include <torch/torch.h>

#include <thread>

namespace tkd {
QString detectDatasetKind(const QString &path);
}

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setOrganizationName(QStringLiteral("tkd-studio"));
    QApplication::setApplicationName(QStringLiteral("TKD Studio"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));
    QApplication::setDesktopFileName(QStringLiteral("tkd-studio"));
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
                                       QStringLiteral("select the N-th clip after opening"),
                                       QStringLiteral("N"), QStringLiteral("0"));
    parser.addOption(screenshot);
    parser.addOption(selectRow);
    parser.process(app);

    tkd::MainWindow window;
    window.show();
    const int row = parser.value(selectRow).toInt();
    if (row > 0)
        QObject::connect(&window, &tkd::MainWindow::datasetShown, &window,
                         [&window, row] { window.clipBrowser()->selectVisibleRow(row); });
    if (parser.isSet(screenshot)) {
        const QString file = parser.value(screenshot);
        QObject::connect(&window, &tkd::MainWindow::clipShown, &window, [&window, file] {
            // Let the plot finish its queued replot before grabbing.
            QTimer::singleShot(300, &window, [&window, file] {
                const bool ok = window.grab().save(file);
                QCoreApplication::exit(ok ? 0 : 1);
            });
        });
        QObject::connect(&window, &tkd::MainWindow::errorShown, &window, [](const QString &message) {
            qCritical("tkd-studio: %s", qPrintable(message));
            QCoreApplication::exit(1);
        });
    }
    const QStringList args = parser.positionalArguments();
    if (!args.isEmpty() && QFileInfo(args.first()).isDir())
        window.openDataset(tkd::detectDatasetKind(args.first()), args.first());
    else
        window.openDataset(QStringLiteral("builtin"), QString());
    return app.exec();
}
