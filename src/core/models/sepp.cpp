#include "core/models/sepp.hpp"

#include <fmt/format.h>
#include <oneapi/tbb/blocked_range.h>
#include <oneapi/tbb/parallel_for.h>
#include <oneapi/tbb/parallel_reduce.h>

#include <algorithm>
#include <numbers>
#include <numeric>

#include "core/models/self_exciting.hpp"

namespace crimecast::models::sepp {
namespace {

using self_exciting::LengthClassTerms;

constexpr double kMaxRasterNodes = 4e6;
constexpr double kTimeCutoffScale = 12;     // Tc = 12 / omega: e^-12 of the mass lies beyond
constexpr double kDistanceCutoffScale = 5;  // Rc = 5 sigma: e^-12.5 of the mass lies beyond

struct Bounds {
  double min_x = 0, min_y = 0, max_x = 0, max_y = 0;
};
Bounds BoundsOf(const std::vector<double>& xs, const std::vector<double>& ys) {
  Bounds b{xs[0], ys[0], xs[0], ys[0]};
  for (std::size_t i = 1; i < xs.size(); ++i) {
    b.min_x = std::min(b.min_x, xs[i]);
    b.max_x = std::max(b.max_x, xs[i]);
    b.min_y = std::min(b.min_y, ys[i]);
    b.max_y = std::max(b.max_y, ys[i]);
  }
  return b;
}

// A uniform bucket grid over the events; bucket k holds positions order[start[k] .. start[k+1])
// in the input order (events come sorted by time, so each bucket is sorted by time too).
struct SpatialHash {
  double x0 = 0, y0 = 0, size = 1;
  std::int64_t nx = 1, ny = 1;
  std::vector<std::uint32_t> order;
  std::vector<std::uint32_t> start;

  void Build(const std::vector<double>& xs, const std::vector<double>& ys, const Bounds& b,
             double cell) {
    // Never more than ~4 million buckets, whatever the cut-off: larger buckets stay correct
    // (the caller checks the distance) and only cost more candidate pairs.
    const double w = b.max_x - b.min_x + 1;
    const double h = b.max_y - b.min_y + 1;
    size = std::max({cell, std::sqrt(w * h / 4e6), 1.0});
    x0 = b.min_x;
    y0 = b.min_y;
    nx = static_cast<std::int64_t>(w / size) + 1;
    ny = static_cast<std::int64_t>(h / size) + 1;
    const std::size_t buckets = static_cast<std::size_t>(nx * ny);
    start.assign(buckets + 1, 0);
    std::vector<std::uint32_t> bucket_of(xs.size());
    for (std::size_t i = 0; i < xs.size(); ++i) {
      bucket_of[i] = static_cast<std::uint32_t>(Bucket(xs[i], ys[i]));
      ++start[bucket_of[i] + 1];
    }
    std::partial_sum(start.begin(), start.end(), start.begin());
    order.resize(xs.size());
    std::vector<std::uint32_t> fill(start.begin(), start.end() - 1);
    for (std::size_t i = 0; i < xs.size(); ++i)
      order[fill[bucket_of[i]]++] = static_cast<std::uint32_t>(i);
  }
  std::int64_t Bx(double x) const {
    return std::clamp(static_cast<std::int64_t>((x - x0) / size), std::int64_t{0}, nx - 1);
  }
  std::int64_t By(double y) const {
    return std::clamp(static_cast<std::int64_t>((y - y0) / size), std::int64_t{0}, ny - 1);
  }
  std::int64_t Bucket(double x, double y) const { return By(y) * nx + Bx(x); }
};

// One E-step's sums.
struct Sums {
  double background = 0;  // sum p_ii
  double triggered = 0;   // P
  double delay = 0;       // D
  double dist2 = 0;       // S2
  double sum_log = 0;
  void Add(const Sums& o) {
    background += o.background;
    triggered += o.triggered;
    delay += o.delay;
    dist2 += o.dist2;
    sum_log += o.sum_log;
  }
};

double Logit(double p) {
  p = std::clamp(p, 1e-9, 1 - 1e-9);
  return std::log(p / (1 - p));
}
double Logistic(double v) { return 1.0 / (1.0 + std::exp(-v)); }

// The SEPP EM map over the state [logit theta, log omega, log sigma, log mu_total].
class SeppEm {
 public:
  SeppEm(const self_exciting::PreparedEvents& ev, const Settings& s,
         const BackgroundRaster& shape_raster)
      : ev_(ev), settings_(s), bounds_(BoundsOf(ev.x, ev.y)) {
    const std::size_t n = ev.size();
    max_length_ = *std::max_element(ev.lengths.begin(), ev.lengths.end());
    // Leave-one-out background shape f(x_i), normalised to integrate to 1 over the plane.
    const double area = (bounds_.max_x - bounds_.min_x + 8 * shape_raster.bandwidth()) *
                        (bounds_.max_y - bounds_.min_y + 8 * shape_raster.bandwidth());
    const double floor = 1e-3 / area;
    const double norm = ev.Span() / std::max(1.0, static_cast<double>(n) - 1);
    shape_.resize(n);
    for (std::size_t i = 0; i < n; ++i) {
      const double loo = shape_raster.At(ev.x[i], ev.y[i]) - shape_raster.SelfAt(ev.x[i], ev.y[i]);
      shape_[i] = std::max(loo * norm, floor);
    }
  }

