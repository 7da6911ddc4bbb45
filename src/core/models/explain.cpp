#include "core/models/explain.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace crimecast::models {
namespace {

constexpr double kDay = 86400.0;
constexpr double kMeanMonthSeconds = 30.436875 * kDay;

double WeightOf(const History& h, std::size_t i) {
  return h.weight.size() == h.size() ? h.weight[i] : 1.0;
}

// log pmf of the count distribution at y.
double LogPmf(double y, double mu, double alpha) {
  if (alpha <= 0) return y * std::log(mu) - mu - std::lgamma(y + 1);
  const double r = 1.0 / alpha;
  return std::lgamma(y + r) - std::lgamma(r) - std::lgamma(y + 1) + r * std::log(r / (r + mu)) +
         y * std::log(mu / (r + mu));
}

}  // namespace

PredictiveInterval CountInterval(double mu, double alpha, double level) {
  PredictiveInterval out;
  out.level = level;
  if (!(mu > 0) || !std::isfinite(mu)) return out;
  const double a = (1.0 - level) / 2.0;
  const double sd = std::sqrt(mu + std::max(alpha, 0.0) * mu * mu);
  if (mu > 1e6) {
    // Far beyond any cell count; a normal approximation is exact enough and avoids a long sum.
    const double z = level >= 0.95 ? 1.959963984540054 : 1.2815515655446004;
    out.lower = std::max(0.0, std::floor(mu - z * sd));
    out.upper = std::ceil(mu + z * sd);
    return out;
  }
  // Walk the cumulative pmf from 0; the bound keeps a pathological alpha from looping forever.
  const double limit = mu + 60.0 * sd + 100.0;
  double cdf = 0;
  bool have_lower = false;
  for (double y = 0; y <= limit; y += 1.0) {
    cdf += std::exp(LogPmf(y, mu, alpha));
    if (!have_lower && cdf >= a) {
      out.lower = y;
      have_lower = true;
    }
    if (cdf >= 1.0 - a) {
      out.upper = y;
      return out;
    }
  }
  out.upper = std::ceil(limit);
  return out;
}

double EstimateDispersion(const std::vector<std::vector<double>>& counts) {
  if (counts.size() < 2) return 0.0;
  const std::size_t w = counts.size();
  const std::size_t cells = counts.front().size();
  double num = 0, den = 0;
  for (std::size_t c = 0; c < cells; ++c) {
    double m = 0;
    for (std::size_t k = 0; k < w; ++k) m += counts[k][c];
    m /= static_cast<double>(w);
    if (!(m > 0)) continue;
    double v = 0;
    for (std::size_t k = 0; k < w; ++k) v += (counts[k][c] - m) * (counts[k][c] - m);
    v /= static_cast<double>(w - 1);
    num += v - m;
    den += m * m;
  }
  return den > 0 ? std::max(0.0, num / den) : 0.0;
}

double BinomialTwoSidedP(std::int64_t k, std::int64_t n, double p) {
  if (n <= 0 || k < 0 || k > n) return 1.0;
  if (p <= 0) return k == 0 ? 1.0 : 0.0;
  if (p >= 1) return k == n ? 1.0 : 0.0;
  const double dn = static_cast<double>(n);
  auto log_pmf = [&](std::int64_t j) {
    const double dj = static_cast<double>(j);
    return std::lgamma(dn + 1) - std::lgamma(dj + 1) - std::lgamma(dn - dj + 1) + dj * std::log(p) +
           (dn - dj) * std::log1p(-p);
  };
  const double at_k = log_pmf(k);
  // Relative tolerance as in R's binom.test, so outcomes as likely as k count despite rounding.
  const double cut = at_k + std::log1p(1e-7);
  double sum = 0;
  for (std::int64_t j = 0; j <= n; ++j) {
    const double lp = log_pmf(j);
    if (lp <= cut) sum += std::exp(lp);
  }
  return std::min(1.0, sum);
}

