// core/models/learned.hpp
//
// The learned model ("learned"): gradient boosted regression trees (Friedman 2001) fitted with
// XGBoost (Chen & Guestrin 2016) through its C API, on per-cell features (models/features.hpp).
//
// How a forecast at T for the horizon [T, T + h) is made:
// 1. Training origins o_1 > o_2 > ... are taken inside the history: calendar months back from T
//    for month horizons and month-only data, steps of h for h >= 7 days, and whole weeks for
//    shorter horizons (so every origin has T's time of day and day of week). Each origin's
//    target window [o, o + h) ends at or before T: nothing at or after T is ever read. At most
//    `max_origins` origins are used, each with at least `min_history` of data before it.
// 2. For each origin, one row per support cell: the features at o (events before o only) and
//    the realised (weighted) count in [o, o + h). Cells with a positive count are all kept;
//    zero cells are sampled (a deterministic hash of seed, origin and cell) with probability p
//    and weight 1/p, so the weighted loss, and therefore the fitted level, is unbiased. Cells
//    outside the support (no event within the support radius) are not rows: each distance band
//    (features.hpp) gets its pooled empirical rate over the training windows instead,
//    (events + 1/2) / cell-windows.
// 3. Trees are grown with the Poisson objective (count:poisson: log link, deviance loss), or
//    Tweedie (reg:tweedie) when tweedie_power is given, hist method, fixed seed and thread
//    count: the same inputs give bit-identical forecasts.
// 4. The model's per-cell predictions at T are rescaled so that their total matches the recent
//    rate of the area: the mean realised total of the last few windows like [T, T + h) (the
//    last 3 months for month horizons; the last 4 windows of h, or for h < 7 days the same
//    time of week in the last 4 weeks). Expected counts are therefore calibrated in total; the
//    trees set the shares.
// If no training origin is available (too little history) the model falls back to the
// all-history count per cell, scaled the same way, and says so in Forecast::notes.
//
// Parameters (ModelOptions::params; unknown keys are an error): trees (100), max_depth (3),
// learning_rate (0.05), min_child_weight (30), subsample (0.8), colsample (0.8), max_origins (48),
// zero_ratio (1: zero rows kept per positive row), seed (0), tweedie_power (unset: Poisson),
// near_repeat_radius_m (400), recent_windows (3 or 4), offset (1), booster_threads (1),
// covariates (1: use the request's area covariate layers as features when it has any),
// covariate_support (1: every cell with a known covariate is a feature row). The
// defaults were chosen on validation windows BEFORE the accuracy test windows (docs/models.md).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/models/features.hpp"
#include "core/models/model.hpp"

namespace crimecast::models {

struct LearnedOptions {
  int trees = 100;
  int max_depth = 3;
  double learning_rate = 0.05;
  double min_child_weight = 30.0;
  double subsample = 0.8;
  double colsample = 0.8;
  int max_origins = 48;
  double zero_ratio = 1.0;
  std::uint64_t seed = 0;
  double tweedie_power = 0.0;  // 0: Poisson; in (1, 2): Tweedie
  double near_repeat_radius_m = 400.0;
  int recent_windows = 0;  // 0: 3 for month horizons, 4 otherwise
  int threads = 0;         // oneTBB threads for features (ModelOptions::threads; 0: all cores)
  // OpenMP threads inside XGBoost. 1 by default: XGBoost's OpenMP workers spin-wait between
  // its many short parallel regions, and inside a oneTBB-parallel backtest or on a shared
  // machine they compete with the other work for cores (measured: a 20-30x slowdown on the
  // 2-core development machine at load 12). Features are parallel with oneTBB instead.
  int booster_threads = 1;
  bool offset = true;  // trees correct log(baseline rate) instead of a constant
  // Use the request's area covariate layers (ForecastRequest::covariates) as features
  // "cov_<name>" when there are any. The default was chosen on the validation windows
  // (docs/models.md "Area covariates").
  bool covariates = true;
  // With covariates: every cell with a known value gets its own feature row (1), or only the
  // cells near past events do (0) (FeatureOptions::covariates_extend_support).
  bool covariate_support = false;

