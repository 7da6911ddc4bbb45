// core/evaluation/backtest.hpp
//
// Rolling-origin backtesting (docs/evaluation.md "Protocol").
//
// For origins T = from, from + h, from + 2h, ... while T < to (h the horizon; calendar months
// for "1M"), and for each group of categories and each model:
//   1. History = the events with t_start < T (models/history.hpp): nothing at or after T is
//      visible to the model;
//   2. forecast [T, T + h) on the fixed grid;
//   3. score it (evaluation/metrics.hpp) against the events with t_start in [T, T + h), over
//      the active area of that origin: the grid cells with at least one located event of ANY
//      category before T (the same area for every group and model at an origin, so scores are
//      comparable), or the caller's boundary cells.
// Origins whose horizon ends after the data (data_end, plus one day of slack for a quiet last
// evening) are skipped and listed, never scored against missing data. Month-only data can only
// be scored on whole months: origins must be month starts and the horizon whole months.
//
// Groups: "all" (the configured categories, or every category) and, with per_category, each
// of those categories alone (model fitted and scored on that category only).
//
// Work is parallel over (origin, group) with oneTBB; each History is built once and shared by
// the models. A model failing at one origin (e.g. no events of a rare category yet) is recorded
// and left out of that model's means; the run continues.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/time.hpp"
#include "core/evaluation/metrics.hpp"
#include "core/models/harm.hpp"
#include "core/models/model.hpp"
#include "core/spatial/grid.hpp"
#include "core/storage/event_store.hpp"

namespace crimecast::evaluation {

struct ModelSpec {
  std::string name;
  models::ModelOptions options;
};

struct BacktestProgress {
  std::int64_t done = 0;   // forecasts scored so far
  std::int64_t total = 0;  // forecasts planned
  std::string origin;      // ISO time of the forecast just finished
  std::string group;
  std::string model;
};

// 0.5 % steps up to 20 %: the chart's x axis.
std::vector<double> DefaultCurveCoverages();

struct BacktestConfig {
  spatial::Grid grid;
  TimePoint from{};
  TimePoint to{};
  Horizon horizon;
  std::vector<ModelSpec> models;
  std::vector<Category> categories;  // empty: every category
  bool per_category = false;
  std::optional<models::HarmWeights> harm;
  std::vector<double> coverages{kStandardCoverages.begin(), kStandardCoverages.end()};
  std::vector<double> curve_coverages = DefaultCurveCoverages();
  // Active-area override (local cell ids, e.g. cells inside a force boundary).
  std::optional<std::vector<std::int64_t>> boundary_cells;
  // Area covariate layers on `grid` (models/covariate_layers.hpp), passed to every forecast
  // request; null: none. Static, so the same layers serve every origin without look-ahead.
  std::shared_ptr<const models::GridCovariates> covariates;
  std::optional<TimePoint> data_end;                      // default: the latest t_end of the events
  int threads = 0;                                        // 0: all cores
  std::function<void(const BacktestProgress&)> progress;  // called from worker threads, serialised
};

struct OriginScore {
  TimePoint origin{};
  std::string group;
  std::string model;
  std::string model_used;
  bool ok = false;
  std::string error;  // when !ok
  Scores scores;
  std::vector<double> curve;  // hit rate at curve_coverages
  std::vector<std::string> notes;
  double seconds = 0;  // model Predict time
};

struct ModelSummary {
  std::string group;
  std::string model;
  int origins_scored = 0;
  int origins_failed = 0;
  // Means over scored origins of each field (PEI/PEI* over the origins where defined).
  std::vector<CoverageScore> coverage;
  double log_likelihood_mean = 0;
  double log_likelihood_per_event_mean = 0;
  double events_total = 0;                  // summed over scored origins
  double predicted_total = 0;               // summed over scored origins (whole grid)
  std::vector<CalibrationBin> calibration;  // pooled over origins: sums, then means
  std::vector<double> curve;                // mean hit rate at curve_coverages
  double seconds_mean = 0;
};

struct ActiveAreaInfo {
  TimePoint origin{};
  std::int64_t cells = 0;
  double km2 = 0;
};

struct BacktestResult {
  BacktestConfig config;                   // echo (progress callback cleared)
  std::vector<TimePoint> origins;          // scored
  std::vector<TimePoint> skipped_origins;  // horizon beyond the data
  std::vector<ActiveAreaInfo> active_area;
  std::vector<std::string> groups;
  std::vector<OriginScore> scores;      // (origin, group, model) in that order
  std::vector<ModelSummary> summaries;  // (group, model) in config order
  std::vector<std::string> notes;
  double seconds_total = 0;
};

// Runs the backtest over `events` (any order; every category; located, in-area points in the
// grid's CRS). Fails on an invalid configuration (unknown model or parameter, from >= to, no
// origin left, month-only data with unaligned origins) before doing any work.
Result<BacktestResult> RunBacktest(storage::PointColumns events, const BacktestConfig& config);

}  // namespace crimecast::evaluation
