#!/usr/bin/env bash
# Checks C++ sources against the committed .clang-format (clang-format 14, Debian's clang-format).
#   scripts/check-format.sh            every tracked .h/.cpp under core/ widgets/ app/ tests/ bench/
#   scripts/check-format.sh --changed  only the files changed since origin's main (or HEAD~1)
#   scripts/check-format.sh FILE...    the files given
#   scripts/check-format.sh --fix ...  rewrite them in place instead of checking
# Exits 1 listing the files whose formatting differs.
set -euo pipefail
cd "$(dirname "$0")/.."
FORMAT=${CLANG_FORMAT:-clang-format}
fix=0
if [ "${1:-}" = "--fix" ]; then fix=1; shift; fi
if [ "${1:-}" = "--changed" ]; then
  base=$(git merge-base HEAD main 2>/dev/null || git rev-parse HEAD~1)
  mapfile -t files < <(git diff --name-only --diff-filter=ACMR "$base" -- '*.h' '*.cpp')
elif [ $# -gt 0 ]; then
  files=("$@")
else
  mapfile -t files < <(git ls-files -- 'core/*.h' 'core/*.cpp' 'widgets/*.h' 'widgets/*.cpp' 'app/*.h' \
                                        'app/*.cpp' 'tests/*.h' 'tests/*.cpp' 'bench/*.h' 'bench/*.cpp')
fi
[ ${#files[@]} -gt 0 ] || { echo "check-format: no files"; exit 0; }
if [ $fix = 1 ]; then
  "$FORMAT" -i "${files[@]}"
  exit 0
fi
bad=()
for f in "${files[@]}"; do
  "$FORMAT" --dry-run --Werror "$f" >/dev/null 2>&1 || bad+=("$f")
done
if [ ${#bad[@]} -gt 0 ]; then
  printf 'check-format: %s\n' "${bad[@]}"
  echo "check-format: ${#bad[@]} of ${#files[@]} files differ from .clang-format (scripts/check-format.sh --fix FILE...)"
  exit 1
fi
echo "check-format: ${#files[@]} files formatted"