  double TimeCutoff(double omega) const {
    return std::min(settings_.max_days, kTimeCutoffScale / omega);
  }
  double DistanceCutoff(double sigma) const {
    return std::min(settings_.max_distance_m, kDistanceCutoffScale * sigma);
  }

  // The inhomogeneous Poisson model with the same background shape and rate N / T.
  double PoissonLogLikelihood() const {
    const double n = static_cast<double>(ev_.size());
    const double rate = n / std::max(ev_.Span(), 1e-9);
    double ll = 0;
    for (double f : shape_) ll += std::log(rate * f);
    return ll - n;
  }

  const std::vector<double>& background_probability() const { return p_background_; }

  std::vector<double> Map(const std::vector<double>& v, double* log_likelihood) {
    const std::size_t n = ev_.size();
    const double theta = std::min(0.999, Logistic(v[0]));
    const double omega = std::exp(v[1]);
    const double sigma = std::exp(v[2]);
    const double mu_total = std::exp(v[3]);
    const double tc = TimeCutoff(omega);
    const double rc = DistanceCutoff(sigma);
    const double rc2 = rc * rc;
    const double zt = 1.0 / -std::expm1(-omega * tc);
    const double zs =
        1.0 / (2 * std::numbers::pi * sigma * sigma * -std::expm1(-rc2 / (2 * sigma * sigma)));
    const double scale = theta * omega * zt * zs;
    const double inv_two_sigma2 = 1.0 / (2 * sigma * sigma);
    std::vector<LengthClassTerms> terms;
    self_exciting::ComputeLengthTerms(ev_.lengths, omega, terms);
    hash_.Build(ev_.x, ev_.y, bounds_, rc);

    p_background_.resize(n);
    // Deterministic reduction (fixed split points): bit-identical fits for any thread count.
    const Sums sums = tbb::parallel_deterministic_reduce(
        tbb::blocked_range<std::size_t>(0, n, 256), Sums{},
        [&](const tbb::blocked_range<std::size_t>& r, Sums acc) {
          for (std::size_t i = r.begin(); i != r.end(); ++i) {
            const double xi = ev_.x[i], yi = ev_.y[i], ai = ev_.a[i], bi = ev_.b[i];
            const LengthClassTerms& ti = terms[ev_.length_class[i]];
            const double mid_i = 0.5 * (ai + bi);
            const double earliest = ai - tc - max_length_;
            double kernel = 0, kdelay = 0, kdist2 = 0;
            const std::int64_t bx = hash_.Bx(xi), by = hash_.By(yi);
            for (std::int64_t cy = std::max<std::int64_t>(0, by - 1);
                 cy <= std::min(hash_.ny - 1, by + 1); ++cy) {
              for (std::int64_t cx = std::max<std::int64_t>(0, bx - 1);
                   cx <= std::min(hash_.nx - 1, bx + 1); ++cx) {
                const std::size_t bucket = static_cast<std::size_t>(cy * hash_.nx + cx);
                const auto* first = hash_.order.data() + hash_.start[bucket];
                const auto* last = hash_.order.data() + hash_.start[bucket + 1];
                // Buckets are sorted by time: skip straight to the candidates.
                first = std::lower_bound(first, last, earliest,
                                         [&](std::uint32_t j, double t) { return ev_.a[j] < t; });
                for (const auto* p = first; p != last; ++p) {
                  const std::uint32_t j = *p;
                  const double aj = ev_.a[j];
                  if (aj > ai) break;
                  if (j == i) continue;
                  const double dx = ev_.x[j] - xi, dy = ev_.y[j] - yi;
                  const double d2 = dx * dx + dy * dy;
                  if (d2 > rc2) continue;
                  const double bj = ev_.b[j];
                  double kt = 0, delay = 0;
                  if (bj <= ai) {
                    const double gap = ai - bj;
                    if (gap > tc) continue;
                    const LengthClassTerms& tj = terms[ev_.length_class[j]];
                    kt = std::exp(-omega * gap) * ti.g * tj.g;
                    delay = gap + ti.c + tj.c;
                  } else if (aj == ai && bj == bi) {
                    if (ti.k1 == 0) continue;  // simultaneous records do not trigger
                    kt = ti.k1;
                    delay = ti.m1 / ti.k1;
                  } else {
                    const double gap = mid_i - 0.5 * (aj + bj);
                    if (gap <= 0 || gap > tc) continue;
                    kt = std::exp(-omega * gap);
                    delay = gap;
                  }
                  const double k = kt * std::exp(-d2 * inv_two_sigma2);
                  kernel += k;
                  kdelay += k * delay;
                  kdist2 += k * d2;
                }
              }
            }
            const double mu = mu_total * shape_[i];
            const double lambda = mu + scale * kernel;
            p_background_[i] = mu / lambda;
            acc.background += mu / lambda;
            acc.triggered += scale * kernel / lambda;
            acc.delay += scale * kdelay / lambda;
            acc.dist2 += scale * kdist2 / lambda;
            acc.sum_log += std::log(lambda);
          }
          return acc;
        },
        [](Sums a, const Sums& b) {
          a.Add(b);
          return a;
        });

    // Compensator: offspring expected before T, and its omega-derivative, for the events whose
    // triggering window [t_j, t_j + Tc] is cut by T.
    double trigger_mass = 0;
    boundary_.clear();
    for (std::size_t j = 0; j < n; ++j) {
      const double u = ev_.t_end - ev_.b[j];
      if (u >= tc) {
        trigger_mass += 1;
      } else {
        const double e = std::exp(-omega * u) * terms[ev_.length_class[j]].g;
        trigger_mass += std::min(1.0, (1 - e) * zt);
        boundary_.push_back(j);
      }
    }
    const double span = std::max(ev_.Span(), 1e-9);
    *log_likelihood = sums.sum_log - mu_total * span - theta * trigger_mass;

    // M-step.
    const double p = sums.triggered;
    const double new_theta = trigger_mass > 0 ? std::min(0.999, p / trigger_mass) : 0.0;
    double new_omega = omega;
    double new_sigma = sigma;
    if (p > 1e-9) {
      for (int it = 0; it < 5; ++it) {
        const double z = -std::expm1(-new_omega * tc);
        double dfdw = 0;
        for (std::size_t j : boundary_) {
          const double u = ev_.t_end - ev_.b[j];
          const LengthClassTerms& tj = terms[ev_.length_class[j]];
          const double e = std::exp(-new_omega * u) * tj.g;
          dfdw += (e * (u + tj.c) * z - (1 - e) * tc * std::exp(-new_omega * tc)) / (z * z);
        }
        const double denom = sums.delay + p * tc * std::exp(-new_omega * tc) / z + new_theta * dfdw;
        if (denom > 0) new_omega = p / denom;
      }
      for (int it = 0; it < 5; ++it) {
        const double a = rc2 / (2 * new_sigma * new_sigma);
        const double s2 = sums.dist2 / (2 * p) - 0.5 * rc2 * std::exp(-a) / -std::expm1(-a);
        new_sigma = std::clamp(std::sqrt(std::max(s2, 1.0)), 1.0, settings_.max_distance_m);
      }
    }
    return {Logit(new_theta), std::log(new_omega), std::log(new_sigma),
            std::log(std::max(sums.background / span, 1e-12))};
  }

