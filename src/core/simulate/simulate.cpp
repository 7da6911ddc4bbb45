#include "core/simulate/simulate.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "core/simulate/random.hpp"

namespace crimecast::simulate {
namespace {

constexpr double kSecondsPerDay = 86400.0;
constexpr double kMaxExpectedEvents = 2e9;
constexpr double kMaxDurationDays = 366.0 * 100;

// One event while its window is being assembled. `parent_local` indexes the window's own
// vector for parents in the same window; parents from earlier windows already have their final
// id in `parent_id`.
struct Pending {
  double t_days;
  double x_m, y_m;
  std::int64_t parent_id;     // final id, or -1
  std::int64_t parent_local;  // index in the current window, or -1
  std::int32_t generation;
  Category category;
};

}  // namespace

std::array<double, kCategoryCount> NationalCategoryMix() {
  std::array<double, kCategoryCount> mix{};
  auto set = [&](Category c, double n) { mix[static_cast<int>(c)] = n; };
  set(Category::kViolenceSexualOffences, 101750);
  set(Category::kAntiSocialBehaviour, 72029);
  set(Category::kCriminalDamageArson, 31735);
  set(Category::kOtherTheft, 26108);
  set(Category::kPublicOrder, 22507);
  set(Category::kShoplifting, 22025);
  set(Category::kVehicleCrime, 20387);
  set(Category::kBurglary, 19712);
  set(Category::kDrugs, 8396);
  set(Category::kOtherCrime, 6040);
  set(Category::kBicycleTheft, 4167);
  set(Category::kTheftFromPerson, 3484);
  set(Category::kRobbery, 2533);
  set(Category::kPossessionOfWeapons, 2328);
  const double total = std::accumulate(mix.begin(), mix.end(), 0.0);
  for (double& m : mix) m /= total;
  return mix;
}

double SimulationConfig::DurationDays() const {
  return static_cast<double>((end - start).count()) / kSecondsPerDay;
}

std::vector<Hotspot> MakeHotspots(int count, double x0_m, double y0_m, double width_m,
                                  double height_m, std::uint64_t seed) {
  // A separate stream from the event stream, so changing --hotspots does not reshuffle events'
  // times for the same seed more than necessary.
  Rng rng(seed ^ 0x5bd1e9955bd1e995ULL);
  std::vector<Hotspot> out;
  const double max_sd = std::max(1.0, 0.25 * std::min(width_m, height_m));
  for (int i = 0; i < count; ++i) {
    Hotspot h;
    h.x_m = x0_m + width_m * (0.15 + 0.7 * rng.Uniform());
    h.y_m = y0_m + height_m * (0.15 + 0.7 * rng.Uniform());
    h.sd_m = std::min(max_sd, 150.0 + 450.0 * rng.Uniform());
    h.weight = rng.Exponential(1.0) + rng.Exponential(1.0);  // Gamma(2, 1)
    out.push_back(h);
  }
  return out;
}

SimulationConfig DefaultConfig(std::uint64_t seed) {
  SimulationConfig c;
  c.epsg = 27700;
  c.width_m = 10000;
  c.height_m = 10000;
  c.x0_m = 331000 - c.width_m / 2;
  c.y0_m = 188000 - c.height_m / 2;
  c.start = CivilToUtc({2024, 1, 1, 0, 0, 0});
  c.end = CivilToUtc({2025, 1, 1, 0, 0, 0});
  c.seed = seed;
  c.hotspots = MakeHotspots(6, c.x0_m, c.y0_m, c.width_m, c.height_m, seed);
  return c;
}

Result<void> Validate(const SimulationConfig& c) {
  auto bad = [](std::string msg) { return Fail(ErrorCode::kInvalidArgument, std::move(msg)); };
  if (!(std::isfinite(c.x0_m) && std::isfinite(c.y0_m))) return bad("area origin must be finite");
  if (!(c.width_m > 0 && c.height_m > 0 && c.width_m <= 2e6 && c.height_m <= 2e6)) {
    return bad(
        fmt::format("area {} m x {} m: each side must be in (0, 2000 km]", c.width_m, c.height_m));
  }
  if (c.end <= c.start) return bad("the end of the simulated period must be after its start");
  if (c.DurationDays() > kMaxDurationDays) return bad("the simulated period exceeds 100 years");
  if (!(c.mu_per_day > 0 && std::isfinite(c.mu_per_day))) {
    return bad(fmt::format("mu = {} events/day must be > 0", c.mu_per_day));
  }
  if (!(c.theta >= 0 && c.theta < 1)) {
    return bad(fmt::format("theta = {} must be in [0, 1) (theta >= 1 is explosive)", c.theta));
  }
  if (!(c.omega_per_day > 0 && std::isfinite(c.omega_per_day))) {
    return bad(fmt::format("omega = {} per day must be > 0", c.omega_per_day));
  }
  if (!(c.sigma_m >= 0 && std::isfinite(c.sigma_m))) {
    return bad(fmt::format("sigma = {} m must be >= 0", c.sigma_m));
  }
  if (!(c.uniform_share >= 0 && c.uniform_share <= 1)) {
    return bad(fmt::format("uniform share {} must be in [0, 1]", c.uniform_share));
  }
  for (std::size_t i = 0; i < c.hotspots.size(); ++i) {
    const Hotspot& h = c.hotspots[i];
    if (!(std::isfinite(h.x_m) && std::isfinite(h.y_m) && h.sd_m > 0 && std::isfinite(h.sd_m) &&
          h.weight > 0 && std::isfinite(h.weight))) {
      return bad(fmt::format("hotspot {} needs finite centre, sd > 0 and weight > 0", i + 1));
    }
    if (h.x_m < c.x0_m || h.x_m >= c.x0_m + c.width_m || h.y_m < c.y0_m ||
        h.y_m >= c.y0_m + c.height_m) {
      return bad(fmt::format("hotspot {} centre ({}, {}) lies outside the study area", i + 1, h.x_m,
                             h.y_m));
    }
  }
  double mix_total = 0;
  for (double m : c.category_mix) {
    if (!(m >= 0 && std::isfinite(m))) return bad("category shares must be finite and >= 0");
    mix_total += m;
  }
  if (!(mix_total > 0)) return bad("at least one category share must be positive");
  const double expected = ExpectedTotal(c);
  if (expected > kMaxExpectedEvents) {
    return Fail(ErrorCode::kTooLarge,
                fmt::format("the configuration expects {:.3g} events; the limit is {:.0g}",
                            expected, kMaxExpectedEvents));
  }
  return {};
}

double ExpectedTotal(const SimulationConfig& c) {
  const double t = c.DurationDays();
  const double q = 1.0 - c.theta;
  const double k = c.omega_per_day * q;
  return c.mu_per_day * t / q - c.mu_per_day * c.theta * (-std::expm1(-k * t)) / (k * q);
}

TimePoint SimulatedEvent::Time(TimePoint start) const {
  return start + Seconds{static_cast<std::int64_t>(std::floor(t_days * kSecondsPerDay))};
}

Result<SimulationCounts> Simulate(const SimulationConfig& config, const EventSink& sink) {
  if (auto ok = Validate(config); !ok) return Unexpected(ok.error());
  const double duration = config.DurationDays();
  // About 50,000 expected events per window (at most one day) keeps the working set small.
  const double rate = config.mu_per_day / (1.0 - config.theta);
  const double window = std::clamp(50000.0 / rate, 1e-3, 1.0);
  const auto n_windows = static_cast<std::size_t>(std::ceil(duration / window));

  Rng rng(config.seed);
  // Cumulative weights for categories and hotspots (drawn by inversion).
  std::array<double, kCategoryCount> cat_cdf{};
  {
    double acc = 0;
    const double total =
        std::accumulate(config.category_mix.begin(), config.category_mix.end(), 0.0);
    for (int i = 0; i < kCategoryCount; ++i) {
      acc += config.category_mix[i] / total;
      cat_cdf[i] = acc;
    }
  }
  std::vector<double> hot_cdf;
  {
    double total = 0;
    for (const Hotspot& h : config.hotspots) total += h.weight;
    double acc = 0;
    for (const Hotspot& h : config.hotspots) {
      acc += h.weight / total;
      hot_cdf.push_back(acc);
    }
  }
  const double uniform_share = config.hotspots.empty() ? 1.0 : config.uniform_share;
  const double x1 = config.x0_m + config.width_m;
  const double y1 = config.y0_m + config.height_m;
  auto inside = [&](double x, double y) {
    return x >= config.x0_m && x < x1 && y >= config.y0_m && y < y1;
  };
  auto draw_category = [&]() {
    const double u = rng.Uniform();
    for (int i = 0; i < kCategoryCount; ++i) {
      if (u < cat_cdf[i]) return static_cast<Category>(i);
    }
    // Rounding can leave the last cumulative share a hair below 1: the last positive share.
    for (int i = kCategoryCount - 1; i >= 0; --i) {
      if (config.category_mix[i] > 0) return static_cast<Category>(i);
    }
    return Category::kOtherCrime;
  };
  auto draw_background_location = [&](double& x, double& y) {
    if (rng.Uniform() >= uniform_share) {
      const double u = rng.Uniform();
      std::size_t h = 0;
      while (h + 1 < hot_cdf.size() && u >= hot_cdf[h]) ++h;
      const Hotspot& spot = config.hotspots[h];
      // Re-draw points that fall outside (a truncated Gaussian); a hotspot centre is inside
      // the area, so at least ~1/4 of its mass is, and 200 tries practically never run out.
      for (int attempt = 0; attempt < 200; ++attempt) {
        x = spot.x_m + spot.sd_m * rng.Normal();
        y = spot.y_m + spot.sd_m * rng.Normal();
        if (inside(x, y)) return;
      }
    }
    x = config.x0_m + config.width_m * rng.Uniform();
    y = config.y0_m + config.height_m * rng.Uniform();
  };

  SimulationCounts counts;
  std::vector<std::vector<Pending>> future(n_windows);  // offspring waiting for their window
  std::vector<Pending> current;
  std::vector<Pending> deferred;  // offspring of this window that land in a later one
  std::vector<std::size_t> order;
  std::vector<std::int64_t> id_of_local;
  std::vector<SimulatedEvent> out;
  double next_background = rng.Exponential(config.mu_per_day);
  std::int64_t next_id = 0;

  for (std::size_t w = 0; w < n_windows; ++w) {
    const double w_end = std::min(duration, static_cast<double>(w + 1) * window);
    current.clear();
    deferred.clear();
    current.swap(future[w]);
    std::vector<Pending>().swap(future[w]);  // release the bucket's memory
    while (next_background < w_end) {
      Pending p{next_background, 0, 0, -1, -1, 0, draw_category()};
      draw_background_location(p.x_m, p.y_m);
      current.push_back(p);
      next_background += rng.Exponential(config.mu_per_day);
    }
    // Breadth-first over the window: children landing in this window join `current` and get
    // their own children in turn; the loop ends because each generation is finite a.s.
    for (std::size_t i = 0; i < current.size(); ++i) {
      const int k = rng.Poisson(config.theta);
      for (int c = 0; c < k; ++c) {
        const Pending parent = current[i];  // copy: push_back may reallocate
        Pending child;
        child.t_days = parent.t_days + rng.Exponential(config.omega_per_day);
        // The displacement is drawn even when the child is dropped, so the random stream does
        // not depend on the end date for events before it.
        child.x_m = parent.x_m + config.sigma_m * rng.Normal();
        child.y_m = parent.y_m + config.sigma_m * rng.Normal();
        if (child.t_days >= duration) continue;
        child.parent_id = -1;
        child.parent_local = static_cast<std::int64_t>(i);
        child.generation = parent.generation + 1;
        child.category = parent.category;
        if (child.t_days < w_end) {
          current.push_back(child);
        } else {
          deferred.push_back(child);
        }
      }
    }
    // Time order within the window; stable, so equal times keep generation order.
    order.resize(current.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) {
      return current[a].t_days < current[b].t_days;
    });
    id_of_local.assign(current.size(), -1);
    for (std::size_t r = 0; r < order.size(); ++r) {
      id_of_local[order[r]] = next_id + static_cast<std::int64_t>(r);
    }
    out.clear();
    out.reserve(current.size());
    for (std::size_t r = 0; r < order.size(); ++r) {
      const Pending& p = current[order[r]];
      SimulatedEvent e;
      e.id = next_id + static_cast<std::int64_t>(r);
      e.parent =
          p.parent_local >= 0 ? id_of_local[static_cast<std::size_t>(p.parent_local)] : p.parent_id;
      e.generation = p.generation;
      e.category = p.category;
      e.t_days = p.t_days;
      e.x_m = p.x_m;
      e.y_m = p.y_m;
      out.push_back(e);
      ++counts.total;
      if (e.generation == 0) {
        ++counts.background;
      } else {
        ++counts.triggered;
        if (!inside(e.x_m, e.y_m)) ++counts.outside_area;
      }
      counts.max_generation = std::max(counts.max_generation, e.generation);
      ++counts.by_category[static_cast<int>(e.category)];
    }
    next_id += static_cast<std::int64_t>(order.size());
    for (Pending& child : deferred) {
      child.parent_id = id_of_local[static_cast<std::size_t>(child.parent_local)];
      child.parent_local = -1;
      // max(w + 1, ...): rounding must never put a child back into a window already emitted.
      const auto bucket =
          std::clamp(static_cast<std::size_t>(child.t_days / window), w + 1, n_windows - 1);
      future[bucket].push_back(child);
    }
    if (!out.empty()) {
      if (auto ok = sink(std::span<const SimulatedEvent>(out)); !ok) {
        return Unexpected(ok.error());
      }
    }
  }
  return counts;
}

Result<SimulationResult> SimulateAll(const SimulationConfig& config) {
  SimulationResult result;
  auto counts = Simulate(config, [&](std::span<const SimulatedEvent> batch) -> Result<void> {
    result.events.insert(result.events.end(), batch.begin(), batch.end());
    return {};
  });
  if (!counts) return Unexpected(counts.error());
  result.counts = *counts;
  return result;
}

}  // namespace crimecast::simulate
