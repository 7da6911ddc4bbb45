#include "core/models/covariate_layers.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <list>
#include <mutex>

#include "core/spatial/projection.hpp"
#include "core/spatial/rasterise.hpp"

namespace crimecast::models {

Result<std::array<double, 4>> GridLonLatBox(const spatial::Grid& grid) {
  auto lease = spatial::LeaseProjection(grid.epsg(), spatial::kWgs84);
  if (!lease) return Unexpected(lease.error());
  // The border of the window, 16 points a side: a projected rectangle is not a lon/lat one.
  const double x0 = static_cast<double>(grid.ix0()) * grid.size_m();
  const double y0 = static_cast<double>(grid.iy0()) * grid.size_m();
  const double w = static_cast<double>(grid.nx()) * grid.size_m();
  const double h = static_cast<double>(grid.ny()) * grid.size_m();
  std::vector<double> xs, ys;
  for (int k = 0; k <= 16; ++k) {
    const double f = k / 16.0;
    for (auto [x, y] : {std::pair{x0 + f * w, y0},
                        {x0 + f * w, y0 + h},
                        {x0, y0 + f * h},
                        {x0 + w, y0 + f * h}}) {
      xs.push_back(x);
      ys.push_back(y);
    }
  }
  lease->get()->Forward(xs, ys);
  spatial::Envelope e;
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (std::isfinite(xs[i]) && std::isfinite(ys[i])) e.Expand(xs[i], ys[i]);
  }
  if (e.IsEmpty()) return Fail(ErrorCode::kProjection, "the grid has no position in WGS84");
  const double margin = 0.01;  // degrees (~1 km): curvature between the sampled points
  return std::array<double, 4>{e.min_x - margin, e.min_y - margin, e.max_x + margin,
                               e.max_y + margin};
}

Result<GridCovariates> RasteriseLayers(const storage::LoadedLayers& loaded,
                                       const spatial::Grid& grid) {
  GridCovariates out;
  out.grid = grid;
  const auto cells = static_cast<std::size_t>(grid.cell_count());
  // One raster per area set, shared by its layers.
  std::vector<std::vector<std::int32_t>> owner(loaded.area_sets.size());
  std::optional<spatial::ProjectionLease> lease;
  for (const storage::LoadedLayer& l : loaded.layers) {
    std::vector<std::int32_t>& own = owner[l.area_set];
    const auto& areas = loaded.area_sets[l.area_set];
    if (own.empty()) {
      if (!lease) {
        auto got = spatial::LeaseProjection(spatial::kWgs84, grid.epsg());
        if (!got) return Unexpected(got.error());
        lease.emplace(std::move(*got));
      }
      std::vector<spatial::MultiPolygon> projected;
      projected.reserve(areas.size());
      for (const auto& a : areas) {
        spatial::MultiPolygon mp = a.lonlat;
        for (auto& poly : mp) {
          for (auto& ring : poly.rings) {
            std::vector<double> xs(ring.PointCount()), ys(ring.PointCount());
            for (std::size_t i = 0; i < xs.size(); ++i) {
              xs[i] = ring.xy[2 * i];
              ys[i] = ring.xy[2 * i + 1];
            }
            lease->get()->Forward(xs, ys);
            for (std::size_t i = 0; i < xs.size(); ++i) {
              ring.xy[2 * i] = xs[i];
              ring.xy[2 * i + 1] = ys[i];
            }
          }
        }
        projected.push_back(std::move(mp));
      }
      own = spatial::RasteriseCentres(grid, projected);
    }
    std::vector<float> by_area(areas.size(), std::numeric_limits<float>::quiet_NaN());
    for (std::size_t i = 0; i < l.area.size(); ++i) {
      by_area[static_cast<std::size_t>(l.area[i])] = static_cast<float>(l.value[i]);
    }
    CovariateLayer layer{l.info.name, std::vector<float>(cells)};
    std::int64_t known = 0;
    for (std::size_t c = 0; c < cells; ++c) {
      const std::int32_t a = own[c];
      layer.value[c] =
          a < 0 ? std::numeric_limits<float>::quiet_NaN() : by_area[static_cast<std::size_t>(a)];
      known += std::isnan(layer.value[c]) ? 0 : 1;
    }
    out.layers.push_back(std::move(layer));
    out.info.push_back(l.info);
    out.cells_with_value.push_back(known);
  }
  return out;
}

namespace {

struct CacheEntry {
  std::int64_t version;
  int epsg;
  double size;
  std::int64_t ix0, iy0, nx, ny;
  std::shared_ptr<const GridCovariates> value;
};

}  // namespace

Result<std::shared_ptr<const GridCovariates>> CovariatesForGrid(storage::EventStore& store,
                                                                const spatial::Grid& grid) {
  storage::LayerStore* layers = store.layers();
  if (!layers) return std::shared_ptr<const GridCovariates>();
  // The version is a random stamp rewritten on every change (sqlite_layer_store.cpp), so it
  // also tells two databases apart: a process serving several stores cannot mix them up.
  auto version = layers->LayersVersion();
  if (!version) return Unexpected(version.error());
  if (*version == 0) return std::shared_ptr<const GridCovariates>();
  static std::mutex mu;
  static std::list<CacheEntry> cache;
  constexpr std::size_t kCacheSize = 8;
  constexpr std::size_t kMaxCachedValues = std::size_t{64} << 20;  // floats
  auto same = [&](const CacheEntry& e) {
    return e.version == *version && e.epsg == grid.epsg() && e.size == grid.size_m() &&
           e.ix0 == grid.ix0() && e.iy0 == grid.iy0() && e.nx == grid.nx() && e.ny == grid.ny();
  };
  {
    std::lock_guard lock(mu);
    for (auto it = cache.begin(); it != cache.end(); ++it) {
      if (same(*it)) {
        cache.splice(cache.begin(), cache, it);
        return cache.front().value;
      }
    }
  }
  auto box = GridLonLatBox(grid);
  if (!box) return Unexpected(box.error());
  auto loaded = layers->LoadLayers(*box);
  if (!loaded) return Unexpected(loaded.error());
  std::shared_ptr<const GridCovariates> value;
  if (!loaded->layers.empty()) {
    auto r = RasteriseLayers(*loaded, grid);
    if (!r) return Unexpected(r.error());
    value = std::make_shared<const GridCovariates>(std::move(*r));
  }
  std::lock_guard lock(mu);
  cache.push_front(
      {*version, grid.epsg(), grid.size_m(), grid.ix0(), grid.iy0(), grid.nx(), grid.ny(), value});
  // At most kCacheSize grids and about 256 MB of values: a national 150 m grid (16 million
  // cells) with two layers is 128 MB on its own.
  auto values = [](const CacheEntry& e) {
    return e.value ? static_cast<std::size_t>(e.nx * e.ny) * e.value->layers.size() : 0;
  };
  std::size_t total = 0;
  for (const auto& e : cache) total += values(e);
  while (cache.size() > 1 && (cache.size() > kCacheSize || total > kMaxCachedValues)) {
    total -= values(cache.back());
    cache.pop_back();
  }
  return value;
}

}  // namespace crimecast::models
