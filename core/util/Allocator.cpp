#include "core/util/Allocator.h"

#include <cstdlib> // defines __GLIBC__ (through <features.h>) before it is tested

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace tkd {

bool tuneAllocatorForTensors()
{
#if defined(__GLIBC__)
    constexpr int kTrimThreshold = 1 << 30; // above a teacher step's peak (~400 MB at 8 s)
    constexpr int kTopPad = 256 << 20; // grow the heap in steps, not per step's activations
    // No mmap for the main arena's large blocks: the threshold cannot go above 32 MB, and an 8 s
    // batch has larger ones (Att-RNN's first conv output, 41 MB). Other threads' arenas still map
    // what does not fit their heaps.
    return mallopt(M_MMAP_MAX, 0) == 1 && mallopt(M_TRIM_THRESHOLD, kTrimThreshold) == 1
        && mallopt(M_TOP_PAD, kTopPad) == 1;
#else
    return false;
#endif
}

} // namespace tkd
