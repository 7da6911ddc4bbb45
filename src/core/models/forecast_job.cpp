#include "core/models/forecast_job.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <limits>
#include <nlohmann/json.hpp>
#include <numbers>

#include "core/models/covariate_layers.hpp"
#include "core/models/grid_ops.hpp"
#include "core/models/history.hpp"
#include "core/models/registry.hpp"
#include "core/spatial/boundaries.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::models {
namespace {

constexpr std::array<int, 5> kBands = {1, 2, 5, 10, 20};

bool IsGeographic(int epsg) { return epsg == 4326 || epsg == 4258 || epsg == 4269; }

// Cell centres (or any points) from grid metres to WGS84 lon/lat, in place.
Result<void> ToLonLat(int epsg, std::vector<double>& xs, std::vector<double>& ys) {
  auto proj = spatial::Projection::Create(epsg, spatial::kWgs84);
  if (!proj) return Unexpected(proj.error());
  proj->Forward(xs, ys);
  return {};
}

std::string Num(double v) { return fmt::format("{:.6g}", v); }

bool InBox(const std::array<double, 4>& b, double lon, double lat) {
  return lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3];
}

}  // namespace

Result<int> ChooseEpsg(storage::EventStore& store, std::optional<int> requested) {
  if (requested) {
    // Validate the code by building a transformation once.
    auto proj = spatial::Projection::Create(spatial::kWgs84, *requested);
    if (!proj) return Unexpected(proj.error());
    if (IsGeographic(*requested)) {
      return Fail(ErrorCode::kBadCrs,
                  fmt::format("EPSG:{} is geographic (degrees); grids need a projected CRS in "
                              "metres, e.g. EPSG:27700 or a UTM zone",
                              *requested));
    }
    return *requested;
  }
  auto dominant = store.DominantEpsg();
  if (!dominant) return Unexpected(dominant.error());
  if (*dominant == 0) return Fail(ErrorCode::kNoData, "the database holds no located events");
  if (!IsGeographic(*dominant)) return *dominant;
  storage::EventFilter f;
  f.located_only = true;
  f.limit = 100000;
  auto pts = store.LoadPoints(f, *dominant);
  if (!pts) return Unexpected(pts.error());
  double lon = 0, lat = 0;
  std::size_t n = 0;
  for (std::size_t i = 0; i < pts->size(); ++i) {
    if (!spatial::IsValidLonLat(pts->lon[i], pts->lat[i])) continue;
    lon += pts->lon[i];
    lat += pts->lat[i];
    ++n;
  }
  if (n == 0) return Fail(ErrorCode::kNoData, "the database holds no located events");
  return spatial::DefaultProjectedEpsg(lon / static_cast<double>(n), lat / static_cast<double>(n));
}

