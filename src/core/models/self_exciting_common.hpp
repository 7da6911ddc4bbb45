// core/models/self_exciting_common.hpp
//
// Internals shared by the self-exciting models (grid ETAS and continuous SEPP): event
// preparation, the exponential kernel averaged over uncertain occurrence times, option
// handling, the cascade formula for expected counts, and the naive-decay fallback.
// Not a public API: include models/self_exciting.hpp instead.
//
// Time inside the models is in DAYS (double) since the start t0 of the fitting window; rates
// are per day, distances in metres of the grid CRS.
//
// Uncertain times. An event is known to lie somewhere in [a, b) (b - a = 1 s for timestamped
// data, a calendar month for data.police.uk). We treat its time as uniform on the interval and
// replace the exponential kernel by its EXPECTED value over the unknown times. Because
// exp(-w (t_i - t_j)) factorises into exp(-w t_i) exp(w t_j), the expectation factorises too:
//   for disjoint intervals (b_j <= a_i):
//     E[exp(-w (t_i - t_j))] = exp(-w (a_i - b_j)) G(w L_i) G(w L_j),   G(x) = (1 - e^-x) / x
//   for the same interval (both events in one month), counting only the ordered pair t_j < t_i:
//     E[exp(-w (t_i - t_j)) 1{t_j < t_i}] = K1(w L) = (x - 1 + e^-x) / x^2,  x = w L
// and the kernel-weighted expected delay needed by the M-step for w is
//     (a_i - b_j) + C(L_i) + C(L_j)  with  C(L) = L (1/x - 1/(e^x - 1))     (disjoint), or
//     M1(L) / K1(w L)  with  M1(L) = L (x - 2 + (x + 2) e^-x) / x^3           (same interval).
// For L -> 0 these reduce to the ordinary point-time formulas (G -> 1, C -> 0, w K1 -> w/2 for
// an exact tie), so timestamped and month-only data go through the same code. This is the
// "expected kernel value" treatment: it uses E[kernel] inside the log-likelihood (not
// E[log-likelihood]), an approximation that is exact for timestamps and keeps the fit linear.
// Partially overlapping intervals of different lengths (a timestamped event inside a month)
// are compared at their midpoints.
#pragma once

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"
#include "core/models/model.hpp"

