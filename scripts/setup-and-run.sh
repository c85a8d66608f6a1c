#!/usr/bin/env bash
# README command 1: install everything from Debian, build, and start the main job.
# With a display: the studio on the built-in corpus. Without one: the headless quick-start.
# Safe to re-run: installed packages, the build and the synthesised corpus are all reused.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/install-deps.sh
bash scripts/build.sh
export PATH="$PWD/build/bin:$PATH"
if [ -x build/bin/tkd-studio ] && { [ -n "${DISPLAY:-}" ] || [ -n "${WAYLAND_DISPLAY:-}" ]; }; then
  exec build/bin/tkd-studio "$@"
fi
exec bash scripts/quickstart.sh "$@"
