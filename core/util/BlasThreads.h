#pragma once

namespace tkd {

// Threads of the BLAS library LibTorch calls into (Debian's LibTorch links libblas.so.3, which
// libopenblas0-pthread provides). OpenBLAS starts its own pool of busy-waiting threads, one per
// core; next to LibTorch's intra-op pool that oversubscribes the cores, and recurrent students
// at 400 frames ran 2-3x slower with both pools at 2 threads than with BLAS at 1. LibTorch
// parallelises around its BLAS calls itself, so the BLAS pool is kept at one thread.
// Returns false when the BLAS in use has no such control (reference BLAS, MKL): nothing to do.
bool setBlasThreads(int n);

} // namespace tkd