 private:
  const self_exciting::PreparedEvents& ev_;
  Settings settings_;
  Bounds bounds_;
  SpatialHash hash_;
  std::vector<double> shape_;  // leave-one-out background density shape at each event (1/m^2)
  std::vector<double> p_background_;
  std::vector<std::size_t> boundary_;
  double max_length_ = 0;
};

}  // namespace

BackgroundRaster BackgroundRaster::ForEvents(const std::vector<double>& xs,
                                             const std::vector<double>& ys, double bandwidth_m) {
  BackgroundRaster r;
  const Bounds b = BoundsOf(xs, ys);
  r.bandwidth_ = bandwidth_m;
  const double margin = 4 * bandwidth_m;
  const double w = b.max_x - b.min_x + 2 * margin;
  const double h = b.max_y - b.min_y + 2 * margin;
  r.pixel_ = bandwidth_m / 2;
  if ((w / r.pixel_ + 2) * (h / r.pixel_ + 2) > kMaxRasterNodes) {
    r.pixel_ = std::sqrt(w * h / kMaxRasterNodes) * 1.01;
  }
  r.x0_ = b.min_x - margin;
  r.y0_ = b.min_y - margin;
  r.nx_ = static_cast<std::int64_t>(w / r.pixel_) + 2;
  r.ny_ = static_cast<std::int64_t>(h / r.pixel_) + 2;
  const auto radius = static_cast<std::size_t>(std::ceil(4 * bandwidth_m / r.pixel_));
  r.kernel_.resize(radius + 1);
  double total = 0;
  for (std::size_t k = 0; k <= radius; ++k) {
    const double d = static_cast<double>(k) * r.pixel_;
    r.kernel_[k] = std::exp(-d * d / (2 * bandwidth_m * bandwidth_m));
    total += (k == 0 ? 1 : 2) * r.kernel_[k];
  }
  for (double& k : r.kernel_) k /= total;
  r.values_.assign(static_cast<std::size_t>(r.nx_ * r.ny_), 0.0);
  return r;
}

void BackgroundRaster::Build(const std::vector<double>& xs, const std::vector<double>& ys,
                             const std::vector<double>& weights, double span_days) {
  span_ = std::max(span_days, 1e-9);
  std::vector<double> splat(values_.size(), 0.0);
  const auto nx = static_cast<std::size_t>(nx_);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    const double fx = (xs[i] - x0_) / pixel_;
    const double fy = (ys[i] - y0_) / pixel_;
    const auto ix = static_cast<std::size_t>(fx);
    const auto iy = static_cast<std::size_t>(fy);
    const double wx = fx - static_cast<double>(ix);
    const double wy = fy - static_cast<double>(iy);
    const double v = weights[i];
    splat[iy * nx + ix] += v * (1 - wx) * (1 - wy);
    splat[iy * nx + ix + 1] += v * wx * (1 - wy);
    splat[(iy + 1) * nx + ix] += v * (1 - wx) * wy;
    splat[(iy + 1) * nx + ix + 1] += v * wx * wy;
  }
  // Separable blur: rows (splat -> values_), then columns (values_ -> splat), then swap. Both
  // passes run along contiguous rows with the taps as the outer loop, which the compiler
  // vectorises; edges are handled by the index ranges instead of per-tap tests.
  const auto ny = static_cast<std::size_t>(ny_);
  const std::size_t radius = kernel_.size() - 1;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, ny), [&](const auto& rows) {
    for (std::size_t y = rows.begin(); y != rows.end(); ++y) {
      const double* in = &splat[y * nx];
      double* out = &values_[y * nx];
      for (std::size_t x = 0; x < nx; ++x) out[x] = kernel_[0] * in[x];
      for (std::size_t k = 1; k <= radius && k < nx; ++k) {
        const double w = kernel_[k];
        for (std::size_t x = k; x < nx; ++x) out[x] += w * in[x - k];
        for (std::size_t x = 0; x + k < nx; ++x) out[x] += w * in[x + k];
      }
    }
  });
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, ny), [&](const auto& rows) {
    for (std::size_t y = rows.begin(); y != rows.end(); ++y) {
      double* out = &splat[y * nx];
      const double* centre = &values_[y * nx];
      for (std::size_t x = 0; x < nx; ++x) out[x] = kernel_[0] * centre[x];
      for (std::size_t k = 1; k <= radius; ++k) {
        const double w = kernel_[k];
        if (y >= k) {
          const double* below = &values_[(y - k) * nx];
          for (std::size_t x = 0; x < nx; ++x) out[x] += w * below[x];
        }
        if (y + k < ny) {
          const double* above = &values_[(y + k) * nx];
          for (std::size_t x = 0; x < nx; ++x) out[x] += w * above[x];
        }
      }
    }
  });
  values_.swap(splat);
}

