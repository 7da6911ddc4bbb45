#include "core/models/grid_ops.hpp"

#include <tbb/blocked_range.h>
#include <tbb/parallel_for.h>
#include <tbb/task_arena.h>

#include <cmath>

#include "core/common/assert.hpp"

namespace crimecast::models {
namespace {

// Below this many events a serial bin beats spawning per-thread grids.
constexpr std::size_t kParallelBinThreshold = 200'000;

}  // namespace

CellWindow WindowOf(const spatial::Grid& grid) {
  return {grid.ix0(), grid.iy0(), grid.nx(), grid.ny()};
}

CellWindow Padded(const spatial::Grid& grid, std::int64_t radius) {
  return {grid.ix0() - radius, grid.iy0() - radius, grid.nx() + 2 * radius, grid.ny() + 2 * radius};
}

double Stencil::Sum() const {
  double s = 0;
  for (double v : w) s += v;
  return s;
}

Stencil Stencil::Normalised() const {
  const double s = Sum();
  CRIMECAST_ASSERT(s > 0, "normalising an all-zero stencil");
  Stencil out = *this;
  for (double& v : out.w) v /= s;
  return out;
}

Stencil RadialStencil(int radius, const std::function<double(double)>& f, int sub) {
  Stencil s;
  s.radius = radius;
  const int side = 2 * radius + 1;
  s.w.assign(static_cast<std::size_t>(side) * static_cast<std::size_t>(side), 0.0);
  for (int dy = -radius; dy <= radius; ++dy) {
    for (int dx = -radius; dx <= radius; ++dx) {
      double v = 0;
      if (sub <= 1) {
        v = f(std::hypot(dx, dy));
      } else {
        for (int sy = 0; sy < sub; ++sy) {
          for (int sx = 0; sx < sub; ++sx) {
            const double ox = dx + (sx + 0.5) / sub - 0.5;
            const double oy = dy + (sy + 0.5) / sub - 0.5;
            v += f(std::hypot(ox, oy));
          }
        }
        v /= static_cast<double>(sub * sub);
      }
      s.w[static_cast<std::size_t>((dy + radius) * side + (dx + radius))] = v;
    }
  }
  return s;
}

std::vector<double> Bin(const CellWindow& window, double cell_size, std::span<const double> x,
                        std::span<const double> y, std::span<const double> weight) {
  const auto n_cells = static_cast<std::size_t>(window.size());
  const bool weighted = !weight.empty();
  auto cell_of = [&](std::size_t i) -> std::int64_t {
    const double fx = std::floor(x[i] / cell_size);
    const double fy = std::floor(y[i] / cell_size);
    // Also refuses values beyond the int64 range, whose conversion would be undefined.
    if (!(std::abs(fx) < 4e18 && std::abs(fy) < 4e18)) return -1;
    return window.Local(static_cast<std::int64_t>(fx), static_cast<std::int64_t>(fy));
  };
  std::vector<double> out(n_cells, 0.0);
  if (x.size() < kParallelBinThreshold) {
    for (std::size_t i = 0; i < x.size(); ++i) {
      const std::int64_t l = cell_of(i);
      if (l >= 0) out[static_cast<std::size_t>(l)] += weighted ? weight[i] : 1.0;
    }
    return out;
  }
  // Cell numbers in parallel, then one serial pass of additions in event order: the sums are
  // bit-identical whatever the thread count (per-thread grids merged in scheduling order would
  // not be, and forecasts must be reproducible).
  std::vector<std::int64_t> cell(x.size());
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, x.size(), 65536),
                    [&](const tbb::blocked_range<std::size_t>& r) {
                      for (std::size_t i = r.begin(); i < r.end(); ++i) cell[i] = cell_of(i);
                    });
  for (std::size_t i = 0; i < x.size(); ++i) {
    if (cell[i] >= 0) out[static_cast<std::size_t>(cell[i])] += weighted ? weight[i] : 1.0;
  }
  return out;
}

std::vector<double> Convolve(const std::vector<double>& in, const CellWindow& in_window,
                             const Stencil& stencil, const CellWindow& out_window) {
  const int r = stencil.radius;
  CRIMECAST_ASSERT(out_window.ix0 - r >= in_window.ix0 && out_window.iy0 - r >= in_window.iy0 &&
                       out_window.ix0 + out_window.nx + r <= in_window.ix0 + in_window.nx &&
                       out_window.iy0 + out_window.ny + r <= in_window.iy0 + in_window.ny,
                   "output window must lie inside the input window shrunk by the radius");
  const int side = 2 * r + 1;
  // Non-zero stencil entries only: a disc stencil wastes ~21% of its square otherwise.
  struct Tap {
    int dx, dy;
    double w;
  };
  std::vector<Tap> taps;
  for (int dy = -r; dy <= r; ++dy) {
    for (int dx = -r; dx <= r; ++dx) {
      const double w = stencil.w[static_cast<std::size_t>((dy + r) * side + (dx + r))];
      if (w != 0.0) taps.push_back({dx, dy, w});
    }
  }
  std::vector<double> out(static_cast<std::size_t>(out_window.size()), 0.0);
  const std::int64_t ox = out_window.ix0 - in_window.ix0;
  const std::int64_t oy = out_window.iy0 - in_window.iy0;
  tbb::parallel_for(std::int64_t{0}, out_window.ny, [&](std::int64_t row) {
    double* dst = out.data() + row * out_window.nx;
    for (const Tap& t : taps) {
      // out(c) += w(o) * in(c - o)
      const double* src = in.data() + (row + oy - t.dy) * in_window.nx + (ox - t.dx);
      const double w = t.w;
      for (std::int64_t col = 0; col < out_window.nx; ++col) dst[col] += w * src[col];
    }
  });
  return out;
}

