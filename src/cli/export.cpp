// crimecast export: every event matching the filters as CSV or GeoJSON (streamed).
#include <fmt/format.h>

#include <cstdio>
#include <fstream>
#include <nlohmann/json.hpp>

#include "cli/commands.hpp"
#include "cli/common.hpp"

namespace crimecast::cli {
namespace {

struct Args {
  std::string db, out, from, to, categories, bbox, source;
  bool located_only = false;
};

std::string Num(double v, int decimals) {
  return std::isfinite(v) ? fmt::format("{:.{}f}", v, decimals) : std::string();
}

int Run(const Args& a) {
  auto store = OpenExistingStore(a.db);
  if (!store) return ReportError(store.error());
  auto parsed = ParseTimeCategoryFilter(a.from, a.to, a.categories);
  if (!parsed) return ReportError(parsed.error());
  storage::EventFilter filter = *parsed;
  filter.located_only = a.located_only;
  if (!a.bbox.empty()) {
    auto b = ParseBbox(a.bbox);
    if (!b) return ReportError(b.error());
    filter.bbox = *b;
  }
  if (!a.source.empty()) filter.source = a.source;
  const bool geojson = a.out.ends_with(".geojson") || a.out.ends_with(".json");
  if (!geojson && !a.out.ends_with(".csv")) {
    return ReportError({ErrorCode::kInvalidArgument,
                        fmt::format("--out '{}' must end in .csv or .geojson", a.out)});
  }
  std::ofstream out(a.out, std::ios::trunc);
  if (!out) {
    return ReportError({ErrorCode::kFileUnreadable, fmt::format("cannot write '{}'", a.out)});
  }
  if (geojson) {
    out << "{\"type\":\"FeatureCollection\",\"features\":[\n";
  } else {
    out << "source,source_id,category,source_type,start,end,lon,lat,x,y,epsg,quality,location,"
           "area_code,force,outcome,origin,out_of_area\n";
  }
  bool first = true;
  auto n = (*store)->Scan(filter, [&](const Event& e) {
    if (geojson) {
      nlohmann::json f;
      f["type"] = "Feature";
      if (e.Located()) {
        f["geometry"] = {{"type", "Point"}, {"coordinates", {e.lon, e.lat}}};
      } else {
        f["geometry"] = nullptr;  // unlocated: valid GeoJSON, still exported
      }
      f["properties"] = {{"source", e.source},
                         {"source_id", e.source_id},
                         {"category", Slug(e.category)},
                         {"source_type", e.source_type},
                         {"start", FormatIso(e.when.start)},
                         {"end", FormatIso(e.when.end)},
                         {"quality", Name(e.quality)},
                         {"location", e.location_text},
                         {"area_code", e.area_code},
                         {"force", e.force},
                         {"outcome", e.outcome},
                         {"origin", Name(e.origin)},
                         {"out_of_area", e.out_of_area}};
      out << (first ? "" : ",\n") << f.dump();
    } else {
      out << CsvField(e.source) << ',' << CsvField(e.source_id) << ',' << Slug(e.category) << ','
          << CsvField(e.source_type) << ',' << FormatIso(e.when.start) << ','
          << FormatIso(e.when.end) << ',' << Num(e.lon, 6) << ',' << Num(e.lat, 6) << ','
          << Num(e.x, 1) << ',' << Num(e.y, 1) << ',' << (e.Located() ? std::to_string(e.epsg) : "")
          << ',' << Name(e.quality) << ',' << CsvField(e.location_text) << ','
          << CsvField(e.area_code) << ',' << CsvField(e.force) << ',' << CsvField(e.outcome) << ','
          << Name(e.origin) << ',' << (e.out_of_area ? 1 : 0) << '\n';
    }
    first = false;
    return true;
  });
  if (!n) return ReportError(n.error());
  if (geojson) out << "\n]}\n";
  out.close();
  if (!out) return ReportError({ErrorCode::kFileUnreadable, "error writing " + a.out});
  std::fprintf(stderr, "exported %lld events to %s\n", static_cast<long long>(*n), a.out.c_str());
  return 0;
}

CommandRegistrar reg("export", [](CLI::App& app) -> Action {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "export",
      "Export events as CSV or GeoJSON (by --out's extension); unlocated events are included "
      "with empty coordinates (null geometry).");
  cmd->add_option("--db", args->db, "SQLite database")->required();
  cmd->add_option("--out", args->out, "FILE.csv or FILE.geojson")->required();
  cmd->add_option("--from", args->from, "events starting at or after (YYYY-MM or ISO 8601)");
  cmd->add_option("--to", args->to, "events starting before (YYYY-MM or ISO 8601)");
  cmd->add_option("--category", args->categories, "comma-separated categories");
  cmd->add_option("--bbox", args->bbox, "minlon,minlat,maxlon,maxlat (excludes unlocated)");
  cmd->add_option("--source", args->source, "only this feed");
  cmd->add_flag("--located-only", args->located_only, "leave out unlocated events");
  return [args] { return Run(*args); };
});

}  // namespace
}  // namespace crimecast::cli
