#include "core/models/etas_grid.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <algorithm>
#include <numeric>

#include "core/models/self_exciting.hpp"

namespace crimecast::models::etas {
namespace {

using self_exciting::LengthClassTerms;

// Per-range partial sums of the E-step; cell_background is written in place (cells are
// disjoint between ranges).
struct Partial {
  double triggered = 0;
  double delay = 0;
  double sum_log = 0;
  double trigger_mass = 0;
  double boundary = 0;
  void Add(const Partial& o) {
    triggered += o.triggered;
    delay += o.delay;
    sum_log += o.sum_log;
    trigger_mass += o.trigger_mass;
    boundary += o.boundary;
  }
};

// The compensator terms of event i as a source: offspring expected before T and the
// omega-derivative term.
inline void AddSourceTerms(const CellEvents& ce, std::size_t i, const LengthClassTerms& ti,
                           double omega, Partial& acc) {
  const double u = ce.t_end - ce.b[i];
  const double e = std::exp(-omega * u) * ti.g;
  acc.trigger_mass += 1.0 - e;
  acc.boundary += e * (u + ti.c);
}

inline void AddReceiver(double mu, double theta, double omega, double kernel, double delay,
                        double& background, Partial& acc) {
  const double trig = theta * omega * kernel;
  // A cell's background never reaches 0 while it holds events (its first event is all
  // background), but guard the log anyway.
  const double lambda = std::max(mu + trig, 1e-300);
  background += mu / lambda;
  acc.triggered += trig / lambda;
  acc.delay += theta * omega * delay / lambda;
  acc.sum_log += std::log(lambda);
}

// The recursive E-step of one cell (see the header: O(n_c)).
//
// Implementation: instead of decaying running sums S0, S1 at every step (two exponentials per
// event), sums are kept relative to a reference time tau,
//   U0 = sum_j w_j,  U1 = sum_j w_j (b_j - tau - C_j),  w_j = G_j e^{omega (b_j - tau)},
// so S0(t) = U0 e^{-omega (t - tau)} and S1(t) = ((t - tau) U0 - U1) e^{-omega (t - tau)}.
// A source's e^{omega (b_j - tau)} = e^{omega (a_j - tau)} e^{omega L_j} reuses the factor
// computed when it was a receiver, so each event costs one exponential. tau moves forward
// (rescaling the sums) before e^{omega (t - tau)} could overflow.
struct CellScratch {
  std::vector<double> ea;   // e^{omega (a_i - tau_i)} per event of the cell
  std::vector<double> tau;  // the tau it was computed against
};

void CellRecursive(const CellEvents& ce, std::size_t cell, double mu, double theta, double omega,
                   const std::vector<LengthClassTerms>& terms, double& background, Partial& acc,
                   CellScratch& scratch) {
  constexpr double kRescaleExponent = 300;  // e^300 ~ 1e130, far from overflow
  const std::size_t begin = ce.cell_begin[cell];
  const std::size_t end = ce.cell_begin[cell + 1];
  scratch.ea.resize(end - begin);
  scratch.tau.resize(end - begin);
  double tau = ce.a[begin];
  double e_end = std::exp(-omega * (ce.t_end - tau));  // e^{-omega (T - tau)}
  double u0 = 0;
  double u1 = 0;
  auto add_source = [&](std::size_t j) {
    const LengthClassTerms& tj = terms[ce.length_class[j]];
    double w;
    if (tj.omega_length < kRescaleExponent && scratch.tau[j - begin] == tau) {
      w = tj.g * tj.e_length * scratch.ea[j - begin];
    } else {
      w = tj.g * std::exp(omega * (ce.b[j] - tau));
    }
    u0 += w;
    u1 += w * (ce.b[j] - tau - tj.c);
    const double e = w * e_end;  // G_j e^{-omega (T - b_j)}
    acc.trigger_mass += 1.0 - e;
    acc.boundary += e * (ce.t_end - ce.b[j] + tj.c);
  };
  std::size_t k = begin;
  for (std::size_t i = begin; i < end; ++i) {
    const double ai = ce.a[i];
    if (omega * (ai - tau) > kRescaleExponent) {
      const double shift = ai - tau;
      const double f = std::exp(-omega * shift);
      u1 = f * (u1 - shift * u0);
      u0 *= f;
      tau = ai;
      e_end = std::exp(-omega * (ce.t_end - tau));
    }
    const double ea = std::exp(omega * (ai - tau));
    scratch.ea[i - begin] = ea;
    scratch.tau[i - begin] = tau;
    // Sources whose whole interval ended by a_i start exciting; they enter in order of b.
    while (k < end && ce.b[ce.by_b[k]] <= ai) add_source(ce.by_b[k++]);
    const double inv = 1.0 / ea;
    const double s0 = u0 * inv;
    const double s1 = ((ai - tau) * u0 - u1) * inv;
    const LengthClassTerms& ti = terms[ce.length_class[i]];
    const double m = ce.same_count[i];
    const double kernel = ti.g * s0 + m * ti.k1;
    const double delay = ti.g * (s1 + ti.c * s0) + m * ti.m1;
    AddReceiver(mu, theta, omega, kernel, delay, background, acc);
  }
  // Sources still open at the last receiver (they end after it) only add compensator terms.
  while (k < end) {
    const std::size_t j = ce.by_b[k++];
    const LengthClassTerms& tj = terms[ce.length_class[j]];
    const double e = tj.g * std::exp(-omega * (ce.t_end - ce.b[j]));
    acc.trigger_mass += 1.0 - e;
    acc.boundary += e * (ce.t_end - ce.b[j] + tj.c);
  }
}

void CellNaive(const CellEvents& ce, std::size_t cell, double mu, double theta, double omega,
               const std::vector<LengthClassTerms>& terms, double& background, Partial& acc,
               CellScratch& /*unused*/) {
  const std::size_t begin = ce.cell_begin[cell];
  const std::size_t end = ce.cell_begin[cell + 1];
  for (std::size_t i = begin; i < end; ++i) {
    const LengthClassTerms& ti = terms[ce.length_class[i]];
    double kernel = 0;
    double delay = 0;
    for (std::size_t j = begin; j < end; ++j) {
      if (j == i) continue;
      const LengthClassTerms& tj = terms[ce.length_class[j]];
      if (ce.b[j] <= ce.a[i]) {
        const double gap = ce.a[i] - ce.b[j];
        const double k = std::exp(-omega * gap) * ti.g * tj.g;
        kernel += k;
        delay += k * (gap + ti.c + tj.c);
      } else if (ce.a[j] == ce.a[i] && ce.b[j] == ce.b[i]) {
        kernel += ti.k1;
        delay += ti.m1;
      }
    }
    AddReceiver(mu, theta, omega, kernel, delay, background, acc);
    AddSourceTerms(ce, i, ti, omega, acc);
  }
}

template <class CellFn>
EStepSums RunEStep(const CellEvents& ce, std::span<const double> mu, double theta, double omega,
                   CellFn cell_fn) {
  std::vector<LengthClassTerms> terms;
  self_exciting::ComputeLengthTerms(ce.lengths, omega, terms);
  EStepSums out;
  out.cell_background.assign(ce.cells(), 0.0);
  // Deterministic reduction: the split points depend only on the grain, so the floating-point
  // sums, and hence the fit, are bit-identical whatever the number of threads or scheduling
  // (the no-look-ahead contract asks for identical forecasts).
  const Partial total = tbb::parallel_deterministic_reduce(
      tbb::blocked_range<std::size_t>(0, ce.cells(), 256), Partial{},
      [&](const tbb::blocked_range<std::size_t>& r, Partial acc) {
        CellScratch scratch;
        for (std::size_t c = r.begin(); c != r.end(); ++c) {
          double bg = 0;
          cell_fn(ce, c, mu[c], theta, omega, terms, bg, acc, scratch);
          out.cell_background[c] = bg;
        }
        return acc;
      },
      [](Partial x, const Partial& y) {
        x.Add(y);
        return x;
      });
  out.triggered = total.triggered;
  out.delay = total.delay;
  out.sum_log_intensity = total.sum_log;
  out.trigger_mass = total.trigger_mass;
  out.boundary_delay = total.boundary;
  return out;
}

}  // namespace

CellEvents BuildCellEvents(const self_exciting::PreparedEvents& events, const spatial::Grid& grid) {
  CellEvents ce;
  ce.t_end = events.t_end;
  ce.lengths = events.lengths;
  const std::size_t n = events.size();
  std::vector<std::pair<std::int64_t, std::uint32_t>> keyed;
  keyed.reserve(n);
  for (std::size_t i = 0; i < n; ++i) {
    const std::int64_t c = grid.LocalOf(events.x[i], events.y[i]);
    if (c < 0) {
      ++ce.outside;
      continue;
    }
    keyed.emplace_back(c, static_cast<std::uint32_t>(i));
  }
  // Events arrive sorted by (a, b), so a stable sort by cell keeps that order inside cells.
  std::stable_sort(keyed.begin(), keyed.end(),
                   [](const auto& l, const auto& r) { return l.first < r.first; });
  const std::size_t m = keyed.size();
  ce.a.resize(m);
  ce.b.resize(m);
  ce.length_class.resize(m);
  ce.weight.resize(m);
  ce.same_count.assign(m, 0);
  for (std::size_t k = 0; k < m; ++k) {
    const std::uint32_t i = keyed[k].second;
    ce.a[k] = events.a[i];
    ce.b[k] = events.b[i];
    ce.length_class[k] = events.length_class[i];
    ce.weight[k] = events.weight[i];
    if (k == 0 || keyed[k].first != keyed[k - 1].first) {
      ce.cell_begin.push_back(k);
      ce.cell_local.push_back(keyed[k].first);
    }
  }
  ce.cell_begin.push_back(m);
  ce.by_b.resize(m);
  std::iota(ce.by_b.begin(), ce.by_b.end(), 0u);
  for (std::size_t c = 0; c + 1 < ce.cell_begin.size(); ++c) {
    const auto first = ce.by_b.begin() + static_cast<std::ptrdiff_t>(ce.cell_begin[c]);
    const auto last = ce.by_b.begin() + static_cast<std::ptrdiff_t>(ce.cell_begin[c + 1]);
    std::stable_sort(first, last,
                     [&](std::uint32_t x, std::uint32_t y) { return ce.b[x] < ce.b[y]; });
    // Runs of identical intervals (sorted by (a, b), so they are adjacent).
    std::size_t run = ce.cell_begin[c];
    for (std::size_t k = ce.cell_begin[c]; k <= ce.cell_begin[c + 1]; ++k) {
      if (k == ce.cell_begin[c + 1] || ce.a[k] != ce.a[run] || ce.b[k] != ce.b[run]) {
        for (std::size_t q = run; q < k; ++q)
          ce.same_count[q] = static_cast<std::uint32_t>(k - run - 1);
        run = k;
      }
    }
  }
  return ce;
}

EStepSums EStep(const CellEvents& ce, std::span<const double> mu, double theta, double omega) {
  return RunEStep(ce, mu, theta, omega, CellRecursive);
}

EStepSums EStepNaive(const CellEvents& ce, std::span<const double> mu, double theta, double omega) {
  return RunEStep(ce, mu, theta, omega, CellNaive);
}

namespace {

struct EmState {
  double theta = 0;
  double omega = 0;
  std::vector<double> mu;
};

// One EM update. Returns the updated state; *log_likelihood receives the log-likelihood of
// the INPUT state (computed by the same E-step).
EmState EmMap(const CellEvents& ce, const EmState& x, double span, double* log_likelihood) {
  const EStepSums s = EStep(ce, x.mu, x.theta, x.omega);
  double mu_total = 0;
  for (double m : x.mu) mu_total += m;
  *log_likelihood = s.sum_log_intensity - mu_total * span - x.theta * s.trigger_mass;
  EmState y;
  y.mu.resize(x.mu.size());
  for (std::size_t c = 0; c < x.mu.size(); ++c) y.mu[c] = s.cell_background[c] / span;
  y.theta = s.trigger_mass > 0 ? std::min(0.999, s.triggered / s.trigger_mass) : 0.0;
  y.omega = x.omega;
  if (s.triggered > 1e-9) {
    const double denom = s.delay + y.theta * s.boundary_delay;
    if (denom > 0) y.omega = s.triggered / denom;
  }
  return y;
}

// SQUAREM works on an unconstrained vector: logit theta, log omega, log mu.
constexpr double kTinyRate = 1e-12;
std::vector<double> ToVector(const EmState& x) {
  std::vector<double> v;
  v.reserve(x.mu.size() + 2);
  const double t = std::clamp(x.theta, 1e-9, 1 - 1e-9);
  v.push_back(std::log(t / (1 - t)));
  v.push_back(std::log(x.omega));
  for (double m : x.mu) v.push_back(std::log(std::max(m, kTinyRate)));
  return v;
}
EmState FromVector(const std::vector<double>& v) {
  EmState x;
  x.theta = std::min(0.999, 1.0 / (1.0 + std::exp(-v[0])));
  x.omega = std::exp(v[1]);
  x.mu.resize(v.size() - 2);
  for (std::size_t c = 0; c + 2 < v.size(); ++c) x.mu[c] = std::exp(v[c + 2]);
  return x;
}
}  // namespace

Fit FitEtas(const CellEvents& ce, const FitSettings& settings) {
  Fit fit;
  const double span = std::max(ce.t_end, 1e-6);
  const std::size_t cells = ce.cells();
  double resolution = 0;
  {
    // The median interval length is the data's time resolution.
    std::vector<double> lens;
    lens.reserve(ce.size());
    for (std::uint16_t c : ce.length_class) lens.push_back(ce.lengths[c]);
    if (!lens.empty()) {
      std::nth_element(lens.begin(), lens.begin() + static_cast<std::ptrdiff_t>(lens.size() / 2),
                       lens.end());
      resolution = lens[lens.size() / 2];
    }
  }
  EmState x;
  x.theta = settings.initial_theta;
  x.omega =
      settings.initial_omega > 0 ? settings.initial_omega : 1.0 / std::max(7.0, 2.0 * resolution);
  x.mu.resize(cells);
  for (std::size_t c = 0; c < cells; ++c) {
    const double n_c = static_cast<double>(ce.cell_begin[c + 1] - ce.cell_begin[c]);
    x.mu[c] = (1.0 - x.theta) * n_c / span;
    fit.poisson_log_likelihood += n_c * std::log(n_c / span) - n_c;
  }
  const auto map = [&](const std::vector<double>& v, double* ll) {
    return ToVector(EmMap(ce, FromVector(v), span, ll));
  };
  // Relative change of theta and omega; a theta that has collapsed to ~0 has converged (the
  // data show no clustering and omega is then unidentified).
  const auto change = [&](const std::vector<double>& from, const std::vector<double>& to) {
    const EmState a = FromVector({from[0], from[1], 0.0});
    const EmState b = FromVector({to[0], to[1], 0.0});
    if (b.theta < settings.stop_theta) return 0.0;
    return std::max(std::abs(b.theta - a.theta) / std::max(a.theta, 1e-3),
                    std::abs(b.omega - a.omega) / a.omega);
  };
  const self_exciting::SquaremResult r =
      self_exciting::Squarem(ToVector(x), map, change, settings.max_iterations, settings.tolerance);
  x = FromVector(r.x);
  fit.iterations = r.evaluations;
  fit.converged = r.converged && r.finite;
  fit.last_change = r.last_change;
  fit.log_likelihood = r.log_likelihood;
  fit.theta = r.finite ? x.theta : std::numeric_limits<double>::quiet_NaN();
  fit.omega = x.omega;
  fit.mu = std::move(x.mu);
  return fit;
}

}  // namespace crimecast::models::etas

