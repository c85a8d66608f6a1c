#!/bin/bash
# Data-parallel training on this machine's cores: one student epoch with 2 ranks x 1 thread
# (`tkd train --nproc 2 --threads 2`: torch.distributed, Gloo over 127.0.0.1) against 1 rank x 2
# threads (`tkd train --threads 2`), same experiment, same global batch; then what each model
# all-reduces per step (bench_dataparallel).
#
#   bench/run_dataparallel.sh [BUILD_DIR] [REPEATS]            e.g. bench/run_dataparallel.sh build 3
#   env: SPEAKERS built-in corpus speakers (default 40: 12 clips each, 80% train), LENGTH (2 s),
#        STUDENTS (tc-resnet8,crnn), BATCH (32), EPOCHS (2), KEEP=1 keeps the work folder,
#        TEACHER (oracle; tiny or small: that teacher trains too, TEACHER_EPOCHS (2) epochs, and
#        its row is the median time between two of its optimiser steps within an epoch).
#
# The figure compared is metrics.json's train_seconds_per_epoch of each student (optimisation
# only: data, validation and process start are excluded), rank 0's for the 2-rank run, which
# includes its waits for the all-reduces. Runs alternate which side goes first; medians over the
# repeats. Ratio = 1 rank x 2 threads / 2 ranks x 1 thread (> 1: the ranks are faster).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
repeats=${2:-3}
tkd="$build/app/tkd"
[ -x "$tkd" ] || tkd="$build/bin/tkd"
[ -x "$tkd" ] || { echo "no tkd binary under $build" >&2; exit 1; }
work=$(mktemp -d)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
export TKD_CACHE_DIR="$work/cache" OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1
students=${STUDENTS:-tc-resnet8,crnn}
teacher="{kind: oracle}"
[ "${TEACHER:-oracle}" = oracle ] || teacher="{kind: $TEACHER, epochs: ${TEACHER_EPOCHS:-2}, batch_size: ${BATCH:-32}}"

config() { # $1: runs folder
    cat > "$work/$1.yaml" <<YAML
name: dataparallel-bench
data:
  source: builtin
  corpus: {speakers: ${SPEAKERS:-40}, seed: 4}
  noisy: {length_sec: ${LENGTH:-2}, snr_db: [0, 10], noise: [white, pink]}
teacher: ${teacher}
students: [${students}]
kd: {lambdas: [0.25]}
grid: {lengths_sec: [${LENGTH:-2}], seeds: [1]}
train: {epochs: ${EPOCHS:-2}, batch_size: ${BATCH:-32}, warmup_epochs: 0}
output: {runs_dir: $work/$1}
YAML
    echo "$work/$1.yaml"
}

echo "warming the data caches..." >&2
"$tkd" cache --config "$(config warm)" > /dev/null

# Seconds per epoch of each student of the run in runs folder $1: "student seconds" lines.
epochs() {
    python3 - "$1" <<'PY'
import json, sys, glob
run = glob.glob(sys.argv[1] + "/*/metrics.json")[0]
for l in json.load(open(run))["lengths"]:
    for c in l["cells"]:
        print(c["student"], c["train_seconds_per_epoch"])
# A learned teacher: the median time between two consecutive optimiser steps of one epoch.
steps = [json.loads(x) for x in open(run.replace("metrics.json", "events.jsonl"))]
steps = [e for e in steps if e.get("type") == "step" and e.get("stage", "").startswith("teacher")]
gaps = sorted(b["t"] - a["t"] for a, b in zip(steps, steps[1:]) if a["epoch"] == b["epoch"])
if gaps:
    print("teacher-step", gaps[len(gaps) // 2])
PY
}

for r in $(seq 1 "$repeats"); do
    order="one two"
    [ $((r % 2)) = 0 ] && order="two one"
    for side in $order; do
        if [ "$side" = one ]; then
            "$tkd" train --config "$(config one-$r)" --threads 2 > /dev/null 2>&1
        else
            "$tkd" train --config "$(config two-$r)" --threads 2 --nproc 2 > /dev/null 2>&1
        fi
        epochs "$work/$side-$r" | sed "s/^/$side /" >> "$work/epochs.txt"
    done
done

python3 - "$work/epochs.txt" <<'PY'
import sys, statistics
t = {}
for line in open(sys.argv[1]):
    side, student, s = line.split()
    t.setdefault(student, {}).setdefault(side, []).append(float(s))
print("%-12s %22s %22s %8s" % ("student", "1 rank x 2 threads (s)", "2 ranks x 1 thread (s)", "ratio"))
for student, v in t.items():
    one, two = statistics.median(v["one"]), statistics.median(v["two"])
    print("%-12s %22.2f %22.2f %8.2f" % (student, one, two, one / two))
PY

bench="$build/bench/bench_dataparallel"
[ -x "$bench" ] || bench="$build/bin/bench_dataparallel"
if [ -x "$bench" ]; then
    "$bench" --repeats 10 --max-mb 400
else
    echo "bench_dataparallel is not built (cmake --build $build --target bench_dataparallel)" >&2
fi
