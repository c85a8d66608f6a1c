#!/usr/bin/env bash
# Installs every build, run and test dependency from Debian 12's archive.
# Safe to re-run: apt-get skips what is already there.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # toolchain; clang-14 compiles the project (scripts/build.sh): with its precompiled header a
  # translation unit that includes torch takes a few seconds, against 20-30 s with GCC
  build-essential clang-14 cmake ninja-build pkg-config git
  # core: LibTorch (+ a fast BLAS: reference BLAS is ~30x slower), audio, speech synthesis, config
  libtorch-dev libopenblas0-pthread
  libsndfile1-dev libsamplerate0-dev portaudio19-dev libasound2-dev libasound2-plugins
  libespeak-ng-dev espeak-ng-data
  # the built-in corpus's second voice family (corpus.flite_share): flite's US English voices
  flite1-dev
  libyaml-cpp-dev nlohmann-json3-dev
  # the tkd command line parser
  libcli11-dev
  # ONNX export: protobuf model, checker and shape inference (tkd export --format onnx)
  libonnx-dev libprotobuf-dev
  # GUI
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libqcustomplot-dev libqcustomplot2.1-qt6 libgl-dev
  # tests, fixtures and benchmarks: headless X, independent references, real speech recordings
  xvfb xauth python3 python3-numpy python3-torch python3-torchaudio
  alsa-utils sound-theme-freedesktop sox espeak-ng
  dpkg-dev file
  # the formatting check of the test suite (tests/CMakeLists.txt: test 'format')
  clang-format
  # the independent runtime of the ONNX export tests: ONNX Runtime from npm (below) runs on node
  nodejs
  # grids on Slurm (tkd grid --slurm) and its end-to-end test: a single-node Slurm that the test
  # configures and starts in a temporary folder (it uses no system-wide config or service)
  slurmctld slurmd slurm-client munge
  # data-parallel training (tkd train --nproc, srun tkd train): Gloo for c10d
  libgloo-dev
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing ${#missing[@]} Debian packages: ${missing[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
else
  echo "All Debian dependencies are installed."
fi

# ONNX Runtime, the independent runtime the ONNX export tests (and `tkd export --format onnx`'s
# latency figures) check LibTorch against: npm's onnxruntime-node ships libonnxruntime for
# linux-x64 inside the package. Installed into the project (.cache/onnxruntime-node, ignored by
# git) without its install script, which only fetches optional CUDA binaries. Offline-safe: an
# existing install is kept, and a failed download leaves the build working (those tests then say
# why they skip).
ORT_VERSION=1.31.1
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
ORT_DIR="$ROOT/.cache/onnxruntime-node"
if grep -qs "\"version\": \"$ORT_VERSION\"" "$ORT_DIR/node_modules/onnxruntime-node/package.json"; then
  echo "ONNX Runtime (npm onnxruntime-node $ORT_VERSION) is installed in $ORT_DIR."
else
  if ! command -v npm >/dev/null 2>&1; then
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends npm || true
  fi
  mkdir -p "$ORT_DIR"
  if (cd "$ORT_DIR" && npm install --no-audit --no-fund --ignore-scripts --loglevel=error \
        "onnxruntime-node@$ORT_VERSION" >/dev/null); then
    echo "Installed ONNX Runtime (npm onnxruntime-node $ORT_VERSION) in $ORT_DIR."
  else
    echo "warning: could not install npm onnxruntime-node $ORT_VERSION; the ONNX runtime tests will skip" >&2
  fi
fi
