#pragma once

#include <QColor>
#include <QString>

namespace tkd {

// One colour per model across the studio's plots, so a student keeps its colour from the
// Attention view to the Results chart. Widgets know no models: the application registers each
// student's colour from core's student registry (StudentSpec::colour) at start-up.
void setModelColour(const QString &model, const QColor &colour);
// The registered colour; the teacher's blue for "teacher"; grey for anything unknown.
QColor modelColour(const QString &model);

} // namespace tkd
