#include "core/util/Progress.h"

#include "core/util/Error.h"

namespace tkd {

void Progress::throwIfCancelled() const
{
    if (cancelled())
        throw Cancelled();
}

} // namespace tkd
