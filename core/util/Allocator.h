#pragma once

namespace tkd {

// Keeps freed tensor memory in the process instead of handing it back to the kernel at once.
// glibc serves blocks above its mmap threshold (a few MB, rising only as far as the largest
// block freed, never above 32 MB) with a fresh mmap each time, so every training step's
// activations (20 MB of attention probabilities per teacher layer at 8 s, 41 MB of Att-RNN's
// first conv output) were new pages, faulted in and zeroed again: page faults were 13% of a
// teacher step and a third of an Att-RNN step, whose time also varied 2x from run to run.
// Large blocks now come from the heap (no mmap for the main arena) and the heap is trimmed only
// above 1 GB free at its top (or it is trimmed after every backward pass and faulted in again):
// 14x fewer page faults on a teacher step. The cost: memory the process once needed stays
// resident, up to 1 GB more than in use.
// Call once at start-up, before other threads allocate. Returns false where the C library has no
// such control.
bool tuneAllocatorForTensors();

} // namespace tkd
