#!/usr/bin/env bash
# Load benchmark of `crimecast serve` on loopback, with wrk (Debian package wrk), printing figures
# from ONE run:
#   1. baseline: GET /healthz (no database, no audit) throughput and p99;
#   2. GET /api/forecast returning ~10,000 cells (GeoJSON, cached forecast), throughput and p99
#      (target p99 < 50 ms), and the ratio to the baseline;
#   3. GET /api/events (1,000 events a page);
#   4. sustained durable ingest: POST /api/events in batches, events/s and p99 (target >= 2,000
#      events/s), against the named baseline: raw SQLite inserts of the same batches in the same
#      durability mode (WAL, synchronous=FULL, one transaction per batch) on the same disk;
# while SSE_CLIENTS (default 500) /api/live streams are held open by bench/server/sse_holder.cpp,
# which reports how many stayed open and how many live messages each received.
#
# Usage: bench/server_load.sh [BUILD_DIR]   (env: DURATION=20 THREADS=2 CONNS=32 BATCH=100
#                                             SSE_CLIENTS=500 CELL=150)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD=${1:-${BUILD:-build/release}}
CLI=$BUILD/src/crimecast
DURATION=${DURATION:-20}
THREADS=${THREADS:-2}
CONNS=${CONNS:-32}
BATCH=${BATCH:-100}
SSE_CLIENTS=${SSE_CLIENTS:-500}
CELL=${CELL:-150}
[ -x "$CLI" ] || { echo "server_load: $CLI not built"; exit 1; }
command -v wrk > /dev/null || { echo "server_load: wrk not installed (apt-get install wrk)"; exit 1; }

