#!/usr/bin/env bash
# Benchmark at national scale: a synthetic year of about 7 million recorded crimes over a
# 500 km x 500 km square of England (EPSG:27700), written by `crimecast simulate`, then imported
# with `crimecast import`. Prints import time, peak memory (max RSS) and database size, plus the
# named baseline measured in the same run: the sqlite3 shell's `.import` of the same CSV into a
# plain table, and the ratio.
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/release/src/crimecast}
WORK=${WORK:-$(mktemp -d)}
MU=${MU:-13425}     # background events/day; with theta 0.3 about 7.0 million events a year
mkdir -p "$WORK"
trap '[ -z "${KEEP:-}" ] && rm -rf "$WORK"' EXIT
t0=$(date +%s.%N)
"$CLI" simulate --out "$WORK/national.csv" --seed 7 --start 2024-01-01 --days 365 \
  --mu "$MU" --theta 0.3 --size-km 500 --centre -1.5,52.6 --hotspots 400 --quiet
t1=$(date +%s.%N)
rows=$(($(wc -l < "$WORK/national.csv") - 1))
/usr/bin/time -f "%e %M %U %S" -o "$WORK/time.txt" \
  "$CLI" import --quiet --db "$WORK/national.db" --format csv --source national "$WORK/national.csv"
read -r import_s import_kb import_u import_s2 < "$WORK/time.txt"
db_bytes=$(du -cb "$WORK"/national.db* | tail -1 | cut -f1)
{
  echo "PRAGMA journal_mode=WAL;"
  echo "PRAGMA synchronous=FULL;"
  echo "CREATE TABLE t(id,category,time,lon,lat);"
  echo ".import --csv --skip 1 $WORK/national.csv t"
} > "$WORK/import.sql"
/usr/bin/time -f "%e %M %U %S" -o "$WORK/time2.txt" sqlite3 "$WORK/sq.db" < "$WORK/import.sql" >/dev/null
read -r sq_s sq_kb sq_u sq_s2 < "$WORK/time2.txt"
sim_s=$(echo "$t1 - $t0" | bc -l)
printf 'national synthetic year: %s events (simulated in %.1f s)\n' "$rows" "$sim_s"
printf '  crimecast import      %8.1f s  %8.0f events/s  peak RSS %6.0f MiB  database %6.0f MiB\n' \
  "$import_s" "$(echo "$rows / $import_s" | bc -l)" "$(echo "$import_kb / 1024" | bc -l)" \
  "$(echo "$db_bytes / 1048576" | bc -l)"
printf '  sqlite3 .import       %8.1f s  (plain 5-column text table; peak RSS %.0f MiB)\n' \
  "$sq_s" "$(echo "$sq_kb / 1024" | bc -l)"
printf '  CPU (user + system)   crimecast %.1f s, sqlite3 %.1f s\n' \
  "$(echo "$import_u + $import_s2" | bc -l)" "$(echo "$sq_u + $sq_s2" | bc -l)"
printf '  ratio crimecast/sqlite3 %6.2fx wall, %.2fx CPU\n' "$(echo "$import_s / $sq_s" | bc -l)" \
  "$(echo "($import_u + $import_s2) / ($sq_u + $sq_s2)" | bc -l)"
