// Retrospective kernel density estimation on the grid. See docs/models.md "Retrospective KDE".
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numbers>
#include <unordered_map>

#include "core/models/baseline_common.hpp"
#include "core/models/baselines.hpp"
#include "core/models/grid_ops.hpp"
#include "core/models/params.hpp"
#include "core/models/time_weights.hpp"

namespace crimecast::models {
namespace {

enum class Kernel { kQuartic = 0, kGaussian = 1 };
enum class Rule { kHoldout = 0, kScott = 1, kSilverman = 2 };

// The quartic support radius matching a Gaussian sigma: the ratio of the two kernels'
// AMISE-optimal bandwidths in two dimensions, (R(K) / mu2(K)^2)^(1/6) for the radial quartic
// K = (3/pi)(1 - r^2)^2 (R = 1.8/pi, mu2 = 1/8) over the same for the standard Gaussian
// (R = 1/(4 pi), mu2 = 1): 1.8226 / 0.6559 = 2.78. Used only to convert the rules of thumb.
constexpr double kQuarticPerSigma = 2.78;
// Gaussian stencils are truncated at 4 sigma (mass lost < 1e-4, renormalised anyway).
constexpr double kGaussianTruncation = 4.0;
// Quartic stencils cost (2R+1)^2 per cell; beyond this radius in cells the request is refused
// rather than silently taking seconds.
constexpr int kMaxQuarticRadiusCells = 50;
constexpr int kMaxGaussianRadiusCells = 400;
// Hold-out selection: candidate radii are capped at this many cells (cost) and 3 km.
constexpr double kMaxCandidateCells = 8.0;
constexpr double kMaxCandidateMetres = 3000.0;
// Defensive-mixture share of a uniform component in the hold-out likelihood (Hesterberg 1995):
// keeps a cell that the KDE gives zero from costing -infinity.
constexpr double kUniformShare = 0.01;
constexpr std::size_t kMinSelectionEvents = 30;

struct Smoother {
  Kernel kernel;
  double h;                     // metres: quartic support radius, or Gaussian sigma
  int radius;                   // cells
  Stencil stencil;              // quartic: normalised 2-D stencil
  std::vector<double> gauss1d;  // Gaussian: normalised 1-D kernel
};

Smoother MakeSmoother(Kernel kernel, double h, double cell) {
  Smoother s{kernel, h, 0, {}, {}};
  if (kernel == Kernel::kQuartic) {
    const double hc = h / cell;  // support radius in cells
    s.radius = static_cast<int>(std::ceil(hc + 0.7072));
    // 4x4 sub-samples per cell: a narrow kernel's mass is integrated, not point-sampled.
    s.stencil = RadialStencil(
        s.radius,
        [hc](double r) {
          const double u = r / hc;
          return u < 1.0 ? (1.0 - u * u) * (1.0 - u * u) : 0.0;
        },
        4);
    if (s.stencil.Sum() <= 0) {  // cannot happen for hc > 0; keep the centre cell regardless
      s.stencil.w.assign(s.stencil.w.size(), 0.0);
      s.stencil.w[s.stencil.w.size() / 2] = 1.0;
    }
    s.stencil = s.stencil.Normalised();
  } else {
    const double sc = h / cell;  // sigma in cells
    s.radius = static_cast<int>(std::ceil(kGaussianTruncation * sc));
    s.gauss1d.resize(static_cast<std::size_t>(2 * s.radius + 1));
    // Exact mass of N(0, sc^2) over each cell [i - 1/2, i + 1/2).
    auto cdf = [sc](double x) { return 0.5 * std::erfc(-x / (sc * std::numbers::sqrt2)); };
    double total = 0;
    for (int i = -s.radius; i <= s.radius; ++i) {
      const double m = cdf(i + 0.5) - cdf(i - 0.5);
      s.gauss1d[static_cast<std::size_t>(i + s.radius)] = m;
      total += m;
    }
    for (double& v : s.gauss1d) v /= total;
    // A 2-D stencil view for sparse evaluation (bandwidth selection).
    const int side = 2 * s.radius + 1;
    s.stencil.radius = s.radius;
    s.stencil.w.resize(static_cast<std::size_t>(side * side));
    for (int dy = 0; dy < side; ++dy) {
      for (int dx = 0; dx < side; ++dx) {
        s.stencil.w[static_cast<std::size_t>(dy * side + dx)] =
            s.gauss1d[static_cast<std::size_t>(dx)] * s.gauss1d[static_cast<std::size_t>(dy)];
      }
    }
  }
  return s;
}

struct Spread {
  double sx2 = 0, sy2 = 0;  // variances
  double iqr_x = 0, iqr_y = 0;
  std::size_t n = 0;
};

Spread SpreadOf(const History& h) {
  Spread s;
  s.n = h.size();
  if (s.n < 2) return s;
  double mx = 0, my = 0;
  for (std::size_t i = 0; i < s.n; ++i) {
    mx += h.x[i];
    my += h.y[i];
  }
  mx /= static_cast<double>(s.n);
  my /= static_cast<double>(s.n);
  for (std::size_t i = 0; i < s.n; ++i) {
    s.sx2 += (h.x[i] - mx) * (h.x[i] - mx);
    s.sy2 += (h.y[i] - my) * (h.y[i] - my);
  }
  s.sx2 /= static_cast<double>(s.n - 1);
  s.sy2 /= static_cast<double>(s.n - 1);
  auto iqr = [&](const std::vector<double>& v) {
    std::vector<double> c = v;
    const auto q = [&](double p) {
      const auto k = static_cast<std::size_t>(p * static_cast<double>(c.size() - 1));
      std::nth_element(c.begin(), c.begin() + static_cast<std::ptrdiff_t>(k), c.end());
      return c[k];
    };
    const double q3 = q(0.75);
    const double q1 = q(0.25);
    return q3 - q1;
  };
  s.iqr_x = iqr(h.x);
  s.iqr_y = iqr(h.y);
  return s;
}

class KdeModel final : public Model {
 public:
  KdeModel(Kernel kernel, Rule rule, double bandwidth_m, int window_months, int threads)
      : kernel_(kernel),
        rule_(rule),
        bandwidth_m_(bandwidth_m),
        window_months_(window_months),
        threads_(threads) {}

