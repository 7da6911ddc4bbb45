// crimecast layers: area covariate layers (deprivation, population density, ...) stored with the
// events and used by forecasts, backtests and the server with no extra flags
// (storage/layer_store.hpp, models/covariate_layers.hpp).
#include <fmt/format.h>

#include <cstdio>
#include <ctime>
#include <memory>
#include <nlohmann/json.hpp>

#include "cli/cli_audit.hpp"
#include "cli/commands.hpp"
#include "cli/common.hpp"
#include "core/storage/layer_import.hpp"

namespace crimecast::cli {
namespace {

struct Args {
  std::string db;
  storage::LayerImportOptions add;
  std::string name;
  bool json = false;
};

std::string Date(std::int64_t t) {
  const auto tt = static_cast<std::time_t>(t);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M UTC", &tm);
  return buf;
}

std::string Examples(const std::vector<std::string>& codes) {
  std::string out;
  for (const auto& c : codes) out += (out.empty() ? "" : ", ") + c;
  return out.empty() ? "" : " (e.g. " + out + ")";
}

storage::LayerStore* Layers(storage::SqliteEventStore& store) { return store.layers(); }

// Audits a layer change (collection or erasure of area data); see cli_audit.hpp.
int Audit(const std::string& db, access::AuditAction action, const std::string& object,
          const std::string& outcome, const std::string& detail) {
  std::vector<access::AuditRecord> one{
      CliAuditRecord(action, object, outcome, "covariate layers", detail)};
  if (auto r = AppendCliAudit(db, one); !r) return ReportError(r.error());
  return 0;
}

int Add(Args& a) {
  auto store = OpenStore(a.db);
  if (!store) return ReportError(store.error());
  auto rep = storage::ImportLayer(*Layers(**store), a.add);
  const std::string object = "layer " + a.add.name;
  if (!rep) {
    if (int rc = Audit(a.db, access::AuditAction::kCollection, object, "error",
                       std::string(Name(rep.error().code)));
        rc != 0) {
      return rc;
    }
    return ReportError(rep.error());
  }
  const auto& r = *rep;
  if (int rc = Audit(
          a.db, access::AuditAction::kCollection, object, "ok",
          fmt::format("table={} boundaries={} values={} areas={}{}", a.add.table_file,
                      a.add.boundaries_file, r.values, r.areas, r.replaced ? " replaced" : ""));
      rc != 0) {
    return rc;
  }
  if (r.replaced) {
    std::printf("replaced layer '%s' (added %s, %lld values)\n", r.replaced->name.c_str(),
                Date(r.replaced->created_at).c_str(),
                static_cast<long long>(r.replaced->value_count));
  }
  std::printf("layer '%s': %lld areas with a value, unit '%s'%s\n", r.info.name.c_str(),
              static_cast<long long>(r.values), r.info.unit.c_str(),
              r.info.per_km2 ? " (divided by each area's km2)" : "");
  std::printf(
      "  boundaries: %s, %lld areas by %s (%s; %zu features read, %zu repaired, %zu "
      "skipped, %lld merged by code)\n",
      a.add.boundaries_file.c_str(), static_cast<long long>(r.areas), r.info.areas.id_field.c_str(),
      r.boundaries.source_crs.c_str(), r.boundaries.features_read, r.boundaries.repaired_invalid,
      r.boundaries.skipped_empty + r.boundaries.skipped_not_polygon,
      static_cast<long long>(r.merged_features));
  std::printf("  table: %s, %lld rows, %lld with no value\n", a.add.table_file.c_str(),
              static_cast<long long>(r.table_rows), static_cast<long long>(r.missing_values));
  std::printf("  codes in the table with no polygon: %lld%s\n",
              static_cast<long long>(r.codes_without_area),
              Examples(r.examples_without_area).c_str());
  std::printf("  polygons with no value (unknown in forecasts): %lld%s\n",
              static_cast<long long>(r.areas_without_value),
              Examples(r.examples_without_value).c_str());
  return 0;
}

int List(const Args& a) {
  auto store = OpenExistingStore(a.db);
  if (!store) return ReportError(store.error());
  auto layers = Layers(**store)->ListLayers();
  if (!layers) return ReportError(layers.error());
  if (a.json) {
    nlohmann::json out = nlohmann::json::array();
    for (const auto& l : *layers) {
      out.push_back({{"name", l.name},
                     {"description", l.description},
                     {"source", l.source},
                     {"unit", l.unit},
                     {"per_km2", l.per_km2},
                     {"values", l.value_count},
                     {"areas", l.areas.area_count},
                     {"boundaries", l.areas.file_name},
                     {"id_field", l.areas.id_field},
                     {"table", l.table_file},
                     {"key_column", l.key_column},
                     {"value_column", l.value_column},
                     {"codes_without_area", l.codes_without_area},
                     {"areas_without_value", l.areas_without_value},
                     {"added", Date(l.created_at)}});
    }
    std::printf("%s\n", out.dump(2).c_str());
    return 0;
  }
  if (layers->empty()) {
    std::printf("no covariate layers (add one with `crimecast layers add`)\n");
    return 0;
  }
  for (const auto& l : *layers) {
    std::printf("%s: %lld of %lld areas, unit '%s'%s, added %s\n", l.name.c_str(),
                static_cast<long long>(l.value_count), static_cast<long long>(l.areas.area_count),
                l.unit.c_str(), l.per_km2 ? " (per km2)" : "", Date(l.created_at).c_str());
    if (!l.description.empty()) std::printf("  %s\n", l.description.c_str());
    std::printf("  source: %s\n", l.source.c_str());
    std::printf(
        "  %s[%s] joined to %s[%s]: %lld table codes without a polygon, %lld polygons "
        "without a value\n",
        l.table_file.c_str(), l.key_column.c_str(), l.areas.file_name.c_str(),
        l.areas.id_field.c_str(), static_cast<long long>(l.codes_without_area),
        static_cast<long long>(l.areas_without_value));
  }
  return 0;
}

int Remove(const Args& a) {
  auto store = OpenExistingStore(a.db);
  if (!store) return ReportError(store.error());
  auto removed = Layers(**store)->RemoveLayer(a.name);
  if (int rc =
          Audit(a.db, access::AuditAction::kErasure, "layer " + a.name, removed ? "ok" : "error",
                removed ? fmt::format("values={}", removed->value_count)
                        : std::string(Name(removed.error().code)));
      rc != 0) {
    return rc;
  }
  if (!removed) return ReportError(removed.error());
  std::printf("removed layer '%s' (%lld values)\n", removed->name.c_str(),
              static_cast<long long>(removed->value_count));
  return 0;
}

CommandRegistrar reg("layers", [](CLI::App& app) -> Action {
  auto args = std::make_shared<Args>();
  CLI::App* cmd = app.add_subcommand(
      "layers",
      "Area covariate layers (deprivation, population density, ...): one value per area plus "
      "the area polygons, stored in the database and used by forecast, backtest and serve.");
  cmd->require_subcommand(1);
  auto& o = args->add;
  CLI::App* add = cmd->add_subcommand(
      "add",
      "Add (or replace) a layer: join a table of values by area code to a boundary file. "
      "Codes in the table with no polygon, and polygons with no value, are counted and "
      "reported; cells whose centre lies in no valued polygon are 'unknown' to the models.");
  add->add_option("--db", args->db, "SQLite database")->required();
  add->add_option("--name", o.name,
                  "layer name: letters, digits, '_' or '-' (feature column cov_<name>); an "
                  "existing layer of that name is replaced")
      ->required();
  add->add_option("--boundaries", o.boundaries_file,
                  "polygon file GDAL reads (.geojson, .gpkg, .shp, ...), any CRS")
      ->required();
  add->add_option("--id-field", o.id_field,
                  "area code column of the boundaries, e.g. LSOA11CD (default: detected)");
  add->add_option("--boundary-layer", o.boundary_layer,
                  "layer of a multi-layer boundary file (default: the polygon layer)");
  add->add_option("--boundaries-crs", o.boundaries_epsg,
                  "EPSG code of the boundary coordinates, for a file without a CRS (e.g. a "
                  "Shapefile without its .prj)");
  add->add_option("--table", o.table_file, "CSV with a header row")->required();
  add->add_option("--key-column", o.key_column,
                  "table column with the area code, e.g. "
                  "lsoa11_code")
      ->required();
  add->add_option("--value-column", o.value_column, "table column with the number, e.g. IMD_rank")
      ->required();
  add->add_flag("--per-km2", o.per_km2,
                "divide each value by its polygon's area in km2 (population -> density)");
  add->add_option("--description", o.description, "what the layer is, and its vintage");
  add->add_option("--unit", o.unit, "unit of the stored value (default: the value column)");
  add->add_option("--source", o.source, "provenance (default: the two file names)");
  CLI::App* list = cmd->add_subcommand("list", "List the stored layers.");
  list->add_option("--db", args->db, "SQLite database")->required();
  list->add_flag("--json", args->json, "JSON output");
  CLI::App* remove = cmd->add_subcommand("remove", "Remove a layer.");
  remove->add_option("--db", args->db, "SQLite database")->required();
  remove->add_option("--name", args->name, "layer name")->required();
  return [cmd, args]() -> int {
    for (const CLI::App* s : cmd->get_subcommands()) {
      if (s->get_name() == "add") return Add(*args);
      if (s->get_name() == "list") return List(*args);
      if (s->get_name() == "remove") return Remove(*args);
    }
    return kExitInput;
  };
});

}  // namespace
}  // namespace crimecast::cli
