// core/models/model.hpp
//
// The forecasting model interface.
//
// A model answers one question: given every recorded event strictly before a time T (the
// History), how many events do we expect in each cell of a grid during [T, T + horizon)?
//
// Contract (tests enforce each point):
// * No look-ahead: a model sees only History, which holds events whose occurrence interval
//   started before T. A forecast at T is identical whether or not the store holds later events.
// * Calibrated: Forecast::expected[c] is an expected COUNT (or harm-weighted count) for the
//   horizon, not a score: the sum over cells estimates the total for the area, so Poisson
//   log-likelihood and calibration-by-decile are meaningful.
// * Month-only history (data.police.uk) is used honestly: an event known only to lie in
//   [t_start, t_end) is never treated as happening at t_start; models integrate over the
//   interval (or use its midpoint where the kernel is flat over a month).
// * Decomposition: expected = background + recent + other (each may be empty when a model has no
//   such part). background is the long-term rate, recent the short-term near-repeat / trend part.
// * A model that cannot fit (too few events, weak clustering, EM divergence) does not fail the
//   request: it falls back to a simpler model and records why in Forecast::notes and
//   Forecast::model_used.
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/time.hpp"
#include "core/ingest/event.hpp"
#include "core/spatial/grid.hpp"

namespace crimecast::models {

// Events before T, located and in-area, in the grid's projected CRS, sorted by t_start.
struct History {
  std::vector<double> x, y;                  // metres (grid CRS)
  std::vector<std::int64_t> t_start, t_end;  // UTC seconds; [start, end)
  std::vector<Category> category;
  std::vector<double> weight;    // 1, or the category's harm weight
  std::vector<std::int64_t> id;  // store ids (for explanations)
  // The observation window [observed_from, observed_to) the history covers, UTC seconds; it
  // is what count models divide by to turn counts into rates. 0 means "not set": the window
  // then starts at EarliestStart() and ends at the forecast time T. Builders (models/history)
  // set observed_from to the start of the data (all categories, so a rare category's rate is
  // not inflated by a late first event) and observed_to to T, or to the end of the data when
  // the data stop before T.
  std::int64_t observed_from = 0;
  std::int64_t observed_to = 0;
  std::size_t size() const { return x.size(); }
  // True when every event's interval is at least 28 days long (data.police.uk style).
  // False for an empty history.
  bool MonthOnly() const;
  // Smallest / largest t_start; 0 for an empty history.
  std::int64_t EarliestStart() const;
  std::int64_t LatestStart() const;
  // The observation window for a forecast at `t` (UTC seconds): [WindowStart(), WindowEnd(t)).
  std::int64_t WindowStart() const;
  std::int64_t WindowEnd(std::int64_t t) const;
};

struct GridCovariates;  // models/covariate_layers.hpp

struct ForecastRequest {
  spatial::Grid grid;
  TimePoint at;  // T
  Horizon horizon;
  // Area covariate layers rasterised on `grid` (static; no look-ahead), or null. Models that
  // use covariates (learned, and auto through it) read them; the others ignore them.
  std::shared_ptr<const GridCovariates> covariates = nullptr;
};

struct Forecast {
  std::string model;               // the model asked for
  std::string model_used;          // the model that produced the numbers (differs after a fallback)
  std::vector<double> expected;    // per local cell of the request grid, >= 0
  std::vector<double> background;  // per cell or empty
  std::vector<double> recent;      // per cell or empty
  std::vector<double> other;       // per cell or empty (trend, covariates)
  std::vector<std::string> notes;  // fallbacks, warnings, fitted-parameter summaries
  std::map<std::string, double> parameters;  // fitted parameters by name
};

struct ModelOptions {
  // Free-form overrides ("bandwidth_m" -> 300, "window_months" -> 3, ...); each model documents
  // its keys in docs/models.md and ignores none silently: an unknown key is an error.
  std::map<std::string, double> params;
  int threads = 0;  // 0: all cores (oneTBB)
};

class Model {
 public:
  virtual ~Model() = default;
  virtual std::string_view name() const = 0;
  virtual Result<Forecast> Predict(const History& history, const ForecastRequest& request) = 0;
};

Result<std::unique_ptr<Model>> CreateModel(std::string_view name, const ModelOptions& options = {});
// Names accepted by CreateModel, in display order.
std::vector<std::string> ModelNames();

}  // namespace crimecast::models
