#!/usr/bin/env bash
# Configures and builds TKD Studio into build/ (Release). Extra arguments go to CMake, e.g.
#   scripts/build.sh -DTKD_BUILD_GUI=OFF            (server: core + tkd + core tests)
#   scripts/build.sh -DTorch_DIR=/opt/libtorch/share/cmake/Torch   (another LibTorch, e.g. CUDA)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${TKD_BUILD_DIR:-build}
JOBS=${TKD_JOBS:-$(nproc)}
# clang-14 when it is there (install-deps.sh installs it): with a precompiled header GCC still
# re-instantiates torch's templates in every translation unit (21 s of CPU for an empty one),
# clang does that once in the header (-fpch-instantiate-templates, which CMake adds), and the
# whole build takes about half the time. A build folder keeps the compiler it was configured with;
# CC / CXX choose another for a new one.
compiler=()
if [ ! -f "$BUILD_DIR/CMakeCache.txt" ] && [ -z "${CXX:-}" ] && command -v clang++-14 >/dev/null; then
  compiler=(-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14)
fi
cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "${compiler[@]}" "$@"
cmake --build "$BUILD_DIR" -j "$JOBS"
