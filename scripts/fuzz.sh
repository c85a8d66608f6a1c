#!/usr/bin/env bash
# Builds the libFuzzer targets of tests/fuzz (clang-14, ASan + UBSan) and runs each for SECONDS.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]      # default: 60 s, every target
#   scripts/fuzz.sh --list                     # the targets and the sources each one builds
#   scripts/fuzz.sh --build-only [TARGET...]   # build, run nothing
#   scripts/fuzz.sh --no-build [SECONDS] [T...] # run what build-fuzz/bin already has
#
# Each target feeds one parser. A target is built from its harness and only the core sources
# the parser needs (not the whole core: torch-heavy sources are compiled once, with a shared
# precompiled header, and cached in build-fuzz/). The committed seeds (tests/fuzz/corpus/<target>)
# are copied into build-fuzz/corpus/<target>, which grows across runs and is never committed.
# A finding (crash, sanitizer report, an exception other than tkd::Error, a timeout of
# FUZZ_TIMEOUT s, more than FUZZ_RSS_MB of memory) leaves its input in build-fuzz/findings/<target>/
# and makes the script exit non-zero.
#
# Environment: FUZZ_JOBS (parallel compiles, default 1), FUZZ_TIMEOUT (s per input, default 10),
# FUZZ_RSS_MB (default 2048), FUZZ_EXTRA (more libFuzzer flags), CXX (default clang++-14).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/build-fuzz"
CXX="${CXX:-clang++-14}"
JOBS="${FUZZ_JOBS:-1}"
TIMEOUT="${FUZZ_TIMEOUT:-10}"
RSS_MB="${FUZZ_RSS_MB:-2048}"

# --- targets: name, dictionary, core sources (the parser first; found from its includes and the
# symbols it links) ---------------------------------------------------------------------------
UTIL="core/util/Error.cpp core/util/AtomicFile.cpp"
declare -A SOURCES DICT MAXLEN TORCH
SOURCES[audio]="core/audio/AudioFile.cpp core/audio/Resampler.cpp $UTIL"
DICT[audio]=audio.dict;  MAXLEN[audio]=65536
SOURCES[safetensors]="core/io/SafeTensors.cpp core/util/Hash.cpp $UTIL"
DICT[safetensors]=json.dict;  MAXLEN[safetensors]=16384;  TORCH[safetensors]=1
SOURCES[hfconfig]="core/io/HfConfig.cpp core/util/Paths.cpp $UTIL"
DICT[hfconfig]=json.dict
SOURCES[experiment]="core/experiment/ExperimentConfig.cpp core/experiment/ExperimentConfigCheck.cpp
  core/experiment/ExperimentConfigSchema.cpp core/experiment/ExperimentConfigYaml.cpp
  core/experiment/OptimiserKind.cpp core/features/FeatureConfig.cpp core/distill/KdTarget.cpp
  core/distill/AttentionRollout.cpp core/models/TeacherKind.cpp core/models/StudentRegistry.cpp
  core/models/StudentNetwork.cpp core/models/ModelStats.cpp core/models/AttRnn.cpp
  core/models/AttRnnLayers.cpp core/models/Crnn.cpp core/models/LstmP.cpp core/models/LstmPCell.cpp
  core/models/MiddleFrameAttention.cpp core/models/TcResNet.cpp core/models/TcResNetBlock.cpp
  core/experiment/TrainingChoices.cpp core/models/FusedRnn.cpp core/data/RoomChannel.cpp
  core/data/FliteVoices.cpp core/util/Format.cpp
  core/data/BuiltinCorpus.cpp core/data/BuiltinCorpusSynthesis.cpp core/data/Dataset.cpp
  core/data/DatasetRoot.cpp core/data/DatasetSource.cpp core/data/FolderDataset.cpp
  core/data/Fsd50kDataset.cpp core/data/NoiseGenerator.cpp core/data/NoisyDataset.cpp
  core/data/NoisyManifest.cpp core/data/SpeechActivity.cpp core/data/SpeechCommandsDataset.cpp
  core/audio/AudioFile.cpp core/audio/Resampler.cpp core/util/Hash.cpp core/util/Paths.cpp
  core/util/Progress.cpp core/util/Rng.cpp $UTIL"
DICT[experiment]=yaml.dict;  TORCH[experiment]=1
SOURCES[speech_commands]="core/data/SpeechCommandsDataset.cpp core/data/Dataset.cpp
  core/data/DatasetRoot.cpp core/audio/AudioFile.cpp core/audio/Resampler.cpp core/util/Hash.cpp
  core/util/Progress.cpp core/util/Rng.cpp $UTIL"
DICT[speech_commands]=lists.dict
SOURCES[fsd50k_csv]="core/data/Fsd50kDataset.cpp core/data/Dataset.cpp core/data/DatasetRoot.cpp
  core/util/Hash.cpp core/util/Paths.cpp core/util/Progress.cpp $UTIL"
