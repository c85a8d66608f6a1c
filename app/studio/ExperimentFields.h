#pragma once

#include "widgets/ExperimentForm.h"

#include <QVector>

namespace tkd {

// One FormField per key of ExperimentConfig::schema(), in the order people fill them in.
QVector<FormField> experimentFormFields();

} // namespace tkd
