// crimecast forecast: expected events per grid cell for [T, T + horizon), as CSV or GeoJSON.
#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/model_args.hpp"
#include "core/models/forecast_job.hpp"
#include "core/models/registry.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::cli {
namespace {

struct Args {
  std::string db;
  std::string model;
  std::string at;
  std::string horizon;
  double cell = 0;
  std::string crs;
  std::string categories;
  std::string harm;
  std::vector<std::string> params;
  std::string out;
  bool all_cells = false;
  std::string bbox;
  double margin = 5000;
  int threads = 0;
  bool quiet = false;
};

bool EndsWith(const std::string& s, const std::string& suffix) {
  return s.size() >= suffix.size() &&
         s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

int Run(const Args& a) {
  models::ForecastJob job;
  job.model = a.model.empty() ? models::DefaultModelName() : a.model;
  auto at = ParseInstant(a.at);
  if (!at) return ReportError(at.error());
  job.at = *at;
  auto horizon = ParseHorizon(a.horizon);
  if (!horizon) return ReportError(horizon.error());
  job.horizon = *horizon;
  job.cell_m = a.cell;
  if (!a.crs.empty()) {
    auto epsg = spatial::ParseEpsg(a.crs);
    if (!epsg) return ReportError(epsg.error());
    job.epsg = *epsg;
  }
  auto cats = ParseCategoryList(a.categories);
  if (!cats) return ReportError(cats.error());
  job.categories = *cats;
  if (!a.harm.empty()) {
    auto harm = models::LoadHarmWeights(a.harm);
    if (!harm) return ReportError(harm.error());
    job.harm = *harm;
  }
  if (!a.bbox.empty()) {
    auto b = ParseBbox(a.bbox);
    if (!b) return ReportError(b.error());
    job.area = *b;
    job.area_margin_m = a.margin;
  }
  auto params = ParseModelParams(a.params, {job.model});
  if (!params) return ReportError(params.error());
  job.options.params = (*params)[job.model];
  job.options.threads = a.threads;
  // Fail on a bad model name or parameter before touching the database.
  if (auto m = models::CreateModel(job.model, job.options); !m) return ReportError(m.error());

  auto store = OpenExistingStore(a.db);
  if (!store) return ReportError(store.error());
  auto result = models::RunForecastJob(**store, job);
  if (!result) return ReportError(result.error());
  const bool geojson = EndsWith(a.out, ".geojson") || EndsWith(a.out, ".GEOJSON");
  models::ForecastOutputOptions oo;
  oo.all_cells = a.all_cells;
  auto written = geojson ? models::WriteForecastGeoJson(a.out, *result, job, oo)
                         : models::WriteForecastCsv(a.out, *result, oo);
  if (!written) return ReportError(written.error());
  if (!a.quiet) {
    double total = 0;
    for (double v : result->forecast.expected) total += v;
    std::fprintf(
        stderr,
        "forecast: model %s%s, %s + %s, %lld events before T, grid %lld x %lld of %g m "
        "(EPSG:%d), %lld active cells; %.1f expected events in the grid -> %s\n",
        result->forecast.model.c_str(),
        result->forecast.model_used != result->forecast.model
            ? (" (used " + result->forecast.model_used + ")").c_str()
            : "",
        FormatIso(job.at).c_str(), job.horizon.ToString().c_str(),
        static_cast<long long>(result->history_events), static_cast<long long>(result->grid.nx()),
        static_cast<long long>(result->grid.ny()), result->grid.size_m(), result->grid.epsg(),
        static_cast<long long>(result->active.size()), total, a.out.c_str());
    for (const auto& n : result->notes) std::fprintf(stderr, "note: %s\n", n.c_str());
    for (const auto& n : result->forecast.notes) std::fprintf(stderr, "note: %s\n", n.c_str());
  }
  return 0;
}

CommandRegistrar reg("forecast", [](CLI::App& app) -> Action {
  auto args = std::make_shared<Args>();
  std::string models;
  for (const auto& info : models::ModelCatalog())
    models += (models.empty() ? "" : ", ") + info.name;
  CLI::App* cmd = app.add_subcommand(
      "forecast", "Expected events per grid cell in [T, T + horizon), as CSV or GeoJSON.");
  cmd->add_option("--db", args->db, "SQLite database")->required();
  cmd->add_option("--model", args->model,
                  fmt::format("model ({}); default {}", models, models::DefaultModelName()));
  cmd->add_option("--at", args->at, "forecast time T: YYYY-MM, YYYY-MM-DD or ISO 8601 (UTC)")
      ->required();
  cmd->add_option("--horizon", args->horizon, "12h, 1d, 7d or 1M (calendar month)")->required();
  cmd->add_option("--cell", args->cell, "cell size in metres (0 < size <= 10000)")->required();
  cmd->add_option("--crs", args->crs,
                  "projected CRS, e.g. EPSG:27700 (default: the data's, 27700 for UK data)");
  cmd->add_option("--category", args->categories, "comma-separated categories (default all)");
  cmd->add_option("--harm", args->harm,
                  "harm-weight the counts: 'default' or a TOML weight file (docs/models.md)");
  cmd->add_option("--param", args->params, "model parameter key=value (repeatable)");
  cmd->add_option("--out", args->out, "output file (.csv, or .geojson for GeoJSON)")->required();
  cmd->add_flag("--all-cells", args->all_cells, "write every cell, not only risk > 0");
  cmd->add_option("--bbox", args->bbox,
                  "forecast only this area, minlon,minlat,maxlon,maxlat (WGS84): e.g. one force "
                  "of a national store");
  cmd->add_option("--margin", args->margin,
                  "with --bbox: metres around the area whose events the model also sees")
      ->capture_default_str()
      ->check(CLI::Range(0.0, 100000.0));
  cmd->add_option("--threads", args->threads, "worker threads (default: all cores)");
  cmd->add_flag("--quiet", args->quiet, "no summary on stderr");
  return [args] { return Run(*args); };
});

}  // namespace
}  // namespace crimecast::cli
