// core/spatial/grid_wgs84.hpp
//
// Grid cells seen from WGS84: what a map (GeoJSON, MapLibre) needs from a projected Grid.
//
// A Grid (grid.hpp) lives in a projected CRS; its cells are exact squares in metres there. In
// WGS84 a cell is a slightly curved quadrilateral: its four corners are exact (projected with
// PROJ), and its edges, which are straight lines in the projected CRS, bend by a tiny amount in
// lon/lat (for a 150 m BNG cell in Wales, well under a millimetre; for a 10 km cell at the edge
// of a UTM zone, a few metres). CellRingLonLat can densify the edges when that matters.
//
// Every function takes a Projection between the grid's EPSG code and EPSG:4326, in EITHER
// direction (grid -> 4326 is applied forward, 4326 -> grid inversely), so callers can reuse the
// one Projection they already have for importing. A Projection between other CRSs is a
// programmer-visible input error (kBadCrs). Like Projection, these functions are as thread-safe
// as the Projection passed in: use one Projection per thread.
//
// Rings follow GeoJSON (RFC 7946 section 3.1.6): closed (the first point is repeated at the end)
// and counter-clockwise, starting at the cell's south-west corner.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/common/error.hpp"
#include "core/spatial/grid.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::spatial {

// The lon/lat of the centre of `cell` (the projected centre, transformed; not the centroid of
// the curved lon/lat quadrilateral, which differs by far less than a metre).
Result<LonLat> CellCentreLonLat(const Grid& grid, CellIndex cell, const Projection& projection);

// Centres of every cell of the grid's window, in local (row-major from south-west) order.
// One batch transformation: about 100 ns a cell.
Result<std::vector<LonLat>> CellCentresLonLat(const Grid& grid, const Projection& projection);

// The boundary of `cell` as a closed counter-clockwise lon/lat ring. Each of the four edges is
// split into `segments_per_edge` (>= 1) equal segments in the projected CRS, so the ring has
// 4 * segments_per_edge + 1 points; 1 gives the four corners plus the closing point.
// Fails with kInvalidArgument when segments_per_edge is outside 1..1000.
Result<std::vector<LonLat>> CellRingLonLat(const Grid& grid, CellIndex cell,
                                           const Projection& projection, int segments_per_edge = 1);

// The cell containing a lon/lat point (its global index; it may lie outside the grid's window,
// check with grid.LocalOf). Fails with kBadCoordinate for an invalid lon/lat and kProjection
// when PROJ cannot transform the point.
Result<CellIndex> CellIndexOfLonLat(const Grid& grid, LonLat point, const Projection& projection);

struct LonLatCovering {
  Grid grid;
  // Points inside the grid: the valid ones that PROJ could transform.
  std::size_t points_used = 0;
  // Points ignored: invalid lon/lat (NaN, |lat| > 90, ...) or not transformable.
  std::size_t points_skipped = 0;
};

// The smallest aligned grid of `size_m` cells (Grid::Covering) containing every valid point of
// `points`, in the CRS `epsg`; epsg = 0 chooses it with DefaultProjectedEpsg(points) (BNG for
// Great Britain, otherwise the UTM zone of the median point). Invalid points are skipped and
// counted, not fatal, but the covering follows every valid point: clip far-away outliers
// (boundaries.hpp) first, or one mis-located row will stretch the grid across the country.
// Fails with kNoData when no point is usable, kBadCrs for an unknown EPSG code, and with
// Grid::Covering's errors (kBadGrid, kTooLarge).
Result<LonLatCovering> GridCoveringLonLat(std::span<const LonLat> points, double size_m,
                                          int epsg = 0, std::int64_t max_cells = 50'000'000);

}  // namespace crimecast::spatial
