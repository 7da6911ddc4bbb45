#include "core/spatial/rasterise.hpp"

#include <algorithm>
#include <cmath>

namespace crimecast::spatial {
namespace {

// v clamped to [lo, hi] in double before the conversion: a far-away or huge coordinate must not
// overflow the integer.
std::int64_t Clamp(double v, std::int64_t lo, std::int64_t hi) {
  return static_cast<std::int64_t>(std::clamp(v, static_cast<double>(lo), static_cast<double>(hi)));
}

bool AllFinite(const MultiPolygon& mp) {
  for (const Polygon& poly : mp) {
    for (const Ring& ring : poly.rings) {
      for (double v : ring.xy) {
        if (!std::isfinite(v)) return false;
      }
    }
  }
  return true;
}

}  // namespace

std::vector<std::int32_t> RasteriseCentres(const Grid& grid,
                                           std::span<const MultiPolygon> polygons) {
  std::vector<std::int32_t> owner(static_cast<std::size_t>(grid.cell_count()), -1);
  const double s = grid.size_m();
  const std::int64_t ix_lo = grid.ix0(), ix_hi = grid.ix0() + grid.nx() - 1;
  const std::int64_t iy_lo = grid.iy0(), iy_hi = grid.iy0() + grid.ny() - 1;
  std::vector<double> cross;
  for (std::size_t p = 0; p < polygons.size(); ++p) {
    const MultiPolygon& mp = polygons[p];
    // A polygon with a vertex that could not be projected (NaN) has no usable outline: an
    // unpaired crossing would fill the rest of a row.
    if (!AllFinite(mp)) continue;
    const Envelope env = EnvelopeOf(mp);
    if (env.IsEmpty()) continue;
    // Rows whose centre line lies in [min_y, max_y].
    const std::int64_t row_lo = Clamp(std::ceil(env.min_y / s - 0.5), iy_lo, iy_hi + 1);
    const std::int64_t row_hi = Clamp(std::floor(env.max_y / s - 0.5), iy_lo - 1, iy_hi);
    for (std::int64_t iy = row_lo; iy <= row_hi; ++iy) {
      const double y = (static_cast<double>(iy) + 0.5) * s;
      cross.clear();
      for (const Polygon& poly : mp) {
        for (const Ring& ring : poly.rings) {
          const std::size_t n = ring.PointCount();
          for (std::size_t i = 0; i + 1 < n; ++i) {
            const double x1 = ring.xy[2 * i], y1 = ring.xy[2 * i + 1];
            const double x2 = ring.xy[2 * i + 2], y2 = ring.xy[2 * i + 3];
            if ((y1 <= y) == (y2 <= y)) continue;
            cross.push_back(x1 + (y - y1) * (x2 - x1) / (y2 - y1));
          }
        }
      }
      if (cross.size() < 2) continue;
      std::sort(cross.begin(), cross.end());
      const std::int64_t row = (iy - iy_lo) * grid.nx();
      for (std::size_t k = 0; k + 1 < cross.size(); k += 2) {
        // Centres (ix + 1/2) s in [cross[k], cross[k + 1]).
        const std::int64_t a = Clamp(std::ceil(cross[k] / s - 0.5), ix_lo, ix_hi + 1);
        const std::int64_t b = Clamp(std::ceil(cross[k + 1] / s - 0.5) - 1, ix_lo - 1, ix_hi);
        for (std::int64_t ix = a; ix <= b; ++ix) {
          std::int32_t& o = owner[static_cast<std::size_t>(row + (ix - ix_lo))];
          if (o < 0) o = static_cast<std::int32_t>(p);
        }
      }
    }
  }
  return owner;
}

}  // namespace crimecast::spatial
