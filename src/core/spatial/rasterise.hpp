// core/spatial/rasterise.hpp
//
// Polygons to grid cells by the CELL-CENTRE rule: a cell belongs to a polygon when its centre
// lies inside it. This is how area covariates (deprivation rank, population density) become
// per-cell values (models/covariate_layers.hpp).
//
// Method: scanline, one pass per cell row that the polygon's envelope spans: the row's centre
// line y = (iy + 1/2) s crosses the polygon's edges (every ring of every part, even-odd rule,
// so holes are excluded); the centres between consecutive crossings are inside. An edge counts
// as crossed when exactly one endpoint has y' <= y (half-open), so a vertex on the line is
// counted once and a centre lying exactly on an edge has a definite answer. Cost:
// O(rows x edges) per polygon plus O(cells inside); no point-in-polygon test per cell.
// Overlaps: a cell whose centre is in several polygons belongs to the FIRST of them (input
// order), as with BoundaryLocator (spatial/boundaries.hpp).
//
// Coordinates: polygons must be in the grid's CRS (metres). Straight edges are straight in
// that CRS; a boundary drawn in WGS84 with edges of a few hundred metres (LSOAs) differs from
// its projected version by well under a metre, much less than a cell.
#pragma once

#include <cstdint>
#include <span>
#include <vector>

#include "core/spatial/boundaries.hpp"
#include "core/spatial/grid.hpp"

namespace crimecast::spatial {

// owner[local] = index into `polygons` of the first polygon containing the cell's centre, or
// -1. Size grid.cell_count().
std::vector<std::int32_t> RasteriseCentres(const Grid& grid,
                                           std::span<const MultiPolygon> polygons);

}  // namespace crimecast::spatial
