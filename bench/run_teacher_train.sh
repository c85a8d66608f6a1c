#!/bin/sh
# Teacher training throughput, fresh noise included: the teacher the 8 s grid trained (tiny,
# 2x frame stacking, L = 8 s: "before") against the shipped recipe's stages (small at L = 2 s,
# then at L = 8 s: "now"), through the product's TeacherTrainer, same machine, same run.
#   bench/run_teacher_train.sh [BUILD_DIR] [THREADS]
# Prints clips/s per configuration and the recipe's ratio against "before": clips of the recipe
# (8 epochs at 2 s + 2 at 8 s, then 4 at 4 s with the attention-focus term) per second of its
# training, over the grid teacher's clips/s. "before" runs under the runtime of its day
# (--runtime issue: torch::dropout, glibc's default allocator thresholds); the small teacher at 8 s
# is timed under both runtimes too, which isolates what the runtime alone is worth.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
threads=${2:-2}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=$threads OMP_WAIT_POLICY=PASSIVE
echo "$(date -u +%H:%M:%S) $(uptime)" >&2
before=$("$build/bin/bench_teacher_train" --model tiny --subsampling 2 --seconds 8 --threads "$threads" --runtime issue)
echo "before: $before"
now2=$("$build/bin/bench_teacher_train" --model small --seconds 2 --threads "$threads")
echo "now, L=2: $now2"
now8=$("$build/bin/bench_teacher_train" --model small --seconds 8 --threads "$threads")
echo "now, L=8: $now8"
old8=$("$build/bin/bench_teacher_train" --model small --seconds 8 --threads "$threads" --runtime issue)
echo "small, L=8, runtime of the issue's day: $old8"
now4=$("$build/bin/bench_teacher_train" --model small --seconds 4 --focus 1 --threads "$threads")
echo "now, L=4 with the focus term: $now4"
echo "$(date -u +%H:%M:%S) $(uptime)" >&2
/usr/bin/python3 - "$before" "$now2" "$now8" "$now4" "$old8" <<'PY'
import json, sys
b, n2, n8, n4, o8 = (json.loads(a) for a in sys.argv[1:])
print(f"clips/s: before (tiny, L=8 s) {b['clips_per_s']:.1f}; now small L=2 s {n2['clips_per_s']:.1f}, "
      f"L=8 s {n8['clips_per_s']:.1f}")
print(f"same clip length (8 s): {n8['clips_per_s'] / b['clips_per_s']:.2f}x")
print(f"runtime alone (small, L=8 s): {o8['clips_per_s']:.1f} -> {n8['clips_per_s']:.1f} clips/s, "
      f"{n8['clips_per_s'] / o8['clips_per_s']:.2f}x")
# The shipped recipe: 8 epochs at 2 s, then 2 at 8 s, over the same number of clips per epoch.
t = 8 / n2['clips_per_s'] + 2 / n8['clips_per_s']
print(f"recipe stages 1-2 (8 epochs at 2 s + 2 at 8 s): {10 / t:.1f} clips/s, {10 / t / b['clips_per_s']:.2f}x before")
# The whole shipped recipe: stages 3-4 add 4 epochs at 4 s with the attention-focus term.
t4 = t + 4 / n4['clips_per_s']
print(f"L=4 s with the focus term: {n4['clips_per_s']:.1f} clips/s")
print(f"whole recipe (8 at 2 s, 2 at 8 s, 4 at 4 s with focus): {14 / t4:.1f} clips/s, "
      f"{14 / t4 / b['clips_per_s']:.2f}x before")
PY
