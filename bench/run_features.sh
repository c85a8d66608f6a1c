#!/bin/sh
# Feature front end throughput, this project vs torchaudio, at 1 and 2 threads. Builds nothing:
#   ninja -C build-features bench_features   (first), then
#   bench/run_features.sh [build-dir]        (default: build-features, or $TKD_BUILD_DIR)
# Both sides get the same thread count for intra-op work (torch.set_num_threads) and for
# OpenBLAS/OpenMP (environment), the same batch (64 clips x 8 s; override with BATCH,
# CLIP_SECONDS, REPS) and the same MFCC-20 config. The two alternate for ROUNDS rounds (default 3)
# and each side's best throughput counts, so a busy shared machine hurts both alike.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
build=${1:-${TKD_BUILD_DIR:-$root/build-features}}
case $build in /*) ;; *) build=$root/$build ;; esac
bin=$build/bin/bench_features
python=${PYTHON:-/usr/bin/python3}
batch=${BATCH:-64}
seconds=${CLIP_SECONDS:-8}
reps=${REPS:-5}
rounds=${ROUNDS:-3}
if [ ! -x "$bin" ]; then
    echo "run_features.sh: $bin not found; build it first: ninja -C $build bench_features" >&2
    exit 1
fi
throughput() { sed -n 's/.*throughput=\([0-9.]*\).*/\1/p' | head -n1; }
max() { awk -v a="$1" -v b="$2" 'BEGIN { print (a > b ? a : b) }'; }
for t in 1 2; do
    best_ours=0
    best_peer=0
    r=1
    while [ "$r" -le "$rounds" ]; do
        ours=$(OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$bin" --threads "$t" --batch "$batch" \
               --seconds "$seconds" --reps "$reps")
        peer=$(OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t "$python" "$here/peer_features.py" \
               --threads "$t" --batch "$batch" --seconds "$seconds" --reps "$reps")
        echo "$ours"
        echo "$peer"
        best_ours=$(max "$best_ours" "$(echo "$ours" | throughput)")
        best_peer=$(max "$best_peer" "$(echo "$peer" | throughput)")
        r=$((r + 1))
    done
    awk -v a="$best_ours" -v b="$best_peer" -v t="$t" 'BEGIN {
        printf "RATIO threads=%d  tkd / torchaudio throughput = %.2f  (best %.0f vs %.0f s of audio per s)\n\n", t, a / b, a, b }'
done
