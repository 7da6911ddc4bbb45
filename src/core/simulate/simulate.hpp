// core/simulate/simulate.hpp
//
// A synthetic city with known parameters: the ground truth for demos and model-recovery tests.
//
// The process (all rates per day, all distances in metres of a projected CRS):
//
//   lambda(t, x, y) = mu * b(x, y) + sum_{t_i < t} theta * omega * exp(-omega (t - t_i))
//                                                 * N2(x - x_i, y - y_i; sigma)
//
// * Background ("immigrants"): a homogeneous Poisson process in time with rate mu events/day
//   over the whole study area. Each background event is placed, independently, either uniformly
//   over the area (probability uniform_share) or around one of several Gaussian hotspots chosen
//   by weight (isotropic normal with the hotspot's sd, re-drawn until it falls inside the area).
//   b(x, y) is therefore a mixture density supported on the study area.
// * Triggering (near repeats): every event, background or triggered, has Poisson(theta)
//   offspring. An offspring occurs Exponential(omega) days after its parent (mean delay
//   1/omega) at the parent's location plus an isotropic Gaussian displacement with standard
//   deviation sigma metres per axis, and inherits the parent's category. Offspring are kept
//   wherever they fall (they may lie a few sigma outside the study area), so the realised
//   process is exactly the Hawkes/ETAS process above; offspring after the end time are dropped.
// * Categories: each background event draws a category from category_mix (shares, any
//   positive scale); offspring inherit it, so the expected category shares of all events equal
//   the mix (cluster sizes do not depend on category).
//
// Simulation is exact: the branching (cluster) representation of the Hawkes process
// (Hawkes & Oakes 1974; Zhuang, Ogata & Vere-Jones 2004), generation by generation, with no
// time discretisation or thinning error. It streams: time is cut into windows (1 day); a
// window's background events are drawn, then all descendants that land in the same window,
// then the window is sorted by time and handed to the sink. Descendants that land later wait in
// per-window buckets. Memory is therefore bounded by one window plus the pending offspring,
// not by the total number of events.
//
// The process starts empty at `start` (no events before it), so the expected total over a
// duration T days is
//   E[N] = mu T / (1 - theta) - mu theta (1 - exp(-omega (1 - theta) T)) / (omega (1 - theta)^2)
// (ExpectedTotal), and Var[N] = mu T / (1 - theta)^3 asymptotically (Poisson cluster process
// with Borel cluster sizes). The long-run share of triggered events is theta.
//
// Reproducibility: the same config (including seed) gives the same events, bit for bit, from
// the same build. The generator is xoshiro256** and every distribution is implemented here (the
// standard library's distributions are implementation-defined), so other builds and platforms
// differ at most through libm's last-bit rounding of log/sin/cos.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/time.hpp"
#include "core/ingest/event.hpp"

namespace crimecast::simulate {

// A Gaussian hotspot of the background: centre (metres, config CRS), isotropic sd (metres),
// and relative weight (> 0; weights are normalised over hotspots).
struct Hotspot {
  double x_m = 0;
  double y_m = 0;
  double sd_m = 300;
  double weight = 1;
};

// The category shares of data.police.uk street-level crime for England, Wales and Northern
// Ireland, February 2019 (343,201 rows; ../shared/data/police-uk-national-2019-02/README.md),
// indexed by Category. Used as the default mix.
std::array<double, kCategoryCount> NationalCategoryMix();

struct SimulationConfig {
  // Study area: [x0_m, x0_m + width_m) x [y0_m, y0_m + height_m) in the projected CRS `epsg`.
  int epsg = 27700;
  double x0_m = 0;
  double y0_m = 0;
  double width_m = 10000;
  double height_m = 10000;
  // Simulated period [start, end), UTC.
  TimePoint start{};
  TimePoint end{};
  double mu_per_day = 20;         // background events per day, whole area (> 0)
  double theta = 0.4;             // mean offspring per event, branching ratio, 0 <= theta < 1
  double omega_per_day = 0.2;     // offspring delay rate (1/days), > 0; mean delay 1/omega days
  double sigma_m = 100;           // offspring displacement sd per axis (metres), >= 0
  std::vector<Hotspot> hotspots;  // may be empty (then the background is uniform)
  double uniform_share = 0.25;    // share of background events placed uniformly, 0..1
  std::array<double, kCategoryCount> category_mix = NationalCategoryMix();
  std::uint64_t seed = 1;

  double DurationDays() const;
};

// The demo defaults: a 10 km x 10 km square in British National Grid centred on Newport, South
// Wales (331000 E, 188000 N), the year 2024, mu = 20/day, theta = 0.4, omega = 0.2/day
// (mean delay 5 days), sigma = 100 m, six hotspots drawn from `seed`, 25 % uniform noise.
SimulationConfig DefaultConfig(std::uint64_t seed = 1);

// `count` hotspots with centres uniform in the middle 70 % of the area, sd uniform in
// [150, 600] m (capped at a quarter of the shorter side) and Gamma(2)-distributed weights,
// all drawn from `seed`.
std::vector<Hotspot> MakeHotspots(int count, double x0_m, double y0_m, double width_m,
                                  double height_m, std::uint64_t seed);

// Checks every field; errors name the field and the allowed range. Refuses configurations whose
// expected total exceeds 2e9 events (kTooLarge).
Result<void> Validate(const SimulationConfig& config);

// E[N] for the config (see the header comment).
double ExpectedTotal(const SimulationConfig& config);

struct SimulatedEvent {
  std::int64_t id = 0;          // 0, 1, 2, ... in time order (ties broken by generation order)
  std::int64_t parent = -1;     // id of the triggering event, -1 for background events
  std::int32_t generation = 0;  // 0 background, 1 child of a background event, ...
  Category category = Category::kOtherCrime;
  double t_days = 0;  // exact occurrence time, days since config.start
  double x_m = 0;     // metres in config.epsg
  double y_m = 0;
  // The occurrence instant, truncated to whole seconds.
  TimePoint Time(TimePoint start) const;
};

struct SimulationCounts {
  std::int64_t total = 0;
  std::int64_t background = 0;
  std::int64_t triggered = 0;
  std::int32_t max_generation = 0;
  std::int64_t outside_area = 0;  // triggered events displaced outside the study area
  std::array<std::int64_t, kCategoryCount> by_category{};
};

// Receives consecutive time-ordered batches of events. Returning an error stops the simulation
// and Simulate returns that error.
using EventSink = std::function<Result<void>(std::span<const SimulatedEvent>)>;

// Runs the simulation, streaming events in time order to `sink`.
Result<SimulationCounts> Simulate(const SimulationConfig& config, const EventSink& sink);

struct SimulationResult {
  std::vector<SimulatedEvent> events;  // time order; events[k].id == k
  SimulationCounts counts;
};
// Convenience for tests: collects every event in memory.
Result<SimulationResult> SimulateAll(const SimulationConfig& config);

}  // namespace crimecast::simulate
