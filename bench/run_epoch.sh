#!/bin/bash
# One full student epoch from WAV files: `tkd train` (this project) against an idiomatic PyTorch +
# torchaudio script doing the same work (bench/peer_epoch.py, Debian's python3-torch/torchaudio).
#
#   bench/run_epoch.sh [BUILD_DIR] [THREADS_LIST] [REPEATS]      e.g. bench/run_epoch.sh build "1 2" 3
#   env: PER_CLASS=train,validation,test clips per keyword (default 240,30,30), LENGTH=L seconds (4),
#        CORPUS=built-in corpus folder (default: the largest under ~/.cache/tkd-studio/builtin-corpus),
#        KEEP=1 keeps the work folder.
#
# Input, the same for both: a folder-per-class tree with split folders, DIR/{train,validation,test}/
# <word>/<speaker>.wav, copied from the built-in corpus's 1 s clips of the 10 Speech Commands keywords
# (its speaker-disjoint splits). Ours: `tkd train --threads T` on a data.source: folder config with
# teacher oracle, lambda 0, students [tc-resnet8], one epoch, Adam, batch 32, a cold feature cache
# (TKD_CACHE_DIR an empty folder every run). Both build L-second noisy clips around every keyword
# (white/pink/brown noise, SNR 0-10 dB over the keyword window, no babble), 20 MFCC, standardise,
# train one epoch, evaluate validation and test, save checkpoints. Whole processes are timed
# (/usr/bin/time: wall, user+sys CPU, children included), process start and imports included.
# Runs alternate (which side goes first flips every repeat) so machine load drifts hit both; the
# ratios are PyTorch / ours (> 1: this project faster), medians over the repeats.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
build=$(cd "${1:-$here/../build}" && pwd)
threads_list=${2:-1 2}
repeats=${3:-3}
length=${LENGTH:-4}
IFS=, read -r n_train n_val n_test <<< "${PER_CLASS:-240,30,30}"
corpus=${CORPUS:-}
if [ -z "$corpus" ]; then
    corpus=$(ls -d "$HOME"/.cache/tkd-studio/builtin-corpus/*/ 2>/dev/null |
        while read -r d; do echo "$(ls "$d/clips/yes" 2>/dev/null | wc -l) $d"; done | sort -n | tail -1 | cut -d' ' -f2-)
fi
[ -f "$corpus/manifest.json" ] || { echo "no built-in corpus found (run tkd data builtin, or set CORPUS)" >&2; exit 1; }
work=$(mktemp -d /tmp/tkd-epoch-bench.XXXXXX)
[ "${KEEP:-0}" = 1 ] || trap 'rm -rf "$work"' EXIT
# A private copy (LibTorch and the rest are shared libraries outside the build folder), so a
# rebuild of build/bin/tkd while the benchmark runs does not break or change it.
tkd=$work/tkd
cp "$build/bin/tkd" "$tkd"

# The dataset: the first N speakers of each split, per keyword.
/usr/bin/python3 - "$corpus" "$work/data" "$n_train" "$n_val" "$n_test" <<'PY'
import json, os, shutil, sys
corpus, out = sys.argv[1], sys.argv[2]
want = dict(zip(("train", "validation", "test"), map(int, sys.argv[3:6])))
words = "yes no up down left right on off stop go".split()
clips = json.load(open(os.path.join(corpus, "manifest.json")))["clips"]
taken = {}
for c in sorted(clips, key=lambda c: c["path"]):
    w, s = c["word"], c["split"]
    if w in words and taken.get((w, s), 0) < want[s]:
        d = os.path.join(out, s, w)
        os.makedirs(d, exist_ok=True)
        shutil.copyfile(os.path.join(corpus, c["path"]), os.path.join(d, os.path.basename(c["path"])))
        taken[(w, s)] = taken.get((w, s), 0) + 1
print("dataset:", {s: sum(v for (w, t), v in taken.items() if t == s) for s in want}, "clips of",
      len(words), "keywords from", corpus, file=sys.stderr)
PY

cat > "$work/epoch.yaml" <<EOF
name: epoch-bench
seed: 1
data:
  source: folder
  path: $work/data
  noisy:
    length_sec: $length
    snr_db: [0, 10]
    noise: [white, pink, brown]
    babble_words: 0
    seed: 1
teacher:
  kind: oracle
students: [tc-resnet8]
kd:
  lambdas: [0]
grid:
  lengths_sec: [$length]
  seeds: [1]
train:
  optimizer: adam
  lr: 0.001
  schedule: constant
  warmup_epochs: 0
  epochs: 1
  batch_size: 32
output:
  runs_dir: $work/runs
EOF
"$tkd" config check "$work/epoch.yaml" >/dev/null

# One timed run: appends {side, threads, wall, cpu, load, accuracies} to results.jsonl.
run_one() { # side threads rep
    local side=$1 t=$2 rep=$3 tag="$1-t$2-r$3" load
    load=$(cut -d' ' -f1 /proc/loadavg)
    export OMP_NUM_THREADS=$t OPENBLAS_NUM_THREADS=$t MKL_NUM_THREADS=$t
    if [ "$side" = ours ]; then
        local cache="$work/cache-$tag"
        mkdir -p "$cache"
        TKD_CACHE_DIR=$cache /usr/bin/time -f "%e %U %S" -o "$work/$tag.time" \
            "$tkd" train --config "$work/epoch.yaml" --threads "$t" > "$work/$tag.log" 2>&1 ||
            { echo "tkd train failed, see below" >&2; tail -20 "$work/$tag.log" >&2; exit 1; }
        rm -rf "$cache"
        local run
        run=$(ls -td "$work"/runs/*/ | head -1)
        /usr/bin/python3 - "$run/metrics.json" "$run/events.jsonl" > "$work/$tag.json" <<'PY'
