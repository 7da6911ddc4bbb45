// crimecast backtest: rolling-origin evaluation of models (docs/evaluation.md).
#include "core/evaluation/backtest.hpp"

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <fstream>
#include <memory>

#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "cli/model_args.hpp"
#include "core/evaluation/report.hpp"
#include "core/models/covariate_layers.hpp"
#include "core/models/forecast_job.hpp"
#include "core/models/registry.hpp"
#include "core/spatial/boundaries.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::cli {
namespace {

struct Args {
  std::string db;
  std::string models;
  std::string from;
  std::string to;
  std::string horizon;
  double cell = 0;
  std::string crs;
  std::string categories;
  bool per_category = false;
  std::string harm;
  std::string boundary;
  std::vector<std::string> params;
  std::string json;
  std::string svg;
  int threads = 0;
  bool quiet = false;
};

std::vector<std::string> SplitList(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start <= text.size()) {
    std::size_t comma = text.find(',', start);
    if (comma == std::string::npos) comma = text.size();
    std::string item = text.substr(start, comma - start);
    if (!item.empty()) out.push_back(item);
    start = comma + 1;
  }
  return out;
}

Result<void> WriteFile(const std::string& path, const std::string& text) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) return Fail(ErrorCode::kFileUnreadable, fmt::format("cannot write '{}'", path));
  return {};
}

int Run(const Args& a) {
  evaluation::BacktestConfig config;
  std::vector<std::string> names = SplitList(a.models);
  if (names.empty()) names = models::ModelNames();
  auto params = ParseModelParams(a.params, names);
  if (!params) return ReportError(params.error());
  for (const auto& n : names) {
    evaluation::ModelSpec spec{n, {}};
    spec.options.params = (*params)[n];
    if (auto m = models::CreateModel(n, spec.options); !m) return ReportError(m.error());
    config.models.push_back(std::move(spec));
  }
  auto from = ParseInstant(a.from);
  if (!from) return ReportError(from.error());
  auto to = ParseInstant(a.to);
  if (!to) return ReportError(to.error());
  auto horizon = ParseHorizon(a.horizon);
  if (!horizon) return ReportError(horizon.error());
  config.from = *from;
  config.to = *to;
  config.horizon = *horizon;
  if (config.from >= config.to) {
    return ReportError({ErrorCode::kInvalidArgument,
                        fmt::format("--from {} must be before --to {}", a.from, a.to)});
  }
  if (!(a.cell > 0) || a.cell > spatial::kMaxCellSizeM) {
    return ReportError({ErrorCode::kBadGrid,
                        fmt::format("--cell {} m: the cell size must be greater than 0 and at "
                                    "most {} m",
                                    a.cell, spatial::kMaxCellSizeM)});
  }
  auto cats = ParseCategoryList(a.categories);
  if (!cats) return ReportError(cats.error());
  config.categories = *cats;
  config.per_category = a.per_category;
  if (!a.harm.empty()) {
    auto harm = models::LoadHarmWeights(a.harm);
    if (!harm) return ReportError(harm.error());
    config.harm = *harm;
  }
  config.threads = a.threads;

  auto store = OpenExistingStore(a.db);
  if (!store) return ReportError(store.error());
  std::optional<int> requested;
  if (!a.crs.empty()) {
    auto epsg = spatial::ParseEpsg(a.crs);
    if (!epsg) return ReportError(epsg.error());
    requested = *epsg;
  }
  auto epsg = models::ChooseEpsg(**store, requested);
  if (!epsg) return ReportError(epsg.error());
  auto extent = (*store)->Extent();
  if (!extent) return ReportError(extent.error());
  if (config.from <= extent->start || config.from >= extent->end) {
    return ReportError(
        {ErrorCode::kOutOfRange,
         fmt::format("--from {} must lie inside the data ({} .. {}), after its start so the "
                     "first origin has history",
                     FormatIso(config.from), FormatIso(extent->start), FormatIso(extent->end))});
  }
  config.data_end = extent->end;
  // Every event that can be a training or a scored event: t_start before the last horizon end.
  storage::EventFilter filter;
  filter.to = config.horizon.EndFrom(config.to);
  filter.located_only = true;
  filter.include_out_of_area = false;
  auto points = (*store)->LoadPoints(filter, *epsg);
  if (!points) return ReportError(points.error());
  double min_x = INFINITY, min_y = INFINITY, max_x = -INFINITY, max_y = -INFINITY;
  for (std::size_t i = 0; i < points->size(); ++i) {
    if (!std::isfinite(points->x[i]) || !std::isfinite(points->y[i])) continue;
    min_x = std::min(min_x, points->x[i]);
    max_x = std::max(max_x, points->x[i]);
    min_y = std::min(min_y, points->y[i]);
    max_y = std::max(max_y, points->y[i]);
  }
  if (!(min_x <= max_x)) {
    return ReportError({ErrorCode::kNoData, "the database holds no located events"});
  }
  auto grid =
      spatial::Grid::Covering(*epsg, a.cell, min_x, min_y, max_x, max_y, models::kMaxForecastCells);
  if (!grid) return ReportError(grid.error());
  config.grid = *grid;
  // Every stored covariate layer, rasterised once on the backtest grid (static: no look-ahead).
  auto covariates = models::CovariatesForGrid(**store, *grid);
  if (!covariates) return ReportError(covariates.error());
  config.covariates = *covariates;
  if (!a.boundary.empty()) {
    // The active area becomes the cells whose centre lies inside the boundary (all features).
    auto boundaries = spatial::Boundaries::Load(a.boundary);
    if (!boundaries) return ReportError(boundaries.error());
    auto mask = spatial::CellsInside(*boundaries, *grid);
    if (!mask) return ReportError(mask.error());
    std::vector<std::int64_t> cells;
    for (std::size_t i = 0; i < mask->size(); ++i) {
      if ((*mask)[i]) cells.push_back(static_cast<std::int64_t>(i));
    }
    if (cells.empty()) {
      return ReportError(
          {ErrorCode::kBadGeometry,
           fmt::format("no cell centre of the data's grid lies inside '{}'", a.boundary)});
    }
    config.boundary_cells = std::move(cells);
  }

  const bool tty = StderrIsTty();
  int last_decile = -1;
  if (!a.quiet) {
    config.progress = [&](const evaluation::BacktestProgress& p) {
      if (tty) {
        std::fprintf(stderr, "\rbacktest: %lld/%lld forecasts scored (%s %s %s)        ",
                     static_cast<long long>(p.done), static_cast<long long>(p.total),
                     p.origin.c_str(), p.group.c_str(), p.model.c_str());
        if (p.done == p.total) std::fputc('\n', stderr);
      } else {
        const int decile = static_cast<int>(10 * p.done / std::max<std::int64_t>(1, p.total));
        if (decile != last_decile) {
          last_decile = decile;
          std::fprintf(stderr, "backtest: %lld/%lld forecasts scored\n",
                       static_cast<long long>(p.done), static_cast<long long>(p.total));
        }
      }
      std::fflush(stderr);
    };
    std::fprintf(stderr, "backtest: %zu models, grid %lld x %lld of %g m (EPSG:%d), %zu events\n",
                 config.models.size(), static_cast<long long>(grid->nx()),
                 static_cast<long long>(grid->ny()), grid->size_m(), grid->epsg(), points->size());
    if (config.covariates) {
      for (std::size_t k = 0; k < config.covariates->layers.size(); ++k) {
        std::fprintf(stderr, "backtest: covariate layer %s: %lld cells with a value\n",
                     config.covariates->layers[k].name.c_str(),
                     static_cast<long long>(config.covariates->cells_with_value[k]));
      }
    }
  }
  auto result = evaluation::RunBacktest(std::move(*points), config);
  if (!result) return ReportError(result.error());
  std::fputs(evaluation::BacktestTable(*result).c_str(), stdout);
  if (!a.json.empty()) {
    if (auto ok = WriteFile(a.json, evaluation::BacktestJson(*result)); !ok) {
      return ReportError(ok.error());
    }
  }
  if (!a.svg.empty()) {
    if (auto ok = WriteFile(a.svg, evaluation::BacktestSvg(*result)); !ok) {
      return ReportError(ok.error());
    }
  }
  if (!a.quiet) std::fprintf(stderr, "backtest: done in %.2f s\n", result->seconds_total);
  return 0;
}

