#!/usr/bin/env bash
# Benchmark: importing the 24 Gwent data.police.uk files with crimecast (parse, validate, project
# to EPSG:27700, de-duplicate, index, one durable transaction per file) against the named
# baseline, the sqlite3 shell's `.import` of the same files into a plain text table, measured in
# the same run. Prints both times (wall, and CPU = user + system of all threads) and the ratio
# (target: crimecast / sqlite3 <= 1.0 in wall time).
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/release/src/crimecast}
DATA=${CRIMECAST_SHARED_DATA:-../shared/data}/police-uk-gwent-street
if [ ! -d "$DATA" ]; then echo "bench-import: $DATA not found; skipping"; exit 0; fi
REPS=${REPS:-5}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
files=("$DATA"/*.csv)
{
  echo "PRAGMA journal_mode=WAL;"
  echo "PRAGMA synchronous=FULL;"
  echo "CREATE TABLE t(crime_id,month,reported_by,falls_within,longitude,latitude,location,lsoa_code,lsoa_name,crime_type,outcome,context);"
  for f in "${files[@]}"; do echo ".import --csv --skip 1 $f t"; done
} > "$tmp/import.sql"

# Runs a command under /usr/bin/time; prints "wall cpu". Wall time from the clock in
# milliseconds (time's %e has a resolution of 10 ms, 2 % of these runs); CPU from time.
timed() {
  local t0 t1
  t0=$(date +%s%N)
  /usr/bin/time -f "%U %S" -o "$tmp/time.txt" "$@" > /dev/null
  t1=$(date +%s%N)
  awk -v ns=$((t1 - t0)) '{printf "%.3f %.3f\n", ns / 1e9, $1 + $2}' "$tmp/time.txt"
}

best_cc=999999; best_sq=999999; cpu_cc=0; cpu_sq=0
for r in $(seq "$REPS"); do
  rm -f "$tmp"/cc.db* "$tmp"/sq.db*
  read -r cc cc_cpu < <(timed "$CLI" import --db "$tmp/cc.db" --format police-uk --quiet "${files[@]}")
  read -r sq sq_cpu < <(timed sqlite3 "$tmp/sq.db" < "$tmp/import.sql")
  if [ "$(echo "$cc < $best_cc" | bc -l)" = 1 ]; then best_cc=$cc; cpu_cc=$cc_cpu; fi
  if [ "$(echo "$sq < $best_sq" | bc -l)" = 1 ]; then best_sq=$sq; cpu_sq=$sq_cpu; fi
done
rows=$(sqlite3 "$tmp/sq.db" "select count(*) from t")
events=$(sqlite3 "$tmp/cc.db" "select count(*) from events")
printf 'import 24 Gwent files (%s rows; best of %s)\n' "$rows" "$REPS"
printf '  crimecast import          %7.3f s wall  %7.3f s CPU  (%s events after merging repeats)\n' \
  "$best_cc" "$cpu_cc" "$events"
printf '  sqlite3 .import baseline  %7.3f s wall  %7.3f s CPU\n' "$best_sq" "$cpu_sq"
printf '  ratio crimecast/sqlite3   %7.2fx wall  %6.2fx CPU  (target <= 1.00x wall)\n' \
  "$(echo "$best_cc / $best_sq" | bc -l)" "$(echo "$cpu_cc / $cpu_sq" | bc -l)"
