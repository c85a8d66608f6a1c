#!/usr/bin/env bash
# The committed L = 8 s grid on a 2-core CPU, as it was run (docs/grid-8s/README.md has the
# timings). On a GPU run tc-resnet8.yaml and recurrent.yaml as they are instead.
#   1. tc-resnet8.yaml: trains the tiny teacher once, then TC-ResNet8 (4 lambdas x 3 seeds) in 2 workers.
#   2. recurrent-vanilla.yaml, started alongside step 1: the recurrent students' lambda = 0 cells never
#      read the teacher, so they need not wait for it.
#   3. recurrent-kd.yaml, after step 1: lambda = 0.25 with step 1's teacher (and its attention cache).
#   4. One table over all three.
# Usage: run.sh [TKD] [OUT]
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tkd="${1:-$here/../../build/bin/tkd}"
out="${2:-$here}"
cd "$here/../.."
start=$(date +%s)
"$tkd" grid --config "$here/tc-resnet8.yaml" --jobs 2 --subsampling 2 --out "$out/part1" > "$out/part1.log" 2>&1 &
p1=$!
"$tkd" grid --config "$here/recurrent-vanilla.yaml" --jobs 2 --out "$out/part2" > "$out/part2.log" 2>&1
wait $p1
home=$(grep -m1 -o 'run folder .*' "$out/part1.log" | sed 's/^run folder //')
"$tkd" grid --config "$here/recurrent-kd.yaml" --jobs 2 --subsampling 2 --teacher-run "$home" --out "$out/part3" \
    > "$out/part3.log" 2>&1
"$tkd" grid --table "$out/part1" "$out/part2" "$out/part3" --out "$out"
echo "grid total wall time: $(( $(date +%s) - start )) s" | tee "$out/wall-time.txt"