double BackgroundRaster::At(double x, double y) const {
  const double fx = (x - x0_) / pixel_;
  const double fy = (y - y0_) / pixel_;
  if (!(fx >= 0 && fy >= 0 && fx < static_cast<double>(nx_ - 1) &&
        fy < static_cast<double>(ny_ - 1))) {
    return 0;
  }
  const auto ix = static_cast<std::size_t>(fx);
  const auto iy = static_cast<std::size_t>(fy);
  const double wx = fx - static_cast<double>(ix);
  const double wy = fy - static_cast<double>(iy);
  const auto nx = static_cast<std::size_t>(nx_);
  const double v =
      values_[iy * nx + ix] * (1 - wx) * (1 - wy) + values_[iy * nx + ix + 1] * wx * (1 - wy) +
      values_[(iy + 1) * nx + ix] * (1 - wx) * wy + values_[(iy + 1) * nx + ix + 1] * wx * wy;
  return v / (pixel_ * pixel_ * span_);
}

double BackgroundRaster::SelfAt(double x, double y) const {
  // A unit weight splats w_a to the 4 surrounding nodes, the blur spreads node a to node b with
  // weight K(|a - b|), and the lookup interpolates with the same w_b: the sum factorises by axis.
  const double wx = (x - x0_) / pixel_ - std::floor((x - x0_) / pixel_);
  const double wy = (y - y0_) / pixel_ - std::floor((y - y0_) / pixel_);
  const double k0 = kernel_[0];
  const double k1 = kernel_.size() > 1 ? kernel_[1] : 0.0;
  auto axis = [&](double f) { return k0 * ((1 - f) * (1 - f) + f * f) + 2 * k1 * f * (1 - f); };
  return axis(wx) * axis(wy) / (pixel_ * pixel_ * span_);
}

