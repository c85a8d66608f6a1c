#!/bin/sh
# Teacher training throughput, fresh noise included: the teacher the 8 s grid trained (tiny,
# 2x frame stacking, L = 8 s: "before") against the shipped recipe's stages (small at L = 2 s,
# then at L = 8 s: "now"), through the product's TeacherTrainer, same machine, same run.
#   bench/run_teacher_train.sh [BUILD_DIR] [THREADS]
# Prints clips/s per configuration and the recipe's ratio against "before": clips of the recipe
# (8 epochs at 2 s + 2 at 8 s, then 4 at 4 s with the attention-focus term) per second of its
# training, over the grid teacher's clips/s. "before" runs under the runtime of its day
# (--runtime issue: torch::dropout, glibc's default allocator thresholds); the small teacher at 8 s
# is timed under both runtimes too, which isolates what the runtime alone is worth. The recipe's
# stages are timed again on NPROC ranks x 1 thread (default 2: `tkd teacher pretrain --nproc 2`
# on the same cores; NPROC=1 skips them).
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
nproc=${NPROC:-2}
r2=null r8=null r4=null
if [ "$nproc" -gt 1 ]; then
  r2=$("$build/bin/bench_teacher_train" --model small --seconds 2 --threads 1 --nproc "$nproc")
  echo "now, L=2, $nproc ranks x 1 thread: $r2"
  r8=$("$build/bin/bench_teacher_train" --model small --seconds 8 --threads 1 --nproc "$nproc")
  echo "now, L=8, $nproc ranks x 1 thread: $r8"
  r4=$("$build/bin/bench_teacher_train" --model small --seconds 4 --focus 1 --threads 1 --nproc "$nproc")
  echo "now, L=4 with the focus term, $nproc ranks x 1 thread: $r4"
fi
echo "$(date -u +%H:%M:%S) $(uptime)" >&2
/usr/bin/python3 - "$before" "$now2" "$now8" "$now4" "$old8" "$r2" "$r8" "$r4" <<'PY'
import json, sys
b, n2, n8, n4, o8, r2, r8, r4 = (json.loads(a) for a in sys.argv[1:])
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
if r2:
    n = r2['nproc']
    tr = 8 / r2['clips_per_s'] + 2 / r8['clips_per_s'] + 4 / r4['clips_per_s']
    print(f"on {n} ranks x 1 thread: L=2 s {r2['clips_per_s']:.1f}, L=8 s {r8['clips_per_s']:.1f}, "
          f"L=4 s with focus {r4['clips_per_s']:.1f} clips/s")
    print(f"whole recipe on {n} ranks x 1 thread: {14 / tr:.1f} clips/s, "
          f"{14 / tr / b['clips_per_s']:.2f}x before, {t4 / tr:.2f}x the same recipe in 1 process")
PY
