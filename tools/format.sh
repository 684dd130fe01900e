#!/usr/bin/env bash
# Formats the tree: ruff format for the Python code (settings in pyproject.toml) and
# clang-format for the C code (.clang-format). Both come with the `lint` extra.
#     tools/format.sh            rewrite the files in place
#     tools/format.sh --check    change nothing; list what would change, exit 1 if anything
set -euo pipefail
cd "$(dirname "$0")/.."
check=0
[ "${1:-}" = "--check" ] && check=1

mapfile -t c_files < <(git ls-files '*.c' '*.h')
status=0
if [ "$check" = 1 ]; then
  ruff format --check . || status=1
  changed=0
  for f in "${c_files[@]}"; do
    if ! clang-format "$f" | cmp -s "$f" -; then
      echo "Would reformat: $f"
      changed=$((changed + 1))
    fi
  done
  echo "clang-format: $changed of ${#c_files[@]} C files would be reformatted"
  [ "$changed" = 0 ] || status=1
else
  ruff format .
  clang-format -i "${c_files[@]}"
fi
exit "$status"