Result<ForecastJobResult> RunForecastJob(storage::EventStore& store, const ForecastJob& job) {
  if (!(job.cell_m > 0) || job.cell_m > spatial::kMaxCellSizeM || !std::isfinite(job.cell_m)) {
    return Fail(ErrorCode::kBadGrid,
                fmt::format("--cell {} m: the cell size must be greater than 0 and at most {} m",
                            job.cell_m, spatial::kMaxCellSizeM));
  }
  const std::string model_name = job.model.empty() ? DefaultModelName() : job.model;
  auto model = CreateModel(model_name, job.options);
  if (!model) return Unexpected(model.error());

  auto extent = store.Extent();
  if (!extent) return Unexpected(extent.error());
  if (job.at <= extent->start) {
    return Fail(ErrorCode::kOutOfRange,
                fmt::format("--at {} is not after the first event ({}): there is no history to "
                            "forecast from",
                            FormatIso(job.at), FormatIso(extent->start)));
  }
  const TimePoint latest = job.horizon.EndFrom(extent->end);
  if (job.at > latest) {
    return Fail(ErrorCode::kOutOfRange,
                fmt::format("--at {} is more than one horizon ({}) after the data end ({}); "
                            "forecast at most one horizon ahead",
                            FormatIso(job.at), job.horizon.ToString(), FormatIso(extent->end)));
  }
  auto epsg = ChooseEpsg(store, job.epsg);
  if (!epsg) return Unexpected(epsg.error());

  storage::EventFilter filter;
  filter.to = job.at;
  filter.located_only = true;
  filter.include_out_of_area = false;
  if (job.area) {
    const auto& b = *job.area;
    if (!(b[0] <= b[2] && b[1] <= b[3] && b[0] >= -180 && b[2] <= 180 && b[1] >= -90 &&
          b[3] <= 90) ||
        !(job.area_margin_m >= 0) || !std::isfinite(job.area_margin_m)) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("area {},{},{},{} (margin {} m) is not a valid WGS84 box", b[0], b[1],
                              b[2], b[3], job.area_margin_m));
    }
    // Widen by the margin in degrees, generously (a degree of latitude is >= 110.5 km; a
    // degree of longitude shrinks with cos(latitude), taken at the box's edge nearest a pole).
    // The exact margin is applied below in grid metres.
    const double dlat = job.area_margin_m / 110'500.0 + 1e-6;
    const double max_abs_lat = std::min(89.0, std::max(std::abs(b[1]), std::abs(b[3])) + dlat);
    const double dlon = dlat / std::cos(max_abs_lat * std::numbers::pi / 180.0);
    filter.bbox = std::array<double, 4>{std::max(-180.0, b[0] - dlon), std::max(-90.0, b[1] - dlat),
                                        std::min(180.0, b[2] + dlon), std::min(90.0, b[3] + dlat)};
  }
  auto points = store.LoadPoints(filter, *epsg);
  if (!points) return Unexpected(points.error());
  spatial::Envelope window;  // grid metres
  for (std::size_t i = 0; i < points->size(); ++i) {
    if (!std::isfinite(points->x[i]) || !std::isfinite(points->y[i])) continue;
    window.Expand(points->x[i], points->y[i]);
  }
  if (window.IsEmpty()) {
    return Fail(ErrorCode::kEmptyTrainingWindow,
                fmt::format("no located events before {}", FormatIso(job.at)));
  }
  if (job.area) {
    // The grid covers the box's events and its margin's, measured in grid metres from the
    // events that lie in the box itself (the degree box above was generous).
    spatial::Envelope in_area;
    for (std::size_t i = 0; i < points->size(); ++i) {
      if (InBox(*job.area, points->lon[i], points->lat[i])) {
        in_area.Expand(points->x[i], points->y[i]);
      }
    }
    if (in_area.IsEmpty()) {
      return Fail(ErrorCode::kEmptyTrainingWindow,
                  fmt::format("no located events in the area {},{},{},{} before {}", (*job.area)[0],
                              (*job.area)[1], (*job.area)[2], (*job.area)[3], FormatIso(job.at)));
    }
    window.min_x = std::max(window.min_x, in_area.min_x - job.area_margin_m);
    window.min_y = std::max(window.min_y, in_area.min_y - job.area_margin_m);
    window.max_x = std::min(window.max_x, in_area.max_x + job.area_margin_m);
    window.max_y = std::min(window.max_y, in_area.max_y + job.area_margin_m);
    // Events outside the grid window are left out by every model (EventGridIndex and the
    // count models skip them); drop them here so History totals match what models see.
    storage::PointColumns kept;
    for (std::size_t i = 0; i < points->size(); ++i) {
      if (points->x[i] < window.min_x || points->x[i] > window.max_x ||
          points->y[i] < window.min_y || points->y[i] > window.max_y) {
        continue;
      }
      kept.x.push_back(points->x[i]);
      kept.y.push_back(points->y[i]);
      kept.lon.push_back(points->lon[i]);
      kept.lat.push_back(points->lat[i]);
      kept.t_start.push_back(points->t_start[i]);
      kept.t_end.push_back(points->t_end[i]);
      kept.category.push_back(points->category[i]);
      kept.id.push_back(points->id[i]);
      kept.quality.push_back(points->quality[i]);
    }
    *points = std::move(kept);
  }
  auto grid = spatial::Grid::Covering(*epsg, job.cell_m, window.min_x, window.min_y, window.max_x,
                                      window.max_y, job.max_cells);
  if (!grid) return Unexpected(grid.error());

  HistoryOptions hopt;
  hopt.cutoff = job.at;
  hopt.categories = job.categories;
  hopt.harm = job.harm;
  hopt.observed_from = extent->start;
  hopt.data_end = extent->end;
  auto history = BuildHistory(*points, hopt);
  if (!history) return Unexpected(history.error());
  if (history->size() == 0) {
    std::string cats;
    for (Category c : job.categories) {
      if (!cats.empty()) cats += ',';
      cats += Slug(c);
    }
    return Fail(ErrorCode::kEmptyTrainingWindow,
                fmt::format("no located {} events before {} to learn from",
                            cats.empty() ? "" : cats, FormatIso(job.at)));
  }
  ForecastJobResult out{*grid, {}, {}, history->size(), *extent, {}, nullptr};
  if (history->observed_to < job.at.time_since_epoch().count()) {
    out.notes.push_back(
        fmt::format("the data end at {}, before {}: rates use the observed "
                    "window only",
                    FormatIso(extent->end), FormatIso(job.at)));
  }
  auto covariates = CovariatesForGrid(store, *grid);
  if (!covariates) return Unexpected(covariates.error());
  out.covariates = *covariates;
  auto forecast =
      (*model)->Predict(*history, ForecastRequest{*grid, job.at, job.horizon, out.covariates});
  if (!forecast) return Unexpected(forecast.error());
  out.forecast = std::move(*forecast);
  // Active area: every category, as in backtests.
  std::vector<std::uint8_t> hit(static_cast<std::size_t>(grid->cell_count()), 0);
  for (std::size_t i = 0; i < points->size(); ++i) {
    const std::int64_t l = grid->LocalOf(points->x[i], points->y[i]);
    if (l >= 0) hit[static_cast<std::size_t>(l)] = 1;
  }
  for (std::size_t i = 0; i < hit.size(); ++i) {
    if (hit[i]) out.active.push_back(static_cast<std::int64_t>(i));
  }
  if (job.area) {
    // Only cells whose centre lies in the area are active (and so get risk bands); the
    // margin's cells informed the model but are not part of the answer.
    std::vector<double> xs(out.active.size()), ys(out.active.size());
    for (std::size_t k = 0; k < out.active.size(); ++k) {
      const spatial::CellIndex c = grid->IndexOfLocal(out.active[k]);
      xs[k] = grid->CentreX(c);
      ys[k] = grid->CentreY(c);
    }
    if (auto ok = ToLonLat(grid->epsg(), xs, ys); !ok) return Unexpected(ok.error());
    std::size_t kept = 0;
    for (std::size_t k = 0; k < out.active.size(); ++k) {
      if (InBox(*job.area, xs[k], ys[k])) out.active[kept++] = out.active[k];
    }
    out.active.resize(kept);
    out.area = job.area;
  }
  return out;
}

