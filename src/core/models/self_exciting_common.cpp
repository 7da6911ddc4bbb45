#include "core/models/self_exciting_common.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <unordered_map>

#include "core/models/baselines.hpp"

namespace crimecast::models::self_exciting {

Result<PreparedEvents> PrepareEvents(const History& history, TimePoint at, double window_days) {
  const std::size_t n = history.size();
  if (history.y.size() != n || history.t_start.size() != n || history.t_end.size() != n ||
      (!history.weight.empty() && history.weight.size() != n) ||
      (!history.id.empty() && history.id.size() != n)) {
    return Fail(ErrorCode::kInvalidArgument, "history columns have different lengths");
  }
  const std::int64_t at_s = at.time_since_epoch().count();
  std::int64_t earliest = at_s;
  const std::int64_t window_start =
      window_days > 0 ? at_s - static_cast<std::int64_t>(window_days * kSecondsPerDay)
                      : std::numeric_limits<std::int64_t>::min();
  std::vector<std::size_t> keep;
  keep.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    if (history.t_start[i] >= at_s || history.t_start[i] < window_start) continue;
    if (!std::isfinite(history.x[i]) || !std::isfinite(history.y[i])) continue;
    keep.push_back(i);
    earliest = std::min(earliest, history.t_start[i]);
  }
  if (keep.empty()) {
    return Fail(ErrorCode::kEmptyTrainingWindow,
                fmt::format("no located events before {} in the fitting window", FormatIso(at)));
  }
  PreparedEvents p;
  // The window starts at the first event (or the window bound, whichever is later): data
  // before the first event are unknown, not zero.
  p.t0_seconds = std::max(earliest, window_start);
  p.t_end = static_cast<double>(at_s - p.t0_seconds) / kSecondsPerDay;
  std::stable_sort(keep.begin(), keep.end(), [&](std::size_t i, std::size_t j) {
    if (history.t_start[i] != history.t_start[j]) return history.t_start[i] < history.t_start[j];
    return history.t_end[i] < history.t_end[j];
  });
  const std::size_t m = keep.size();
  p.a.resize(m);
  p.b.resize(m);
  p.x.resize(m);
  p.y.resize(m);
  p.weight.resize(m);
  p.id.resize(m);
  p.length_class.resize(m);
  std::vector<std::int64_t> length_s(m);
  for (std::size_t k = 0; k < m; ++k) {
    const std::size_t i = keep[k];
    const std::int64_t start = history.t_start[i];
    // Clip to T; a zero or negative length (bad input) becomes one second.
    const std::int64_t end = std::max(start + 1, std::min(history.t_end[i], at_s));
    p.a[k] = static_cast<double>(start - p.t0_seconds) / kSecondsPerDay;
    p.b[k] = static_cast<double>(end - p.t0_seconds) / kSecondsPerDay;
    length_s[k] = end - start;
    p.x[k] = history.x[i];
    p.y[k] = history.y[i];
    p.weight[k] = history.weight.empty() ? 1.0 : history.weight[i];
    p.id[k] = history.id.empty() ? static_cast<std::int64_t>(i) : history.id[i];
  }
  // Distinct lengths become classes; a feed with thousands of different interval lengths is
  // quantised to 1 % steps, which changes G and C by far less than the data's own uncertainty.
  std::unordered_map<std::int64_t, std::uint16_t> classes;
  bool quantise = false;
  for (std::int64_t len : length_s) {
    classes.try_emplace(len, 0);
    if (classes.size() > 4096) {
      quantise = true;
      break;
    }
  }
  classes.clear();
  for (std::size_t k = 0; k < m; ++k) {
    std::int64_t key = length_s[k];
    double length = static_cast<double>(key) / kSecondsPerDay;
    if (quantise) {
      key = std::llround(std::log(static_cast<double>(length_s[k])) / std::log(1.01));
      length = std::exp(static_cast<double>(key) * std::log(1.01)) / kSecondsPerDay;
    }
    auto [it, inserted] = classes.try_emplace(key, static_cast<std::uint16_t>(p.lengths.size()));
    if (inserted) p.lengths.push_back(length);
    p.length_class[k] = it->second;
  }
  std::vector<std::int64_t> sorted = length_s;
  std::nth_element(sorted.begin(), sorted.begin() + static_cast<std::ptrdiff_t>(m / 2),
                   sorted.end());
  p.median_length = static_cast<double>(sorted[m / 2]) / kSecondsPerDay;
  p.month_only = *std::min_element(length_s.begin(), length_s.end()) >= 28 * 86400 ||
                 // Clipping at T shortens the last month; judge by the median as well.
                 (p.median_length >= 28.0);
  return p;
}

