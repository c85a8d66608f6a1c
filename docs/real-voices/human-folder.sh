#!/usr/bin/env bash
# Builds a folder-per-class set from the real human recordings Debian ships (alsa-utils'
# /usr/share/sounds/alsa and sound-theme-freedesktop's audio-channel-*.oga: two people saying
# "front left", "rear right", "side left", "front center", ...) for `tkd eval RUN --data
# folder:DIR`. The keyword of each is its last word: left, right, or center (not a keyword: the
# run's _unknown_). Held-back material: used for evaluation only, never trained on or committed.
# Usage: bash docs/real-voices/human-folder.sh OUT_DIR
set -euo pipefail
OUT="${1:?usage: human-folder.sh OUT_DIR}"
mkdir -p "$OUT"/left "$OUT"/right "$OUT"/center
for f in /usr/share/sounds/alsa/{Front,Rear,Side}_{Left,Right,Center}.wav \
         /usr/share/sounds/freedesktop/stereo/audio-channel-{front,rear,side}-{left,right,center}.oga; do
  [ -f "$f" ] || continue
  name="$(basename "${f%.*}" | tr 'A-Z_' 'a-z-')"
  word="${name##*-}"
  sox "$f" -r 16000 -c 1 -b 16 "$OUT/$word/$name.wav"
done
find "$OUT" -name '*.wav' | sort
