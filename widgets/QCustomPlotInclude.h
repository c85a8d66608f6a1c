#pragma once

// qcustomplot.h is written with Qt's lower-case keywords (signals, slots, emit, foreach), which
// this project turns off (QT_NO_KEYWORDS) because they clash with LibTorch headers. Map them to
// the macro forms for this one include, then take them away again.
#ifndef signals
#define signals Q_SIGNALS
#define TKD_QCP_UNDEF_SIGNALS
#endif
#ifndef slots
#define slots Q_SLOTS
#define TKD_QCP_UNDEF_SLOTS
#endif
#ifndef emit
#define emit Q_EMIT
#define TKD_QCP_UNDEF_EMIT
#endif
#ifndef foreach
#define foreach Q_FOREACH
#define TKD_QCP_UNDEF_FOREACH
#endif

#include <qcustomplot.h>

#ifdef TKD_QCP_UNDEF_SIGNALS
#undef signals
#undef TKD_QCP_UNDEF_SIGNALS
#endif
#ifdef TKD_QCP_UNDEF_SLOTS
#undef slots
#undef TKD_QCP_UNDEF_SLOTS
#endif
#ifdef TKD_QCP_UNDEF_EMIT
#undef emit
#undef TKD_QCP_UNDEF_EMIT
#endif
#ifdef TKD_QCP_UNDEF_FOREACH
#undef foreach
#undef TKD_QCP_UNDEF_FOREACH
#endif
