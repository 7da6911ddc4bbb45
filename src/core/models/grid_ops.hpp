// core/models/grid_ops.hpp
//
// The fast path shared by the count, KDE and prospective models: bin weighted events to grid
// cells once (O(events)), then smooth the binned grid with a truncated kernel stencil
// (O(cells x stencil), no per-event-per-cell sums, no FFT).
//
// * A CellWindow is a rectangle of global cell indices (same convention as spatial::Grid: cell
//   (ix, iy) covers [ix*size, (ix+1)*size) x [iy*size, (iy+1)*size); local numbers row-major
//   from the south-west). Models work on the request grid padded by the stencil radius R, so
//   that events up to R cells outside the grid still contribute. A cell's value therefore
//   never depends on the grid window it was asked for: the same cell in a bigger or smaller
//   grid gets the same number (tests check this).
// * A Stencil holds weights for offsets (dx, dy) in [-r, r]^2, row-major from (-r, -r).
//   Convolution here is a gather: out(c) = sum over offsets o of stencil(o) * in(c - o); for
//   the symmetric stencils we use, gather and scatter agree.
// * Parallel: row loops run under oneTBB; call inside a tbb::task_arena to cap threads.
#pragma once

#include <cstdint>
#include <functional>
#include <span>
#include <vector>

#include "core/spatial/grid.hpp"

namespace crimecast::models {

struct CellWindow {
  std::int64_t ix0 = 0, iy0 = 0, nx = 0, ny = 0;
  std::int64_t size() const { return nx * ny; }
  // Local number of global cell (ix, iy), or -1 outside.
  std::int64_t Local(std::int64_t ix, std::int64_t iy) const {
    const std::int64_t cx = ix - ix0;
    const std::int64_t cy = iy - iy0;
    if (cx < 0 || cy < 0 || cx >= nx || cy >= ny) return -1;
    return cy * nx + cx;
  }
};

CellWindow WindowOf(const spatial::Grid& grid);
CellWindow Padded(const spatial::Grid& grid, std::int64_t radius);

struct Stencil {
  int radius = 0;
  std::vector<double> w;  // (2r+1)^2, row-major from (-r, -r)
  double at(int dx, int dy) const {
    return w[static_cast<std::size_t>((dy + radius) * (2 * radius + 1) + (dx + radius))];
  }
  double Sum() const;
  // The stencil with every weight divided by Sum() (Sum() must be > 0).
  Stencil Normalised() const;
};

// A stencil from a radial function of the distance in cells between cell centres:
// w(dx, dy) = f(sqrt(dx^2 + dy^2)), or the mean of f over sub x sub points spread evenly over
// the target cell when sub > 1 (a better cell integral when the kernel is narrow).
Stencil RadialStencil(int radius, const std::function<double(double)>& f, int sub = 1);

// Sums weight[i] into the window cell containing (x[i], y[i]); events outside the window are
// dropped. `weight` may be empty (every event weighs 1). Returns window.size() values.
std::vector<double> Bin(const CellWindow& window, double cell_size, std::span<const double> x,
                        std::span<const double> y, std::span<const double> weight);

// Gather-convolves `in` (on window `in_window`) with `stencil` and returns the values on the
// cells of `out_window`, which must lie inside in_window shrunk by the stencil radius.
std::vector<double> Convolve(const std::vector<double>& in, const CellWindow& in_window,
                             const Stencil& stencil, const CellWindow& out_window);

// Separable convolution with the same symmetric 1-D kernel along x then y (kernel size 2r+1).
std::vector<double> ConvolveSeparable(const std::vector<double>& in, const CellWindow& in_window,
                                      const std::vector<double>& kernel,
                                      const CellWindow& out_window);

// Copies the cells of `out_window` out of `in` (on `in_window`, which must contain it).
std::vector<double> Crop(const std::vector<double>& in, const CellWindow& in_window,
                         const CellWindow& out_window);

// Value of the stencil convolution at one cell (global index), for sparse evaluations such
// as bandwidth selection. Cells of `in` outside in_window count as zero.
double ConvolveAt(const std::vector<double>& in, const CellWindow& in_window,
                  const Stencil& stencil, std::int64_t ix, std::int64_t iy);

// Runs fn with at most `threads` oneTBB workers (0: all cores).
void WithThreads(int threads, const std::function<void()>& fn);

}  // namespace crimecast::models
