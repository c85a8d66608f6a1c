#!/bin/sh
# The studio's responsiveness and footprint, for the README (not a test):
#   1. GUI event-loop stall while a run trains (longest gap between 10 ms timer ticks; goal
#      <= 100 ms) and the peak RSS, with the quick experiment run from the Experiment view -
#      once with every core for LibTorch (train.num_threads 0), once with one thread;
#   2. launch to first window shown, under Xvfb when DISPLAY is unset (median of 5).
# Usage: bench/run_studio.sh [build dir]   (from the repository root)
set -eu
BUILD=${1:-build}
export TKD_CACHE_DIR=${TKD_CACHE_DIR:-$HOME/.cache/tkd-studio}

for threads in 0 1; do
    echo "== quick experiment from the studio, train.num_threads $threads"
    QT_QPA_PLATFORM=offscreen "$BUILD/bin/bench_studio_training" --threads "$threads" 2>/dev/null
done

echo "== launch to first window (tkd-studio --startup-time), 5 launches"
if [ -z "${DISPLAY:-}" ]; then
    Xvfb :97 -screen 0 1600x1000x24 >/dev/null 2>&1 &
    XVFB=$!
    trap 'kill $XVFB' EXIT
    export DISPLAY=:97
    sleep 1
fi
for i in 1 2 3 4 5; do
    start=$(date +%s%N)
    line=$("$BUILD/bin/tkd-studio" --startup-time 2>/dev/null)
    end=$(date +%s%N)
    echo "$line; process start to exit $(( (end - start) / 1000000 )) ms"
done
