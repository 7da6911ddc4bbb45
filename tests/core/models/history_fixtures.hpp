// tests/core/models/history_fixtures.hpp: small Histories for the learned / auto / explain tests.
#pragma once

#include <algorithm>
#include <cstdint>
#include <numeric>
#include <random>
#include <vector>

#include "core/common/time.hpp"
#include "core/models/model.hpp"
#include "core/spatial/grid.hpp"

namespace crimecast::models::testing {

inline std::int64_t Month(int year, int month) {
  return CivilToUtc({year, month, 1, 0, 0, 0}).time_since_epoch().count();
}

struct EventSpec {
  double x, y;
  std::int64_t start, end;
  Category category = Category::kBurglary;
  double weight = 1.0;
};

// Sorts by start (stably) and assigns ids 1, 2, ... in that order.
inline History MakeHistory(std::vector<EventSpec> events) {
  std::stable_sort(events.begin(), events.end(),
                   [](const EventSpec& a, const EventSpec& b) { return a.start < b.start; });
  History h;
  std::int64_t id = 1;
  for (const auto& e : events) {
    h.x.push_back(e.x);
    h.y.push_back(e.y);
    h.t_start.push_back(e.start);
    h.t_end.push_back(e.end);
    h.category.push_back(e.category);
    h.weight.push_back(e.weight);
    h.id.push_back(id++);
  }
  return h;
}

// A month-only event at the centre of cell (ix, iy) of a grid with `size` metre cells.
inline EventSpec MonthEvent(double size, std::int64_t ix, std::int64_t iy, int year, int month,
                            Category c = Category::kBurglary) {
  const std::int64_t s = Month(year, month);
  const std::int64_t e = AddMonths(TimePoint{Seconds{s}}, 1).time_since_epoch().count();
  return {(static_cast<double>(ix) + 0.5) * size, (static_cast<double>(iy) + 0.5) * size, s, e, c};
}

// Simulated month-only history on an nx x ny grid of `size` m cells from (0, 0): cell c has a
// constant Poisson rate rate[c] per month, for `months` months from `first` (year, month).
// Events are placed uniformly inside their cell.
inline History SimulateMonthly(const std::vector<double>& rate, std::int64_t nx, double size,
                               int year, int month, int months, std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  std::vector<EventSpec> ev;
  for (int m = 0; m < months; ++m) {
    const std::int64_t s =
        AddMonths(TimePoint{Seconds{Month(year, month)}}, m).time_since_epoch().count();
    const std::int64_t e = AddMonths(TimePoint{Seconds{s}}, 1).time_since_epoch().count();
    for (std::size_t c = 0; c < rate.size(); ++c) {
      std::poisson_distribution<int> p(rate[c]);
      const int n = rate[c] > 0 ? p(rng) : 0;
      const auto ix = static_cast<std::int64_t>(c) % nx, iy = static_cast<std::int64_t>(c) / nx;
      for (int k = 0; k < n; ++k) {
        ev.push_back({(static_cast<double>(ix) + u(rng)) * size,
                      (static_cast<double>(iy) + u(rng)) * size, s, e,
                      static_cast<Category>(k % 3 == 0 ? 13 : 2)});
      }
    }
  }
  return MakeHistory(std::move(ev));
}

}  // namespace crimecast::models::testing
