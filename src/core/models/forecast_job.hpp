// core/models/forecast_job.hpp
//
// One forecast from a store, end to end, as `crimecast forecast` and the server run it:
// validate the request, choose the CRS and grid, build the History strictly before T, run the
// model, and write CSV or GeoJSON.
//
// Choices (docs/models.md "Running a forecast"):
// * CRS: the requested EPSG code, else the store's dominant CRS (EPSG:27700 for UK data, the
//   feed's UTM zone otherwise), else the UTM zone of the data's mean position when the store
//   only holds geographic coordinates.
// * Grid: the smallest window of cells (aligned to multiples of the cell size from the CRS
//   origin) covering every located, in-area event of ANY category before T. Events after T
//   never shape the grid, so the output at T is the same whatever the store holds later.
// * T must lie after the first event and at most one horizon after the end of the data;
//   otherwise kOutOfRange. A category with no events before T gives kEmptyTrainingWindow.
// * Area (optional, for national stores): a WGS84 box. The model then sees only the events
//   within the box widened by `area_margin_m` on every side (so near-repeat, neighbour and
//   kernel terms at the box's edge still see their neighbourhood), the grid covers those
//   events, and the active area (and so the risk bands) is the active cells whose centre lies
//   in the box. Count models give inside the box exactly what they give over the whole store;
//   pooled models (learned, auto) are fitted on the box and its margin only. This is how a
//   150 m forecast of one force is made from a national store, whose whole grid would exceed
//   max_cells.
// * Cell size must be in (0, 10 km] (kBadGrid); a grid over max_cells cells is kTooLarge.
// * Covariates: every area covariate layer stored with the events (storage/layer_store.hpp) is
//   rasterised on the grid (cell centre in polygon; cached per grid) and passed to the model
//   in ForecastRequest::covariates; models that use them (learned, auto) say so in their notes.
#pragma once

#include <array>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/time.hpp"
#include "core/models/harm.hpp"
#include "core/models/model.hpp"
#include "core/spatial/grid.hpp"
#include "core/storage/event_store.hpp"

namespace crimecast::models {

// 20 million cells: about 1 GB of working arrays across a forecast's vectors.
inline constexpr std::int64_t kMaxForecastCells = 20'000'000;

struct ForecastJob {
  std::string model;  // empty: DefaultModelName()
  ModelOptions options;
  TimePoint at{};
  Horizon horizon;
  double cell_m = 0;
  std::optional<int> epsg;
  std::vector<Category> categories;  // empty: every category
  std::optional<HarmWeights> harm;
  std::int64_t max_cells = kMaxForecastCells;
  // WGS84 (min_lon, min_lat, max_lon, max_lat); absent: everything the store holds.
  std::optional<std::array<double, 4>> area;
  double area_margin_m = 5000;  // metres around `area` whose events the model also sees
};

struct ForecastJobResult {
  spatial::Grid grid;
  Forecast forecast;
  std::vector<std::int64_t> active;  // local ids of cells with any event before T
  std::size_t history_events = 0;    // events the model saw (after the category filter)
  TimeInterval data_extent{};
  std::vector<std::string> notes;  // job-level notes (the forecast's own are in forecast)
  // The store's area covariate layers on `grid` (models/covariate_layers.hpp), given to the
  // model and to explanations; null when the store keeps none.
  std::shared_ptr<const GridCovariates> covariates;
  // ForecastJob::area when one was given: the writers below list only cells whose centre
  // lies in it.
  std::optional<std::array<double, 4>> area;
};

// The CRS for a store: `requested` when given, else as described above.
Result<int> ChooseEpsg(storage::EventStore& store, std::optional<int> requested);

Result<ForecastJobResult> RunForecastJob(storage::EventStore& store, const ForecastJob& job);

struct ForecastOutputOptions {
  bool all_cells = false;  // false: only cells with risk > 0
  // Only cells whose WGS84 centre lies in (min_lon, min_lat, max_lon, max_lat) (the server's
  // bbox parameter); absent: every cell.
  std::optional<std::array<double, 4>> bbox;
};

// Risk band of each cell: the smallest of 1, 2, 5, 10, 20 (percent) such that the cell's risk
// is > 0 and at least the risk of the cell ranked ceil(c% x A) among the A active cells; 100 for
// other active cells; 0 outside the active area. Tied cells share a band.
std::vector<int> RiskBands(const std::vector<double>& risk,
                           const std::vector<std::int64_t>& active);

// CSV: header "cell_x,cell_y,size_m,crs,lon,lat,risk,cell_id,background,recent,band"; cell_x,
// cell_y the lower-left corner in grid metres, lon/lat the WGS84 centre, risk the expected
// events in the horizon. Rows in local cell order (south-west first).
Result<void> WriteForecastCsv(const std::string& path, const ForecastJobResult& result,
                              const ForecastOutputOptions& options = {});
// GeoJSON (RFC 7946, WGS84): one Polygon feature per cell with the CSV columns as properties,
// and a top-level "crimecast" member with the model, time and notes.
Result<void> WriteForecastGeoJson(const std::string& path, const ForecastJobResult& result,
                                  const ForecastJob& job,
                                  const ForecastOutputOptions& options = {});

// The same texts in memory (the server answers with them).
Result<std::string> ForecastCsvText(const ForecastJobResult& result,
                                    const ForecastOutputOptions& options = {});
Result<std::string> ForecastGeoJsonText(const ForecastJobResult& result, const ForecastJob& job,
                                        const ForecastOutputOptions& options = {});

}  // namespace crimecast::models
