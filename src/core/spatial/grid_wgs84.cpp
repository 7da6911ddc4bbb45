#include "core/spatial/grid_wgs84.hpp"

#include <fmt/format.h>

#include <cmath>
#include <limits>

namespace crimecast::spatial {
namespace {

enum class Direction { kForwardToWgs84, kInverseToWgs84 };

Result<Direction> ToWgs84Direction(const Grid& grid, const Projection& projection) {
  if (projection.from_epsg() == grid.epsg() && projection.to_epsg() == kWgs84) {
    return Direction::kForwardToWgs84;
  }
  if (projection.from_epsg() == kWgs84 && projection.to_epsg() == grid.epsg()) {
    return Direction::kInverseToWgs84;
  }
  return Fail(ErrorCode::kBadCrs,
              fmt::format("the projection EPSG:{} -> EPSG:{} does not connect the grid's "
                          "EPSG:{} with WGS84 (EPSG:4326)",
                          projection.from_epsg(), projection.to_epsg(), grid.epsg()));
}

// Grid metres -> lon/lat in place; returns how many points transformed.
std::size_t ToLonLat(Direction dir, const Projection& projection, std::span<double> xs,
                     std::span<double> ys) {
  return dir == Direction::kForwardToWgs84 ? projection.Forward(xs, ys)
                                           : projection.Inverse(xs, ys);
}

}  // namespace

Result<LonLat> CellCentreLonLat(const Grid& grid, CellIndex cell, const Projection& projection) {
  auto dir = ToWgs84Direction(grid, projection);
  if (!dir) return Unexpected(dir.error());
  double xs[1] = {grid.CentreX(cell)};
  double ys[1] = {grid.CentreY(cell)};
  if (ToLonLat(*dir, projection, xs, ys) != 1) {
    return Fail(
        ErrorCode::kProjection,
        fmt::format("cannot transform the centre of cell {} to WGS84", grid.IdOf(cell).ToString()));
  }
  return LonLat{xs[0], ys[0]};
}

Result<std::vector<LonLat>> CellCentresLonLat(const Grid& grid, const Projection& projection) {
  auto dir = ToWgs84Direction(grid, projection);
  if (!dir) return Unexpected(dir.error());
  const auto n = static_cast<std::size_t>(grid.cell_count());
  std::vector<double> xs(n);
  std::vector<double> ys(n);
  for (std::size_t i = 0; i < n; ++i) {
    const CellIndex c = grid.IndexOfLocal(static_cast<std::int64_t>(i));
    xs[i] = grid.CentreX(c);
    ys[i] = grid.CentreY(c);
  }
  if (ToLonLat(*dir, projection, xs, ys) != n) {
    return Fail(ErrorCode::kProjection, "cannot transform every cell centre of the grid to WGS84");
  }
  std::vector<LonLat> out(n);
  for (std::size_t i = 0; i < n; ++i) out[i] = LonLat{xs[i], ys[i]};
  return out;
}

Result<std::vector<LonLat>> CellRingLonLat(const Grid& grid, CellIndex cell,
                                           const Projection& projection, int segments_per_edge) {
  if (segments_per_edge < 1 || segments_per_edge > 1000) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("segments per edge must be 1..1000, not {}", segments_per_edge));
  }
  auto dir = ToWgs84Direction(grid, projection);
  if (!dir) return Unexpected(dir.error());
  const double x0 = grid.CornerX(cell);
  const double y0 = grid.CornerY(cell);
  const double s = grid.size_m();
  const auto k = static_cast<std::size_t>(segments_per_edge);
  // Corners in counter-clockwise order; each edge runs from corner[e] to corner[e + 1].
  const double cx[5] = {x0, x0 + s, x0 + s, x0, x0};
  const double cy[5] = {y0, y0, y0 + s, y0 + s, y0};
  std::vector<double> xs;
  std::vector<double> ys;
  xs.reserve(4 * k + 1);
  ys.reserve(4 * k + 1);
  for (int e = 0; e < 4; ++e) {
    for (std::size_t j = 0; j < k; ++j) {
      // Interpolate from the corner rather than accumulating steps, so corners stay exact.
      const double t = static_cast<double>(j) / static_cast<double>(k);
      xs.push_back(cx[e] + (cx[e + 1] - cx[e]) * t);
      ys.push_back(cy[e] + (cy[e + 1] - cy[e]) * t);
    }
  }
  xs.push_back(cx[0]);
  ys.push_back(cy[0]);
  if (ToLonLat(*dir, projection, xs, ys) != xs.size()) {
    return Fail(ErrorCode::kProjection,
                fmt::format("cannot transform the corners of cell {} to WGS84",
                            grid.IdOf(cell).ToString()));
  }
  std::vector<LonLat> ring(xs.size());
  for (std::size_t i = 0; i < xs.size(); ++i) ring[i] = LonLat{xs[i], ys[i]};
  // The closing point went through PROJ separately from the first; make it bit-identical as
  // GeoJSON requires.
  ring.back() = ring.front();
  return ring;
}

Result<CellIndex> CellIndexOfLonLat(const Grid& grid, LonLat point, const Projection& projection) {
  if (!IsValidLonLat(point.lon, point.lat)) {
    return Fail(ErrorCode::kBadCoordinate,
                fmt::format("({}, {}) is not a valid longitude/latitude", point.lon, point.lat));
  }
  auto dir = ToWgs84Direction(grid, projection);
  if (!dir) return Unexpected(dir.error());
  auto p = *dir == Direction::kForwardToWgs84 ? projection.Inverse(point.lon, point.lat)
                                              : projection.Forward(point.lon, point.lat);
  if (!p) return Unexpected(p.error());
  return grid.IndexOf(p->x, p->y);
}

Result<LonLatCovering> GridCoveringLonLat(std::span<const LonLat> points, double size_m, int epsg,
                                          std::int64_t max_cells) {
  if (epsg == 0) {
    auto chosen = DefaultProjectedEpsg(points);
    if (!chosen) return Unexpected(chosen.error());
    epsg = *chosen;
  }
  auto projection = Projection::Create(kWgs84, epsg);
  if (!projection) return Unexpected(projection.error());
  std::vector<double> xs;
  std::vector<double> ys;
  xs.reserve(points.size());
  ys.reserve(points.size());
  for (const LonLat& p : points) {
    if (!IsValidLonLat(p.lon, p.lat)) continue;
    xs.push_back(p.lon);
    ys.push_back(p.lat);
  }
  projection->Forward(xs, ys);
  double min_x = std::numeric_limits<double>::infinity();
  double min_y = min_x;
  double max_x = -min_x;
  double max_y = -min_x;
  std::size_t used = 0;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (std::isnan(xs[i])) continue;  // Projection marks failures with NaN.
    ++used;
    min_x = std::min(min_x, xs[i]);
    min_y = std::min(min_y, ys[i]);
    max_x = std::max(max_x, xs[i]);
    max_y = std::max(max_y, ys[i]);
  }
  if (used == 0) {
    return Fail(ErrorCode::kNoData,
                fmt::format("none of the {} points has a usable longitude/latitude in EPSG:{}",
                            points.size(), epsg));
  }
  auto grid = Grid::Covering(epsg, size_m, min_x, min_y, max_x, max_y, max_cells);
  if (!grid) return Unexpected(grid.error());
  return LonLatCovering{*grid, used, points.size() - used};
}

}  // namespace crimecast::spatial
