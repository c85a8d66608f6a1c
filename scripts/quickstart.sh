#!/usr/bin/env bash
# Headless quick-start (no display):
# 1. synthesise the built-in keyword corpus (once; reused afterwards),
# 2. write a browsable sample of the noisy 8 s set (keyword at a random offset in noise, its
#    window recorded) and describe it,
# 3. run `tkd quickstart`: tiny teacher -> attention cache -> TC-ResNet8 with and without temporal
#    KD at L = 8 s, printing accuracy and attention localisation.
set -euo pipefail
cd "$(dirname "$0")/.."
TKD=${TKD:-build/bin/tkd}
CACHE=${TKD_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tkd-studio}
OUT=${TKD_QUICKSTART_OUT:-$CACHE/quickstart/noisy-8s-sample}

echo "== 1/3 built-in corpus (cache: $CACHE)"
"$TKD" data synth
echo "== 2/3 noisy 8 s sample -> $OUT (open it in tkd-studio to listen and look)"
"$TKD" data noisy --length 8 --limit 100 --out "$OUT"
"$TKD" data describe --kind noisy --path "$OUT"
echo "== 3/3 quick-start training"
if "$TKD" quickstart --help >/dev/null 2>&1; then
  "$TKD" quickstart "$@"
else
  echo "(this build has no 'tkd quickstart' yet)"
fi
