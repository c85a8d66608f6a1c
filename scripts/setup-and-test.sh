#!/usr/bin/env bash
# README command 2 (and CI): install everything from Debian, build, run the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)
bash scripts/install-deps.sh
bash scripts/build.sh
built=$(date +%s)
# Tests must never touch the user's real cache.
export TKD_CACHE_DIR="$PWD/build/test-cache"
export QT_QPA_PLATFORM=offscreen
cd build
ctest --output-on-failure -j "${TKD_TEST_JOBS:-2}" "$@"
end=$(date +%s)
echo "build $((built - start)) s, tests $((end - built)) s"