  // Reads ModelOptions (see the header comment). Unknown keys and out-of-range values fail
  // with kInvalidArgument.
  static Result<LearnedOptions> FromModelOptions(const ModelOptions& options);
};

// A fitted booster. Move-only (owns the XGBoost handle).
class LearnedFit {
 public:
  // Trains on origins whose target windows end at or before `limit` (UTC seconds), from the
  // events in builder.index(). Fails with kEmptyTrainingWindow when no origin qualifies.
  static Result<LearnedFit> Train(const FeatureBuilder& builder, std::int64_t limit,
                                  const LearnedOptions& options);
  LearnedFit(LearnedFit&&) noexcept;
  LearnedFit& operator=(LearnedFit&&) noexcept;
  LearnedFit(const LearnedFit&) = delete;
  LearnedFit& operator=(const LearnedFit&) = delete;
  ~LearnedFit();

  // Model output (expected counts for [t, t + h), before the total is rescaled) for every
  // local cell of the builder's grid. t may be any origin; only events before t are read.
  // Thread-safe (predictions on one booster are serialised).
  Result<std::vector<double>> PredictRaw(const FeatureBuilder& builder, std::int64_t t) const;

  const std::vector<std::int64_t>& origins() const { return origins_; }
  std::size_t training_rows() const { return rows_; }
  // Total gain per feature name, largest first (for notes and docs).
  std::vector<std::pair<std::string, double>> Importance(const FeatureBuilder& builder) const;

 private:
  LearnedFit() = default;
  void* booster_ = nullptr;  // BoosterHandle
  std::unique_ptr<std::mutex> predict_mu_ = std::make_unique<std::mutex>();
  std::vector<std::int64_t> origins_;
  std::size_t rows_ = 0;
  bool offset_ = false;
  std::vector<double> band_rate_;  // events per horizon per cell, by distance band
};

// LearnedFit::Train through a small process-wide cache (the last 8 fits). The key is a 128-bit
// fingerprint of everything Train reads: the history's events (coordinates, times, categories,
// weights), its observation window, the grid, the horizon, the feature options, the learning
// options (all but `threads`, which does not change the result) and `limit`. Fitting is
// deterministic, so a hit returns exactly what a new fit would. Concurrent callers with the same
// key wait for one fit (single flight). Why: "learned" and "auto" forecasting the same history
// (a backtest origin, a server refit) would otherwise each grow the same boosted trees, the
// dominant cost of both. Failures are cached too (they are deterministic as well).
std::shared_ptr<const Result<LearnedFit>> SharedLearnedFit(const FeatureBuilder& builder,
                                                           std::int64_t limit,
                                                           const LearnedOptions& options);

// Training origins for a forecast at T (see the header comment), most recent first.
std::vector<std::int64_t> TrainingOrigins(const FeatureBuilder& builder, std::int64_t limit,
                                          int max_origins);

// The recent-rate total for [t, t + h) (see step 4 in the header comment), from events before
// t; `windows` 0 picks the default. Returns the all-history rate scaled to the horizon when no
// full window fits.
double RecentTotal(const FeatureBuilder& builder, std::int64_t t, int windows = 0);

// The request's covariates when `options` allow them and they match the request grid, else
// nullptr.
const GridCovariates* UsableCovariates(const ForecastRequest& request,
                                       const LearnedOptions& options);
// "imd_rank (1234 cells known), ..." for notes.
std::string CovariateNames(const GridCovariates& covariates);

// Scales `values` in place so that they sum to `total` (no-op when their sum is 0).
void ScaleToTotal(std::vector<double>& values, double total);

std::unique_ptr<Model> MakeLearnedModel(const ModelOptions& options, LearnedOptions parsed);
// Parses the options and builds the model; fails on unknown keys.
Result<std::unique_ptr<Model>> MakeLearnedModel(const ModelOptions& options = {});

// The "auto" model (models/auto_model.hpp) with its candidates taken from the model registry
// (CreateModel). Fails on unknown keys.
Result<std::unique_ptr<Model>> MakeAutoModel(const ModelOptions& options = {});

}  // namespace crimecast::models