CommandRegistrar reg("backtest", [](CLI::App& app) -> Action {
  auto args = std::make_shared<Args>();
  std::string names;
  for (const auto& n : models::ModelNames()) names += (names.empty() ? "" : ",") + n;
  CLI::App* cmd = app.add_subcommand(
      "backtest",
      "Rolling-origin backtest: hit rate, PAI, PEI*, log-likelihood and calibration per model.");
  cmd->add_option("--db", args->db, "SQLite database")->required();
  cmd->add_option("--models", args->models,
                  fmt::format("comma-separated models (default: all: {})", names));
  cmd->add_option("--from", args->from, "first origin T0 (YYYY-MM, YYYY-MM-DD or ISO 8601)")
      ->required();
  cmd->add_option("--to", args->to, "origins are T0, T0+h, ... before this time")->required();
  cmd->add_option("--horizon", args->horizon, "12h, 1d, 7d or 1M; also the origin step")
      ->required();
  cmd->add_option("--cell", args->cell, "cell size in metres (0 < size <= 10000)")->required();
  cmd->add_option("--crs", args->crs, "projected CRS (default: the data's, 27700 for UK data)");
  cmd->add_option("--category", args->categories, "comma-separated categories (default all)");
  cmd->add_flag("--per-category", args->per_category,
                "also score each category on its own (model fitted on that category)");
  cmd->add_option("--harm", args->harm, "harm-weight events: 'default' or a TOML weight file");
  cmd->add_option("--boundary", args->boundary,
                  "score over the cells inside this polygon file (GeoJSON, GeoPackage, "
                  "Shapefile) instead of the cells with past events");
  cmd->add_option("--param", args->params,
                  "model parameter model.key=value, or key=value for every model (repeatable)");
  cmd->add_option("--json", args->json, "write the full result as JSON (crimecast.backtest/1)");
  cmd->add_option("--svg", args->svg, "write the hit-rate-against-coverage chart as SVG");
  cmd->add_option("--threads", args->threads, "worker threads (default: all cores)");
  cmd->add_flag("--quiet", args->quiet, "no progress on stderr");
  return [args] { return Run(*args); };
});

}  // namespace
}  // namespace crimecast::cli
