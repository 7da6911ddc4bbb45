#include "core/evaluation/metrics.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace crimecast::evaluation {
namespace {

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();

// Active cells ranked by predicted value, grouped into ties, with prefix sums of observed
// events per group and of realised counts sorted descending (perfect foresight).
struct Ranking {
  std::vector<std::int64_t> order;      // active local ids, predicted desc, then id asc
  std::vector<std::int64_t> group_end;  // exclusive end rank of each tie group
  std::vector<double> group_cum_obs;    // observed events in groups 0..g inclusive
  std::vector<double> perfect_cum;      // perfect_cum[m] = sum of the m largest observed
  std::int64_t nonzero_observed = 0;    // active cells with observed > 0
};

Result<void> Validate(const ScoreInput& in) {
  if (in.predicted.size() != in.observed.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} predicted values for {} observed cells", in.predicted.size(),
                            in.observed.size()));
  }
  if (in.active.empty()) return Fail(ErrorCode::kInvalidArgument, "the active area is empty");
  const auto n = static_cast<std::int64_t>(in.predicted.size());
  for (std::size_t i = 0; i < in.predicted.size(); ++i) {
    if (!std::isfinite(in.predicted[i]) || in.predicted[i] < 0 || !std::isfinite(in.observed[i]) ||
        in.observed[i] < 0) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("cell {}: predicted {} / observed {} must be finite and >= 0", i,
                              in.predicted[i], in.observed[i]));
    }
  }
  std::vector<std::uint8_t> seen(in.predicted.size(), 0);
  for (std::int64_t id : in.active) {
    if (id < 0 || id >= n) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("active cell {} is outside the grid of {} cells", id, n));
    }
    if (seen[static_cast<std::size_t>(id)]++ != 0) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("active cell {} is listed twice", id));
    }
  }
  return {};
}

Result<void> ValidateCoverages(std::span<const double> coverages) {
  for (double c : coverages) {
    if (!(c > 0 && c <= 1)) {
      return Fail(ErrorCode::kInvalidArgument, fmt::format("coverage {} must be in (0, 1]", c));
    }
  }
  return {};
}

Ranking Rank(const ScoreInput& in) {
  Ranking r;
  r.order.assign(in.active.begin(), in.active.end());
  std::sort(r.order.begin(), r.order.end(), [&](std::int64_t a, std::int64_t b) {
    const double pa = in.predicted[static_cast<std::size_t>(a)];
    const double pb = in.predicted[static_cast<std::size_t>(b)];
    if (pa != pb) return pa > pb;
    return a < b;
  });
  double cum = 0;
  for (std::size_t i = 0; i < r.order.size(); ++i) {
    cum += in.observed[static_cast<std::size_t>(r.order[i])];
    const bool last =
        i + 1 == r.order.size() || in.predicted[static_cast<std::size_t>(r.order[i + 1])] !=
                                       in.predicted[static_cast<std::size_t>(r.order[i])];
    if (last) {
      r.group_end.push_back(static_cast<std::int64_t>(i + 1));
      r.group_cum_obs.push_back(cum);
    }
  }
  std::vector<double> obs;
  obs.reserve(r.order.size());
  for (std::int64_t id : in.active) {
    const double y = in.observed[static_cast<std::size_t>(id)];
    obs.push_back(y);
    if (y > 0) ++r.nonzero_observed;
  }
  std::sort(obs.begin(), obs.end(), std::greater<>());
  r.perfect_cum.assign(obs.size() + 1, 0.0);
  for (std::size_t i = 0; i < obs.size(); ++i) r.perfect_cum[i + 1] = r.perfect_cum[i] + obs[i];
  return r;
}

// Events credited to the top k cells, ties split proportionally.
double HitsAt(const Ranking& r, std::int64_t k) {
  if (k <= 0) return 0;
  // First group whose end reaches past k.
  const auto it = std::lower_bound(r.group_end.begin(), r.group_end.end(), k);
  const auto g = static_cast<std::size_t>(it - r.group_end.begin());
  if (g >= r.group_end.size()) return r.group_cum_obs.back();
  const std::int64_t start = g == 0 ? 0 : r.group_end[g - 1];
  const double before = g == 0 ? 0.0 : r.group_cum_obs[g - 1];
  const double in_group = r.group_cum_obs[g] - before;
  const auto size = static_cast<double>(r.group_end[g] - start);
  return before + in_group * static_cast<double>(k - start) / size;
}

std::int64_t CellsFor(double coverage, std::int64_t active) {
  const auto k = static_cast<std::int64_t>(std::llround(coverage * static_cast<double>(active)));
  return std::clamp<std::int64_t>(k, 1, active);
}

}  // namespace

