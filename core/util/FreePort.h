#pragma once

namespace tkd {

// A TCP port that is free on 127.0.0.1 now: bound to port 0, read back and released, so the
// caller (a c10d store, a test's Slurm daemons) can bind it a moment later. Throws tkd::Error
// when no socket can be bound.
int freeLoopbackPort();

} // namespace tkd
