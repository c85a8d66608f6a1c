#!/usr/bin/env bash
# Times `tkd data synth` for the built-in corpus into a throw-away cache and prints the clip
# counts. Usage: bench/bench_corpus.sh [path/to/tkd] [--speakers N] [--seed S]
# The default is the product's default corpus size; TKD_THREADS does not matter (synthesis is
# sequential: espeak-ng is single-instance).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
tkd="${1:-}"
if [[ -z "$tkd" || "$tkd" == --* ]]; then
  for cand in "$here/../build/bin/tkd" "$here/../build-corpus/bin/tkd"; do
    [[ -x "$cand" ]] && { tkd="$cand"; break; }
  done
else
  shift
fi
[[ -x "${tkd:-}" ]] || { echo "bench_corpus: no tkd binary found (pass its path first)" >&2; exit 2; }

cache="$(mktemp -d "${TMPDIR:-/tmp}/tkd-bench-corpus.XXXXXX")"
trap 'rm -rf "$cache"' EXIT

echo "== tkd data synth $* (cache $cache)"
echo "   cpu: $(nproc) cores, load $(cut -d' ' -f1-3 /proc/loadavg)"
start=$(date +%s.%N)
"$tkd" data synth --cache "$cache" "$@" </dev/null 2>"$cache.log" || { cat "$cache.log" >&2; rm -f "$cache.log"; exit 1; }
end=$(date +%s.%N)
rm -f "$cache.log"
clips=$(find "$cache" -name '*.wav' | wc -l)
size=$(du -sh "$cache" | cut -f1)
printf '   wall time %.1f s for %d clips (%.0f clips/s), %s on disk\n' \
  "$(echo "$end - $start" | bc -l)" "$clips" "$(echo "$clips / ($end - $start)" | bc -l)" "$size"

# A second run must reuse the corpus, not synthesise again.
start=$(date +%s.%N)
"$tkd" data synth --cache "$cache" "$@" >/dev/null 2>&1
end=$(date +%s.%N)
printf '   reuse of the complete corpus: %.2f s\n' "$(echo "$end - $start" | bc -l)"