namespace crimecast::models {
namespace {

using self_exciting::OptionSpec;

const std::vector<OptionSpec>& EtasOptionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"window_days", 365, 0, 36600},  // fitting window; 0 = all history
      {"max_iterations", 300, 1, 100000},
      {"tolerance", 1e-6, 1e-12, 0.1},
      {"min_events", 30, 1, 1e9},
      {"min_theta", 0.02, 0, 0.5},      // below: weak clustering, fall back
      {"min_lr", 20, 0, 1e9},           // 2 x log-likelihood gain over Poisson
      {"max_theta", 0.95, 0.5, 0.999},  // above: (near-)explosive, fall back
      {"initial_theta", 0.3, 0.01, 0.95},
      {"initial_mean_delay_days", 0, 0, 3650},  // 0: max(7 days, 2 x resolution)
      {"fallback_half_life_days", 180, 1, 3650},
  };
  return specs;
}

class EtasGridModel final : public Model {
 public:
  explicit EtasGridModel(ModelOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return kEtasGridModelName; }

  Result<Forecast> Predict(const History& history, const ForecastRequest& request) override {
    auto opts = self_exciting::ResolveOptions(name(), options_, EtasOptionSpecs());
    if (!opts) return Unexpected(opts.error());
    const auto& o = *opts;
    auto prepared = self_exciting::PrepareEvents(history, request.at, o.at("window_days"));
    if (!prepared) return Unexpected(prepared.error());
    const double h = self_exciting::HorizonDays(request);
    Forecast f = self_exciting::EmptyForecast(request, name());
    const etas::CellEvents ce = etas::BuildCellEvents(*prepared, request.grid);
    if (ce.outside > 0) {
      f.notes.push_back(fmt::format("{} events outside the grid were not used", ce.outside));
    }
    f.parameters["events"] = static_cast<double>(ce.size());
    f.parameters["window_days"] = prepared->Span();
    const double half_life = o.at("fallback_half_life_days");
    if (static_cast<double>(ce.size()) < o.at("min_events")) {
      const auto ok = self_exciting::NaiveDecayFallback(
          history, request, half_life, options_.threads, name(),
          fmt::format("too few events to fit ({} < {})", ce.size(), o.at("min_events")), f);
      if (!ok) return Unexpected(ok.error());
      return f;
    }
    etas::FitSettings settings;
    settings.max_iterations = static_cast<int>(o.at("max_iterations"));
    settings.tolerance = o.at("tolerance");
    settings.initial_theta = o.at("initial_theta");
    settings.stop_theta = o.at("min_theta") / 4;
    if (o.at("initial_mean_delay_days") > 0) {
      settings.initial_omega = 1.0 / o.at("initial_mean_delay_days");
    }
    const etas::Fit fit =
        self_exciting::InArena(options_.threads, [&] { return etas::FitEtas(ce, settings); });
    double mu_total = 0;
    for (double m : fit.mu) mu_total += m;
    const double lr = 2 * (fit.log_likelihood - fit.poisson_log_likelihood);
    f.parameters["theta"] = fit.theta;
    f.parameters["omega_per_day"] = fit.omega;
    f.parameters["mean_delay_days"] = 1.0 / fit.omega;
    f.parameters["mu_per_day"] = mu_total;
    f.parameters["iterations"] = fit.iterations;
    f.parameters["converged"] = fit.converged ? 1 : 0;
    f.parameters["lr_vs_poisson"] = lr;
    f.parameters["fallback"] = 0;
    f.notes.push_back(fmt::format(
        "etas-grid fit: theta = {:.3f}, mean delay {:.3g} days, background {:.4g} events/day "
        "over {} cells, {} events, {} EM iterations{}",
        fit.theta, 1.0 / fit.omega, mu_total, ce.cells(), ce.size(), fit.iterations,
        fit.converged ? "" : " (not converged)"));

    // Checks in order of how fundamental the problem is.
    std::string reason;
    if (!std::isfinite(fit.theta) || !std::isfinite(fit.omega) || fit.omega <= 0 ||
        !std::isfinite(fit.log_likelihood)) {
      reason = "the EM fit produced non-finite parameters";
    } else if (fit.theta < o.at("min_theta") || lr < o.at("min_lr")) {
      reason = fmt::format(
          "weak clustering: theta = {:.3f} (threshold {}), likelihood-ratio gain over a Poisson "
          "model {:.1f} (threshold {})",
          fit.theta, o.at("min_theta"), lr, o.at("min_lr"));
    } else if (const std::string problem = self_exciting::ResolutionProblem(*prepared, fit.omega);
               !problem.empty()) {
      reason = problem;
    } else if (fit.theta > o.at("max_theta")) {
      reason = fmt::format("theta = {:.3f} is near-explosive (above {}); the fit is unreliable",
                           fit.theta, o.at("max_theta"));
    } else if (!fit.converged) {
      reason = fmt::format("EM did not converge in {} iterations (last relative change {:.2g})",
                           fit.iterations, fit.last_change);
    }
    if (!reason.empty()) {
      const auto ok = self_exciting::NaiveDecayFallback(history, request, half_life,
                                                        options_.threads, name(), reason, f);
      if (!ok) return Unexpected(ok.error());
      return f;
    }
    if (prepared->month_only) {
      f.notes.push_back(
          "month-only data: event times were integrated over their months (expected kernel "
          "values); triggering within a month is not identifiable beyond its total");
    }
    // Expected counts: background immigrants and their in-horizon descendants, plus the
    // in-horizon descendants of past events (self_exciting_common.hpp, BackgroundFactor).
    std::vector<self_exciting::LengthClassTerms> terms;
    self_exciting::ComputeLengthTerms(ce.lengths, fit.omega, terms);
    const double bg_factor = self_exciting::BackgroundFactor(fit.theta, fit.omega, h);
    const double recent_factor = self_exciting::RecentFactor(fit.theta, fit.omega, h);
    f.background.assign(f.expected.size(), 0.0);
    f.recent.assign(f.expected.size(), 0.0);
    for (std::size_t c = 0; c < ce.cells(); ++c) {
      double residual = 0;
      double weight_sum = 0;
      for (std::size_t i = ce.cell_begin[c]; i < ce.cell_begin[c + 1]; ++i) {
        residual += ce.weight[i] * std::exp(-fit.omega * (ce.t_end - ce.b[i])) *
                    terms[ce.length_class[i]].g;
        weight_sum += ce.weight[i];
      }
      const double mean_weight =
          weight_sum / static_cast<double>(ce.cell_begin[c + 1] - ce.cell_begin[c]);
      const auto local = static_cast<std::size_t>(ce.cell_local[c]);
      f.background[local] = fit.mu[c] * mean_weight * bg_factor;
      f.recent[local] = residual * recent_factor;
      f.expected[local] = f.background[local] + f.recent[local];
    }
    return f;
  }

 private:
  ModelOptions options_;
};

}  // namespace

std::unique_ptr<Model> MakeEtasGridModel(const ModelOptions& options) {
  return std::make_unique<EtasGridModel>(options);
}

Result<void> CheckEtasGridOptions(const ModelOptions& options) {
  auto r = self_exciting::ResolveOptions(kEtasGridModelName, options, EtasOptionSpecs());
  if (!r) return Unexpected(r.error());
  return {};
}

}  // namespace crimecast::models
