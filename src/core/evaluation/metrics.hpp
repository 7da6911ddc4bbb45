// core/evaluation/metrics.hpp
//
// Scores of one forecast against what happened (docs/evaluation.md defines each, with sources).
//
// Inputs, per local cell of one grid: `predicted` expected counts (a models::Forecast) and
// `observed` realised counts in the horizon (harm-weighted when the forecast is). Rankings are
// taken over the ACTIVE AREA, a set of cells given by the caller (evaluation/backtest.hpp uses
// the cells with at least one recorded event of any category before T, or the cells inside a
// boundary). Definitions, with N = observed events in the whole grid and A = active cells:
//
// * Coverage c (0.01 = 1 %): the k = max(1, round(c * A)) active cells with the highest
//   predicted value are "flagged"; area fraction a/A = k / A.
// * Ties: cells with equal predicted values form a tie group; when the cut at k falls inside a
//   group, the flagged cells of that group are credited with (cells taken / group size) of the
//   group's events. This is the expected hit count under a uniformly random order within ties,
//   so the result is deterministic and does not depend on cell numbering (a model that
//   predicts zero almost everywhere gains nothing from a lucky cell order).
// * Hit rate HR(c) = n / N, n the events in the flagged cells. Events outside the active area
//   count in N but can never be hits.
// * PAI(c) = HR(c) / (k / A) (Chainey, Tompson & Uhlig 2008).
// * Perfect foresight at the same area: n* = events in the k active cells with most events;
//   PEI(c) = n / n* (Hunt 2016). a* = the fewest cells that hold n* events (= min(k, active
//   cells with any event)); PAI* = (n*/N) / (a*/A); PEI*(c) = PAI / PAI* = (n / n*) (a* / k)
//   (NIJ Real-Time Crime Forecasting Challenge 2017; White, Hunt & Green 2023). PEI* < PEI when
//   even a perfect forecast would not need all k cells. Both are NaN when n* = 0.
// * Poisson log-likelihood over every grid cell: sum of y log(mu) - mu - lgamma(y + 1) with
//   mu = max(predicted, kLogLikelihoodFloor), so a zero forecast where an event happens costs
//   log(1e-6) = -13.8 per event rather than -infinity.
// * Calibration by decile: active cells ranked by predicted value (ties by local cell number),
//   cut into ten bins of equal cell count (decile 1 = the highest 10 %); per bin the mean
//   predicted and mean observed count per cell.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "core/common/error.hpp"
#include "core/spatial/grid.hpp"

namespace crimecast::evaluation {

inline constexpr std::array<double, 5> kStandardCoverages = {0.01, 0.02, 0.05, 0.10, 0.20};
inline constexpr double kLogLikelihoodFloor = 1e-6;

struct CoverageScore {
  double coverage = 0;       // requested share of the active area
  std::int64_t cells = 0;    // k
  double area_fraction = 0;  // k / A
  double area_km2 = 0;
  double hits = 0;           // n
  double hit_rate = 0;       // n / N (0 when N = 0)
  double pai = 0;            // hit_rate / area_fraction
  double perfect_hits = 0;   // n*
  double perfect_cells = 0;  // a*
  double pei = 0;            // n / n*, NaN when n* = 0
  double pei_star = 0;       // PAI / PAI*, NaN when n* = 0
};

struct CalibrationBin {
  int decile = 0;  // 1 = highest predicted
  std::int64_t cells = 0;
  double mean_predicted = 0;
  double mean_observed = 0;
  double sum_predicted = 0;
  double sum_observed = 0;
};

struct Scores {
  std::int64_t active_cells = 0;
  double active_km2 = 0;
  double events_total = 0;   // N: observed in the grid
  double events_active = 0;  // observed inside the active area (the ceiling for hits)
  double predicted_total_grid = 0;
  double predicted_total_active = 0;
  std::vector<CoverageScore> coverage;
  double log_likelihood = 0;            // summed over grid cells
  double log_likelihood_per_event = 0;  // divided by N (NaN when N = 0)
  std::vector<CalibrationBin> calibration;
  std::vector<double> curve;  // hit rate at ScoreInput::curve_coverages (empty when none)
};

struct ScoreInput {
  std::span<const double> predicted;     // per grid cell (local order)
  std::span<const double> observed;      // per grid cell
  std::span<const std::int64_t> active;  // local ids of the active area, any order, unique
  double cell_area_km2 = 0;
  std::span<const double> coverages = kStandardCoverages;
  std::span<const double> curve_coverages = {};  // extra levels for charts: hit rate only
};

// Fails (kInvalidArgument) on length mismatches, negative or non-finite values, an empty
// active area, active ids outside the grid, or coverages outside (0, 1].
Result<Scores> Score(const ScoreInput& input);

// Hit rate at many coverage levels at once (for charts): same definitions as Score (which
// also fills Scores::curve from ScoreInput::curve_coverages in the same pass).
Result<std::vector<double>> HitRateCurve(const ScoreInput& input,
                                         std::span<const double> coverages);

// Local ids (ascending) of grid cells holding at least one of the points.
std::vector<std::int64_t> CellsWithPoints(const spatial::Grid& grid, std::span<const double> x,
                                          std::span<const double> y);

}  // namespace crimecast::evaluation
