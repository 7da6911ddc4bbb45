// core/models/covariate_layers.hpp
//
// Stored area covariate layers (storage/layer_store.hpp) as per-cell values on a forecast grid.
//
// Rasterising: a cell takes the value of the area its CENTRE lies in (spatial/rasterise.hpp;
// polygons are projected from WGS84 to the grid's CRS first); a cell whose centre is in no area
// of the layer's set, or in an area without a value, gets NaN ("unknown": XGBoost treats it as
// missing and learns a default branch for it). Areas are small against a 150 m cell only in
// dense towns; a cell straddling two LSOAs takes the one under its centre, not an average.
//
// No look-ahead: layers are static (one vintage, e.g. WIMD 2019 on 2011 LSOAs), so the same
// values serve every origin of a backtest. Whether a layer's vintage postdates some origins is
// a property of the data the user loads; docs/models.md "Area covariates" discusses it.
//
// Cost: reading the 2,661 LSOAs of Wales and its border from the store, projecting them and
// scan-converting two layers onto a 150 m grid over Gwent (113,000 cells) takes about 0.16 s
// (tests/models/covariates_itest.cpp); results are cached per (store's layers version, grid),
// so a backtest or a server refit pays once.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/models/features.hpp"
#include "core/spatial/grid.hpp"
#include "core/storage/event_store.hpp"
#include "core/storage/layer_store.hpp"

namespace crimecast::models {

// The covariates of one grid: layers[k].value[local] (NaN = unknown) with their descriptions.
struct GridCovariates {
  spatial::Grid grid;
  std::vector<CovariateLayer> layers;          // sorted by name
  std::vector<storage::LayerInfo> info;        // aligned with layers
  std::vector<std::int64_t> cells_with_value;  // per layer
  bool empty() const { return layers.empty(); }
};

// Rasterises loaded layers on the grid (pure; see the header comment).
Result<GridCovariates> RasteriseLayers(const storage::LoadedLayers& loaded,
                                       const spatial::Grid& grid);

// Every layer stored with the events, on `grid`. nullptr when the store keeps no layers (or its
// backend has no layer store). Cached (last 8 grids) by the store's layers version and the grid.
Result<std::shared_ptr<const GridCovariates>> CovariatesForGrid(storage::EventStore& store,
                                                                const spatial::Grid& grid);

// The lon/lat box (min_lon, min_lat, max_lon, max_lat) covering the grid, with a margin.
Result<std::array<double, 4>> GridLonLatBox(const spatial::Grid& grid);

}  // namespace crimecast::models
