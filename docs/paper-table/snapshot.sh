#!/usr/bin/env bash
# Copies the results of a grid part's run folders (metrics.json, config.yaml, provenance.json and
# the epoch lines of events.jsonl, for curves.py) into a table's runs/ folder (default:
# docs/paper-table/runs/), where `tkd grid --table` merges them without the checkpoints.
#   snapshot.sh PART_TABLE_FOLDER [RUNS_FOLDER]   (PART_TABLE_FOLDER: a folder with a grid.json)
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
part="$1"
runs="${2:-$here/runs}"
python3 - "$part/grid.json" <<'PY' | while read -r run; do
import json, os, sys
grid = json.load(open(sys.argv[1]))
base = os.path.dirname(sys.argv[1])
for r in grid["run_dirs"]:
    print(os.path.normpath(r if os.path.isabs(r) else os.path.join(base, r)))
PY
  dest="$runs/$(basename "$run")"
  mkdir -p "$dest"
  cp "$run/metrics.json" "$run/config.yaml" "$dest/"
  [ -f "$run/provenance.json" ] && cp "$run/provenance.json" "$dest/"
  grep '"type":"epoch"' "$run/events.jsonl" > "$dest/events.jsonl" || true
done