double BackgroundRaster::CellIntegral(double x0, double y0, double size) const {
  const auto s = static_cast<int>(std::clamp(std::ceil(size / pixel_), 1.0, 16.0));
  const double step = size / s;
  double acc = 0;
  for (int j = 0; j < s; ++j) {
    for (int i = 0; i < s; ++i) acc += At(x0 + (i + 0.5) * step, y0 + (j + 0.5) * step);
  }
  return acc * step * step;
}

double AutoBandwidth(const std::vector<double>& xs, const std::vector<double>& ys,
                     const std::vector<double>& times, double block_days) {
  constexpr double kMin = 25, kMax = 2000, kStep = 1.25;
  const std::size_t n = xs.size();
  if (n < 4) return kMax;
  // Two folds of alternating time blocks.
  std::vector<double> fx[2], fy[2];
  for (std::size_t i = 0; i < n; ++i) {
    const auto fold = static_cast<std::size_t>(std::floor(times[i] / block_days)) % 2;
    fx[fold].push_back(xs[i]);
    fy[fold].push_back(ys[i]);
  }
  if (fx[0].empty() || fx[1].empty()) return kMax;
  const Bounds bounds = BoundsOf(xs, ys);
  double best_b = kMax;
  double best_ll = -std::numeric_limits<double>::infinity();
  for (double b = kMin; b <= kMax * 1.0001; b *= kStep) {
    // Both folds' rasters share the geometry of the whole data set.
    const BackgroundRaster geometry = BackgroundRaster::ForEvents(xs, ys, b);
    // The floor (a uniform density over 1000 x the area) stops one isolated point from
    // deciding the bandwidth.
    const double area =
        (bounds.max_x - bounds.min_x + 8 * b) * (bounds.max_y - bounds.min_y + 8 * b);
    const double floor = 1e-3 / area;
    double ll = 0;
    for (int fold = 0; fold < 2; ++fold) {
      BackgroundRaster r = geometry;
      r.Build(fx[fold], fy[fold], std::vector<double>(fx[fold].size(), 1.0), 1.0);
      const double norm = 1.0 / static_cast<double>(fx[fold].size());
      const auto& ox = fx[1 - fold];
      const auto& oy = fy[1 - fold];
      for (std::size_t i = 0; i < ox.size(); ++i) {
        ll += std::log(std::max(r.At(ox[i], oy[i]) * norm, floor));
      }
    }
    if (ll > best_ll) {
      best_ll = ll;
      best_b = b;
    }
  }
  // Each fold holds half the events; the fitted density uses all of them, and the optimal
  // bandwidth of a 2-D kernel density shrinks as n^(-1/6) (Silverman 1986, eq. 4.14).
  return best_b * std::pow(2.0, -1.0 / 6);
}

