#!/usr/bin/env bash
# Time until the web map is interactive with >= 50,000 forecast cells from a local server
# (target: under 2 s), measured in headless Chromium: navigation -> map `idle` with the cells
# drawn -> a click on a cell answered. Prints the figures and the ratio to the 2,000 ms target.
#   bench/web_interactive.sh [CRIMECAST_CLI] [OUT_DIR]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
CLI=$(realpath "${1:-$ROOT/build/release/src/crimecast}")
OUT=$(realpath -m "${2:-$ROOT/build/web-interactive}")
"$ROOT/scripts/build-web"
cd "$ROOT/web"
node tests/interactive.mjs --cli "$CLI" --out "$OUT" --cell "${CELL:-40}" --runs "${RUNS:-3}"