void ComputeLengthTerms(const std::vector<double>& lengths, double omega,
                        std::vector<LengthClassTerms>& terms) {
  terms.resize(lengths.size());
  for (std::size_t k = 0; k < lengths.size(); ++k) {
    const double x = omega * lengths[k];
    terms[k].g = MeanExp(x);
    terms[k].c = MeanOffset(lengths[k], omega);
    const bool may_trigger = lengths[k] >= kMinSharedIntervalDays;
    terms[k].k1 = may_trigger ? SameIntervalKernel(x) : 0.0;
    terms[k].m1 = may_trigger ? SameIntervalDelayMoment(lengths[k], omega) : 0.0;
    terms[k].omega_length = x;
    terms[k].e_length = std::exp(std::min(x, 300.0));
  }
}

std::string ResolutionProblem(const PreparedEvents& events, double omega) {
  const double delay = 1.0 / omega;
  if (events.month_only && delay < events.median_length) {
    return fmt::format(
        "month-only data: the fitted triggering (mean delay {:.3g} days) is faster than the "
        "data's time resolution ({:.0f} days), so near-repeat timing cannot be resolved",
        delay, events.median_length);
  }
  constexpr double kMinute = 1.0 / 1440;
  if (delay < std::max(kMinute, events.median_length)) {
    return fmt::format(
        "the fitted triggering (mean delay {:.3g} s) is shorter than the data's time "
        "resolution: it describes simultaneous records, not near repeats",
        delay * kSecondsPerDay);
  }
  return "";
}

double BackgroundFactor(double theta, double omega, double h) {
  const double q = 1.0 - theta;
  const double k = omega * q;
  return h / q - theta * (-std::expm1(-k * h)) / (omega * q * q);
}

double RecentFactor(double theta, double omega, double h) {
  const double q = 1.0 - theta;
  return theta * (-std::expm1(-omega * q * h)) / q;
}

Result<std::map<std::string, double, std::less<>>> ResolveOptions(
    std::string_view model, const ModelOptions& options, const std::vector<OptionSpec>& specs) {
  std::map<std::string, double, std::less<>> out;
  for (const OptionSpec& s : specs) out[std::string(s.key)] = s.default_value;
  for (const auto& [key, value] : options.params) {
    auto spec =
        std::find_if(specs.begin(), specs.end(), [&](const OptionSpec& s) { return s.key == key; });
    if (spec == specs.end()) {
      std::string known;
      for (const OptionSpec& s : specs) {
        if (!known.empty()) known += ", ";
        known += s.key;
      }
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("model '{}' has no option '{}' (options: {})", model, key, known));
    }
    if (!(value >= spec->min_value && value <= spec->max_value)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("model '{}': option {} = {} is outside [{}, {}]", model, key, value,
                              spec->min_value, spec->max_value));
    }
    out[key] = value;
  }
  return out;
}

namespace {
bool AllFinite(const std::vector<double>& v) {
  for (double d : v) {
    if (!std::isfinite(d)) return false;
  }
  return true;
}
}  // namespace

