#!/bin/sh
# What temporal KD costs per student epoch: bench_kd_epoch for each student (vanilla, cached-KD and
# online-KD epochs through the product's StudentTrainer, alternated), then the ratios in a table.
#   bench/run_kd.sh [BUILD_DIR] [SECONDS] [THREADS] [REPEATS]
#   env: MODELS=tc-resnet8,att-rnn,crnn  CLIPS=1024 (clips per epoch)  SUBSAMPLING=2 (online teacher)
# KD / vanilla: the cost of the KD loss and attention branch with a_T from the teacher cache (goal
# <= 1.10); online / cached: what running the tiny teacher and its rollout on every batch would add.
# Times are wall seconds per epoch (medians); the 1-min load average is printed beside each student.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
seconds=${2:-8}
threads=${3:-1}
repeats=${4:-3}
models=${MODELS:-tc-resnet8,att-rnn,crnn}
clips=${CLIPS:-1024}
export OPENBLAS_NUM_THREADS=1 OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
out=$(mktemp)
trap 'rm -f "$out"' EXIT

echo "$(date -u +%H:%M:%S) uptime: $(uptime)" >&2
for m in $(echo "$models" | tr ',' ' '); do
    load=$(cut -d' ' -f1 /proc/loadavg)
    line=$("$build/bin/bench_kd_epoch" --student "$m" --clips "$clips" --seconds "$seconds" \
        --threads "$threads" --repeats "$repeats" --subsampling "${SUBSAMPLING:-2}")
    echo "$line" >&2
    echo "$load $line" >> "$out"
done
echo "$(date -u +%H:%M:%S) uptime: $(uptime)" >&2

/usr/bin/python3 - "$out" <<'PY'
import json, sys
rows = []
for l in open(sys.argv[1]):
    load, js = l.split(" ", 1)
    rows.append((float(load), json.loads(js)))
r0 = rows[0][1]
print(f"KD cost per epoch: {r0['clips']} clips of {r0['seconds']:g} s ({r0['frames']} frames), batch {r0['batch']}, "
      f"{r0['threads']} thread(s), online teacher subsampling {r0['teacher_subsampling']}; median wall s/epoch")
print(f"{'student':12} | {'vanilla':>8} {'KD cached':>9} {'KD online':>9} | {'KD/vanilla':>10} {'online/cached':>13} | load")
for load, r in rows:
    print(f"{r['student']:12} | {r['vanilla_s']:8.2f} {r['kd_cached_s']:9.2f} {r['kd_online_s']:9.2f} | "
          f"{r['kd_over_vanilla']:10.3f} {r['online_over_cached']:13.2f} | {load:.1f}")
PY
