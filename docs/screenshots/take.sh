#!/bin/sh
# The README's screenshots at a laptop's 1280x720, under Xvfb with a fresh settings folder:
#   docs/screenshots/take.sh BUILD_DIR RUN_DIR [AUDIO_FILE]
# RUN_DIR: a trained run (e.g. `tkd train resources/experiments/quick.yaml --out /tmp/q`'s run).
set -eu
BUILD=${1:-build}
RUN=$2
AUDIO=${3:-}
OUT=$(dirname "$0")
# The corpus cache of the user who trained the run (a fresh HOME would synthesise it again).
export TKD_CACHE_DIR=${TKD_CACHE_DIR:-$HOME/.cache/tkd-studio}
DELAY=${DELAY:-12000}
STUDIO="$BUILD/app/studio/tkd-studio"
[ -x "$STUDIO" ] || STUDIO="$BUILD/bin/tkd-studio"
shot() { # name, then tkd-studio arguments
    name=$1
    shift
    home=$(mktemp -d)
    HOME=$home XDG_CONFIG_HOME=$home/.config xvfb-run -a -s "-screen 0 1280x720x24" \
        "$STUDIO" "$@" --delay "$DELAY" --screenshot "$OUT/$name.png" 2>/dev/null || echo "$name: failed"
    rm -rf "$home"
}
ONLY=${ONLY:-}
shot start --view start
shot experiment resources/experiments/quick.yaml --view experiment
shot training "$RUN" --view training
shot results "$RUN" --view results
shot attention "$RUN" --view attention
shot clips "$RUN" --view clips
shot clip "$RUN" --view clip
if [ -n "$AUDIO" ]; then
    TKD_LIVE_MODEL=$RUN TKD_LIVE_SOURCE=$AUDIO shot live "$RUN" --view live
fi