namespace crimecast::models::self_exciting {

inline constexpr double kSecondsPerDay = 86400.0;

// G(x) = (1 - e^-x) / x = E[e^{-w u}] for u ~ U[0, L], x = w L >= 0.
inline double MeanExp(double x) {
  if (x < 1e-5) return 1.0 - x / 2 + x * x / 6;
  return -std::expm1(-x) / x;
}
// C(L) = E[u e^{-w u}] / E[e^{-w u}] for u ~ U[0, L]: the kernel-weighted mean offset.
inline double MeanOffset(double length, double omega) {
  const double x = omega * length;
  if (x < 1e-3) return length * (0.5 - x / 12 + x * x * x / 720);
  if (x > 700) return 1.0 / omega;
  return length * (1.0 / x - 1.0 / std::expm1(x));
}
// K1(x) = E[e^{-w (t_i - t_j)} 1{t_j < t_i}] for t_i, t_j iid U[0, L], x = w L.
inline double SameIntervalKernel(double x) {
  if (x < 1e-2) return 0.5 - x / 6 + x * x / 24;
  return (x - 1 + std::exp(-x)) / (x * x);
}
// M1 = E[(t_i - t_j) e^{-w (t_i - t_j)} 1{t_j < t_i}] for t_i, t_j iid U[0, L].
inline double SameIntervalDelayMoment(double length, double omega) {
  const double x = omega * length;
  if (x < 1e-2) return length * (1.0 / 6 - x / 12 + x * x / 40);
  return length * (x - 2 + (x + 2) * std::exp(-x)) / (x * x * x);
}

// Events that share an interval shorter than this (the same timestamp) are simultaneous
// records, typically one incident with several offences or a batch entered with one time, not
// a near repeat: they do not trigger each other (K1 = M1 = 0). Without this rule duplicated
// timestamps drive omega to infinity (an "instant repeat" explains each tie perfectly).
// Events sharing a longer interval (a month) may have triggered each other within it.
inline constexpr double kMinSharedIntervalDays = 1.0 / 24;

// Per-interval-length quantities of the kernel at the current w. Events carry a small class
// index instead of recomputing G and C for each of a million events every iteration.
struct LengthClassTerms {
  double g = 1;             // G(w L)
  double c = 0;             // C(L)
  double k1 = 0.5;          // K1(w L)
  double m1 = 0;            // M1(L)
  double omega_length = 0;  // w L
  double e_length = 1;      // e^{min(w L, 300)}
};

// Events of the fitting window, in days since t0, sorted by (a, b).
struct PreparedEvents {
  std::int64_t t0_seconds = 0;  // UTC seconds of day 0
  double t_end = 0;             // forecast time T, days since t0 (every b <= t_end)
  std::vector<double> a, b;     // occurrence interval [a, b), days
  std::vector<double> x, y;     // metres
  std::vector<double> weight;   // harm weight (1 when unweighted)
  std::vector<std::int64_t> id;
  std::vector<std::uint16_t> length_class;  // index into lengths
  std::vector<double> lengths;              // distinct interval lengths (days)
  double median_length = 0;                 // the data's time resolution, days
  bool month_only = false;                  // every interval >= 28 days
  std::size_t size() const { return a.size(); }
  double Mid(std::size_t i) const { return 0.5 * (a[i] + b[i]); }
  double Span() const { return t_end; }  // length of the fitting window, days
};

// Events of `history` that are located, started before `at` and at or after
// at - window_days (all history when window_days <= 0). Intervals are clipped to `at` (an
// event known only to lie in a month that straddles T happened before T, or it would not be
// in the history). Fails with kEmptyTrainingWindow when nothing is left, kInvalidArgument when
// the history's columns differ in length.
Result<PreparedEvents> PrepareEvents(const History& history, TimePoint at, double window_days);

// The reason a fitted mean delay 1/omega cannot be a near-repeat effect given the data's time
// resolution, or "" when it can: shorter than the month of month-only data, or shorter than a
// minute for timestamped data.
std::string ResolutionProblem(const PreparedEvents& events, double omega);

// Fills terms[k] for lengths[k] at kernel rate omega.
void ComputeLengthTerms(const std::vector<double>& lengths, double omega,
                        std::vector<LengthClassTerms>& terms);

// Expected number of events in [T, T + h) (h in days) from a self-exciting process with
// branching ratio theta and exponential delays of rate omega, split into:
// * BackgroundFactor: per unit of background rate mu: immigrants arriving in the horizon and
//   their descendants that also arrive in it:  h/q - theta (1 - e^{-k h}) / (omega q^2);
// * RecentFactor: per unit of residual excitation R = sum_j E[exp(-omega (T - t_j))] of past
//   events: their descendants arriving in the horizon:  theta (1 - e^{-k h}) / q;
// with q = 1 - theta, k = omega q. Exact for the linear Hawkes process (the expected intensity
// solves a linear ODE); see docs/models.md.
double BackgroundFactor(double theta, double omega, double h);
double RecentFactor(double theta, double omega, double h);

// Option handling: every model lists the keys it accepts with default and range; unknown keys
// and out-of-range values are errors (ModelOptions contract).
struct OptionSpec {
  std::string_view key;
  double default_value;
  double min_value;
  double max_value;
};
Result<std::map<std::string, double, std::less<>>> ResolveOptions(
    std::string_view model, const ModelOptions& options, const std::vector<OptionSpec>& specs);

// The fallback: the project's naive-decay baseline (models/baselines.hpp, exponentially decayed
// counts per cell, calibrated to the horizon) with the given half-life, on the whole history.
// Replaces expected/background/recent, sets model_used to "naive-decay", keeps the fitted
// parameters already in `forecast`, adds the baseline's parameters and notes, the note
// "<model> fell back to naive-decay (half-life H days): <reason>", and parameters["fallback"] = 1.
Result<void> NaiveDecayFallback(const History& history, const ForecastRequest& request,
                                double half_life_days, int threads, std::string_view model,
                                std::string_view reason, Forecast& forecast);

// An empty forecast for the request (all cells 0) with model names set.
Forecast EmptyForecast(const ForecastRequest& request, std::string_view model);

// Horizon length in days from request.at (calendar months have their real length).
double HorizonDays(const ForecastRequest& request);

// SQUAREM acceleration of an EM fixed-point map (Varadhan & Roland 2008, scheme S3).
//
// Plain EM converges linearly, slowly when background and triggering compete for the same
// events. SQUAREM extrapolates along two EM steps, x' = x0 - 2a r + a^2 v (r = x1 - x0,
// v = x2 - 2 x1 + x0, a = -|r|/|v|), then takes one EM step from x'; typically 3-10x fewer
// E-steps. Safeguards: `x` must be an unconstrained parametrisation (logit / log) so any
// extrapolation is a valid state; the extrapolated result is kept only when its
// log-likelihood is not below that of x0, otherwise the plain EM iterate x2 is kept.
//
// map(x, &ll) returns F(x) and the log-likelihood of x; change(x, F(x)) returns the
// convergence measure. The fit stops, converged, when it is < tolerance, or when a whole
// SQUAREM cycle raised the log-likelihood by less than ll_tolerance (a flat likelihood: e.g.
// no clustering, where omega and sigma are not identified and would drift for ever; the
// parameters are then well inside their statistical uncertainty, which corresponds to a
// log-likelihood change of about 0.5). Counts map calls (E-steps).
struct SquaremResult {
  std::vector<double> x;
  int evaluations = 0;
  bool converged = false;
  bool finite = true;
  double last_change = 0;
  double log_likelihood = 0;  // of the state before the last map call
};
using EmMapFn = std::function<std::vector<double>(const std::vector<double>&, double*)>;
using ChangeFn = std::function<double(const std::vector<double>&, const std::vector<double>&)>;
SquaremResult Squarem(std::vector<double> x, const EmMapFn& map, const ChangeFn& change,
                      int max_evaluations, double tolerance, double ll_tolerance = 1e-3);

// Runs `fn` inside a oneTBB arena limited to `threads` (0: all cores).
template <class Fn>
auto InArena(int threads, Fn&& fn) -> decltype(fn());

}  // namespace crimecast::models::self_exciting

#include <oneapi/tbb/task_arena.h>

namespace crimecast::models::self_exciting {
template <class Fn>
auto InArena(int threads, Fn&& fn) -> decltype(fn()) {
  tbb::task_arena arena(threads > 0 ? threads : tbb::task_arena::automatic);
  return arena.execute(std::forward<Fn>(fn));
}
}  // namespace crimecast::models::self_exciting