std::vector<int> RiskBands(const std::vector<double>& risk,
                           const std::vector<std::int64_t>& active) {
  std::vector<int> band(risk.size(), 0);
  if (active.empty()) return band;
  std::vector<double> values;
  values.reserve(active.size());
  for (std::int64_t id : active) values.push_back(risk[static_cast<std::size_t>(id)]);
  std::sort(values.begin(), values.end(), std::greater<>());
  std::array<double, kBands.size()> threshold{};
  for (std::size_t b = 0; b < kBands.size(); ++b) {
    const auto k =
        static_cast<std::size_t>(std::ceil(kBands[b] / 100.0 * static_cast<double>(values.size())));
    threshold[b] = values[std::clamp<std::size_t>(k, 1, values.size()) - 1];
  }
  for (std::int64_t id : active) {
    const double v = risk[static_cast<std::size_t>(id)];
    int b = 100;
    for (std::size_t k = 0; k < kBands.size(); ++k) {
      if (v > 0 && v >= threshold[k]) {
        b = kBands[k];
        break;
      }
    }
    band[static_cast<std::size_t>(id)] = b;
  }
  return band;
}

namespace {

struct CellRow {
  std::int64_t local;
  double corner_x, corner_y, lon, lat;
};

// The cells to write, with centres in lon/lat.
Result<std::vector<CellRow>> RowsToWrite(const ForecastJobResult& r,
                                         const ForecastOutputOptions& o) {
  std::vector<CellRow> rows;
  const auto& g = r.grid;
  const auto& e = r.forecast.expected;
  for (std::int64_t l = 0; l < g.cell_count(); ++l) {
    if (!o.all_cells && !(e[static_cast<std::size_t>(l)] > 0)) continue;
    const spatial::CellIndex c = g.IndexOfLocal(l);
    rows.push_back({l, g.CornerX(c), g.CornerY(c), g.CentreX(c), g.CentreY(c)});
  }
  std::vector<double> xs(rows.size()), ys(rows.size());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    xs[i] = rows[i].lon;
    ys[i] = rows[i].lat;
  }
  if (auto ok = ToLonLat(g.epsg(), xs, ys); !ok) return Unexpected(ok.error());
  for (std::size_t i = 0; i < rows.size(); ++i) {
    rows[i].lon = xs[i];
    rows[i].lat = ys[i];
  }
  for (const auto& box : {o.bbox, r.area}) {
    if (!box) continue;
    std::erase_if(rows, [&b = *box](const CellRow& row) { return !InBox(b, row.lon, row.lat); });
  }
  return rows;
}

double Part(const std::vector<double>& v, std::int64_t l) {
  return v.empty() ? 0.0 : v[static_cast<std::size_t>(l)];
}

Result<void> WriteText(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  if (!out) return Fail(ErrorCode::kFileUnreadable, fmt::format("cannot write '{}'", path));
  out << text;
  out.close();
  if (!out) return Fail(ErrorCode::kFileUnreadable, fmt::format("writing '{}' failed", path));
  return {};
}

}  // namespace

