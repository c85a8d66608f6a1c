#!/bin/sh
# Times every student, LibTorch C++ (bench_students) against the same models in PyTorch Python
# (peer_students.py, Debian's python3-torch), same thread count, and prints the ratios.
#   bench/run_students.sh [BUILD_DIR] [THREADS] [REPEATS]
# Both sides get the same thread count for LibTorch's pool AND for OpenBLAS, whose own pthread
# pool otherwise spins on every core and, on a shared machine, slows small matmuls tenfold.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
build=${1:-$here/../build}
threads=${2:-1}
repeats=${3:-5}
frames=${FRAMES:-49,400}
batch=${BATCH:-32}
models=${MODELS:-lstm-p,tc-resnet8,tc-resnet8-1.5,tc-resnet14,tc-resnet14-1.5,crnn,att-rnn,att-rnn-gru,mhatt-rnn}
export OPENBLAS_NUM_THREADS=$threads OMP_NUM_THREADS=$threads MKL_NUM_THREADS=$threads
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

# One model at a time, C++ then Python, so both see about the same machine load.
for m in $(echo "$models" | tr ',' ' '); do
    "$build/bin/bench_students" --threads "$threads" --batch "$batch" --frames "$frames" \
        --repeats "$repeats" --models "$m" >> "$out/cpp.jsonl"
    /usr/bin/python3 "$here/peer_students.py" --threads "$threads" --batch "$batch" --frames "$frames" \
        --repeats "$repeats" --models "$m" >> "$out/py.jsonl"
done

/usr/bin/python3 - "$out/cpp.jsonl" "$out/py.jsonl" <<'PY'
import json, sys
cpp = {(r["model"], r["frames"]): r for r in map(json.loads, open(sys.argv[1]))}
py = {(r["model"], r["frames"]): r for r in map(json.loads, open(sys.argv[2]))}
first = next(iter(cpp.values()))
print(f"batch {first['batch']}, {first['threads']} thread(s); median ms; ratio = Python / C++ (>1: C++ faster)")
print(f"{'student':16} {'frames':>6} {'params':>8} | {'fwd C++':>9} {'fwd Py':>9} {'ratio':>6} | "
      f"{'f+b C++':>9} {'f+b Py':>9} {'ratio':>6}")
for key in cpp:
    c, p = cpp[key], py.get(key)
    if p is None:
        continue
    if c["params"] != p["params"]:
        print(f"WARNING: {key[0]} has {c['params']} parameters in C++ but {p['params']} in Python")
    print(f"{key[0]:16} {key[1]:>6} {c['params']:>8} | {c['forward_ms']:9.1f} {p['forward_ms']:9.1f} "
          f"{p['forward_ms'] / c['forward_ms']:6.2f} | {c['train_ms']:9.1f} {p['train_ms']:9.1f} "
          f"{p['train_ms'] / c['train_ms']:6.2f}")
PY
