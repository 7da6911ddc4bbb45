// tests/support/self_exciting_fixtures.hpp: simulated cities with known parameters, ready to
// forecast (shared by the self-exciting model tests and benchmarks).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/models/model.hpp"
#include "core/simulate/output.hpp"
#include "core/simulate/simulate.hpp"
#include "core/spatial/grid.hpp"

namespace crimecast::testing {

struct SimulationSpec {
  double mu = 10;      // background events/day
  double theta = 0.4;  // branching ratio
  double omega = 0.2;  // 1/days
  double sigma = 100;  // metres
  double days = 365;   // forecast time T = start + days (month start when month_only)
  double cell_m = 250;
  std::uint64_t seed = 1;
  bool month_only = false;
  double simulate_days = 0;  // length of the simulation; 0: T + 45 days
  std::string horizon = "7d";
};

struct SimulatedCase {
  simulate::SimulationConfig config;
  std::vector<simulate::SimulatedEvent> events;  // everything simulated (also after T)
  models::History history;                       // events before T
  models::ForecastRequest request;
  double realised = 0;  // events in [T, T + horizon)

  // theta x (share of triggered events, before T, whose parent lies in the same grid cell):
  // the branching ratio grid ETAS can see.
  double InCellBranching() const {
    const TimePoint at = request.at;
    double triggered = 0, same = 0;
    for (const auto& e : events) {
      if (e.parent < 0 || e.Time(config.start) >= at) continue;
      const auto& p = events[static_cast<std::size_t>(e.parent)];
      ++triggered;
      if (request.grid.LocalOf(e.x_m, e.y_m) == request.grid.LocalOf(p.x_m, p.y_m)) ++same;
    }
    return triggered > 0 ? config.theta * same / triggered : 0.0;
  }
};

inline SimulatedCase Simulate(const SimulationSpec& spec) {
  SimulatedCase out;
  simulate::SimulationConfig& c = out.config;
  c = simulate::DefaultConfig(spec.seed);
  c.mu_per_day = spec.mu;
  c.theta = spec.theta;
  c.omega_per_day = spec.omega;
  c.sigma_m = spec.sigma;
  TimePoint at = c.start + std::chrono::seconds(static_cast<std::int64_t>(spec.days * 86400));
  if (spec.month_only) at = StartOfMonth(at);
  const double sim_days = spec.simulate_days > 0 ? spec.simulate_days : spec.days + 45;
  c.end = c.start + std::chrono::seconds(static_cast<std::int64_t>(sim_days * 86400));
  auto result = simulate::SimulateAll(c);
  if (result) out.events = std::move(result->events);
  const auto resolution =
      spec.month_only ? simulate::TimeResolution::kMonth : simulate::TimeResolution::kTimestamp;
  out.history = simulate::ToHistory(out.events, c, at, resolution);
  auto grid = spatial::Grid::Covering(c.epsg, spec.cell_m, c.x0_m - 2000, c.y0_m - 2000,
                                      c.x0_m + c.width_m + 2000, c.y0_m + c.height_m + 2000);
  out.request = models::ForecastRequest{*grid, at, *ParseHorizon(spec.horizon)};
  const TimePoint end = out.request.horizon.EndFrom(at);
  for (const auto& e : out.events) {
    const TimePoint t = e.Time(c.start);
    if (t >= at && t < end) out.realised += 1;
  }
  return out;
}

}  // namespace crimecast::testing
