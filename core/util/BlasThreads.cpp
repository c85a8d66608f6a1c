#include "core/util/BlasThreads.h"

#include <dlfcn.h>

namespace tkd {

bool setBlasThreads(int n)
{
    // Looked up at run time: the BLAS behind libblas.so.3 is chosen by Debian's alternatives,
    // so the symbol may not exist, and linking against OpenBLAS directly would pin one.
    using SetFn = void (*)(int);
    auto *fn = reinterpret_cast<SetFn>(dlsym(RTLD_DEFAULT, "openblas_set_num_threads"));
    if (!fn)
        return false;
    fn(n < 1 ? 1 : n);
    return true;
}

} // namespace tkd