  std::string_view name() const override { return "kde"; }

  Result<Forecast> Predict(const History& history, const ForecastRequest& request) override {
    auto win = detail::PrepareWindow(name(), history, request);
    if (!win) return Unexpected(win.error());
    Result<Forecast> out = Forecast{};
    WithThreads(threads_, [&] { out = Run(history, request, *win); });
    return out;
  }

 private:
  std::int64_t WindowLength(const detail::Window& win) const {
    if (window_months_ <= 0) return win.end - win.from;
    const TimePoint end{Seconds{win.end}};
    return (end - AddMonths(end, -window_months_)).count();
  }

  Result<Forecast> Run(const History& history, const ForecastRequest& request,
                       const detail::Window& win) {
    const double cell = request.grid.size_m();
    Forecast f;
    f.model = f.model_used = "kde";
    double h = bandwidth_m_;
    std::string how = "given";
    if (h <= 0) {
      auto sel = SelectBandwidth(history, request, win, f.notes);
      if (!sel) return Unexpected(sel.error());
      h = sel->first;
      how = sel->second;
    }
    const int max_radius =
        kernel_ == Kernel::kQuartic ? kMaxQuarticRadiusCells : kMaxGaussianRadiusCells;
    const double reach = kernel_ == Kernel::kQuartic ? h : kGaussianTruncation * h;
    if (reach / cell > max_radius) {
      return Fail(
          ErrorCode::kOutOfRange,
          fmt::format("kde: bandwidth {:.0f} m is more than {} cells of {} m for the "
                      "{} kernel; use larger cells{}",
                      h, max_radius, cell, kernel_ == Kernel::kQuartic ? "quartic" : "Gaussian",
                      kernel_ == Kernel::kQuartic ? " or the Gaussian kernel" : ""));
    }
    const Smoother sm = MakeSmoother(kernel_, h, cell);
    const BoxKernel box{win.from, win.end, WindowLength(win)};
    const std::vector<double> w = detail::EventWeights(history, box);
    const double scale = win.horizon_s / box.Exposure();
    const CellWindow out_window = WindowOf(request.grid);
    const CellWindow padded = Padded(request.grid, sm.radius);
    const std::vector<double> binned = Bin(padded, cell, history.x, history.y, w);
    std::vector<double> smooth = kernel_ == Kernel::kQuartic
                                     ? Convolve(binned, padded, sm.stencil, out_window)
                                     : ConvolveSeparable(binned, padded, sm.gauss1d, out_window);
    for (double& v : smooth) v = std::max(0.0, v * scale);  // clamp round-off below zero
    f.expected = std::move(smooth);
    f.background = f.expected;
    f.parameters["bandwidth_m"] = h;
    f.parameters["kernel"] = static_cast<double>(kernel_);
    f.parameters["stencil_radius_cells"] = sm.radius;
    f.parameters["exposure_days"] = box.Exposure() / 86400.0;
    f.parameters["expected_total_all_space"] = detail::Sum(w) * scale;
    f.notes.push_back(fmt::format("{} kernel, bandwidth {:.0f} m ({})",
                                  kernel_ == Kernel::kQuartic ? "quartic" : "Gaussian", h, how));
    return f;
  }

