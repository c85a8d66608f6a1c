#!/usr/bin/env bash
# The committed L = 8 s column of the paper's table on a 2-core CPU, in parts that each finish
# on their own and merge into one table (docs/paper-table/README.md has what each part changed,
# and the wall time of each).
#   part T: TC-ResNet8, lambda {0, 0.1, 0.25, 0.5} x 3 seeds, 30 epochs
#   part A: the recurrent students, lambda {0, 0.25} x 3 seeds, 12 epochs
# A part stopped on the way (a session's end) continues with
#   tkd train --resume RUN_FOLDER --shard K/2   (for each shard's run folder its shard-K.log names)
# and the table is made again with the last line below.
# Usage: run.sh [TKD] [PART ...]   (parts: t a; default: both)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tkd="${1:-$here/../../build/bin/tkd}"
shift || true
parts=("${@:-t a}")
cd "$here/../.."
export OMP_WAIT_POLICY=PASSIVE OPENBLAS_NUM_THREADS=1
for p in ${parts[@]}; do
  start=$(date +%s)
  "$tkd" grid --config "$here/part-$p.yaml" --jobs 2 --threads 2 --out "$here/part-$p" \
      > "$here/part-$p.log" 2>&1 || echo "part $p: tkd grid exited with $?" >> "$here/part-$p.log"
  echo "part $p: $(( $(date +%s) - start )) s wall" | tee -a "$here/wall-time.txt"
done
"$tkd" grid --table "$here"/part-*/ --out "$here"
