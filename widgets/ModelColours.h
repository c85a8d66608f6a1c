#pragma once

#include <QColor>
#include <QString>

namespace tkd {

// One colour per model family across the studio's plots (matplotlib's tab10, as in the paper's
// attention figure), so a student keeps its colour from the Attention view to the Results chart.
inline QColor modelColour(const QString &model)
{
    if (model == QLatin1String("teacher"))
        return QColor(31, 119, 180);
    if (model.startsWith(QLatin1String("lstm")))
        return QColor(214, 39, 40);
    if (model.startsWith(QLatin1String("tc-resnet14")))
        return QColor(140, 86, 75);
    if (model.startsWith(QLatin1String("tc-resnet")))
        return QColor(148, 103, 189);
    if (model.startsWith(QLatin1String("crnn")))
        return QColor(188, 189, 34);
    if (model.startsWith(QLatin1String("mhatt")))
        return QColor(44, 160, 44);
    if (model.startsWith(QLatin1String("att-rnn-gru")))
        return QColor(23, 190, 207);
    if (model.startsWith(QLatin1String("att")))
        return QColor(255, 127, 14);
    return QColor(127, 127, 127);
}

} // namespace tkd