tmp=$(mktemp -d)
server_pid=""
holder_pid=""
cleanup() {
  [ -n "$holder_pid" ] && kill "$holder_pid" 2> /dev/null || true
  if [ -n "$server_pid" ]; then kill -TERM "$server_pid" 2> /dev/null || true; wait "$server_pid" 2> /dev/null || true; fi
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "server_load: building the SSE holder"
g++ -O2 -std=c++20 -o "$tmp/sse_holder" bench/server/sse_holder.cpp

echo "server_load: synthetic city (15 km square, one year) -> $tmp/bench.db"
"$CLI" simulate --out "$tmp/events.csv" --seed 7 --start 2024-06-01 --days 365 --mu 60 \
  --theta 0.3 --size-km 15 --quiet
"$CLI" import --db "$tmp/bench.db" --format csv --source sim --quiet "$tmp/events.csv" > /dev/null
CRIMECAST_PASSWORD='bench analyst passphrase' "$CLI" user add --db "$tmp/bench.db" --name bench \
  --role analyst > /dev/null

"$CLI" serve --db "$tmp/bench.db" --port 0 --rate-limit 0 > "$tmp/serve.out" 2> "$tmp/serve.err" &
server_pid=$!
for _ in $(seq 100); do grep -q "serving on" "$tmp/serve.out" 2> /dev/null && break; sleep 0.1; done
PORT=$(sed -n 's/.*:\([0-9]*\)$/\1/p' "$tmp/serve.out" | head -1)
[ -n "$PORT" ] || { echo "server_load: server did not start"; cat "$tmp/serve.err"; exit 1; }
BASE=http://127.0.0.1:$PORT
TOKEN=$(curl -s -X POST "$BASE/api/session" -H 'Content-Type: application/json' \
  -d '{"user":"bench","password":"bench analyst passphrase","purpose":"load benchmark"}' |
  python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
export TOKEN

# p99 and requests/s from wrk --latency output.
run_wrk() {  # name script path [connections]
  local name=$1 script=$2 path=$3 conns=${4:-$CONNS}
  PATH_Q=$path BATCH=$BATCH wrk -t"$THREADS" -c"$conns" -d"${DURATION}s" --latency \
    -s "bench/server/$script" "$BASE$path" > "$tmp/$name.wrk" 2>&1 || true
  local rps p99 non2xx
  rps=$(awk '/Requests\/sec/ {print $2}' "$tmp/$name.wrk")
  p99=$(awk '$1 == "99%" {print $2}' "$tmp/$name.wrk")
  non2xx=$(awk '/Non-2xx/ {print $5}' "$tmp/$name.wrk")
  echo "$rps ${p99:-?} ${non2xx:-0}"
}
to_ms() {  # wrk latency ("1.23ms", "845.00us", "1.20s") -> ms
  python3 -c "import sys; v=sys.argv[1]; print(round(float(v[:-2])/1000 if v.endswith('us') else float(v[:-2]) if v.endswith('ms') else float(v[:-1])*1000, 2))" "$1"
}

echo "server_load: holding $SSE_CLIENTS /api/live streams open for the whole run"
TOTAL_S=$((DURATION * 5 + 40))
"$tmp/sse_holder" "$PORT" "$TOKEN" "$SSE_CLIENTS" "$TOTAL_S" > "$tmp/holder.out" &
holder_pid=$!
sleep 2
live_now() { curl -s "$BASE/metrics" | awk '/^crimecast_live_clients / {print $2}'; }
echo "server_load: live clients connected: $(live_now)"

# The forecast: data end is 2025-06-01; forecast the next 7 days on CELL m cells.
MODEL=${MODEL:-kde}
FQ="/api/forecast?model=$MODEL&at=2025-06-01&horizon=7d&cell=$CELL&format=geojson"
t0=$(date +%s.%N)
fstatus=$(curl -s -o "$tmp/forecast.geojson" -w '%{http_code}' -H "Authorization: Bearer $TOKEN" "$BASE$FQ")
t1=$(date +%s.%N)
if [ "$fstatus" = "200" ]; then
  cells=$(python3 -c "import json,sys; print(len(json.load(open(sys.argv[1]))['features']))" "$tmp/forecast.geojson")
  bytes=$(stat -c %s "$tmp/forecast.geojson")
  printf "server_load: first forecast (fit + serialise): %.2f s, %s cells, %s bytes\n" "$(echo "$t1 - $t0" | bc -l)" "$cells" "$bytes"
fi

read -r h_rps h_p99 h_bad <<< "$(run_wrk healthz get_auth.lua /healthz)"
live_during_1=$(live_now)
if [ "$fstatus" = "200" ]; then
  read -r f_rps f_p99 f_bad <<< "$(GZIP=1 run_wrk forecast get_auth.lua "$FQ")"
  read -r fp_rps fp_p99 fp_bad <<< "$(run_wrk forecast_plain get_auth.lua "$FQ")"
  gz_bytes=$(curl -s -H "Authorization: Bearer $TOKEN" -H 'Accept-Encoding: gzip' "$BASE$FQ" | wc -c)
fi
read -r e_rps e_p99 e_bad <<< "$(run_wrk events get_auth.lua "/api/events?limit=1000&from=2025-05-01")"
read -r i_rps i_p99 i_bad <<< "$(run_wrk ingest post_events.lua /api/events)"
live_during_2=$(live_now)
sleep 1
ingested=$(curl -s "$BASE/metrics" | awk '/crimecast_ingest_events_total\{outcome="inserted"\}/ {print $2}')

# Baseline for ingest: raw SQLite, same durability, one transaction per batch of BATCH rows.
base_eps=$(python3 - "$tmp/raw.db" "$BATCH" << 'PY'
import sqlite3, sys, time
db = sqlite3.connect(sys.argv[1], isolation_level=None)
db.execute("PRAGMA journal_mode=WAL"); db.execute("PRAGMA synchronous=FULL")
db.execute("CREATE TABLE e(source TEXT, id TEXT, category INT, t_start INT, t_end INT, lon REAL, lat REAL, x REAL, y REAL, UNIQUE(source, id))")
batch = int(sys.argv[2]); n = 0; t0 = time.time()
while time.time() - t0 < 5:
    db.execute("BEGIN IMMEDIATE")
    db.executemany("INSERT INTO e VALUES (?,?,?,?,?,?,?,?,?)",
                   [("bench", f"r{n}-{i}", 2, 1717200000 + i, 1717200001 + i, -3.0, 51.6, 330000.0, 190000.0) for i in range(batch)])
    db.execute("COMMIT"); n += 1
print(round(n * batch / (time.time() - t0)))
PY
)
wait "$holder_pid" 2> /dev/null || true
holder_pid=""
holder=$(cat "$tmp/holder.out")

echo
echo "=== crimecast server load benchmark ($(nproc) cores, loopback, wrk -t$THREADS -c$CONNS -d${DURATION}s, $SSE_CLIENTS live clients) ==="
printf "%-42s %12s %10s %8s\n" "endpoint" "req/s" "p99 ms" "non-2xx"
printf "%-42s %12s %10s %8s\n" "GET /healthz (baseline)" "$h_rps" "$(to_ms "$h_p99")" "$h_bad"
if [ "$fstatus" = "200" ]; then
  printf "%-42s %12s %10s %8s\n" "GET /api/forecast ($cells cells, GeoJSON gzip)" "$f_rps" "$(to_ms "$f_p99")" "$f_bad"
  printf "%-42s %12s %10s %8s\n" "GET /api/forecast (same, uncompressed)" "$fp_rps" "$(to_ms "$fp_p99")" "$fp_bad"
  echo "  body: $bytes bytes, $gz_bytes gzip; forecast vs healthz baseline: throughput ratio $(echo "scale=3; $f_rps / $h_rps" | bc -l); p99 $(to_ms "$f_p99") ms (target < 50 ms)"
else
  echo "GET /api/forecast: HTTP $fstatus (not available in this build)"
fi
printf "%-42s %12s %10s %8s\n" "GET /api/events (1,000 a page)" "$e_rps" "$(to_ms "$e_p99")" "$e_bad"
i_eps=$(echo "$i_rps * $BATCH" | bc -l | xargs printf "%.0f")
printf "%-42s %12s %10s %8s\n" "POST /api/events ($BATCH events a post)" "$i_rps" "$(to_ms "$i_p99")" "$i_bad"
echo "  durable ingest: $i_eps events/s (target >= 2,000); $ingested events inserted in total"
echo "  baseline raw SQLite (WAL, synchronous=FULL, $BATCH rows a transaction): $base_eps events/s;"
echo "  ratio crimecast / raw SQLite: $(echo "scale=3; $i_eps / $base_eps" | bc -l) (crimecast also validates, projects, audits and broadcasts)"
echo "live streams: $live_during_1 open during the read loads, $live_during_2 after the ingest load"
echo "  holder: $holder"
warnings=$(grep -cE '\[(warning|error)\]' "$tmp/serve.err" || true)
echo "server warnings/errors logged: $warnings"
grep -E '\[(warning|error)\]' "$tmp/serve.err" | sed 's/^\[[^]]*\] //' | sort | uniq -c | sort -rn | head -5 || true