std::vector<double> ConvolveSeparable(const std::vector<double>& in, const CellWindow& in_window,
                                      const std::vector<double>& kernel,
                                      const CellWindow& out_window) {
  const auto r = static_cast<std::int64_t>(kernel.size() / 2);
  CRIMECAST_ASSERT(kernel.size() % 2 == 1, "separable kernel must have odd length");
  CRIMECAST_ASSERT(out_window.ix0 - r >= in_window.ix0 && out_window.iy0 - r >= in_window.iy0 &&
                       out_window.ix0 + out_window.nx + r <= in_window.ix0 + in_window.nx &&
                       out_window.iy0 + out_window.ny + r <= in_window.iy0 + in_window.ny,
                   "output window must lie inside the input window shrunk by the radius");
  const std::int64_t ox = out_window.ix0 - in_window.ix0;
  const std::int64_t oy = out_window.iy0 - in_window.iy0;
  // Pass 1 (along x): rows oy-r .. oy+ny+r of the input, output columns only.
  const std::int64_t rows = out_window.ny + 2 * r;
  std::vector<double> tmp(static_cast<std::size_t>(rows * out_window.nx), 0.0);
  tbb::parallel_for(std::int64_t{0}, rows, [&](std::int64_t row) {
    const double* src_row = in.data() + (row + oy - r) * in_window.nx + ox;
    double* dst = tmp.data() + row * out_window.nx;
    for (std::int64_t k = -r; k <= r; ++k) {
      const double w = kernel[static_cast<std::size_t>(k + r)];
      if (w == 0.0) continue;
      const double* src = src_row - k;
      for (std::int64_t col = 0; col < out_window.nx; ++col) dst[col] += w * src[col];
    }
  });
  // Pass 2 (along y).
  std::vector<double> out(static_cast<std::size_t>(out_window.size()), 0.0);
  tbb::parallel_for(std::int64_t{0}, out_window.ny, [&](std::int64_t row) {
    double* dst = out.data() + row * out_window.nx;
    for (std::int64_t k = -r; k <= r; ++k) {
      const double w = kernel[static_cast<std::size_t>(k + r)];
      if (w == 0.0) continue;
      const double* src = tmp.data() + (row + r - k) * out_window.nx;
      for (std::int64_t col = 0; col < out_window.nx; ++col) dst[col] += w * src[col];
    }
  });
  return out;
}

std::vector<double> Crop(const std::vector<double>& in, const CellWindow& in_window,
                         const CellWindow& out_window) {
  std::vector<double> out(static_cast<std::size_t>(out_window.size()));
  const std::int64_t ox = out_window.ix0 - in_window.ix0;
  const std::int64_t oy = out_window.iy0 - in_window.iy0;
  for (std::int64_t row = 0; row < out_window.ny; ++row) {
    const double* src = in.data() + (row + oy) * in_window.nx + ox;
    std::copy(src, src + out_window.nx, out.data() + row * out_window.nx);
  }
  return out;
}

double ConvolveAt(const std::vector<double>& in, const CellWindow& in_window,
                  const Stencil& stencil, std::int64_t ix, std::int64_t iy) {
  const int r = stencil.radius;
  const int side = 2 * r + 1;
  double sum = 0;
  for (int dy = -r; dy <= r; ++dy) {
    const std::int64_t sy = iy - dy - in_window.iy0;
    if (sy < 0 || sy >= in_window.ny) continue;
    for (int dx = -r; dx <= r; ++dx) {
      const std::int64_t sx = ix - dx - in_window.ix0;
      if (sx < 0 || sx >= in_window.nx) continue;
      const double v = in[static_cast<std::size_t>(sy * in_window.nx + sx)];
      if (v != 0.0) sum += stencil.w[static_cast<std::size_t>((dy + r) * side + (dx + r))] * v;
    }
  }
  return sum;
}

void WithThreads(int threads, const std::function<void()>& fn) {
  if (threads <= 0) {
    fn();
    return;
  }
  tbb::task_arena arena(threads);
  arena.execute(fn);
}

}  // namespace crimecast::models
