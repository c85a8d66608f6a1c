#!/usr/bin/env bash
# The committed L = 8 s grid: part 1 trains the tiny teacher once and TC-ResNet8 (4 lambdas x 3 seeds);
# part 2 reuses that teacher (and its attention cache) for the four recurrent students (lambda 0 and
# 0.25). Student cells run in 2 worker processes of 1 thread each (on 2 cores that is ~2x the
# throughput of one process with 2 threads for the recurrent students). Usage: run.sh [TKD] [OUT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tkd="${1:-$here/../../build/bin/tkd}"
out="${2:-$here}"
cd "$here/../.."
start=$(date +%s)
"$tkd" grid --config "$here/tc-resnet8.yaml" --jobs 2 --subsampling 2 --out "$out/part1" 2>&1 | tee "$out/part1.log"
home=$(grep -m1 -o 'run folder .*' "$out/part1.log" | sed 's/^run folder //')
"$tkd" grid --config "$here/recurrent.yaml" --jobs 2 --subsampling 2 --teacher-run "$home" --out "$out/part2" \
    2>&1 | tee "$out/part2.log"
"$tkd" grid --table "$out/part1" "$out/part2" --out "$out"
echo "grid total wall time: $(( $(date +%s) - start )) s" | tee "$out/wall-time.txt"
