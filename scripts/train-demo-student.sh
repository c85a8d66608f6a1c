#!/usr/bin/env bash
# Trains the demo student from its recipe (resources/students/kws12-demo.yaml) and replaces the
# shipped copy in resources/students/kws12-demo/ with the run's config, metrics, provenance and the
# student's best weights (without the optimiser state) (a run folder pruned to its one student, which tkd live and the studio's
# Live view open like any run). Usage: bash scripts/train-demo-student.sh [BUILD_DIR]
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
BUILD="${1:-$ROOT/build}"
TKD="$BUILD/bin/tkd"
[ -x "$TKD" ] || { echo "train-demo-student.sh: no $TKD (build first: bash scripts/build.sh)" >&2; exit 2; }
RECIPE="$ROOT/resources/students/kws12-demo.yaml"
DEST="$ROOT/resources/students/kws12-demo"

LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
start=$(date +%s)
"$TKD" train --config "$RECIPE" 2>&1 | tee "$LOG"
run="$(sed -n 's/.*run folder \(.*\)$/\1/p' "$LOG" | tail -1)"
[ -d "$run/students" ] || { echo "train-demo-student.sh: no run folder in tkd's output" >&2; exit 1; }
cells=("$run"/students/*/best.safetensors)
[ ${#cells[@]} -eq 1 ] || { echo "train-demo-student.sh: expected one student in $run" >&2; exit 1; }
cell="$(basename "$(dirname "${cells[0]}")")"

rm -rf "$DEST.tmp"
mkdir -p "$DEST.tmp/students/$cell"
cp "$run/config.yaml" "$run/metrics.json" "$run/provenance.json" "$DEST.tmp/"
# Only the model and its feature normalisation ship (553 KB instead of 1.6 MB with the optimiser).
python3 "$ROOT/scripts/strip-checkpoint.py" "${cells[0]}" "$DEST.tmp/students/$cell/best.safetensors"
rm -rf "$DEST"
mv "$DEST.tmp" "$DEST"
echo "demo student: $DEST ($cell, from $run) in $(( $(date +%s) - start )) s"
