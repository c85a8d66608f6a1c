// tkd-studio: the desktop workbench. With no argument it opens the built-in corpus (synthesising
// it on first start); with a folder it opens that dataset.
#include "DatasetWorker.h"
#include "MainWindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QFileInfo>

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

    qRegisterMetaType<tkd::ClipRow>();
    qRegisterMetaType<tkd::ClipAudio>();
    qRegisterMetaType<QVector<tkd::ClipRow>>();

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Temporal knowledge distillation workbench"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("path"),
                                 QStringLiteral("dataset folder to open (default: the built-in corpus)"));
    parser.process(app);

    tkd::MainWindow window;
    window.show();
    const QStringList args = parser.positionalArguments();
    if (!args.isEmpty() && QFileInfo(args.first()).isDir())
        window.openDataset(tkd::detectDatasetKind(args.first()), args.first());
    else
        window.openDataset(QStringLiteral("builtin"), QString());
    return app.exec();
}