DICT[fsd50k_csv]=csv.dict
SOURCES[noisy_manifest]="core/data/NoisyManifest.cpp core/data/Dataset.cpp core/util/Hash.cpp
  core/util/Paths.cpp $UTIL"
DICT[noisy_manifest]=json.dict
SOURCES[events]="core/train/EventLog.cpp core/util/Error.cpp"
DICT[events]=json.dict
SOURCES[metrics]="core/experiment/PipelineResult.cpp core/models/TeacherKind.cpp core/util/Format.cpp
  core/util/Paths.cpp $UTIL"
DICT[metrics]=json.dict
ALL_TARGETS=(events metrics hfconfig fsd50k_csv noisy_manifest speech_commands audio safetensors
  experiment)

usage() { sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; }

SECONDS_PER_TARGET=60
BUILD_ONLY=0
NO_BUILD=0
TARGETS=()
for a in "$@"; do
  case "$a" in
    -h|--help) usage; exit 0 ;;
    --list) for t in "${ALL_TARGETS[@]}"; do echo "$t:" ${SOURCES[$t]}; done; exit 0 ;;
    --build-only) BUILD_ONLY=1 ;;
    --no-build) NO_BUILD=1 ;;
    *[!0-9]*)
      [ -n "${SOURCES[$a]+x}" ] || { echo "fuzz.sh: unknown target '$a' (--list)" >&2; exit 2; }
      TARGETS+=("$a") ;;
    *) SECONDS_PER_TARGET="$a" ;;
  esac
