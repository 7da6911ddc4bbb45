// accuracy_bound_bench: how far above the best naive baseline can ANY ranking of cells get?
//
// Issue 3 asks the default model for a hit rate at 5 % coverage 1.05x that of the best naive
// baseline. This program measures an upper bound on what a forecast built from recorded events
// can reach, by scoring forecasts that CHEAT: they see events after the forecast origin.
//
//   * two-sided W: per cell, the events within W days before T and within W days after the end
//     of the target window (the target window itself is left out), i.e. an estimate of each
//     cell's intensity around the target time with most of the sampling noise averaged away,
//     which no honest forecast can have;
//   * two-sided exp tau: every event outside the target window, weighted exp(-gap / tau) with
//     gap its time to the target window (past and future alike);
//   * all but target: every recorded event outside the target window (past and future);
//   * perfect: the target window's own counts (knows the noise; the ceiling of the metric).
//
// Every forecast is scored exactly as `crimecast backtest` scores models (same grid, same
// active area: cells with an event of any category before T, same tie rule, mean over origins;
// evaluation/metrics.hpp), next to the three naive baselines, which are run through the model
// registry as the backtest runs them. The ratio printed is each forecast's mean hit rate over
// the best naive baseline's at each coverage, the same definition as bench/accuracy.sh.
//
//   accuracy_bound_bench --db gwent.db --from 2024-01 --to 2024-07 --horizon 1M --cell 150
//   accuracy_bound_bench --db van.db --from 2022-01-01 --to 2023-01-01 --horizon 7d --cell 150
//
// Not a Google Benchmark: it measures accuracy, not time. See docs/models.md, "Accuracy".
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "core/common/time.hpp"
#include "core/evaluation/metrics.hpp"
#include "core/models/forecast_job.hpp"
#include "core/models/history.hpp"
#include "core/models/registry.hpp"
#include "core/spatial/grid.hpp"
#include "core/storage/sqlite_event_store.hpp"

namespace cc = crimecast;

namespace {

struct Args {
  std::string db;
  std::string from;
  std::string to;
  std::string horizon = "1M";
  double cell = 150;
  std::vector<int> windows_days = {91, 182, 365};
};

[[noreturn]] void Die(const std::string& message) {
  std::fprintf(stderr, "accuracy_bound_bench: %s\n", message.c_str());
  std::exit(2);
}

Args ParseArgs(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string k = argv[i];
    if (k == "--help" || k == "-h") {
      std::printf(
          "usage: accuracy_bound_bench --db DB --from T0 --to T1 [--horizon 1M] [--cell 150] "
          "[--windows 91,182,365]\n");
      std::exit(0);
    }
    if (i + 1 >= argc) Die("missing value after " + k);
    const std::string v = argv[++i];
    if (k == "--db") {
      a.db = v;
    } else if (k == "--from") {
      a.from = v;
    } else if (k == "--to") {
      a.to = v;
    } else if (k == "--horizon") {
      a.horizon = v;
    } else if (k == "--cell") {
      a.cell = std::atof(v.c_str());
    } else if (k == "--windows") {
      a.windows_days.clear();
      std::size_t start = 0;
      while (start < v.size()) {
        std::size_t comma = v.find(',', start);
        if (comma == std::string::npos) comma = v.size();
        a.windows_days.push_back(std::atoi(v.substr(start, comma - start).c_str()));
        start = comma + 1;
      }
    } else {
      Die("unknown option " + k);
    }
  }
  if (a.db.empty() || a.from.empty() || a.to.empty()) Die("--db, --from and --to are required");
  return a;
}

std::int64_t Secs(cc::TimePoint t) { return t.time_since_epoch().count(); }

// Mean hit rate per coverage of one forecast over the scored origins.
struct Row {
  std::string name;
  std::vector<double> hit_rate_sum;
  int origins = 0;
};

}  // namespace

