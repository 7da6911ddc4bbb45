// core/models/explain.hpp
//
// Why is this cell's risk what it is? A per-cell explanation of a forecast, for the map.
//
// Given the History a forecast was made from (events before T), the request and the Forecast
// of any model, ExplainCell reports for one cell:
// * expected: the forecast's expected count for [T, T + h), with 80 % and 95 % predictive
//   intervals for the count that will actually be recorded: Poisson, or negative binomial
//   (Var = mu + alpha mu^2) when the history shows overdispersion (alpha estimated by pooled
//   moments over the active cells' counts in the last 12 windows of length h; Cameron &
//   Trivedi 2013, ch. 3). The interval describes the count's randomness around the forecast,
//   not the uncertainty of the forecast itself, so it is a lower bound on the real spread.
// * background: the cell's long-term average (all history, events per horizon) and its share
//   of the area's long-term total.
// * recent nearby events: the events within the near-repeat radius R (400 m) of the cell
//   centre in the last 4 tau (tau = 30 days for month horizons or month-only data, 14 days
//   otherwise), each with store id, category, time, distance (m) and kernel weight
//   Space(d) x TimeWeight(age) (models/features.hpp, NearRepeatKernel; Johnson & Bowers 2004),
//   largest first.
// * trend: the cell's count in the recent window (3 months, or 28 days) against the count its
//   long-term rate predicts there, with an exact two-sided binomial test of "no change"
//   (conditional on the total, the recent count is Binomial(n, recent share of the time)).
// * covariates: the values of the covariate layers at the cell (hook for area layers).
// * parts: expected = background + recent + other. When the model supplies its own
//   decomposition (Forecast::background / recent / other, e.g. ETAS) those are used.
//   Otherwise an ATTRIBUTION (descriptive, not causal) is made: background = the long-term
//   average; the excess over it is "recent" when recent nearby events exist (split between
//   them in proportion to their kernel weights: NearbyEvent::share) and "other" (trend,
//   covariates, model structure) when none do; a forecast below the long-term average shows as
//   a negative "other".
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/models/features.hpp"
#include "core/models/model.hpp"
#include "core/spatial/grid.hpp"

namespace crimecast::models {

struct ExplainOptions {
  double near_repeat_radius_m = 400.0;
  double near_repeat_tau_days = 0.0;  // 0: 30 (month horizons / month-only data) or 14
  int max_events = 25;                // recent nearby events listed (largest weights)
  // Negative binomial overdispersion alpha (Var = mu + alpha mu^2): < 0 estimates it from the
  // history, 0 forces Poisson.
  double dispersion = -1.0;
  std::vector<CovariateLayer> covariates;  // values per local cell of the request grid
};

struct NearbyEvent {
  std::int64_t id = 0;  // store id
  Category category = Category::kOtherCrime;
  std::int64_t t_start = 0, t_end = 0;  // occurrence interval (UTC seconds)
  double distance_m = 0;                // to the cell centre
  double weight = 0;                    // kernel weight in [0, 1]
  double share = 0;                     // expected events attributed to it (parts.recent split)
};

struct PredictiveInterval {
  double level = 0;  // 0.8 or 0.95
  double lower = 0;  // counts: P(Y < lower) <= (1 - level) / 2 and P(Y > upper) <= (1 - level) / 2
  double upper = 0;
};

struct CellExplanation {
  spatial::CellId cell;
  std::int64_t local = 0;
  double expected = 0;
  std::string count_distribution;             // "Poisson" or "negative binomial (alpha = ...)"
  double dispersion = 0;                      // alpha used
  std::vector<PredictiveInterval> intervals;  // 80 %, 95 %

  double background_rate = 0;   // long-term average, events per horizon
  double background_share = 0;  // of the area's long-term total
  double long_term_events = 0;  // all-history (weighted) count of the cell

  std::vector<NearbyEvent> recent_events;
  double recent_weight = 0;  // sum of kernel weights (all recent nearby events, not just listed)

  double trend_recent_count = 0;    // events in the recent window
  double trend_expected_count = 0;  // what the long-term rate predicts for that window
  double trend_ratio = 0;           // (recent + 0.5) / (expected + 0.5)
  double trend_p_value = 1;         // exact two-sided binomial test
  std::string trend;                // "rising", "falling" or "stable" (p >= 0.05)
  std::int64_t trend_window_start = 0;

  std::vector<std::pair<std::string, double>> covariates;

  double part_background = 0, part_recent = 0, part_other = 0;  // sum to expected
  bool parts_from_model = false;
};

// Fails with kInvalidArgument when the cell is outside the request grid or the forecast does
// not match the grid, and kEmptyTrainingWindow on an empty history.
Result<CellExplanation> ExplainCell(const History& history, const ForecastRequest& request,
                                    const Forecast& forecast, spatial::CellIndex cell,
                                    const ExplainOptions& options = {});

// The central `level` interval of the count: Poisson(mu) when alpha == 0, else negative
// binomial with mean mu and variance mu + alpha mu^2. Quantiles are exact (cumulative pmf).
PredictiveInterval CountInterval(double mu, double alpha, double level);

// Pooled moment estimate of alpha from per-cell counts in consecutive windows:
// alpha = max(0, sum_c (s_c^2 - m_c) / sum_c m_c^2) over cells with m_c > 0 (m_c, s_c^2 the
// mean and sample variance of cell c over the windows). counts[w][c].
double EstimateDispersion(const std::vector<std::vector<double>>& counts);

// Exact two-sided binomial test p-value of k successes in n trials with success probability p
// (the sum of the probabilities of outcomes no more likely than k).
double BinomialTwoSidedP(std::int64_t k, std::int64_t n, double p);

}  // namespace crimecast::models