Fit FitSepp(const self_exciting::PreparedEvents& events, const Settings& settings) {
  Fit fit;
  double bandwidth = settings.bandwidth_m;
  if (bandwidth <= 0) {
    std::vector<double> mids(events.size());
    for (std::size_t i = 0; i < events.size(); ++i) mids[i] = events.Mid(i);
    const double block = std::max(std::min(30.0, events.Span() / 4), 1e-3);
    bandwidth = AutoBandwidth(events.x, events.y, mids, block);
  }
  fit.background = BackgroundRaster::ForEvents(events.x, events.y, bandwidth);
  fit.background.Build(events.x, events.y, std::vector<double>(events.size(), 1.0), events.Span());
  SeppEm em(events, settings, fit.background);
  fit.poisson_log_likelihood = em.PoissonLogLikelihood();
  const double span = std::max(events.Span(), 1e-9);
  std::vector<double> x = {
      Logit(settings.initial_theta),
      std::log(settings.initial_omega > 0 ? settings.initial_omega
                                          : 1.0 / std::max(7.0, 2.0 * events.median_length)),
      std::log(settings.initial_sigma_m),
      std::log((1 - settings.initial_theta) * static_cast<double>(events.size()) / span)};
  const auto map = [&](const std::vector<double>& v, double* ll) { return em.Map(v, ll); };
  const auto change = [&](const std::vector<double>& from, const std::vector<double>& to) {
    if (Logistic(to[0]) < settings.stop_theta) return 0.0;
    return std::max(
        {std::abs(Logistic(to[0]) - Logistic(from[0])) / std::max(Logistic(from[0]), 1e-3),
         std::abs(std::expm1(to[1] - from[1])), std::abs(std::expm1(to[2] - from[2]))});
  };
  const self_exciting::SquaremResult r = self_exciting::Squarem(
      std::move(x), map, change, settings.max_iterations, settings.tolerance);
  fit.iterations = r.evaluations;
  fit.converged = r.converged && r.finite;
  fit.last_change = r.last_change;
  fit.log_likelihood = r.log_likelihood;
  fit.theta =
      r.finite ? std::min(0.999, Logistic(r.x[0])) : std::numeric_limits<double>::quiet_NaN();
  fit.omega = std::exp(r.x[1]);
  fit.sigma = std::exp(r.x[2]);
  fit.mu_total = std::exp(r.x[3]);
  fit.time_cutoff = em.TimeCutoff(fit.omega);
  fit.distance_cutoff = em.DistanceCutoff(fit.sigma);
  if (r.finite) {
    double ll = 0;
    (void)em.Map(r.x, &ll);  // one more E-step for the final declustering probabilities
    fit.background_probability = em.background_probability();
  }
  return fit;
}

void SpreadGaussian(const spatial::Grid& grid, double cx, double cy, double s, double weight,
                    std::vector<double>& out, std::vector<double>& mass_x,
                    std::vector<double>& mass_y, std::vector<std::int64_t>* touched) {
  const double size = grid.size_m();
  const std::int64_t ix_lo =
      std::max(grid.ix0(), static_cast<std::int64_t>(std::floor((cx - 4 * s) / size)));
  const std::int64_t ix_hi = std::min(grid.ix0() + grid.nx() - 1,
                                      static_cast<std::int64_t>(std::floor((cx + 4 * s) / size)));
  const std::int64_t iy_lo =
      std::max(grid.iy0(), static_cast<std::int64_t>(std::floor((cy - 4 * s) / size)));
  const std::int64_t iy_hi = std::min(grid.iy0() + grid.ny() - 1,
                                      static_cast<std::int64_t>(std::floor((cy + 4 * s) / size)));
  if (ix_lo > ix_hi || iy_lo > iy_hi) return;
  auto cdf = [&](double v) { return 0.5 * std::erfc(-v / (s * std::numbers::sqrt2)); };
  mass_x.clear();
  for (std::int64_t ix = ix_lo; ix <= ix_hi; ++ix) {
    const double x0 = static_cast<double>(ix) * size;
    mass_x.push_back(cdf(x0 + size - cx) - cdf(x0 - cx));
  }
  mass_y.clear();
  for (std::int64_t iy = iy_lo; iy <= iy_hi; ++iy) {
    const double y0 = static_cast<double>(iy) * size;
    mass_y.push_back(cdf(y0 + size - cy) - cdf(y0 - cy));
  }
  for (std::int64_t iy = iy_lo; iy <= iy_hi; ++iy) {
    const double my = mass_y[static_cast<std::size_t>(iy - iy_lo)] * weight;
    const std::int64_t row = (iy - grid.iy0()) * grid.nx() - grid.ix0();
    for (std::int64_t ix = ix_lo; ix <= ix_hi; ++ix) {
      out[static_cast<std::size_t>(row + ix)] += my * mass_x[static_cast<std::size_t>(ix - ix_lo)];
      if (touched) touched->push_back(row + ix);
    }
  }
}

}  // namespace crimecast::models::sepp

namespace crimecast::models {
namespace {

using self_exciting::OptionSpec;

const std::vector<OptionSpec>& SeppOptionSpecs() {
  static const std::vector<OptionSpec> specs = {
      {"window_days", 365, 0, 36600},  // fitting window; 0 = all history
      {"max_iterations", 200, 1, 100000},
      {"tolerance", 1e-5, 1e-12, 0.1},
      {"min_events", 30, 1, 1e9},
      {"min_theta", 0.02, 0, 0.5},
      {"min_lr", 20, 0, 1e9},
      {"max_theta", 0.95, 0.5, 0.999},
      {"max_days", 60, 1, 3650},           // temporal truncation bound (days)
      {"max_distance_m", 500, 10, 50000},  // spatial truncation bound (metres)
      {"bg_bandwidth_m", 0, 0, 20000},     // 0: automatic
      {"initial_theta", 0.3, 0.01, 0.95},
      {"initial_mean_delay_days", 0, 0, 3650},
      {"initial_sigma_m", 100, 1, 20000},
      {"fallback_half_life_days", 180, 1, 3650},
  };
  return specs;
}

class SeppModel final : public Model {
 public:
  explicit SeppModel(ModelOptions options) : options_(std::move(options)) {}
  std::string_view name() const override { return kSeppModelName; }

