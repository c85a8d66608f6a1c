#!/usr/bin/env bash
# Builds the core, the tkd CLI and the core + CLI tests with AddressSanitizer and
# UndefinedBehaviorSanitizer in build-asan/ (GUI off) and runs them with ctest.
#
#   scripts/sanitize.sh                  # every test except tst_rtsafety
#   scripts/sanitize.sh tst_util tst_io  # only these tests (built and run)
#
# Skipped: tst_rtsafety replaces malloc/free and operator new/delete to prove the audio callback
# never allocates; that cannot coexist with ASan's allocator.
# Leak checking is off (detect_leaks=0): LibTorch allocates process-lifetime globals (thread pools,
# the op registry) that it never frees, so every test would "leak". UBSan stops at the first report.
#
# Environment: SANITIZE_JOBS (parallel compiles, default 1), CMAKE_CXX_COMPILER, CTEST_ARGS
# (extra ctest arguments, e.g. "-L unit"). Uses ccache when installed.
# A full build is about an hour of one core (LibTorch headers); later runs are incremental.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD="$ROOT/build-asan"
JOBS="${SANITIZE_JOBS:-1}"
SKIP="tst_rtsafety"

command -v cmake >/dev/null && command -v ninja >/dev/null \
  || { echo "sanitize.sh: needs cmake and ninja: scripts/install-deps.sh" >&2; exit 2; }

SAN="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined"
launcher=()
if command -v ccache >/dev/null; then
  launcher=(-DCMAKE_CXX_COMPILER_LAUNCHER=ccache -DCMAKE_C_COMPILER_LAUNCHER=ccache)
fi
compiler=()
[ -z "${CMAKE_CXX_COMPILER:-}" ] || compiler=(-DCMAKE_CXX_COMPILER="$CMAKE_CXX_COMPILER")

cmake -S "$ROOT" -B "$BUILD" -G Ninja \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCMAKE_CXX_FLAGS="$SAN" \
  -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined" \
  -DTKD_BUILD_GUI=OFF -DTKD_BUILD_TESTS=ON -DTKD_BUILD_BENCH=OFF \
  "${launcher[@]}" "${compiler[@]}" >/dev/null

# What to build: the named tests, or every test executable but the skipped one (and tkd, which
# the CLI tests run).
tests=("$@")
if [ ${#tests[@]} -eq 0 ]; then
  mapfile -t tests < <(ninja -C "$BUILD" -t targets all \
    | sed -n 's/^\(tst_[A-Za-z0-9_]*\): phony$/\1/p' | grep -vx "$SKIP" | sort -u)
fi
[ ${#tests[@]} -gt 0 ] || { echo "sanitize.sh: no tests found" >&2; exit 2; }
targets=("${tests[@]}")
ninja -C "$BUILD" -t targets all | grep -q '^tkd: phony' && targets+=(tkd)
echo "== building ${#tests[@]} tests with ASan + UBSan in $BUILD (-j$JOBS)"
ninja -C "$BUILD" -j "$JOBS" "${targets[@]}"

export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=0:abort_on_error=1:strict_string_checks=1:detect_stack_use_after_return=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
regex="^($(IFS='|'; echo "${tests[*]}"))\$"
echo "== ctest (ASAN_OPTIONS=$ASAN_OPTIONS)"
# shellcheck disable=SC2086
(cd "$BUILD" && ctest --output-on-failure -R "$regex" -E "^${SKIP}\$" ${CTEST_ARGS:-})
