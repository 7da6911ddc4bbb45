// core/models/sepp.hpp
//
// Continuous-space SEPP: the fitting machinery behind the "sepp" model
// (models/self_exciting.hpp). Exposed for tests and benchmarks.
//
// Model (time in days, space in metres):
//   lambda(t, x) = mu f(x) + sum_{t_i < t} theta g_t(t - t_i) g_s(|x - x_i|)
//   g_t(d) = omega e^{-omega d} / (1 - e^{-omega Tc})          for 0 < d <= Tc
//   g_s(r) = e^{-r^2 / (2 sigma^2)} / (2 pi sigma^2 (1 - e^{-Rc^2 / (2 sigma^2)}))   for r <= Rc
// Both triggering kernels are proper densities on their truncated supports, so theta stays the
// mean number of offspring. mu is the background rate (events/day, whole area) and f(x) the
// background's spatial shape (1/m^2, integrating to 1).
//
// Method. Mohler et al. (2011) estimate background and triggering by stochastic declustering:
// compute each event's probabilities of being background (p_ii) or triggered by an earlier
// event j (p_ij), sample one branching structure, re-estimate both parts from the sample, and
// repeat. We use the probabilities themselves as weights (the expectation of that sampling
// step), which is the EM algorithm of Zhuang, Ogata & Vere-Jones (2002): deterministic and
// faster to converge. Rosser & Cheng (2019) found Mohler's estimator, whose triggering density
// is anisotropic in space, not robust across crime datasets, and showed that isotropic
// (distance-only) triggering is more robust and more accurate; we use a parametric isotropic
// kernel with truncated support, whose M-step is closed form (P = sum p_ij, D = sum p_ij E[t_i -
// t_j], S2 = sum p_ij |x_i - x_j|^2, F_j = share of j's triggering mass before T):
//   mu    = sum_i p_ii / T
//   theta = P / sum_j F_j
//   omega : P/omega - D - P Tc e^{-omega Tc}/(1 - e^{-omega Tc}) - theta sum_j dF_j/domega = 0
//   sigma : sigma^2 = S2 / (2P) - (Rc^2 / 2) e^{-a} / (1 - e^{-a}),  a = Rc^2 / (2 sigma^2)
// (the last two by five fixed-point steps each), accelerated by SQUAREM.
//
// Background shape. f is a Gaussian kernel density of ALL events, evaluated leave-one-out at
// each event, with the bandwidth chosen by temporal likelihood cross-validation
// (AutoBandwidth); only the rate mu is declustered. We tried the declustered (p_ii-weighted)
// density of Mohler et al. in simulation: it degenerates (theta -> 1, background -> 0) because
// triggering with long delays can stand in for any spatial structure the background gives up, a
// feedback loop. A fixed shape removes the loop; because offspring land near their parents, the
// shape of all events is the background shape blurred by sigma, close to the truth when sigma is
// below the bandwidth. Measured cost: on simulated data theta is ~0.02 low and omega ~8 % high
// (long-delay offspring are partly taken for background). Over-smoothed backgrounds do the opposite
// (triggering then mimics spatial structure, theta too high), which is why the bandwidth is
// cross-validated rather than a rule of thumb.
//
// Truncation keeps the E-step linear in practice: only pairs within Tc days and Rc metres
// are visited, through a spatial hash. Tc = min(max_days, 12 / omega) and
// Rc = min(max_distance_m, 5 sigma) follow the current estimates (the truncated kernels stay
// normalised, so the M-step remains consistent when they move).
//
// The background KDE lives on a raster with pixel = bandwidth / 2 (coarser if the events'
// extent would need more than 4 million pixels): splat (bilinear), separable Gaussian blur,
// bilinear lookup; the leave-one-out term is the raster operator's exact self-contribution.
#pragma once

#include <cstdint>
#include <vector>

#include "core/models/self_exciting_common.hpp"
#include "core/spatial/grid.hpp"

