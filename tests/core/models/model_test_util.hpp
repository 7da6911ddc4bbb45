// Helpers for model and evaluation tests: point columns built by hand and simple random event
// fields. (ASCII grids: tests/support/ascii_grid.hpp.)
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "core/common/time.hpp"
#include "core/ingest/event.hpp"
#include "core/spatial/grid.hpp"
#include "core/storage/event_store.hpp"

namespace crimecast::testutil {

inline std::int64_t Secs(TimePoint t) { return t.time_since_epoch().count(); }
inline std::int64_t Month(const char* ym) { return Secs(ParseMonth(ym)->start); }
inline std::int64_t At(const char* iso) { return Secs(*ParseDateTime(iso)); }

// Appends one event to point columns. end <= 0 means a timestamped event (end = start + 1).
inline void Add(storage::PointColumns& p, double x, double y, std::int64_t start,
                std::int64_t end = 0, Category c = Category::kBurglary) {
  p.x.push_back(x);
  p.y.push_back(y);
  p.lon.push_back(0);
  p.lat.push_back(0);
  p.t_start.push_back(start);
  p.t_end.push_back(end > 0 ? end : start + 1);
  p.category.push_back(c);
  p.id.push_back(static_cast<std::int64_t>(p.id.size()) + 1);
  p.quality.push_back(1);
}

// One month-only event (the whole month "YYYY-MM").
inline void AddMonth(storage::PointColumns& p, double x, double y, const char* ym,
                     Category c = Category::kBurglary) {
  const TimeInterval m = *ParseMonth(ym);
  Add(p, x, y, Secs(m.start), Secs(m.end), c);
}

// A homogeneous-in-time Poisson field: cell c of `grid` gets events at rate[c] per day, uniform
// in [from, to) and uniform inside the cell. month_only turns each time into its month.
inline storage::PointColumns PoissonField(const spatial::Grid& grid,
                                          const std::vector<double>& rate_per_day,
                                          std::int64_t from, std::int64_t to, bool month_only,
                                          std::uint64_t seed) {
  std::mt19937_64 rng(seed);
  storage::PointColumns p;
  const double days = static_cast<double>(to - from) / 86400.0;
  std::uniform_real_distribution<double> u(0.0, 1.0);
  for (std::int64_t l = 0; l < grid.cell_count(); ++l) {
    const double mean = rate_per_day[static_cast<std::size_t>(l)] * days;
    if (mean <= 0) continue;
    std::poisson_distribution<long> pois(mean);
    const long n = pois(rng);
    const spatial::CellIndex c = grid.IndexOfLocal(l);
    for (long k = 0; k < n; ++k) {
      const double x = grid.CornerX(c) + u(rng) * grid.size_m();
      const double y = grid.CornerY(c) + u(rng) * grid.size_m();
      const auto t = from + static_cast<std::int64_t>(u(rng) * static_cast<double>(to - from));
      if (month_only) {
        const TimePoint m = StartOfMonth(TimePoint{Seconds{t}});
        Add(p, x, y, Secs(m), Secs(AddMonths(m, 1)));
      } else {
        Add(p, x, y, t);
      }
    }
  }
  return p;
}

}  // namespace crimecast::testutil