int main(int argc, char** argv) {
  const Args a = ParseArgs(argc, argv);
  auto from = cc::ParseInstant(a.from);
  auto to = cc::ParseInstant(a.to);
  auto horizon = cc::ParseHorizon(a.horizon);
  if (!from || !to || !horizon) Die("bad --from, --to or --horizon");
  auto store = cc::storage::SqliteEventStore::Open(a.db);
  if (!store) Die(store.error().ToString());
  auto epsg = cc::models::ChooseEpsg(**store, std::nullopt);
  if (!epsg) Die(epsg.error().ToString());
  auto extent = (*store)->Extent();
  if (!extent) Die(extent.error().ToString());
  cc::storage::EventFilter filter;
  filter.located_only = true;
  filter.include_out_of_area = false;
  auto points = (*store)->LoadPoints(filter, *epsg);
  if (!points) Die(points.error().ToString());
  cc::models::SortByStart(*points);
  double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;
  for (std::size_t i = 0; i < points->size(); ++i) {
    min_x = std::min(min_x, points->x[i]);
    max_x = std::max(max_x, points->x[i]);
    min_y = std::min(min_y, points->y[i]);
    max_y = std::max(max_y, points->y[i]);
  }
  auto grid = cc::spatial::Grid::Covering(*epsg, a.cell, min_x, min_y, max_x, max_y,
                                          cc::models::kMaxForecastCells);
  if (!grid) Die(grid.error().ToString());
  const auto n_cells = static_cast<std::size_t>(grid->cell_count());
  std::vector<std::int64_t> local(points->size());
  for (std::size_t i = 0; i < points->size(); ++i) {
    local[i] = grid->LocalOf(points->x[i], points->y[i]);
  }
  const std::int64_t data_end = Secs(extent->end);
  const std::vector<std::string> naive = {"naive-all", "naive-recent", "naive-decay"};

  std::vector<Row> rows;
  auto row = [&](const std::string& name) -> Row& {
    for (Row& r : rows) {
      if (r.name == name) return r;
    }
    rows.push_back({name, std::vector<double>(cc::evaluation::kStandardCoverages.size(), 0.0)});
    return rows.back();
  };
  for (const auto& n : naive) row(n);

  int scored = 0;
  for (cc::TimePoint t = *from; t < *to; t = horizon->EndFrom(t)) {
    const std::int64_t ts = Secs(t);
    const std::int64_t te = Secs(horizon->EndFrom(t));
    if (te > data_end + 86400) {
      std::printf("origin %s skipped: the horizon ends after the data\n", cc::FormatIso(t).c_str());
      continue;
    }
    ++scored;
    std::vector<double> observed(n_cells, 0.0);
    std::vector<char> active_flag(n_cells, 0);
    for (std::size_t i = 0; i < points->size(); ++i) {
      if (local[i] < 0) continue;
      const auto l = static_cast<std::size_t>(local[i]);
      if (points->t_start[i] < ts) active_flag[l] = 1;
      if (points->t_start[i] >= ts && points->t_start[i] < te) observed[l] += 1.0;
    }
    std::vector<std::int64_t> active;
    for (std::size_t l = 0; l < n_cells; ++l) {
      if (active_flag[l]) active.push_back(static_cast<std::int64_t>(l));
    }
    auto score = [&](const std::string& name, const std::vector<double>& predicted) {
      cc::evaluation::ScoreInput in;
      in.predicted = predicted;
      in.observed = observed;
      in.active = active;
      in.cell_area_km2 = grid->CellAreaKm2();
      auto s = cc::evaluation::Score(in);
      if (!s) Die(name + ": " + s.error().ToString());
      Row& r = row(name);
      for (std::size_t c = 0; c < s->coverage.size(); ++c) {
        r.hit_rate_sum[c] += s->coverage[c].hit_rate;
      }
      ++r.origins;
    };

    cc::models::HistoryOptions hopt;
    hopt.cutoff = t;
    hopt.data_end = extent->end;
    auto history = cc::models::BuildHistory(*points, hopt);
    if (!history) Die(history.error().ToString());
    const cc::models::ForecastRequest request{*grid, t, *horizon};
    for (const auto& n : naive) {
      auto model = cc::models::CreateModel(n, {});
      if (!model) Die(model.error().ToString());
      auto f = (*model)->Predict(*history, request);
      if (!f) Die(n + ": " + f.error().ToString());
      score(n, f->expected);
    }

    auto cheat = [&](std::int64_t w) {
      std::vector<double> c(n_cells, 0.0);
      for (std::size_t i = 0; i < points->size(); ++i) {
        if (local[i] < 0) continue;
        const std::int64_t s = points->t_start[i];
        if ((s < ts && s >= ts - w) || (s >= te && s < te + w)) {
          c[static_cast<std::size_t>(local[i])] += 1.0;
        }
      }
      return c;
    };
    for (int d : a.windows_days) {
      score(fmt::format("two-sided {} d", d), cheat(std::int64_t{d} * 86400));
    }
    // Two-sided exponential decay: weight exp(-gap / tau), gap = time to the target window.
    for (int tau_days : {30, 91, 182}) {
      const double tau = tau_days * 86400.0;
      std::vector<double> c(n_cells, 0.0);
      for (std::size_t i = 0; i < points->size(); ++i) {
        if (local[i] < 0) continue;
        const std::int64_t s = points->t_start[i];
        if (s >= ts && s < te) continue;
        const double gap = s < ts ? static_cast<double>(ts - s) : static_cast<double>(s - te);
        c[static_cast<std::size_t>(local[i])] += std::exp(-gap / tau);
      }
      score(fmt::format("two-sided exp {} d", tau_days), c);
    }
    score("all but target", cheat(std::int64_t{1} << 50));
    score("perfect", observed);
  }
  if (scored == 0) Die("no origin could be scored");

  std::printf("%d origins, grid %lld x %lld of %g m (EPSG:%d), %zu located events\n", scored,
              static_cast<long long>(grid->nx()), static_cast<long long>(grid->ny()),
              grid->size_m(), grid->epsg(), points->size());
  std::vector<double> best(cc::evaluation::kStandardCoverages.size(), 0.0);
  for (const auto& n : naive) {
    const Row& r = row(n);
    for (std::size_t c = 0; c < best.size(); ++c) {
      best[c] = std::max(best[c], r.hit_rate_sum[c] / r.origins);
    }
  }
  std::printf("%-20s", "forecast");
  for (double c : cc::evaluation::kStandardCoverages) std::printf("  HR@%-3g", 100 * c);
  std::printf("   ratio to the best naive baseline at each coverage\n");
  for (const Row& r : rows) {
    std::printf("%-20s", r.name.c_str());
    for (std::size_t c = 0; c < best.size(); ++c) {
      std::printf("  %5.1f", 100 * r.hit_rate_sum[c] / r.origins);
    }
    std::printf("  ");
    for (std::size_t c = 0; c < best.size(); ++c) {
      std::printf("  %.3f", best[c] > 0 ? (r.hit_rate_sum[c] / r.origins) / best[c] : NAN);
    }
    std::printf("\n");
  }
  return 0;
}