  // Rule-of-thumb sigma converted to this kernel's bandwidth.
  double RuleBandwidth(const History& history, Rule rule) const {
    const double sigma =
        rule == Rule::kSilverman ? SilvermanBandwidth(history) : ScottBandwidth(history);
    return kernel_ == Kernel::kQuartic ? kQuarticPerSigma * sigma : sigma;
  }

  // Chooses h by the Poisson log-likelihood of the most recent part of the window (the
  // hold-out) under a KDE of the part before it. Returns (h, description).
  Result<std::pair<double, std::string>> SelectBandwidth(const History& history,
                                                         const ForecastRequest& request,
                                                         const detail::Window& win,
                                                         std::vector<std::string>& notes) const {
    const double cell = request.grid.size_m();
    if (rule_ != Rule::kHoldout) {
      const double h = RuleBandwidth(history, rule_);
      if (!(h > 0)) {
        notes.push_back("kde: fewer than 2 events; bandwidth set to one cell");
        return std::pair{cell, std::string("one cell")};
      }
      return std::pair{h, std::string(rule_ == Rule::kScott ? "Scott's rule" : "Silverman's rule")};
    }
    // Hold-out: the last fifth of the window, at least one horizon; whole months for
    // month-only data so no month is split between training and hold-out.
    const std::int64_t span = win.end - win.from;
    const auto want =
        static_cast<std::int64_t>(std::max(win.horizon_s, static_cast<double>(span) / 5.0));
    std::int64_t split = win.end - want;
    if (win.month_only) {
      const int months =
          std::max(1, static_cast<int>(std::lround(static_cast<double>(want) / (30.44 * 86400.0))));
      split = AddMonths(TimePoint{Seconds{win.end}}, -months).time_since_epoch().count();
    }
    auto fallback = [&](const std::string& why) -> std::pair<double, std::string> {
      const double h = RuleBandwidth(history, Rule::kSilverman);
      notes.push_back("kde: " + why + "; bandwidth from Silverman's rule instead");
      return {h > 0 ? h : cell, "Silverman's rule (fallback)"};
    };
    if (split <= win.from) return fallback("history too short for a hold-out");

    const BoxKernel train_k{win.from, split, split - win.from};
    const BoxKernel hold_k{win.from, win.end, win.end - split};
    std::vector<double> train_w = detail::EventWeights(history, train_k);
    std::vector<double> hold_w = detail::EventWeights(history, hold_k);
    // Unit weights for selection: harm weights would let a few heavy events pick h.
    for (std::size_t i = 0; i < history.size(); ++i) {
      if (history.weight[i] > 0) {
        train_w[i] /= history.weight[i];
        hold_w[i] /= history.weight[i];
      }
    }
    // Candidates: sqrt(2) steps from half a cell up to the cap.
    std::vector<double> candidates;
    const double hi = std::min(kMaxCandidateCells * cell, kMaxCandidateMetres);
    for (double h = std::max(cell / 2.0, 10.0); h <= hi * 1.0001; h *= std::numbers::sqrt2) {
      candidates.push_back(h);
    }
    if (candidates.empty()) candidates.push_back(cell);
    const double reach_cells =
        (kernel_ == Kernel::kQuartic ? 1.0 : kGaussianTruncation) * candidates.back() / cell;
    const auto pad = static_cast<std::int64_t>(std::ceil(reach_cells + 1));
    const CellWindow padded = Padded(request.grid, pad);
    const CellWindow grid_window = WindowOf(request.grid);
    const std::vector<double> train = Bin(padded, cell, history.x, history.y, train_w);
    const std::vector<double> hold = Bin(grid_window, cell, history.x, history.y, hold_w);
    struct Target {
      std::int64_t ix, iy;
      double y;
    };
    std::vector<Target> targets;
    double hold_total = 0;
    for (std::int64_t l = 0; l < grid_window.size(); ++l) {
      const double y = hold[static_cast<std::size_t>(l)];
      if (y <= 0) continue;
      targets.push_back(
          {grid_window.ix0 + l % grid_window.nx, grid_window.iy0 + l / grid_window.nx, y});
      hold_total += y;
    }
    double train_total = 0;
    for (double v : train) train_total += v;
    if (hold_total < kMinSelectionEvents || train_total < kMinSelectionEvents) {
      return fallback(
          fmt::format("only {:.0f} training / {:.0f} hold-out events for bandwidth "
                      "selection",
                      train_total, hold_total));
    }
    const double uniform = kUniformShare * train_total / static_cast<double>(padded.size());
    double best_h = candidates.front();
    double best_ll = -std::numeric_limits<double>::infinity();
    std::string table;
    for (double h : candidates) {
      const Smoother sm = MakeSmoother(kernel_, h, cell);
      double ll = 0;
      // Few targets (a sparse force-wide grid): gather the stencil at each. Many targets: a
      // dense convolution's vectorised row passes are cheaper than per-cell gathers.
      const bool sparse = kernel_ == Kernel::kQuartic &&
                          targets.size() * 20 < static_cast<std::size_t>(grid_window.size());
      if (sparse) {
        for (const Target& t : targets) {
          const double k = ConvolveAt(train, padded, sm.stencil, t.ix, t.iy);
          ll += t.y * std::log((1.0 - kUniformShare) * k + uniform);
        }
      } else {
        const std::vector<double> dense =
            kernel_ == Kernel::kQuartic ? Convolve(train, padded, sm.stencil, grid_window)
                                        : ConvolveSeparable(train, padded, sm.gauss1d, grid_window);
        for (const Target& t : targets) {
          const auto l = static_cast<std::size_t>(grid_window.Local(t.ix, t.iy));
          ll += t.y * std::log((1.0 - kUniformShare) * dense[l] + uniform);
        }
      }
      table += fmt::format("{}{:.0f}:{:.1f}", table.empty() ? "" : " ", h, ll);
      if (ll > best_ll) {
        best_ll = ll;
        best_h = h;
      }
    }
    notes.push_back(fmt::format("kde: hold-out log-likelihood by bandwidth (m:ll) {}", table));
    return std::pair{best_h, fmt::format("hold-out likelihood over the last {:.0f} days",
                                         static_cast<double>(win.end - split) / 86400.0)};
  }

