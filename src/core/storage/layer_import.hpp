// core/storage/layer_import.hpp
//
// Builds a covariate layer (storage/layer_store.hpp) from a boundary file and a table, as
// `crimecast layers add` does:
// * Boundaries: any polygon layer GDAL reads (GeoJSON, GeoPackage, Shapefile, ...), codes from
//   the `id_field` column (spatial::Boundaries::Load; invalid polygons are repaired, features
//   sharing a code are merged into one area). Each area's km^2 is its planar area in the
//   boundaries' projected CRS (BNG in Great Britain, else UTM): holes subtract.
// * Table: a CSV (RFC 4180) with a header row; `key_column` holds the area code and
//   `value_column` a number. Empty, "NA", "NaN" and "null" values mean "unknown" and are
//   counted, not stored.
// * Join: codes in the table with no polygon, and polygons with no table row, are counted and
//   reported (a few examples of each), never fatal: a national table joined to a regional
//   boundary file is normal.
// * per_km2: the stored value is value / area_km2 (population -> people per km^2).
// Errors: kMissingColumn (file, the column asked for, the columns present), kBadField
// (file:line, column, the text that is not a number), kDuplicate (a code twice in the table,
// with both lines), kMalformedCsv (file:line, reason), kEmptyInput (no data row, or no row
// that joins to a polygon), and the errors of Boundaries::Load.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/spatial/boundaries.hpp"
#include "core/storage/layer_store.hpp"

namespace crimecast::storage {

struct LayerImportOptions {
  std::string name;
  std::string description;
  std::string unit;    // default: value_column, or "<value_column> per km2"
  std::string source;  // default: "<table file> joined to <boundary file>"
  std::string boundaries_file;
  std::string id_field;        // code column of the boundaries; empty: detected
  std::string boundary_layer;  // GDAL layer; empty: the only / first polygon layer
  int boundaries_epsg = 0;     // CRS of the boundary coordinates when the file has none
  std::string table_file;
  std::string key_column;
  std::string value_column;
  bool per_km2 = false;
  char delimiter = ',';
};

struct LayerImportReport {
  LayerInfo info;                     // as stored
  std::optional<LayerInfo> replaced;  // the layer of the same name it replaced
  spatial::BoundaryLoadReport boundaries;
  std::int64_t areas = 0;            // distinct codes in the boundaries
  std::int64_t merged_features = 0;  // features merged into an earlier one with their code
  std::int64_t table_rows = 0;       // data rows read
  std::int64_t missing_values = 0;   // rows with an empty / NA value
  std::int64_t values = 0;           // stored (joined, finite)
  std::int64_t codes_without_area = 0;
  std::int64_t areas_without_value = 0;
  std::vector<std::string> examples_without_area;   // up to 5 codes
  std::vector<std::string> examples_without_value;  // up to 5 codes
};

// Reads, joins and stores the layer (replacing one of the same name).
Result<LayerImportReport> ImportLayer(LayerStore& store, const LayerImportOptions& options);

// Planar area of a multipolygon in its coordinates' units squared (exteriors minus holes).
double PlanarArea(const spatial::MultiPolygon& geometry);

}  // namespace crimecast::storage
