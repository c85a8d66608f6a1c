#!/usr/bin/env bash
# Streaming speed and accuracy of `tkd eval --stream` (issue 14's target: >= 200x real time on one
# core for TC-ResNet8 over one hour of audio) and the ONNX / int8 export of the same run.
#   bench/run_stream.sh [RUN]
#   (default: trains bench/stream1s.yaml - TC-ResNet8, 1 s clips, lambda 0 and 0.25 - under runs/)
# Prints the commands and their output; the x-realtime column is the figure.
set -euo pipefail
cd "$(dirname "$0")/.."
TKD=${TKD:-build/bin/tkd}
RUN=${1:-}
if [ -z "$RUN" ]; then
  echo "+ $TKD train --config bench/stream1s.yaml"
  $TKD train --config bench/stream1s.yaml
  RUN=$(ls -dt runs/*-stream1s-* | head -1)
fi
echo "+ TKD_THREADS=1 $TKD eval $RUN --stream --hours 1 --per-keyword"
TKD_THREADS=1 $TKD eval "$RUN" --stream --hours 1 --per-keyword
for cell in "$RUN"/students/*/; do
  cell=${cell%/}
  echo "+ $TKD export $cell --format onnx --int8 --force"
  $TKD export "$cell" --format onnx --int8 --force
done
