#!/bin/sh
# Times every student, LibTorch C++ (bench_students) against the same models in PyTorch Python
# (peer_students.py, Debian's python3-torch), same thread count, and prints the ratios.
#   bench/run_students.sh [BUILD_DIR] [THREADS] [REPEATS]
# Ratios use process CPU time (on a shared, oversubscribed machine wall time mostly measures the
# neighbours); wall medians are printed beside them. C++ runs with glibc's allocator tuned as tkd and
# the studio tune it; the peer runs twice, as Python starts and with the same tuning (its last two
# columns), so the ratio shows what the code alone is worth. Both sides get the same thread count for LibTorch's pool AND for OpenBLAS, whose own pthread
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
    # The peer again with glibc tuned as tkd tunes it (tuneAllocatorForTensors, through glibc's
    # environment variables): how much of the ratio is the allocator, how much the code.
    MALLOC_MMAP_MAX_=0 MALLOC_TRIM_THRESHOLD_=1073741824 MALLOC_TOP_PAD_=268435456 \
    /usr/bin/python3 "$here/peer_students.py" --threads "$threads" --batch "$batch" --frames "$frames" \
        --repeats "$repeats" --models "$m" >> "$out/py-tuned.jsonl"
done
# The ablation: each recurrent student through plain step-by-step autograd instead of the fused
# sequence nodes (LSTM-P's cell; LibTorch's LSTM / GRU module loop for the others).
for m in lstm-p crnn att-rnn att-rnn-gru mhatt-rnn; do
    case ",$models," in *,$m,*)
        "$build/bin/bench_students" --threads "$threads" --batch "$batch" --frames "$frames" \
            --repeats "$repeats" --models "$m-unfused" >> "$out/cpp.jsonl" ;;
    esac
done

/usr/bin/python3 - "$out/cpp.jsonl" "$out/py.jsonl" "$out/py-tuned.jsonl" <<'PY'
import json, sys
cpp = {(r["model"], r["frames"]): r for r in map(json.loads, open(sys.argv[1]))}
py = {(r["model"], r["frames"]): r for r in map(json.loads, open(sys.argv[2]))}
pyt = {(r["model"], r["frames"]): r for r in map(json.loads, open(sys.argv[3]))}
first = next(iter(cpp.values()))
print(f"batch {first['batch']}, {first['threads']} thread(s); median CPU ms (wall ms); "
      "ratio = Python / C++ CPU time (>1: C++ faster)")
print(f"{'student':16} {'frames':>6} {'params':>8} | {'fwd C++':>16} {'fwd Py':>16} {'ratio':>5} | "
      f"{'fwd+bwd C++':>16} {'fwd+bwd Py':>16} {'ratio':>5} | {'Py, tuned glibc':>16} {'ratio':>5}")
cell = lambda r, k: f"{r[k + '_cpu_ms']:7.1f} ({r[k + '_ms']:6.1f})"
for key in cpp:
    c, p = cpp[key], py.get(key)
    if p is None:
        continue
    if c["params"] != p["params"]:
        print(f"WARNING: {key[0]} has {c['params']} parameters in C++ but {p['params']} in Python")
    print(f"{key[0]:16} {key[1]:>6} {c['params']:>8} | {cell(c, 'forward')} {cell(p, 'forward')} "
          f"{p['forward_cpu_ms'] / c['forward_cpu_ms']:5.2f} | {cell(c, 'train')} {cell(p, 'train')} "
          f"{p['train_cpu_ms'] / c['train_cpu_ms']:5.2f} | {cell(pyt[key], 'train')} "
          f"{pyt[key]['train_cpu_ms'] / c['train_cpu_ms']:5.2f}")
for key, c in cpp.items():
    base = key[0][:-len("-unfused")]
    if key[0].endswith("-unfused") and (base, key[1]) in cpp:
        f = cpp[(base, key[1])]
        print(f"{base} {key[1]} frames, C++ step-by-step autograd / fused sequence nodes CPU time: "
              f"forward {c['forward_cpu_ms'] / f['forward_cpu_ms']:.2f}, "
              f"forward+backward {c['train_cpu_ms'] / f['train_cpu_ms']:.2f}")
PY
