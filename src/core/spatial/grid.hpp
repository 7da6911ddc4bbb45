// core/spatial/grid.hpp
//
// Square analysis grids.
//
// * A grid lives in a projected CRS (EPSG code, metres) and has a cell size in metres
//   (0 < size <= 10,000). Cells are aligned to multiples of the size from the CRS origin
//   (0, 0): cell (ix, iy) covers [ix*size, (ix+1)*size) x [iy*size, (iy+1)*size). Grids of the
//   same CRS and size built by different runs, forces or servers therefore line up exactly.
// * A CellIndex (ix, iy) is global in that CRS; a Grid is a finite window of it: columns
//   ix0 .. ix0+nx-1 and rows iy0 .. iy0+ny-1. Inside a window, cells are numbered row-major
//   from the south-west: local = (iy - iy0) * nx + (ix - ix0). Row 0 is the southernmost.
// * A cell's string id is "EPSG:SIZE:IX:IY", e.g. "27700:150:2110:1273"; it round-trips.
// * A cell's lower-left corner is (ix*size, iy*size) metres; its centre is half a cell on.
#pragma once

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"

namespace crimecast::spatial {

inline constexpr double kMaxCellSizeM = 10000.0;

struct CellIndex {
  std::int64_t ix = 0;
  std::int64_t iy = 0;
  bool operator==(const CellIndex&) const = default;
};

struct CellId {
  int epsg = 0;
  double size_m = 0;
  CellIndex index;
  std::string ToString() const;
  static Result<CellId> Parse(std::string_view text);
  bool operator==(const CellId&) const = default;
};

class Grid {
 public:
  // Validates size (0 < size <= 10 km) and the window (nx, ny >= 1, nx*ny <= max_cells).
  static Result<Grid> Create(int epsg, double size_m, std::int64_t ix0, std::int64_t iy0,
                             std::int64_t nx, std::int64_t ny, std::int64_t max_cells = 50'000'000);
  // The smallest aligned window covering [min_x, max_x] x [min_y, max_y] (metres).
  static Result<Grid> Covering(int epsg, double size_m, double min_x, double min_y, double max_x,
                               double max_y, std::int64_t max_cells = 50'000'000);

  int epsg() const { return epsg_; }
  double size_m() const { return size_; }
  std::int64_t ix0() const { return ix0_; }
  std::int64_t iy0() const { return iy0_; }
  std::int64_t nx() const { return nx_; }
  std::int64_t ny() const { return ny_; }
  std::int64_t cell_count() const { return nx_ * ny_; }

  CellIndex IndexOf(double x, double y) const {
    return {static_cast<std::int64_t>(std::floor(x / size_)),
            static_cast<std::int64_t>(std::floor(y / size_))};
  }
  // Local row-major number of the cell containing (x, y), or -1 outside the window / NaN.
  std::int64_t LocalOf(double x, double y) const {
    if (!(std::isfinite(x) && std::isfinite(y))) return -1;
    const CellIndex c = IndexOf(x, y);
    return LocalOf(c);
  }
  std::int64_t LocalOf(CellIndex c) const {
    const std::int64_t cx = c.ix - ix0_;
    const std::int64_t cy = c.iy - iy0_;
    if (cx < 0 || cy < 0 || cx >= nx_ || cy >= ny_) return -1;
    return cy * nx_ + cx;
  }
  CellIndex IndexOfLocal(std::int64_t local) const {
    return {ix0_ + local % nx_, iy0_ + local / nx_};
  }
  // Lower-left corner and centre in metres.
  double CornerX(CellIndex c) const { return static_cast<double>(c.ix) * size_; }
  double CornerY(CellIndex c) const { return static_cast<double>(c.iy) * size_; }
  double CentreX(CellIndex c) const { return (static_cast<double>(c.ix) + 0.5) * size_; }
  double CentreY(CellIndex c) const { return (static_cast<double>(c.iy) + 0.5) * size_; }
  CellId IdOf(CellIndex c) const { return CellId{epsg_, size_, c}; }
  double CellAreaKm2() const { return size_ * size_ / 1e6; }

 private:
  int epsg_ = 0;
  double size_ = 0;
  std::int64_t ix0_ = 0, iy0_ = 0, nx_ = 0, ny_ = 0;
};

}  // namespace crimecast::spatial