  Kernel kernel_;
  Rule rule_;
  double bandwidth_m_;
  int window_months_;
  int threads_;
};

}  // namespace

double ScottBandwidth(const History& history) {
  const Spread s = SpreadOf(history);
  if (s.n < 2) return 0;
  const double sigma = std::sqrt((s.sx2 + s.sy2) / 2.0);
  return sigma * std::pow(static_cast<double>(s.n), -1.0 / 6.0);
}

double SilvermanBandwidth(const History& history) {
  const Spread s = SpreadOf(history);
  if (s.n < 2) return 0;
  auto robust = [](double var, double iqr) {
    const double sd = std::sqrt(var);
    const double r = iqr / 1.349;
    return r > 0 ? std::min(sd, r) : sd;
  };
  const double ax = robust(s.sx2, s.iqr_x);
  const double ay = robust(s.sy2, s.iqr_y);
  const double sigma = std::sqrt((ax * ax + ay * ay) / 2.0);
  return sigma * std::pow(static_cast<double>(s.n), -1.0 / 6.0);
}

Result<std::unique_ptr<Model>> MakeKdeModel(const ModelOptions& options) {
  ParamReader p("kde", options);
  const double bandwidth = p.Get("bandwidth_m", 0, 0, 20000);
  const int kernel = p.GetInt("kernel", 0, 0, 1);
  const int rule = p.GetInt("bandwidth_rule", 0, 0, 2);
  const int window = p.GetInt("window_months", 0, 0, 600);
  if (auto ok = p.Finish(); !ok) return Unexpected(ok.error());
  return std::make_unique<KdeModel>(static_cast<Kernel>(kernel), static_cast<Rule>(rule), bandwidth,
                                    window, options.threads);
}

}  // namespace crimecast::models
