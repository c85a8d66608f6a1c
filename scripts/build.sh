#!/usr/bin/env bash
# Configures and builds TKD Studio into build/ (Release). Extra arguments go to CMake, e.g.
#   scripts/build.sh -DTKD_BUILD_GUI=OFF            (server: core + tkd + core tests)
#   scripts/build.sh -DTorch_DIR=/opt/libtorch/share/cmake/Torch   (another LibTorch, e.g. CUDA)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${TKD_BUILD_DIR:-build}
JOBS=${TKD_JOBS:-$(nproc)}
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@"
cmake --build "$BUILD_DIR" -j "$JOBS"