Result<void> WriteForecastCsv(const std::string& path, const ForecastJobResult& r,
                              const ForecastOutputOptions& o) {
  auto text = ForecastCsvText(r, o);
  if (!text) return Unexpected(text.error());
  return WriteText(path, *text);
}

Result<std::string> ForecastCsvText(const ForecastJobResult& r, const ForecastOutputOptions& o) {
  auto rows = RowsToWrite(r, o);
  if (!rows) return Unexpected(rows.error());
  const auto& f = r.forecast;
  const std::vector<int> bands = RiskBands(f.expected, r.active);
  std::string text = "cell_x,cell_y,size_m,crs,lon,lat,risk,cell_id,background,recent,band\n";
  text.reserve(rows->size() * 110 + 100);
  const std::string crs = fmt::format("EPSG:{}", r.grid.epsg());
  for (const CellRow& row : *rows) {
    const auto l = static_cast<std::size_t>(row.local);
    const std::string band = bands[l] == 0 ? "" : std::to_string(bands[l]);
    text += fmt::format("{},{},{},{},{:.6f},{:.6f},{},{},{},{},{}\n", row.corner_x, row.corner_y,
                        r.grid.size_m(), crs, row.lon, row.lat, Num(f.expected[l]),
                        r.grid.IdOf(r.grid.IndexOfLocal(row.local)).ToString(),
                        Num(Part(f.background, row.local)), Num(Part(f.recent, row.local)), band);
  }
  return text;
}

Result<void> WriteForecastGeoJson(const std::string& path, const ForecastJobResult& r,
                                  const ForecastJob& job, const ForecastOutputOptions& o) {
  auto text = ForecastGeoJsonText(r, job, o);
  if (!text) return Unexpected(text.error());
  return WriteText(path, *text);
}

Result<std::string> ForecastGeoJsonText(const ForecastJobResult& r, const ForecastJob& job,
                                        const ForecastOutputOptions& o) {
  auto rows = RowsToWrite(r, o);
  if (!rows) return Unexpected(rows.error());
  const auto& g = r.grid;
  const auto& f = r.forecast;
  const std::vector<int> bands = RiskBands(f.expected, r.active);
  // Corners: 4 per cell, projected in one batch.
  std::vector<double> xs, ys;
  xs.reserve(rows->size() * 4);
  ys.reserve(rows->size() * 4);
  for (const CellRow& row : *rows) {
    const double s = g.size_m();
    const double cx[4] = {row.corner_x, row.corner_x + s, row.corner_x + s, row.corner_x};
    const double cy[4] = {row.corner_y, row.corner_y, row.corner_y + s, row.corner_y + s};
    for (int k = 0; k < 4; ++k) {
      xs.push_back(cx[k]);
      ys.push_back(cy[k]);
    }
  }
  if (auto ok = ToLonLat(g.epsg(), xs, ys); !ok) return Unexpected(ok.error());
  std::string text;
  text.reserve(rows->size() * 420 + 1000);
  nlohmann::json meta = {{"model", f.model},
                         {"model_used", f.model_used},
                         {"at", FormatIso(job.at)},
                         {"horizon", job.horizon.ToString()},
                         {"crs", fmt::format("EPSG:{}", g.epsg())},
                         {"cell_m", g.size_m()},
                         {"notes", f.notes}};
  text += "{\"type\":\"FeatureCollection\",\"crimecast\":" + meta.dump() + ",\"features\":[\n";
  for (std::size_t i = 0; i < rows->size(); ++i) {
    const CellRow& row = (*rows)[i];
    const auto l = static_cast<std::size_t>(row.local);
    std::string ring;
    for (int k = 0; k <= 4; ++k) {
      const std::size_t p = i * 4 + static_cast<std::size_t>(k % 4);
      ring += fmt::format("{}[{:.7f},{:.7f}]", k ? "," : "", xs[p], ys[p]);
    }
    text += fmt::format(
        "{}{{\"type\":\"Feature\",\"geometry\":{{\"type\":\"Polygon\",\"coordinates\":[[{}]]}},"
        "\"properties\":{{\"cell_id\":\"{}\",\"cell_x\":{},\"cell_y\":{},\"size_m\":{},"
        "\"crs\":\"EPSG:{}\",\"lon\":{:.6f},\"lat\":{:.6f},\"risk\":{},\"background\":{},"
        "\"recent\":{},\"band\":{}}}}}\n",
        i ? "," : "", ring, g.IdOf(g.IndexOfLocal(row.local)).ToString(), row.corner_x,
        row.corner_y, g.size_m(), g.epsg(), row.lon, row.lat, Num(f.expected[l]),
        Num(Part(f.background, row.local)), Num(Part(f.recent, row.local)),
        bands[l] == 0 ? std::string("null") : std::to_string(bands[l]));
  }
  text += "]}\n";
  return text;
}

}  // namespace crimecast::models
