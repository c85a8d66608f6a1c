#!/usr/bin/env bash
# Installs every build, run and test dependency from Debian 12's archive.
# Safe to re-run: apt-get skips what is already there.
set -euo pipefail
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

PACKAGES=(
  # toolchain
  build-essential cmake ninja-build pkg-config git
  # core: LibTorch (+ a fast BLAS: reference BLAS is ~30x slower), audio, speech synthesis, config
  libtorch-dev libopenblas0-pthread
  libsndfile1-dev libsamplerate0-dev portaudio19-dev libasound2-dev libasound2-plugins
  libespeak-ng-dev espeak-ng-data
  libyaml-cpp-dev nlohmann-json3-dev
  # the tkd command line parser
  libcli11-dev
  # GUI
  qt6-base-dev qt6-base-dev-tools qt6-svg-dev libqcustomplot-dev libqcustomplot2.1-qt6 libgl-dev
  # tests, fixtures and benchmarks: headless X, independent references, real speech recordings
  xvfb xauth python3 python3-numpy python3-torch python3-torchaudio
  alsa-utils sound-theme-freedesktop sox espeak-ng
  dpkg-dev file
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