SquaremResult Squarem(std::vector<double> x, const EmMapFn& map, const ChangeFn& change,
                      int max_evaluations, double tolerance, double ll_tolerance) {
  SquaremResult out;
  double previous_ll = -std::numeric_limits<double>::infinity();
  while (out.evaluations < max_evaluations) {
    double ll0 = 0;
    std::vector<double> x1 = map(x, &ll0);
    ++out.evaluations;
    out.log_likelihood = ll0;
    if (!AllFinite(x1) || !std::isfinite(ll0)) {
      out.finite = false;
      break;
    }
    out.last_change = change(x, x1);
    const bool flat = std::abs(ll0 - previous_ll) < ll_tolerance;
    previous_ll = ll0;
    if (out.last_change < tolerance || flat) {
      x = std::move(x1);
      out.converged = true;
      break;
    }
    if (out.evaluations + 2 > max_evaluations) {
      x = std::move(x1);
      continue;
    }
    double ll1 = 0;
    std::vector<double> x2 = map(x1, &ll1);
    ++out.evaluations;
    if (!AllFinite(x2)) {
      x = std::move(x1);
      continue;
    }
    double rr = 0;
    double vv = 0;
    for (std::size_t k = 0; k < x.size(); ++k) {
      const double r = x1[k] - x[k];
      const double v = x2[k] - 2 * x1[k] + x[k];
      rr += r * r;
      vv += v * v;
    }
    const double alpha = vv > 0 ? std::min(-1.0, -std::sqrt(rr / vv)) : -1.0;
    if (alpha == -1.0) {  // no extrapolation: x' = x2
      x = std::move(x2);
      continue;
    }
    std::vector<double> xp(x.size());
    for (std::size_t k = 0; k < x.size(); ++k) {
      const double r = x1[k] - x[k];
      const double v = x2[k] - 2 * x1[k] + x[k];
      xp[k] = x[k] - 2 * alpha * r + alpha * alpha * v;
    }
    double llp = 0;
    std::vector<double> x3 = AllFinite(xp) ? map(xp, &llp) : std::vector<double>{};
    if (!x3.empty()) ++out.evaluations;
    const bool accept = !x3.empty() && AllFinite(x3) && std::isfinite(llp) && llp >= ll0;
    x = accept ? std::move(x3) : std::move(x2);
  }
  out.x = std::move(x);
  return out;
}

Forecast EmptyForecast(const ForecastRequest& request, std::string_view model) {
  Forecast f;
  f.model = std::string(model);
  f.model_used = std::string(model);
  const auto cells = static_cast<std::size_t>(request.grid.cell_count());
  f.expected.assign(cells, 0.0);
  return f;
}

double HorizonDays(const ForecastRequest& request) {
  const TimePoint end = request.horizon.EndFrom(request.at);
  return static_cast<double>((end - request.at).count()) / kSecondsPerDay;
}

Result<void> NaiveDecayFallback(const History& history, const ForecastRequest& request,
                                double half_life_days, int threads, std::string_view model,
                                std::string_view reason, Forecast& forecast) {
  ModelOptions options;
  options.params["half_life_days"] = half_life_days;
  options.threads = threads;
  auto baseline = MakeNaiveDecayModel(options);
  if (!baseline) return Unexpected(baseline.error());
  auto f = (*baseline)->Predict(history, request);
  if (!f) return Unexpected(f.error());
  forecast.model_used = f->model_used;
  forecast.expected = std::move(f->expected);
  forecast.background = std::move(f->background);
  forecast.recent = std::move(f->recent);
  forecast.other = std::move(f->other);
  for (const auto& [key, value] : f->parameters) forecast.parameters[key] = value;
  forecast.parameters["fallback"] = 1;
  forecast.notes.push_back(fmt::format("{} fell back to {} (half-life {:g} days): {}", model,
                                       forecast.model_used, half_life_days, reason));
  for (auto& note : f->notes) forecast.notes.push_back(std::move(note));
  return {};
}

}  // namespace crimecast::models::self_exciting
