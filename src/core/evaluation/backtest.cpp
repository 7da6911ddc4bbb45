#include "core/evaluation/backtest.hpp"

#include <fmt/format.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <mutex>

#include "core/models/grid_ops.hpp"
#include "core/models/history.hpp"

namespace crimecast::evaluation {
namespace {

constexpr std::int64_t kMonthOnlyMinSeconds = 28LL * 86400;
constexpr std::int64_t kDataEndSlack = 86400;

std::int64_t Secs(TimePoint t) { return t.time_since_epoch().count(); }

struct Group {
  std::string name;
  std::vector<Category> categories;  // empty: all
};

bool InGroup(const Group& g, Category c) {
  return g.categories.empty() ||
         std::find(g.categories.begin(), g.categories.end(), c) != g.categories.end();
}

bool IsMonthStart(TimePoint t) { return StartOfMonth(t) == t; }

}  // namespace

std::vector<double> DefaultCurveCoverages() {
  std::vector<double> out;
  for (int i = 1; i <= 40; ++i) out.push_back(0.005 * i);
  return out;
}

Result<BacktestResult> RunBacktest(storage::PointColumns events, const BacktestConfig& config) {
  const auto wall_start = std::chrono::steady_clock::now();
  // ---- Validate the configuration before any work.
  if (config.models.empty()) return Fail(ErrorCode::kInvalidArgument, "no models to backtest");
  for (const auto& spec : config.models) {
    auto m = models::CreateModel(spec.name, spec.options);
    if (!m) return Unexpected(m.error());
  }
  if (config.from >= config.to) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("--from {} must be before --to {}", FormatIso(config.from),
                            FormatIso(config.to)));
  }
  if (config.horizon.months <= 0 && config.horizon.seconds <= 0) {
    return Fail(ErrorCode::kBadHorizon, "the horizon is empty");
  }
  if (config.coverages.empty()) return Fail(ErrorCode::kInvalidArgument, "no coverage levels");
  if (config.boundary_cells) {
    if (config.boundary_cells->empty()) {
      return Fail(ErrorCode::kInvalidArgument, "the boundary holds no grid cell");
    }
    for (std::int64_t id : *config.boundary_cells) {
      if (id < 0 || id >= config.grid.cell_count()) {
        return Fail(ErrorCode::kInvalidArgument, "a boundary cell lies outside the grid");
      }
    }
  }
  if (events.size() == 0) return Fail(ErrorCode::kNoData, "there are no located events to score");
  models::SortByStart(events);

  bool month_only = true;
  std::int64_t data_end = 0;
  for (std::size_t i = 0; i < events.size(); ++i) {
    if (events.t_end[i] - events.t_start[i] < kMonthOnlyMinSeconds) month_only = false;
    data_end = std::max(data_end, events.t_end[i]);
  }
  if (config.data_end) data_end = Secs(*config.data_end);
  if (month_only && (!IsMonthStart(config.from) || config.horizon.months <= 0)) {
    return Fail(ErrorCode::kInvalidArgument,
                "the data are month-only (each event known only to its month): backtests need "
                "--from at the start of a month (YYYY-MM) and a horizon of whole months (1M)");
  }

  BacktestResult result;
  result.config = config;
  result.config.progress = nullptr;
  // ---- Origins.
  for (int k = 0;; ++k) {
    const TimePoint t = config.horizon.months > 0
                            ? AddMonths(config.from, k * config.horizon.months)
                            : config.from + Seconds{config.horizon.seconds * k};
    if (t >= config.to) break;
    if (k > 100000) return Fail(ErrorCode::kTooLarge, "more than 100,000 origins");
    const TimePoint end = config.horizon.EndFrom(t);
    if (Secs(end) > data_end + kDataEndSlack) {
      result.skipped_origins.push_back(t);
    } else {
      result.origins.push_back(t);
    }
  }
  for (TimePoint t : result.skipped_origins) {
    result.notes.push_back(fmt::format("origin {} skipped: its horizon ends after the data ({})",
                                       FormatIso(t), FormatIso(TimePoint{Seconds{data_end}})));
  }
  if (result.origins.empty()) {
    return Fail(ErrorCode::kOutOfRange,
                fmt::format("no origin in [{}, {}) has a horizon inside the data (data end {})",
                            FormatIso(config.from), FormatIso(config.to),
                            FormatIso(TimePoint{Seconds{data_end}})));
  }
  if (Secs(result.origins.front()) <= events.t_start.front()) {
    return Fail(ErrorCode::kEmptyTrainingWindow,
                fmt::format("the first origin {} is not after the first event ({}): nothing to "
                            "learn from",
                            FormatIso(result.origins.front()),
                            FormatIso(TimePoint{Seconds{events.t_start.front()}})));
  }

  // ---- Groups.
  std::vector<Group> groups;
  groups.push_back({"all", config.categories});
  if (config.per_category) {
    std::vector<Category> cats = config.categories;
    if (cats.empty()) {
      for (int c = 0; c < kCategoryCount; ++c) cats.push_back(static_cast<Category>(c));
    }
    for (Category c : cats) {
      const bool present =
          std::find(events.category.begin(), events.category.end(), c) != events.category.end();
      if (present) groups.push_back({std::string(Slug(c)), {c}});
    }
  }
  for (const auto& g : groups) result.groups.push_back(g.name);

  const spatial::Grid& grid = config.grid;
  const std::size_t n_cells = static_cast<std::size_t>(grid.cell_count());
  const std::size_t n_origins = result.origins.size();
  const std::size_t n_groups = groups.size();
  const std::size_t n_models = config.models.size();
  result.scores.resize(n_origins * n_groups * n_models);
  result.active_area.resize(n_origins);

  std::atomic<std::int64_t> done{0};
  const auto total = static_cast<std::int64_t>(result.scores.size());
  std::mutex progress_mu;

  // Active area per origin: shared by every group and model at that origin.
  std::vector<std::vector<std::int64_t>> active_by_origin(n_origins);
  auto compute_active = [&](std::size_t oi) {
    const TimePoint t = result.origins[oi];
    if (config.boundary_cells) {
      active_by_origin[oi] = *config.boundary_cells;
    } else {
      const auto before = static_cast<std::size_t>(
          std::lower_bound(events.t_start.begin(), events.t_start.end(), Secs(t)) -
          events.t_start.begin());
      active_by_origin[oi] = CellsWithPoints(grid, std::span(events.x).first(before),
                                             std::span(events.y).first(before));
    }
    const auto cells = static_cast<std::int64_t>(active_by_origin[oi].size());
    result.active_area[oi] = {t, cells, static_cast<double>(cells) * grid.CellAreaKm2()};
  };

  auto run_pair = [&](std::size_t pair) {
    const std::size_t oi = pair / n_groups;
    const std::size_t gi = pair % n_groups;
    const TimePoint t = result.origins[oi];
    const std::int64_t ts = Secs(t);
    const std::int64_t te = Secs(config.horizon.EndFrom(t));
    const Group& group = groups[gi];
    // Events are sorted by t_start: [0, before) precede T, [before, after) fall in the horizon.
    const auto before = static_cast<std::size_t>(
        std::lower_bound(events.t_start.begin(), events.t_start.end(), ts) -
        events.t_start.begin());
    const auto after = static_cast<std::size_t>(
        std::lower_bound(events.t_start.begin(), events.t_start.end(), te) -
        events.t_start.begin());
    const std::vector<std::int64_t>& active = active_by_origin[oi];
    std::vector<double> observed(n_cells, 0.0);
    for (std::size_t i = before; i < after; ++i) {
      if (!InGroup(group, events.category[i])) continue;
      const std::int64_t l = grid.LocalOf(events.x[i], events.y[i]);
      if (l < 0) continue;
      observed[static_cast<std::size_t>(l)] +=
          config.harm ? (*config.harm)(events.category[i]) : 1.0;
    }
    models::HistoryOptions hopt;
    hopt.cutoff = t;
    hopt.categories = group.categories;
    hopt.harm = config.harm;
    hopt.data_end = TimePoint{Seconds{data_end}};
    auto history = models::BuildHistory(events, hopt);
    const models::ForecastRequest request{grid, t, config.horizon, config.covariates};

    tbb::parallel_for(std::size_t{0}, n_models, [&](std::size_t mi) {
      OriginScore& out = result.scores[(oi * n_groups + gi) * n_models + mi];
      out.origin = t;
      out.group = group.name;
      out.model = config.models[mi].name;
      auto finish = [&] {
        const std::int64_t d = ++done;
        if (config.progress) {
          std::lock_guard lock(progress_mu);
          config.progress({d, total, FormatIso(t), group.name, out.model});
        }
      };
      if (!history) {
        out.error = history.error().ToString();
        finish();
        return;
      }
      auto model = models::CreateModel(config.models[mi].name, config.models[mi].options);
      if (!model) {
        out.error = model.error().ToString();
        finish();
        return;
      }
      const auto t0 = std::chrono::steady_clock::now();
      auto forecast = (*model)->Predict(*history, request);
      out.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if (!forecast) {
        out.error = forecast.error().ToString();
        finish();
        return;
      }
      out.model_used = forecast->model_used;
      out.notes = forecast->notes;
      if (forecast->expected.size() != n_cells) {
        out.error = fmt::format("model returned {} values for {} cells", forecast->expected.size(),
                                n_cells);
        finish();
        return;
      }
      ScoreInput in;
      in.predicted = forecast->expected;
      in.observed = observed;
      in.active = active;
      in.cell_area_km2 = grid.CellAreaKm2();
      in.coverages = config.coverages;
      in.curve_coverages = config.curve_coverages;
      auto scores = Score(in);
      if (!scores) {
        out.error = scores.error().ToString();
        finish();
        return;
      }
      out.curve = std::move(scores->curve);
      out.scores = std::move(*scores);
      out.ok = true;
      finish();
    });
  };

  models::WithThreads(config.threads, [&] {
    tbb::parallel_for(std::size_t{0}, n_origins, compute_active);
    tbb::parallel_for(std::size_t{0}, n_origins * n_groups, run_pair);
  });

  // ---- Summaries: means over the origins each (group, model) was scored at.
  for (std::size_t gi = 0; gi < n_groups; ++gi) {
    for (std::size_t mi = 0; mi < n_models; ++mi) {
      ModelSummary s;
      s.group = groups[gi].name;
      s.model = config.models[mi].name;
      s.coverage.resize(config.coverages.size());
      std::vector<int> pei_n(config.coverages.size(), 0);
      s.curve.assign(config.curve_coverages.size(), 0.0);
      s.calibration.resize(10);
      int ll_event_n = 0;
      for (std::size_t oi = 0; oi < n_origins; ++oi) {
        const OriginScore& o = result.scores[(oi * n_groups + gi) * n_models + mi];
        if (!o.ok) {
          ++s.origins_failed;
          continue;
        }
        ++s.origins_scored;
        for (std::size_t c = 0; c < config.coverages.size(); ++c) {
          const CoverageScore& x = o.scores.coverage[c];
          CoverageScore& m = s.coverage[c];
          m.coverage = x.coverage;
          m.cells += x.cells;
          m.area_fraction += x.area_fraction;
          m.area_km2 += x.area_km2;
          m.hits += x.hits;
          m.hit_rate += x.hit_rate;
          m.pai += x.pai;
          m.perfect_hits += x.perfect_hits;
          m.perfect_cells += x.perfect_cells;
          if (std::isfinite(x.pei)) {
            m.pei += x.pei;
            m.pei_star += x.pei_star;
            ++pei_n[c];
          }
        }
        s.log_likelihood_mean += o.scores.log_likelihood;
        if (std::isfinite(o.scores.log_likelihood_per_event)) {
          s.log_likelihood_per_event_mean += o.scores.log_likelihood_per_event;
          ++ll_event_n;
        }
        s.events_total += o.scores.events_total;
        s.predicted_total += o.scores.predicted_total_grid;
        for (const CalibrationBin& b : o.scores.calibration) {
          CalibrationBin& p = s.calibration[static_cast<std::size_t>(b.decile - 1)];
          p.decile = b.decile;
          p.cells += b.cells;
          p.sum_predicted += b.sum_predicted;
          p.sum_observed += b.sum_observed;
        }
        for (std::size_t c = 0; c < o.curve.size() && c < s.curve.size(); ++c) {
          s.curve[c] += o.curve[c];
        }
        s.seconds_mean += o.seconds;
      }
      const double n = s.origins_scored;
      if (s.origins_scored > 0) {
        for (std::size_t c = 0; c < s.coverage.size(); ++c) {
          CoverageScore& m = s.coverage[c];
          m.cells = static_cast<std::int64_t>(std::llround(static_cast<double>(m.cells) / n));
          m.area_fraction /= n;
          m.area_km2 /= n;
          m.hits /= n;
          m.hit_rate /= n;
          m.pai /= n;
          m.perfect_hits /= n;
          m.perfect_cells /= n;
          if (pei_n[c] > 0) {
            m.pei /= pei_n[c];
            m.pei_star /= pei_n[c];
          } else {
            m.pei = m.pei_star = std::numeric_limits<double>::quiet_NaN();
          }
        }
        s.log_likelihood_mean /= n;
        s.log_likelihood_per_event_mean = ll_event_n > 0
                                              ? s.log_likelihood_per_event_mean / ll_event_n
                                              : std::numeric_limits<double>::quiet_NaN();
        for (double& v : s.curve) v /= n;
        s.seconds_mean /= n;
      }
      std::erase_if(s.calibration, [](const CalibrationBin& b) { return b.cells == 0; });
      for (CalibrationBin& b : s.calibration) {
        b.mean_predicted = b.sum_predicted / static_cast<double>(b.cells);
        b.mean_observed = b.sum_observed / static_cast<double>(b.cells);
      }
      result.summaries.push_back(std::move(s));
    }
  }
  result.seconds_total =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - wall_start).count();
  return result;
}

}  // namespace crimecast::evaluation
