#!/usr/bin/env bash
# Formats (or with --check, verifies) every C++ file with the pinned clang-format major version.
set -euo pipefail
cd "$(dirname "$0")/.."
want=14
have=$(clang-format --version | sed -E 's/.*version ([0-9]+).*/\1/')
if [ "$have" != "$want" ]; then
  echo "format: clang-format $want required (found $have)" >&2
  exit 1
fi
mapfile -t files < <(git ls-files '*.cpp' '*.hpp' | grep -v '^web/')
if [ "${1:-}" = "--check" ]; then
  clang-format --dry-run --Werror "${files[@]}"
  echo "format: ${#files[@]} files clean"
else
  clang-format -i "${files[@]}"
fi
