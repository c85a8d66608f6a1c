#pragma once

#include <QLabel>
#include <QString>

namespace tkd {

// The amber banner over a view that warns about what it shows (results at chance level, a run
// that did not finish): one look everywhere. Hidden until there is something to say.
inline void makeWarningBanner(QLabel *label, const QString &objectName)
{
    label->setObjectName(objectName);
    label->setWordWrap(true);
    label->setTextFormat(Qt::RichText);
    label->setStyleSheet(QStringLiteral("QLabel { background: #fdebd0; color: #7e5109; "
                                        "border: 1px solid #e59866; padding: 6px; }"));
    label->setVisible(false);
}

} // namespace tkd
