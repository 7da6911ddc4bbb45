#include "core/storage/layer_import.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>
#include <filesystem>
#include <unordered_map>

#include "core/ingest/csv_tokenizer.hpp"
#include "core/storage/importer.hpp"

namespace crimecast::storage {
namespace {

double RingArea(const spatial::Ring& r) {
  double a = 0;
  const std::size_t n = r.PointCount();
  for (std::size_t i = 0; i + 1 < n; ++i) {
    a += r.xy[2 * i] * r.xy[2 * i + 3] - r.xy[2 * i + 2] * r.xy[2 * i + 1];
  }
  return std::abs(a) / 2;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool IsMissing(std::string_view v) {
  return v.empty() || v == "NA" || v == "NaN" || v == "nan" || v == "null" || v == "NULL";
}

std::string ColumnList(const std::vector<std::string>& cols) {
  std::string out;
  for (std::size_t i = 0; i < cols.size() && i < 30; ++i) out += (i ? ", " : "") + cols[i];
  if (cols.size() > 30) out += fmt::format(", ... ({} columns)", cols.size());
  return out;
}

}  // namespace

double PlanarArea(const spatial::MultiPolygon& geometry) {
  double a = 0;
  for (const auto& p : geometry) {
    for (std::size_t k = 0; k < p.rings.size(); ++k) {
      a += (k == 0 ? 1.0 : -1.0) * RingArea(p.rings[k]);
    }
  }
  return std::max(a, 0.0);
}

Result<LayerImportReport> ImportLayer(LayerStore& store, const LayerImportOptions& o) {
  if (auto ok = ValidateLayerName(o.name); !ok) return Unexpected(ok.error());
  LayerImportReport rep;

  // ---- Boundaries ----
  spatial::BoundaryLoadOptions bo;
  bo.code_property = o.id_field;
  bo.layer = o.boundary_layer;
  bo.source_epsg = o.boundaries_epsg;
  auto b = spatial::Boundaries::Load(o.boundaries_file, bo);
  if (!b) {
    return Fail(b.error().code, fmt::format("{}: {}", o.boundaries_file, b.error().message));
  }
  rep.boundaries = b->report();
  auto sha = Sha256File(o.boundaries_file);
  if (!sha) return Unexpected(sha.error());
  std::vector<AreaGeometry> areas;
  std::unordered_map<std::string, std::size_t> area_of;
  for (const auto& f : b->features()) {
    if (f.code.empty()) continue;
    const double km2 = PlanarArea(f.projected) / 1e6;
    auto [it, fresh] = area_of.emplace(f.code, areas.size());
    if (!fresh) {
      // A code on several features (an area drawn in parts): one area, all its parts.
      AreaGeometry& a = areas[it->second];
      a.lonlat.insert(a.lonlat.end(), f.lonlat.begin(), f.lonlat.end());
      a.envelope.Expand(f.lonlat_envelope);
      a.area_km2 += km2;
      ++rep.merged_features;
      continue;
    }
    areas.push_back({f.code, f.name, km2, f.lonlat, f.lonlat_envelope});
  }
  rep.areas = static_cast<std::int64_t>(areas.size());
  if (areas.empty()) {
    return Fail(ErrorCode::kEmptyInput, fmt::format("{}: no polygon with a code in column '{}'",
                                                    o.boundaries_file, b->code_property()));
  }

  // ---- Table ----
  auto src = ingest::OpenFileSource(o.table_file);
  if (!src) return Fail(src.error().code, fmt::format("{}: {}", o.table_file, src.error().message));
  ingest::CsvOptions co;
  co.delimiter = o.delimiter;
  ingest::CsvTokenizer tok(std::move(*src), co);
  ingest::CsvRecord rec;
  ingest::CsvProblem prob;
  std::vector<std::string> header;
  int key_col = -1, value_col = -1;
  std::vector<std::string> codes;
  std::vector<double> values;
  std::unordered_map<std::string, std::int64_t> line_of;  // code -> table line
  std::vector<std::uint8_t> has_value(areas.size(), 0);
  for (;;) {
    auto st = tok.Next(rec, prob);
    if (!st) return Fail(st.error().code, fmt::format("{}: {}", o.table_file, st.error().message));
    if (*st == ingest::CsvStatus::kEnd) break;
    if (*st == ingest::CsvStatus::kProblem) {
      return Fail(prob.code, fmt::format("{}:{}: {}", o.table_file, prob.line, prob.reason));
    }
    if (header.empty()) {
      for (auto f : rec.fields) header.emplace_back(Trim(f));
      for (std::size_t i = 0; i < header.size(); ++i) {
        if (header[i] == o.key_column && key_col < 0) key_col = static_cast<int>(i);
        if (header[i] == o.value_column && value_col < 0) value_col = static_cast<int>(i);
      }
      for (auto [col, what, name] : {std::tuple{key_col, "--key-column", &o.key_column},
                                     std::tuple{value_col, "--value-column", &o.value_column}}) {
        if (col < 0) {
          return Fail(ErrorCode::kMissingColumn,
                      fmt::format("{}:{}: {} '{}' is not a column of the header; columns: {}",
                                  o.table_file, rec.line, what, *name, ColumnList(header)));
        }
      }
      continue;
    }
    ++rep.table_rows;
    const auto need = static_cast<std::size_t>(std::max(key_col, value_col));
    if (rec.fields.size() <= need) {
      return Fail(ErrorCode::kMalformedCsv,
                  fmt::format("{}:{}: {} fields, but the header has {} columns", o.table_file,
                              rec.line, rec.fields.size(), header.size()));
    }
    const std::string code(Trim(rec.fields[static_cast<std::size_t>(key_col)]));
    const std::string_view text = Trim(rec.fields[static_cast<std::size_t>(value_col)]);
    if (code.empty()) {
      return Fail(ErrorCode::kBadField, fmt::format("{}:{}: column '{}': empty area code",
                                                    o.table_file, rec.line, o.key_column));
    }
    if (auto [it, fresh] = line_of.emplace(code, rec.line); !fresh) {
      return Fail(ErrorCode::kDuplicate,
                  fmt::format("{}:{}: column '{}': code '{}' already appeared on line {}",
                              o.table_file, rec.line, o.key_column, code, it->second));
    }
    if (IsMissing(text)) {
      ++rep.missing_values;
      continue;
    }
    double v = 0;
    const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    if (ec != std::errc() || end != text.data() + text.size() || !std::isfinite(v)) {
      return Fail(ErrorCode::kBadField, fmt::format("{}:{}: column '{}': '{}' is not a number",
                                                    o.table_file, rec.line, o.value_column, text));
    }
    const auto a = area_of.find(code);
    if (a == area_of.end()) {
      ++rep.codes_without_area;
      if (rep.examples_without_area.size() < 5) rep.examples_without_area.push_back(code);
      continue;
    }
    if (o.per_km2) {
      const double km2 = areas[a->second].area_km2;
      if (!(km2 > 0)) continue;  // degenerate polygon: no density
      v /= km2;
    }
    has_value[a->second] = 1;
    codes.push_back(code);
    values.push_back(v);
  }
  if (header.empty()) return Fail(ErrorCode::kEmptyInput, o.table_file + ": empty file");
  for (std::size_t i = 0; i < areas.size(); ++i) {
    if (has_value[i]) continue;
    ++rep.areas_without_value;
    if (rep.examples_without_value.size() < 5) rep.examples_without_value.push_back(areas[i].code);
  }
  rep.values = static_cast<std::int64_t>(codes.size());
  if (codes.empty()) {
    return Fail(ErrorCode::kEmptyInput,
                fmt::format("{}: no row joins a polygon of {} ({} rows, {} codes without a "
                            "polygon, {} empty values; e.g. '{}'): check --key-column and "
                            "--id-field name the same codes",
                            o.table_file, o.boundaries_file, rep.table_rows, rep.codes_without_area,
                            rep.missing_values,
                            rep.examples_without_area.empty() ? std::string("-")
                                                              : rep.examples_without_area[0]));
  }

  LayerInfo info;
  info.name = o.name;
  info.description = o.description;
  info.unit = !o.unit.empty() ? o.unit : o.per_km2 ? o.value_column + " per km2" : o.value_column;
  info.source =
      !o.source.empty()
          ? o.source
          : fmt::format("{} ({}) joined to {} ({})",
                        std::filesystem::path(o.table_file).filename().string(), o.value_column,
                        std::filesystem::path(o.boundaries_file).filename().string(),
                        b->code_property());
  info.per_km2 = o.per_km2;
  info.table_file = o.table_file;
  info.key_column = o.key_column;
  info.value_column = o.value_column;
  info.table_rows = rep.table_rows;
  info.codes_without_area = rep.codes_without_area;
  info.areas_without_value = rep.areas_without_value;
  AreaSetInfo set;
  set.file_name = o.boundaries_file;
  set.sha256 = *sha;
  set.id_field = b->code_property();
  set.source_crs = rep.boundaries.source_crs;
  set.area_count = rep.areas;
  auto put = store.PutLayer(info, set, areas, codes, values);
  if (!put) return Unexpected(put.error());
  rep.replaced = std::move(*put);
  auto stored = store.ListLayers();
  if (!stored) return Unexpected(stored.error());
  for (auto& l : *stored) {
    if (l.name == o.name) rep.info = l;
  }
  return rep;
}

}  // namespace crimecast::storage