done
[ ${#TARGETS[@]} -gt 0 ] || TARGETS=("${ALL_TARGETS[@]}")

# --- toolchain -------------------------------------------------------------------------------
need=()
command -v "$CXX" >/dev/null || need+=(clang-14)
command -v ninja >/dev/null || need+=(ninja-build)
[ -e /usr/lib/llvm-14/lib/clang/14.0.6/lib/linux/libclang_rt.fuzzer-x86_64.a ] \
  || ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 \
  || need+=(libclang-rt-14-dev libfuzzer-14-dev)
if [ ${#need[@]} -gt 0 ]; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  echo "fuzz.sh: installing ${need[*]} (Debian 12)"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${need[@]}" \
    || { echo "fuzz.sh: needs ${need[*]}: apt-get install ${need[*]}" >&2; exit 2; }
fi

# --- build: a generated ninja file (one build at a time: build-fuzz/.lock) (depfiles, so an edited header rebuilds what includes it) ---
mkdir -p "$OUT"
if [ "$NO_BUILD" -eq 0 ]; then
exec 9>"$OUT/.lock"
flock 9
SAN="-fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer"
CFLAGS="-std=c++17 -O1 -gline-tables-only $SAN -D_GLIBCXX_USE_CXX11_ABI=1 -I$ROOT
  -isystem /usr/include/torch/csrc/api/include -Wno-unused-command-line-argument"
# flite's voices in the order the linker needs them (cmake/TkdDependencies.cmake's list)
FLITE_LIBS="-lflite_cmu_us_kal -lflite_cmu_us_kal16 -lflite_cmu_us_awb -lflite_cmu_us_rms
  -lflite_cmu_us_slt -lflite_usenglish -lflite_cmulex -lflite"
LIBS="-lsndfile -lsamplerate -lyaml-cpp -lespeak-ng $(echo $FLITE_LIBS) -lpthread"
TORCH_LIBS="-ltorch -ltorch_cpu -lc10"
objs_of() { # target -> its object files
  local o=()
  for s in ${SOURCES[$1]}; do o+=("obj/${s%.cpp}.o"); done
  echo "obj/tests/fuzz/fuzz_$1.o ${o[*]}"
}
declare -A TORCH_INC=()
includes_torch() { # a file that includes <torch/...>, itself or through core headers: gets the PCH
  local f="$1" h
  [ -z "${TORCH_INC[$f]+x}" ] || return "${TORCH_INC[$f]}"
  TORCH_INC[$f]=1
  # The core force-includes its PCH in these parts, and some sources count on it.
  case "$f" in core/models/*.cpp|core/distill/*.cpp|core/features/*.cpp) TORCH_INC[$f]=0; return 0 ;; esac
  if grep -q '^#include <torch/' "$ROOT/$f"; then TORCH_INC[$f]=0; return 0; fi
  for h in $(sed -n 's/^#include "\(core\/[^"]*\)".*/\1/p' "$ROOT/$f"); do
    if includes_torch "$h"; then TORCH_INC[$f]=0; return 0; fi
  done
  return 1
}
{
  echo "# generated by scripts/fuzz.sh"
  echo "cxx = $CXX"
  echo "cflags = $(echo $CFLAGS)"
  echo "rule pch"
  echo "  command = \$cxx \$cflags -fsanitize=fuzzer-no-link -MMD -MF \$out.d -x c++-header \$in -o \$out"
  echo "  depfile = \$out.d"
  echo "  description = PCH \$in"
  echo "rule cxx"
  echo "  command = \$cxx \$cflags -fsanitize=fuzzer-no-link \$extra -MMD -MF \$out.d -c \$in -o \$out"
  echo "  depfile = \$out.d"
  echo "  description = CXX \$in"
  echo "rule link"
  echo "  command = \$cxx \$cflags -fsanitize=fuzzer \$in -o \$out \$libs"
  echo "  description = LINK \$out"
  echo "build pch/TorchPch.h.pch: pch $ROOT/core/pch/TorchPch.h"
  declare -A seen=()
  for t in "${TARGETS[@]}"; do
    for s in tests/fuzz/fuzz_$t.cpp ${SOURCES[$t]}; do
      [ -z "${seen[$s]+x}" ] || continue
      seen[$s]=1
      if includes_torch "$s"; then
        echo "build obj/${s%.cpp}.o: cxx $ROOT/$s | pch/TorchPch.h.pch"
        echo "  extra = -include-pch pch/TorchPch.h.pch"
      else
        echo "build obj/${s%.cpp}.o: cxx $ROOT/$s"
        # The core force-includes its PCH (these headers + torch) in every part but util and
        # audio, and some sources count on it for the standard headers.
        case "$s" in
          core/util/*|core/audio/*|tests/*) ;;
          *) echo "  extra = $(printf -- '-include %s ' algorithm array cmath cstdint functional map \
               memory optional stdexcept string unordered_map utility vector)" ;;
        esac
      fi
    done
    libs="$LIBS"
    [ -z "${TORCH[$t]:-}" ] || libs="$libs $TORCH_LIBS"
    echo "build bin/fuzz_$t: link $(objs_of "$t")"
    echo "  libs = $libs"
  done
} >"$OUT/build.ninja"
echo "== building ${TARGETS[*]} in $OUT (-j$JOBS)"
# One target after the other, so that the first ones are ready early.
for t in "${TARGETS[@]}"; do (cd "$OUT" && ninja -j"$JOBS" "bin/fuzz_$t"); done
flock -u 9
fi
[ "$BUILD_ONLY" -eq 0 ] || exit 0

# --- run ---------------------------------------------------------------------------------------
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1:allocator_may_return_null=0}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
# LibTorch allocates globals it never frees (and so does the leak check's view of its thread
# pools): leaks are not checked in the targets that link it.
failed=()
summary=()
for t in "${TARGETS[@]}"; do
  corpus="$OUT/corpus/$t"
  findings="$OUT/findings/$t"
  mkdir -p "$corpus" "$findings"
  [ -d "$ROOT/tests/fuzz/corpus/$t" ] && cp -n "$ROOT/tests/fuzz/corpus/$t"/* "$corpus"/ 2>/dev/null || true
  flags=(-max_total_time="$SECONDS_PER_TARGET" -rss_limit_mb="$RSS_MB" -timeout="$TIMEOUT"
    -artifact_prefix="$findings/" -print_final_stats=1 -detect_leaks="$([ -n "${TORCH[$t]:-}" ] && echo 0 || echo 1)")
  [ -n "${DICT[$t]:-}" ] && flags+=(-dict="$ROOT/tests/fuzz/dict/${DICT[$t]}")
  [ -n "${MAXLEN[$t]:-}" ] && flags+=(-max_len="${MAXLEN[$t]}")
  log="$OUT/$t.log"
  echo "== fuzz_$t: ${SECONDS_PER_TARGET} s (log: $log)"
  rc=0
  # shellcheck disable=SC2086
  "$OUT/bin/fuzz_$t" "${flags[@]}" ${FUZZ_EXTRA:-} "$corpus" >"$log" 2>&1 || rc=$?
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  secs=$(sed -n 's/.*Done [0-9]* runs in \([0-9]*\) second.*/\1/p' "$log" | tail -1)
  found=$(find "$findings" -type f | wc -l)
  if [ "$rc" -ne 0 ] || [ "$found" -gt 0 ]; then
    failed+=("$t")
    grep -E 'ERROR: |SUMMARY: |FUZZ FINDING|terminate called|what\(\)' "$log" | head -5 | sed 's/^/   /'
  fi
  summary+=("$(printf '%-16s %12s execs %6s s  exit %3s  findings %s' "$t" "${execs:-?}" "${secs:-?}" "$rc" "$found")")
done
echo "== summary (${SECONDS_PER_TARGET} s per target)"
printf '%s\n' "${summary[@]}"
if [ ${#failed[@]} -gt 0 ]; then
  echo "fuzz.sh: findings in ${failed[*]}: inputs under $OUT/findings/<target>/, logs $OUT/<target>.log" >&2
  exit 1
fi
echo "fuzz.sh: no findings"