Result<Scores> Score(const ScoreInput& in) {
  if (auto ok = Validate(in); !ok) return Unexpected(ok.error());
  if (auto ok = ValidateCoverages(in.coverages); !ok) return Unexpected(ok.error());
  if (auto ok = ValidateCoverages(in.curve_coverages); !ok) return Unexpected(ok.error());
  const Ranking r = Rank(in);
  Scores s;
  s.active_cells = static_cast<std::int64_t>(in.active.size());
  s.active_km2 = static_cast<double>(s.active_cells) * in.cell_area_km2;
  for (std::size_t i = 0; i < in.observed.size(); ++i) {
    s.events_total += in.observed[i];
    s.predicted_total_grid += in.predicted[i];
  }
  for (std::int64_t id : in.active) {
    s.events_active += in.observed[static_cast<std::size_t>(id)];
    s.predicted_total_active += in.predicted[static_cast<std::size_t>(id)];
  }
  const double n_total = s.events_total;
  for (double c : in.coverages) {
    CoverageScore cs;
    cs.coverage = c;
    cs.cells = CellsFor(c, s.active_cells);
    cs.area_fraction = static_cast<double>(cs.cells) / static_cast<double>(s.active_cells);
    cs.area_km2 = static_cast<double>(cs.cells) * in.cell_area_km2;
    cs.hits = HitsAt(r, cs.cells);
    cs.hit_rate = n_total > 0 ? cs.hits / n_total : 0.0;
    cs.pai = cs.hit_rate / cs.area_fraction;
    cs.perfect_hits = r.perfect_cum[static_cast<std::size_t>(cs.cells)];
    cs.perfect_cells = static_cast<double>(std::min(cs.cells, r.nonzero_observed));
    if (cs.perfect_hits > 0) {
      cs.pei = cs.hits / cs.perfect_hits;
      cs.pei_star = cs.pei * cs.perfect_cells / static_cast<double>(cs.cells);
    } else {
      cs.pei = kNaN;
      cs.pei_star = kNaN;
    }
    s.coverage.push_back(cs);
  }
  for (double c : in.curve_coverages) {
    s.curve.push_back(n_total > 0 ? HitsAt(r, CellsFor(c, s.active_cells)) / n_total : 0.0);
  }
  // Poisson log-likelihood over every grid cell.
  double ll = 0;
  for (std::size_t i = 0; i < in.predicted.size(); ++i) {
    const double mu = std::max(in.predicted[i], kLogLikelihoodFloor);
    const double y = in.observed[i];
    ll -= mu;
    if (y > 0) ll += y * std::log(mu) - std::lgamma(y + 1.0);
  }
  s.log_likelihood = ll;
  s.log_likelihood_per_event = n_total > 0 ? ll / n_total : kNaN;
  // Calibration by decile of predicted value over the active area.
  const auto a = static_cast<std::int64_t>(r.order.size());
  for (int d = 0; d < 10; ++d) {
    const std::int64_t lo = a * d / 10;
    const std::int64_t hi = a * (d + 1) / 10;
    if (hi <= lo) continue;
    CalibrationBin b;
    b.decile = d + 1;
    b.cells = hi - lo;
    for (std::int64_t k = lo; k < hi; ++k) {
      const auto id = static_cast<std::size_t>(r.order[static_cast<std::size_t>(k)]);
      b.sum_predicted += in.predicted[id];
      b.sum_observed += in.observed[id];
    }
    b.mean_predicted = b.sum_predicted / static_cast<double>(b.cells);
    b.mean_observed = b.sum_observed / static_cast<double>(b.cells);
    s.calibration.push_back(b);
  }
  return s;
}

Result<std::vector<double>> HitRateCurve(const ScoreInput& input,
                                         std::span<const double> coverages) {
  ScoreInput in = input;
  in.curve_coverages = coverages;
  auto s = Score(in);
  if (!s) return Unexpected(s.error());
  return std::move(s->curve);
}

std::vector<std::int64_t> CellsWithPoints(const spatial::Grid& grid, std::span<const double> x,
                                          std::span<const double> y) {
  std::vector<std::uint8_t> hit(static_cast<std::size_t>(grid.cell_count()), 0);
  for (std::size_t i = 0; i < x.size(); ++i) {
    const std::int64_t l = grid.LocalOf(x[i], y[i]);
    if (l >= 0) hit[static_cast<std::size_t>(l)] = 1;
  }
  std::vector<std::int64_t> out;
  for (std::size_t i = 0; i < hit.size(); ++i) {
    if (hit[i]) out.push_back(static_cast<std::int64_t>(i));
  }
  return out;
}

}  // namespace crimecast::evaluation
