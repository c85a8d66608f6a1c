#!/usr/bin/env bash
# Headless quick-start (no display): the pipeline as far as it goes today.
# 1. synthesise the built-in keyword corpus (once; reused afterwards),
# 2. build a noisy 4 s set from it (keyword at a random offset in noise, window recorded),
# 3. describe both.
set -euo pipefail
cd "$(dirname "$0")/.."
TKD=${TKD:-build/bin/tkd}
CACHE=${TKD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tkd-studio}
OUT=${TKD_QUICKSTART_OUT:-$CACHE/quickstart/noisy-4s}

echo "== 1/3 built-in corpus (cache: $CACHE)"
"$TKD" data synth
echo "== 2/3 noisy 4 s set -> $OUT"
"$TKD" data noisy --length 4 --out "$OUT"
echo "== 3/3 describe"
"$TKD" data describe --kind builtin --task 12
"$TKD" data describe --kind noisy --path "$OUT"
