#!/usr/bin/env bash
# The accuracy table of issue 3, through the product's own path (`crimecast import`, then
# `crimecast backtest`), 150 m cells:
#   * Gwent monthly: each month 2024-01 .. 2024-06 from all earlier data, all categories, then
#     violence, ASB, burglary and vehicle crime each fitted and scored alone;
#   * Vancouver weekly: each week of 2022 from all earlier data.
# The baseline is named and measured in the same run: the "vs naive" column of each table is
# HR@5% / the best of naive-all, naive-recent and naive-decay; the "auto / best naive" lines give
# the ratio at every coverage. Wall and CPU time of every backtest are printed.
#
# Usage: bench/accuracy.sh [CRIMECAST_BINARY] (default build/release/src/crimecast)
# Data: $CRIMECAST_SHARED_DATA, or ../shared/data beside the checkout.
# Set MODELS to change the model list; EXTRA=1 adds prospective, etas-grid and sepp.
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/src/crimecast}
data=${CRIMECAST_SHARED_DATA:-$(pwd)/../shared/data}
models=${MODELS:-naive-all,naive-recent,naive-decay,kde,learned,auto}
if [ "${EXTRA:-0}" = 1 ]; then models="$models,prospective,etas-grid,sepp"; fi
[ -x "$bin" ] || { echo "no crimecast binary at $bin" >&2; exit 1; }
[ -d "$data/police-uk-gwent-street" ] || { echo "no shared data at $data" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

"$bin" import --db "$work/gwent.db" -q "$data"/police-uk-gwent-street/*.csv
"$bin" import --db "$work/van.db" -q --format mapped --mapping mappings/vancouver-vpd.toml \
  "$data"/vancouver-vpd-crime/*.csv

ratios() {  # auto's hit rate over the best naive one at each coverage, per group
  python3 - "$1" <<'EOF'
import json, sys
r = json.load(open(sys.argv[1]))
summ = r["summary"]
for g in r["groups"]:
    rows = {s["model"]: s for s in summ if s["group"] == g}
    if "auto" not in rows:
        continue
    out = []
    for k, c in enumerate(rows["auto"]["coverage"]):
        best = max(rows[n]["coverage"][k]["hit_rate"] for n in ("naive-all", "naive-recent", "naive-decay") if n in rows)
        out.append(f'{100 * c["coverage"]:g}%: {c["hit_rate"] / best:.3f}' if best > 0 else "-")
    print(f"auto / best naive [{g}]: " + "  ".join(out))
EOF
}

run() {  # title, then backtest arguments
  echo "== $1"
  shift
  /usr/bin/time -f "time: %e s wall, %U s user, %S s system" "$bin" backtest --quiet "$@" \
    --json "$work/out.json"
  ratios "$work/out.json"
  echo
}

run "Gwent monthly, all categories" --db "$work/gwent.db" --models "$models" \
  --from 2024-01 --to 2024-07 --horizon 1M --cell 150
run "Gwent monthly, per category" --db "$work/gwent.db" --models "$models" \
  --from 2024-01 --to 2024-07 --horizon 1M --cell 150 \
  --category violence,asb,burglary,vehicle-crime --per-category
run "Vancouver weekly, all categories" --db "$work/van.db" --models "$models" \
  --from 2022-01-01 --to 2023-01-01 --horizon 7d --cell 150

# Upper bound on what any ranking could reach, from forecasts that see the future
# (bench/accuracy_bound_bench.cpp; docs/models.md "Why 1.05 x is out of reach").
bound=$(dirname "$bin")/../bench/accuracy_bound_bench
if [ -x "$bound" ]; then
  echo "== look-ahead bounds, Gwent monthly 2024-01 .. 2024-06"
  "$bound" --db "$work/gwent.db" --from 2024-01 --to 2024-07 --horizon 1M --cell 150
  echo
  echo "== look-ahead bounds, Vancouver weekly 2022"
  "$bound" --db "$work/van.db" --from 2022-01-01 --to 2023-01-01 --horizon 7d --cell 150
else
  echo "(no $bound: build the benchmarks to print the look-ahead bounds)"
fi