namespace crimecast::models::sepp {

// A Gaussian kernel density on a raster (events/day/m^2).
class BackgroundRaster {
 public:
  // Raster covering the events' bounding box plus 4 bandwidths.
  static BackgroundRaster ForEvents(const std::vector<double>& xs, const std::vector<double>& ys,
                                    double bandwidth_m);
  // Replaces the density with sum_i weights[i] K_h(x - x_i) / span_days (events/day/m^2).
  void Build(const std::vector<double>& xs, const std::vector<double>& ys,
             const std::vector<double>& weights, double span_days);
  double At(double x, double y) const;  // bilinear; 0 outside
  // The density a unit weight at (x, y) contributes at (x, y) itself (for leave-one-out).
  double SelfAt(double x, double y) const;
  // Integral over [x0, x0 + size) x [y0, y0 + size) (events/day), by a sub-grid of samples.
  double CellIntegral(double x0, double y0, double size) const;
  double bandwidth() const { return bandwidth_; }
  double pixel() const { return pixel_; }

 private:
  double x0_ = 0, y0_ = 0, pixel_ = 1, bandwidth_ = 1, span_ = 1;
  std::int64_t nx_ = 0, ny_ = 0;
  std::vector<double> kernel_;  // normalised 1-D blur weights, index 0 .. radius
  std::vector<double> values_;  // blurred weights per node, row-major
};

// The bandwidth of the background shape, by temporal likelihood cross-validation: time is cut
// into blocks of `block_days`, alternate blocks form two folds, and the chosen bandwidth
// (25 m .. 2 km in steps of x1.25) maximises the log-likelihood of each fold's events under
// the other fold's kernel density. Ordinary leave-one-out cross-validation (Silverman 1986,
// section 3.4.4) rewards reproducing near-repeat clusters, whose members are each other's
// neighbours; across time blocks only the lasting structure, the background, predicts. The
// result is scaled by 2^(-1/6) because each fold holds half the events (the optimal bandwidth
// of a 2-D density estimate scales as n^(-1/6)).
double AutoBandwidth(const std::vector<double>& xs, const std::vector<double>& ys,
                     const std::vector<double>& times, double block_days);

struct Settings {
  int max_iterations = 200;     // E-steps
  double tolerance = 1e-5;      // relative change of theta, omega and sigma
  double max_days = 60;         // upper bound on the temporal truncation Tc
  double max_distance_m = 500;  // upper bound on the spatial truncation Rc
  double bandwidth_m = 0;       // background bandwidth; 0: AutoBandwidth
  double initial_theta = 0.3;
  double initial_omega = 0;  // 0: 1 / max(7 days, 2 x resolution)
  double initial_sigma_m = 100;
  double stop_theta = 0.005;  // stop (as converged) once theta falls below: no clustering
};

struct Fit {
  double theta = 0;
  double omega = 0;
  double sigma = 0;
  double time_cutoff = 0;      // Tc, days
  double distance_cutoff = 0;  // Rc, metres
  int iterations = 0;
  bool converged = false;
  double last_change = 0;
  double log_likelihood = 0;
  double poisson_log_likelihood = 0;           // theta = 0 with the all-events background KDE
  double mu_total = 0;                         // background events/day, whole area (mu)
  BackgroundRaster background;                 // all-events KDE: f = background density * T / n
  std::vector<double> background_probability;  // p_ii per event at the fitted parameters
};

Fit FitSepp(const self_exciting::PreparedEvents& events, const Settings& settings);

// Adds weight x N2((cx, cy), s^2 I) integrated exactly over each cell of `grid` within 4 s of
// the centre to `out` (indexed by local cell; s in metres, > 0). The forecast's triggering
// term and the server's live updates both spread an event's offspring this way. When `touched`
// is given, the local index of every cell added to is appended. mass_x and mass_y are scratch.
void SpreadGaussian(const spatial::Grid& grid, double cx, double cy, double s, double weight,
                    std::vector<double>& out, std::vector<double>& mass_x,
                    std::vector<double>& mass_y, std::vector<std::int64_t>* touched = nullptr);

}  // namespace crimecast::models::sepp