Result<CellExplanation> ExplainCell(const History& history, const ForecastRequest& request,
                                    const Forecast& forecast, spatial::CellIndex cell,
                                    const ExplainOptions& options) {
  const spatial::Grid& grid = request.grid;
  const std::int64_t local = grid.LocalOf(cell);
  if (local < 0) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("cell {} is outside the forecast grid", grid.IdOf(cell).ToString()));
  }
  const auto cells = static_cast<std::size_t>(grid.cell_count());
  if (forecast.expected.size() != cells) {
    return Fail(ErrorCode::kInvalidArgument, "the forecast does not match the request grid");
  }
  if (history.size() == 0) {
    return Fail(ErrorCode::kEmptyTrainingWindow, "no events before the forecast time to explain");
  }
  for (const auto& layer : options.covariates) {
    if (layer.value.size() != cells) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("covariate layer '{}' does not match the grid", layer.name));
    }
  }
  const std::int64_t t = request.at.time_since_epoch().count();
  const std::int64_t h_end = request.horizon.EndFrom(request.at).time_since_epoch().count();
  const double h_len = static_cast<double>(h_end - t);
  const bool month_only = history.MonthOnly();
  const bool monthly = request.horizon.months > 0 || month_only;

  CellExplanation out;
  out.cell = grid.IdOf(cell);
  out.local = local;
  out.expected = forecast.expected[static_cast<std::size_t>(local)];

  // Long-term background and trend, from one pass over the history.
  const std::int64_t start = history.WindowStart();
  const double span = static_cast<double>(std::max<std::int64_t>(t - start, 1));
  const std::int64_t trend_from =
      std::max(start, monthly ? AddMonths(request.at, -3).time_since_epoch().count()
                              : t - static_cast<std::int64_t>(28 * kDay));
  double area_total = 0, cell_total = 0;
  std::int64_t cell_events = 0, cell_recent_events = 0;
  for (std::size_t i = 0; i < history.size(); ++i) {
    if (history.t_start[i] >= t) continue;
    const double w = WeightOf(history, i);
    if (grid.LocalOf(history.x[i], history.y[i]) < 0) continue;
    area_total += w;
    if (grid.LocalOf(history.x[i], history.y[i]) != local) continue;
    cell_total += w;
    ++cell_events;
    if (history.t_start[i] >= trend_from) {
      out.trend_recent_count += w;
      ++cell_recent_events;
    }
  }
  out.long_term_events = cell_total;
  out.background_rate = cell_total / span * h_len;
  out.background_share = area_total > 0 ? cell_total / area_total : 0.0;
  const double recent_share_of_time = static_cast<double>(t - trend_from) / span;
  out.trend_window_start = trend_from;
  out.trend_expected_count = cell_total * recent_share_of_time;
  out.trend_ratio = (out.trend_recent_count + 0.5) / (out.trend_expected_count + 0.5);
  out.trend_p_value = BinomialTwoSidedP(cell_recent_events, cell_events, recent_share_of_time);
  out.trend = out.trend_p_value >= 0.05 ? "stable" : (out.trend_ratio > 1 ? "rising" : "falling");

  // Recent nearby events under the near-repeat kernel.
  const double tau_days =
      options.near_repeat_tau_days > 0 ? options.near_repeat_tau_days : (monthly ? 30.0 : 14.0);
  const NearRepeatKernel kernel{options.near_repeat_radius_m, tau_days * kDay};
  const double cx = grid.CentreX(cell), cy = grid.CentreY(cell);
  const auto lookback =
      static_cast<std::int64_t>(4.0 * kernel.tau_s + (month_only ? kMeanMonthSeconds : 0));
  for (std::size_t i = 0; i < history.size(); ++i) {
    const std::int64_t s = history.t_start[i];
    if (s >= t || s < t - lookback) continue;
    const double d = std::hypot(history.x[i] - cx, history.y[i] - cy);
    const double w = kernel.Space(d) * kernel.TimeWeight(t, s, history.t_end[i]);
    if (!(w > 0)) continue;
    NearbyEvent e;
    e.id = history.id.size() == history.size() ? history.id[i] : static_cast<std::int64_t>(i);
    e.category = history.category[i];
    e.t_start = s;
    e.t_end = history.t_end[i];
    e.distance_m = d;
    e.weight = w * WeightOf(history, i);
    out.recent_weight += e.weight;
    out.recent_events.push_back(e);
  }
  std::sort(out.recent_events.begin(), out.recent_events.end(),
            [](const NearbyEvent& a, const NearbyEvent& b) {
              return a.weight != b.weight ? a.weight > b.weight : a.id < b.id;
            });
  if (static_cast<int>(out.recent_events.size()) > options.max_events) {
    out.recent_events.resize(static_cast<std::size_t>(std::max(options.max_events, 0)));
  }

  // Count distribution.
  double alpha = options.dispersion;
  if (alpha < 0) {
    // Pooled moments over the cells with events, in up to 12 consecutive windows of length h.
    const EventGridIndex index(history, grid);
    std::vector<std::vector<double>> counts;
    for (int k = 1; k <= 12; ++k) {
      const std::int64_t from = monthly ? AddMonths(request.at, -k).time_since_epoch().count()
                                        : t - static_cast<std::int64_t>(k * h_len);
      const std::int64_t to = monthly ? AddMonths(request.at, -k + 1).time_since_epoch().count()
                                      : from + static_cast<std::int64_t>(h_len);
      if (from < start) break;
      std::vector<double> row(index.active_count());
      for (std::size_t a = 0; a < index.active_count(); ++a) row[a] = index.Count(a, from, to);
      counts.push_back(std::move(row));
    }
    alpha = counts.size() >= 3 ? EstimateDispersion(counts) : 0.0;
  }
  out.dispersion = alpha;
  out.count_distribution =
      alpha > 0 ? fmt::format("negative binomial (alpha = {:.3g})", alpha) : "Poisson";
  out.intervals = {CountInterval(out.expected, alpha, 0.8),
                   CountInterval(out.expected, alpha, 0.95)};

  for (const auto& layer : options.covariates) {
    out.covariates.emplace_back(layer.name, layer.value[static_cast<std::size_t>(local)]);
  }

  // Parts.
  const auto l = static_cast<std::size_t>(local);
  if (forecast.background.size() == cells) {
    out.parts_from_model = true;
    out.part_background = forecast.background[l];
    out.part_recent = forecast.recent.size() == cells ? forecast.recent[l] : 0.0;
    out.part_other = out.expected - out.part_background - out.part_recent;
  } else {
    out.part_background = out.background_rate;
    const double excess = out.expected - out.part_background;
    if (excess > 0 && out.recent_weight > 0) {
      out.part_recent = excess;
    } else {
      out.part_other = excess;
    }
  }
  if (out.recent_weight > 0) {
    for (auto& e : out.recent_events) e.share = out.part_recent * e.weight / out.recent_weight;
  }
  return out;
}

}  // namespace crimecast::models
