#!/usr/bin/env bash
# End-to-end tests of the web client (ctest label e2e): builds web/ (npm ci when node_modules is
# missing or older than package-lock.json, then npm run build) and runs web/tests/e2e.mjs, which
# starts the real `crimecast serve` on a free loopback port with simulated data and drives
# Debian's Chromium headless through playwright-core.
#   tests/web/run-e2e.sh CRIMECAST_CLI OUT_DIR
# CRIMECAST_SKIP_WEB=1 skips (exit 77, reported as skipped by ctest); otherwise a missing node,
# npm or chromium is a failure with a clear message.
set -euo pipefail
CLI=${1:?usage: run-e2e.sh CRIMECAST_CLI OUT_DIR}
OUT=${2:?usage: run-e2e.sh CRIMECAST_CLI OUT_DIR}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ "${CRIMECAST_SKIP_WEB:-0}" = 1 ]; then
  echo "web e2e: SKIPPED because CRIMECAST_SKIP_WEB=1"
  exit 77
fi
"$ROOT/scripts/build-web" || exit 1
CHROMIUM=${CRIMECAST_CHROMIUM:-/usr/bin/chromium}
if [ ! -x "$CHROMIUM" ]; then
  echo "web e2e: FAIL: no Chromium at $CHROMIUM (scripts/setup installs Debian's chromium;" \
    "set CRIMECAST_CHROMIUM, or CRIMECAST_SKIP_WEB=1 to skip)" >&2
  exit 1
fi
mkdir -p "$OUT"
cd "$ROOT/web"
exec node tests/e2e.mjs --cli "$CLI" --out "$OUT"
