#include "widgets/ModelColours.h"

#include <QHash>

namespace tkd {

namespace {
QHash<QString, QColor> &colours()
{
    static QHash<QString, QColor> table { { QStringLiteral("teacher"), QColor(31, 119, 180) } };
    return table;
}
} // namespace

void setModelColour(const QString &model, const QColor &colour)
{
    colours().insert(model, colour);
}

QColor modelColour(const QString &model)
{
    return colours().value(model, QColor(127, 127, 127));
}

} // namespace tkd
