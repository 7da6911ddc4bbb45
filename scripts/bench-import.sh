#!/usr/bin/env bash
# Benchmark: importing the 24 Gwent data.police.uk files with crimecast (parse, validate, project
# to EPSG:27700, de-duplicate, index, one durable transaction per file) against the named
# baseline, the sqlite3 shell's `.import` of the same files into a plain text table, measured in
# the same run. Prints both times and the ratio (target: crimecast / sqlite3 <= 1.0).
set -euo pipefail
cd "$(dirname "$0")/.."
CLI=${CLI:-build/release/src/crimecast}
DATA=${CRIMECAST_SHARED_DATA:-../shared/data}/police-uk-gwent-street
if [ ! -d "$DATA" ]; then echo "bench-import: $DATA not found; skipping"; exit 0; fi
REPS=${REPS:-3}
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
files=("$DATA"/*.csv)

best_cc=999999; best_sq=999999
for r in $(seq "$REPS"); do
  rm -f "$tmp"/cc.db* "$tmp"/sq.db*
  t0=$(date +%s.%N)
  "$CLI" import --db "$tmp/cc.db" --format police-uk --quiet "${files[@]}"
  t1=$(date +%s.%N)
  {
    echo "PRAGMA journal_mode=WAL;"
    echo "PRAGMA synchronous=FULL;"
    echo "CREATE TABLE t(crime_id,month,reported_by,falls_within,longitude,latitude,location,lsoa_code,lsoa_name,crime_type,outcome,context);"
    for f in "${files[@]}"; do echo ".import --csv --skip 1 $f t"; done
  } > "$tmp/import.sql"
  t2=$(date +%s.%N)
  sqlite3 "$tmp/sq.db" < "$tmp/import.sql"
  t3=$(date +%s.%N)
  cc=$(echo "$t1 - $t0" | bc -l); sq=$(echo "$t3 - $t2" | bc -l)
  best_cc=$(echo "if ($cc < $best_cc) $cc else $best_cc" | bc -l)
  best_sq=$(echo "if ($sq < $best_sq) $sq else $best_sq" | bc -l)
done
rows=$(sqlite3 "$tmp/sq.db" "select count(*) from t")
events=$(sqlite3 "$tmp/cc.db" "select count(*) from events")
printf 'import 24 Gwent files (%s rows; best of %s)\n' "$rows" "$REPS"
printf '  crimecast import          %7.3f s  (%s events after merging repeats)\n' "$best_cc" "$events"
printf '  sqlite3 .import baseline  %7.3f s\n' "$best_sq"
printf '  ratio crimecast/sqlite3   %7.2fx  (target <= 1.00x)\n' "$(echo "$best_cc / $best_sq" | bc -l)"
