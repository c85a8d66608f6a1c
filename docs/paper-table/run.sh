#!/usr/bin/env bash
# The paper's table on the 1,600-speaker built-in corpus (resources/experiments/paper-builtin.yaml)
# on a 2-core CPU, in parts that each finish on their own and merge into one table
# (docs/paper-table/README.md has what each part changed, and the wall time of each):
#   part 2s-a: L = 2 s, TC-ResNet8, lambda {0, 0.1, 0.25, 0.5} x 3 seeds, 30 epochs
#   part 2s-b: L = 2 s, Att-RNN and MHAtt-RNN, lambda {0, 0.25} x 3 seeds, 12 epochs
#   part 2s-c: L = 2 s, CRNN and LSTM-P, lambda {0, 0.25} x seeds 2 and 3, 12 epochs (their seed 1:
#              the diagnostics' runs, snapshot in runs/)
#   part 8s-a: L = 8 s, TC-ResNet8, lambda {0, 0.25} x 3 seeds, 30 epochs
#   part 8s-b: L = 8 s, Att-RNN, lambda {0, 0.25}, seed 1, 12 epochs
# Each part's run folders leave their results (metrics.json, config.yaml, provenance.json) in
# runs/ here, so the merge needs neither the checkpoints nor the machine that trained them. A part
# stopped on the way continues with `tkd grid --resume GRID` (GRID: its folder named in part-P.log),
# then `snapshot.sh part-P` and this script with no parts left to run: `run.sh TKD -` merges only.
# The 400-speaker table of 2026-12-07 is archived with its own run.sh in 400-speakers/.
# Usage: run.sh [TKD] [PART ...]   (parts: 2s-a 2s-b 8s-a 8s-b 2s-c; default: all; "-": none, merge only)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tkd="${1:-$here/../../build/bin/tkd}"
shift || true
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(2s-a 2s-b 8s-a 8s-b 2s-c)
cd "$here/../.."
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1
for p in "${parts[@]}"; do
  [ "$p" = - ] && continue
  start=$(date +%s)
  "$tkd" grid --config "$here/part-$p.yaml" --jobs 2 --threads 2 --out "$here/part-$p" \
      > "$here/part-$p.log" 2>&1 || echo "part $p: tkd grid exited with $?" >> "$here/part-$p.log"
  echo "part $p: $(( $(date +%s) - start )) s wall" | tee -a "$here/wall-time.txt"
  bash "$here/snapshot.sh" "$here/part-$p"
done
"$tkd" grid --table "$here"/runs/*/ --out "$here"
python3 "$here/curves.py" "$here"/runs/*/ > "$here/curves.md" 2>/dev/null || true
