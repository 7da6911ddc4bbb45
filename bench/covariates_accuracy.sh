#!/usr/bin/env bash
# Area covariates: do deprivation and population density help the learned model and auto?
# Through the product's own path (`crimecast import`, `crimecast layers add`, `crimecast
# backtest`), Gwent monthly, 150 m cells, all categories. The baseline is named and measured in
# the same run: the same models with the covariates switched off (--param <m>.covariates=0),
# plus naive-decay.
#   * validation (default): origins 2023-01 .. 2023-12 (the windows the default was chosen on);
#   * WINDOWS=test: origins 2024-01 .. 2024-06 (run once, after the decision).
# Layers: WIMD 2019 overall rank (1 = most deprived of 1,909 Welsh LSOAs) and ONS mid-2020
# population per km2, both on the December 2011 LSOA boundaries (Wales + border).
#
# Usage: bench/covariates_accuracy.sh [CRIMECAST_BINARY] (default build/release/src/crimecast)
# Data: $CRIMECAST_SHARED_DATA, or ../shared/data beside the checkout. KEEP_DB=path keeps the
# database (and reuses it when it exists). WITH_PARAMS adds --param options to the run with
# covariates (e.g. "--param learned.covariate_support=0 --param auto.covariate_support=0").
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/release/src/crimecast}
data=${CRIMECAST_SHARED_DATA:-$(pwd)/../shared/data}
[ -x "$bin" ] || { echo "no crimecast binary at $bin" >&2; exit 1; }
[ -d "$data/police-uk-gwent-street" ] || { echo "no shared data at $data" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
db=${KEEP_DB:-$work/gwent.db}
if [ ! -f "$db" ]; then
  "$bin" import --db "$db" -q "$data"/police-uk-gwent-street/*.csv
  "$bin" layers add --db "$db" --name imd_rank \
    --boundaries "$data/ons-lsoa-boundaries-wales/lsoa11_boundaries.geojson" --id-field LSOA11CD \
    --table "$data/wimd-2019-lsoa/wimd2019_lsoa11.csv" --key-column lsoa11_code \
    --value-column IMD_rank --unit "rank (1 = most deprived of 1,909)" \
    --description "Welsh Index of Multiple Deprivation 2019, overall rank (2011 LSOAs)"
  "$bin" layers add --db "$db" --name pop_density \
    --boundaries "$data/ons-lsoa-boundaries-wales/lsoa11_boundaries.geojson" --id-field LSOA11CD \
    --table "$data/ons-lsoa-population-mid2020-wales/population_mid2020_lsoa11_wales_border.csv" \
    --key-column lsoa11_code --value-column total_population --per-km2 \
    --unit "people per km2" --description "ONS mid-2020 population per km2 (2011 LSOAs)"
fi
"$bin" layers list --db "$db"
case "${WINDOWS:-validation}" in
  validation) from=2023-01 to=2024-01 ;;
  test) from=2024-01 to=2024-07 ;;
  *) echo "WINDOWS must be validation or test" >&2; exit 1 ;;
esac

table() {  # JSON -> one markdown row per model
  python3 - "$1" "$2" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for s in r["summary"]:
    if s["group"] != "all":
        continue
    hr = " | ".join(f'{100 * c["hit_rate"]:.2f}' for c in s["coverage"])
    print(f'| {s["model"]}{sys.argv[2]} | {hr} | {s["log_likelihood_per_event_mean"]:.4f} |')
PY
}

echo "== Gwent monthly ${from} .. ${to} (exclusive), 150 m, all categories"
echo "| model | HR@1 | HR@2 | HR@5 | HR@10 | HR@20 | LL/event |"
echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
/usr/bin/time -f "time (without): %e s wall" "$bin" backtest --quiet --db "$db" \
  --models naive-decay,learned,auto --param learned.covariates=0 --param auto.covariates=0 \
  --from "$from" --to "$to" --horizon 1M --cell 150 --json "$work/without.json" > /dev/null
table "$work/without.json" " (no covariates)"
/usr/bin/time -f "time (with): %e s wall" "$bin" backtest --quiet --db "$db" \
  --models learned,auto --param learned.covariates=1 --param auto.covariates=1 ${WITH_PARAMS:-} \
  --from "$from" --to "$to" --horizon 1M --cell 150 --json "$work/with.json" > /dev/null
table "$work/with.json" " (covariates)"
echo
echo "Paired per-origin differences, with - without covariates (percentage points; mean +- se):"
python3 - "$work/without.json" "$work/with.json" <<'PY'
import json, math, sys
a = json.load(open(sys.argv[1]))["per_origin"]
b = json.load(open(sys.argv[2]))["per_origin"]
key = lambda o: (o["origin"], o["group"], o["model"])
A = {key(o): o for o in a if o["ok"]}
for model in ("learned", "auto"):
    rows = [(A[key(o)], o) for o in b if o["ok"] and o["model"] == model and key(o) in A]
    if not rows:
        continue
    out = []
    for k, cov in enumerate(rows[0][1]["coverage"]):
        d = [100 * (y["coverage"][k]["hit_rate"] - x["coverage"][k]["hit_rate"]) for x, y in rows]
        m = sum(d) / len(d)
        se = math.sqrt(sum((v - m) ** 2 for v in d) / (len(d) - 1) / len(d)) if len(d) > 1 else 0
        out.append(f'{100 * cov["coverage"]:g}%: {m:+.2f} +- {se:.2f}')
    dll = [y["log_likelihood_per_event"] - x["log_likelihood_per_event"] for x, y in rows]
    print(f"{model} ({len(rows)} origins): " + "  ".join(out) +
          f"  LL/event: {sum(dll) / len(dll):+.4f}")
    if model == "auto":
        used = [(o["origin"][:7], o["model_used"]) for _, o in rows]
        was = [(x["origin"][:7], x["model_used"]) for x, _ in rows]
        print("  auto chose (with):    " + ", ".join(f"{t} {u}" for t, u in used))
        print("  auto chose (without): " + ", ".join(f"{t} {u}" for t, u in was))
PY