  Result<Forecast> Predict(const History& history, const ForecastRequest& request) override {
    auto opts = self_exciting::ResolveOptions(name(), options_, SeppOptionSpecs());
    if (!opts) return Unexpected(opts.error());
    const auto& o = *opts;
    auto prepared = self_exciting::PrepareEvents(history, request.at, o.at("window_days"));
    if (!prepared) return Unexpected(prepared.error());
    const self_exciting::PreparedEvents& ev = *prepared;
    const double h = self_exciting::HorizonDays(request);
    Forecast f = self_exciting::EmptyForecast(request, name());
    f.parameters["events"] = static_cast<double>(ev.size());
    f.parameters["window_days"] = ev.Span();
    const double half_life = o.at("fallback_half_life_days");
    if (static_cast<double>(ev.size()) < o.at("min_events")) {
      const auto ok = self_exciting::NaiveDecayFallback(
          history, request, half_life, options_.threads, name(),
          fmt::format("too few events to fit ({} < {})", ev.size(), o.at("min_events")), f);
      if (!ok) return Unexpected(ok.error());
      return f;
    }
    // Decided before fitting: on month-only data a fit is accepted only with a mean delay of at
    // least the time resolution (ResolutionProblem) and at most max_days / 2 (the no-decay check
    // below). When the resolution exceeds max_days / 2 no delay passes both, so every fit would
    // fall back to the same forecast; the EM (seconds on a force's year) is skipped.
    if (ev.month_only && ev.median_length > o.at("max_days") / 2) {
      const auto ok = self_exciting::NaiveDecayFallback(
          history, request, half_life, options_.threads, name(),
          fmt::format("month-only data: the time resolution ({:.0f} days) is longer than half "
                      "the triggering window ({:g} days), so no near-repeat timing can be fitted "
                      "(raise max_days above {:.0f} to try slow repeats)",
                      ev.median_length, o.at("max_days"), 2 * ev.median_length),
          f);
      if (!ok) return Unexpected(ok.error());
      return f;
    }
    sepp::Settings settings;
    settings.max_iterations = static_cast<int>(o.at("max_iterations"));
    settings.tolerance = o.at("tolerance");
    settings.max_days = o.at("max_days");
    settings.max_distance_m = o.at("max_distance_m");
    settings.bandwidth_m = o.at("bg_bandwidth_m");
    settings.initial_theta = o.at("initial_theta");
    settings.initial_sigma_m = std::min(o.at("initial_sigma_m"), settings.max_distance_m / 2);
    settings.stop_theta = o.at("min_theta") / 4;
    if (o.at("initial_mean_delay_days") > 0) {
      settings.initial_omega = 1.0 / o.at("initial_mean_delay_days");
    }
    sepp::Fit fit =
        self_exciting::InArena(options_.threads, [&] { return sepp::FitSepp(ev, settings); });
    const double lr = 2 * (fit.log_likelihood - fit.poisson_log_likelihood);
    f.parameters["theta"] = fit.theta;
    f.parameters["omega_per_day"] = fit.omega;
    f.parameters["mean_delay_days"] = 1.0 / fit.omega;
    f.parameters["sigma_m"] = fit.sigma;
    f.parameters["mu_per_day"] = fit.mu_total;
    f.parameters["bg_bandwidth_m"] = fit.background.bandwidth();
    f.parameters["time_cutoff_days"] = fit.time_cutoff;
    f.parameters["distance_cutoff_m"] = fit.distance_cutoff;
    f.parameters["iterations"] = fit.iterations;
    f.parameters["converged"] = fit.converged ? 1 : 0;
    f.parameters["lr_vs_poisson"] = lr;
    f.parameters["fallback"] = 0;
    f.notes.push_back(fmt::format(
        "sepp fit: theta = {:.3f}, mean delay {:.3g} days, sigma {:.0f} m, background {:.4g} "
        "events/day (bandwidth {:.0f} m), {} events, {} EM iterations{}",
        fit.theta, 1.0 / fit.omega, fit.sigma, fit.mu_total, fit.background.bandwidth(), ev.size(),
        fit.iterations, fit.converged ? "" : " (not converged)"));

    std::string reason;
    if (!std::isfinite(fit.theta) || !std::isfinite(fit.omega) || !std::isfinite(fit.sigma) ||
        !std::isfinite(fit.log_likelihood)) {
      reason = "the EM fit produced non-finite parameters";
    } else if (fit.theta < o.at("min_theta") || lr < o.at("min_lr")) {
      reason = fmt::format(
          "weak clustering: theta = {:.3f} (threshold {}), likelihood-ratio gain over a Poisson "
          "model {:.1f} (threshold {})",
          fit.theta, o.at("min_theta"), lr, o.at("min_lr"));
    } else if (1.0 / fit.omega > o.at("max_days") / 2) {
      // A temporal kernel that hardly decays inside its truncation window is not a near-repeat
      // effect: the triggering is standing in for spatial structure of the background.
      reason = fmt::format(
          "the fitted triggering does not decay within its {:g}-day window (mean delay {:.3g} "
          "days), so it describes places rather than near repeats (raise max_days if slow "
          "repeats are expected)",
          o.at("max_days"), 1.0 / fit.omega);
    } else if (const std::string problem = self_exciting::ResolutionProblem(ev, fit.omega);
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
    if (ev.month_only) {
      f.notes.push_back(
          "month-only data: event times were integrated over their months (expected kernel "
          "values); triggering within a month is not identifiable beyond its total");
    }

    const spatial::Grid& grid = request.grid;
    const auto cells = static_cast<std::size_t>(grid.cell_count());
    f.background.assign(cells, 0.0);
    f.recent.assign(cells, 0.0);
    // The background is mu_total times the all-events shape; with harm weights the shape is
    // the weighted KDE (so it carries the local mean weight).
    const bool weighted =
        std::any_of(ev.weight.begin(), ev.weight.end(), [](double w) { return w != 1.0; });
    if (weighted) fit.background.Build(ev.x, ev.y, ev.weight, ev.Span());
    const double bg_factor = self_exciting::BackgroundFactor(fit.theta, fit.omega, h) *
                             fit.mu_total * ev.Span() / static_cast<double>(ev.size());
    self_exciting::InArena(options_.threads, [&] {
      tbb::parallel_for(tbb::blocked_range<std::size_t>(0, cells), [&](const auto& r) {
        for (std::size_t c = r.begin(); c != r.end(); ++c) {
          const spatial::CellIndex idx = grid.IndexOfLocal(static_cast<std::int64_t>(c));
          f.background[c] =
              fit.background.CellIntegral(grid.CornerX(idx), grid.CornerY(idx), grid.size_m()) *
              bg_factor;
        }
      });
      return 0;
    });
    // Past events: first-generation offspring in the horizon within the truncated kernel, and
    // their own in-horizon descendants (the cascade multiplier of the untruncated process),
    // spread with the first- and second-generation displacement kernels.
    const double tc = fit.time_cutoff;
    const double zt = 1.0 / -std::expm1(-fit.omega * tc);
    const double first_gen_untruncated = fit.theta * -std::expm1(-fit.omega * h);
    const double cascade =
        first_gen_untruncated > 0
            ? self_exciting::RecentFactor(fit.theta, fit.omega, h) / first_gen_untruncated
            : 1.0;
    std::vector<self_exciting::LengthClassTerms> terms;
    self_exciting::ComputeLengthTerms(ev.lengths, fit.omega, terms);
    std::vector<double> mass_x, mass_y;
    for (std::size_t j = 0; j < ev.size(); ++j) {
      const double u = ev.t_end - ev.b[j];
      if (u >= tc) continue;
      const double e = std::exp(-fit.omega * u) * terms[ev.length_class[j]].g;
      const double first =
          ev.weight[j] * fit.theta * zt * e * -std::expm1(-fit.omega * std::min(h, tc - u));
      if (first <= 0) continue;
      sepp::SpreadGaussian(grid, ev.x[j], ev.y[j], fit.sigma, first, f.recent, mass_x, mass_y);
      if (cascade > 1) {
        sepp::SpreadGaussian(grid, ev.x[j], ev.y[j], fit.sigma * std::numbers::sqrt2,
                             first * (cascade - 1), f.recent, mass_x, mass_y);
      }
    }
    for (std::size_t c = 0; c < cells; ++c) f.expected[c] = f.background[c] + f.recent[c];
    return f;
  }

 private:
  ModelOptions options_;
};

}  // namespace

std::unique_ptr<Model> MakeSeppModel(const ModelOptions& options) {
  return std::make_unique<SeppModel>(options);
}

Result<void> CheckSeppOptions(const ModelOptions& options) {
  auto r = self_exciting::ResolveOptions(kSeppModelName, options, SeppOptionSpecs());
  if (!r) return Unexpected(r.error());
  return {};
}

}  // namespace crimecast::models
