#!/usr/bin/env bash
# The 400-speaker table (archived; docs/paper-table/400-speakers) on a 2-core CPU, in parts that each finish
# on their own and merge into one table (docs/paper-table/README.md has what each part changed,
# and the wall time of each).
#   part T: TC-ResNet8, lambda {0, 0.1, 0.25, 0.5} x 3 seeds, 30 epochs
#   part A: Att-RNN, MHAtt-RNN, CRNN (and LSTM-P, stopped), lambda {0, 0.25} x 3 seeds, 12 epochs
#   part B: LSTM-P, lambda {0, 0.25} x 3 seeds, 12 epochs
#   part C: L = 2 s, the four recurrent students, lambda {0, 0.25} x 3 seeds, 12 epochs
#   part U: L = 2 s, TC-ResNet8 as part T
#   part V: L = 4 and 6 s, TC-ResNet8 as part T
# Each part's run folders leave their results (metrics.json, config.yaml, provenance.json) in
# runs/ here, so the merge needs neither the checkpoints nor the machine that trained them. A part
# stopped on the way continues with `tkd grid --resume GRID` (GRID: its folder named in part-P.log).
# Usage: run.sh [TKD] [PART ...]   (parts: t a b c u v; default: all six)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tkd="${1:-$here/../../../build/bin/tkd}"
shift || true
parts=("$@")
[ ${#parts[@]} -gt 0 ] || parts=(t a b c u v)
cd "$here/../../.."
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1
for p in "${parts[@]}"; do
  start=$(date +%s)
  "$tkd" grid --config "$here/part-$p.yaml" --jobs 2 --threads 2 --out "$here/part-$p" \
      > "$here/part-$p.log" 2>&1 || echo "part $p: tkd grid exited with $?" >> "$here/part-$p.log"
  echo "part $p: $(( $(date +%s) - start )) s wall" | tee -a "$here/wall-time.txt"
  bash "$here/../snapshot.sh" "$here/part-$p" "$here/runs"
done
"$tkd" grid --table "$here"/runs/*/ --out "$here"
python3 "$here/../curves.py" "$here"/runs/*/ > "$here/curves.md" 2>/dev/null || true