import json, sys
m = json.load(open(sys.argv[1]))
l = m["lengths"][0]
c = l["cells"][0]
# The data stage (decode, noisy clips, features into the cold cache): first event to "data L=.. ready".
ev = [json.loads(x) for x in open(sys.argv[2])]
ready = [e["t"] for e in ev if e.get("stage", "").startswith("data L=") and e.get("message") == "ready"]
print(json.dumps({"clips": l["clips"], "val_acc": c["validation"].get("accuracy"),
                  "test_acc": c["test"].get("accuracy"), "train_epoch_s": c["train_seconds_per_epoch"],
                  "data_s": round(ready[0] - ev[0]["t"], 3) if ready else None, "status": c["status"]}))
PY
        rm -rf "$run"
    else
        /usr/bin/time -f "%e %U %S" -o "$work/$tag.time" /usr/bin/python3 "$here/peer_epoch.py" \
            --data "$work/data" --length "$length" --threads "$t" --batch 32 --out "$work" \
            > "$work/$tag.json" 2> "$work/$tag.log" ||
            { echo "peer_epoch.py failed, see below" >&2; tail -20 "$work/$tag.log" >&2; exit 1; }
    fi
    read -r wall user sys < "$work/$tag.time"
    /usr/bin/python3 - "$side" "$t" "$rep" "$wall" "$user" "$sys" "$load" "$work/$tag.json" \
        >> "$work/results.jsonl" <<'PY'
import json, sys
side, t, rep, wall, user, sys_, load, extra = sys.argv[1:9]
r = {"side": side, "threads": int(t), "rep": int(rep), "wall_s": float(wall),
     "cpu_s": float(user) + float(sys_), "load_before": float(load)}
r.update({k: v for k, v in json.loads(open(extra).read().strip().splitlines()[-1]).items()
          if k in ("val_acc", "test_acc", "train_epoch_s", "clips", "data_s")})
print(json.dumps(r))
PY
    tail -1 "$work/results.jsonl" >&2
}

echo "$(date -u +%H:%M:%S) uptime: $(uptime)" >&2
for rep in $(seq 1 "$repeats"); do
    for t in $threads_list; do
        if [ $((rep % 2)) = 1 ]; then run_one ours "$t" "$rep"; run_one pytorch "$t" "$rep"
        else run_one pytorch "$t" "$rep"; run_one ours "$t" "$rep"; fi
    done
done
echo "$(date -u +%H:%M:%S) uptime: $(uptime)" >&2

/usr/bin/python3 - "$work/results.jsonl" "$length" <<'PY'
import json, statistics as st, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
med = lambda xs: st.median(xs) if xs else float("nan")
clips = next((r["clips"] for r in rows if "clips" in r), {})
print(f"one student epoch from WAV, L = {sys.argv[2]} s, TC-ResNet8 on 20 MFCC, batch 32, clips {clips}; "
      "median over repeats; ratio = PyTorch / ours (> 1: this project faster)")
print(f"{'threads':>7} | {'wall ours':>9} {'wall Py':>8} {'ratio':>5} | {'CPU ours':>8} {'CPU Py':>7} {'ratio':>5} | "
      f"{'data ours':>9} {'data Py':>7} | {'epoch ours':>10} {'epoch Py':>8} | {'val acc ours/Py':>15} | {'load':>9}")
for t in sorted({r["threads"] for r in rows}):
    o = [r for r in rows if r["threads"] == t and r["side"] == "ours"]
    p = [r for r in rows if r["threads"] == t and r["side"] == "pytorch"]
    g = lambda rs, k: med([r[k] for r in rs if r.get(k) is not None])
    loads = [r["load_before"] for r in o + p]
    print(f"{t:>7} | {g(o, 'wall_s'):9.1f} {g(p, 'wall_s'):8.1f} {g(p, 'wall_s') / g(o, 'wall_s'):5.2f} | "
          f"{g(o, 'cpu_s'):8.1f} {g(p, 'cpu_s'):7.1f} {g(p, 'cpu_s') / g(o, 'cpu_s'):5.2f} | "
          f"{g(o, 'data_s'):9.2f} {g(p, 'data_s'):7.2f} | {g(o, 'train_epoch_s'):10.2f} {g(p, 'train_epoch_s'):8.2f} | "
          f"{g(o, 'val_acc'):7.3f}/{g(p, 'val_acc'):.3f} | {min(loads):4.1f}-{max(loads):<4.1f}")
print("(wall and CPU: whole processes, start-up and imports included; data: wall seconds from the first "
      "event (ours) / after the imports (Py) to every split's features in memory; epoch: the training loop "
      "alone, wall; load: 1-min load average before each run)")
PY
