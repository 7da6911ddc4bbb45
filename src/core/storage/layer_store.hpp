// core/storage/layer_store.hpp
//
// Area covariate layers: one number per area (deprivation rank, population density, ...) plus
// the areas' polygons, kept in the same database as the events so that forecasts, backtests
// and the server use every stored layer with no extra flags (models/covariate_layers.hpp
// rasterises them onto a forecast grid).
//
// Concepts:
// * An AREA SET is the polygons of one boundary file keyed by one code column (e.g. the 2011
//   LSOAs by LSOA11CD). It is stored once however many layers use it: layers added from the
//   same file bytes (sha256) and code column share it, so the ~35,000 LSOAs of England and
//   Wales are kept once, not once per layer. An area set with no layer left is deleted.
// * A LAYER is a name (unique; adding a layer under an existing name replaces it), a
//   description, a source, a unit, its area set and one finite value per area code that has a
//   value (areas without one are simply absent: "unknown", never 0).
// * Geometry is stored in WGS84 longitude/latitude (degrees, lon first) as ISO WKB
//   MultiPolygons, with each area's envelope so a grid loads only the areas it overlaps (an
//   R*Tree or PostGIS index in another backend; a range scan on the envelope here).
//
// LayerStore is an interface so that a PostgreSQL/PostGIS backend can implement it next to its
// EventStore; SqliteLayerStore (storage/sqlite_layer_store.hpp) is the embedded one. Obtain it
// from EventStore::layers().
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/spatial/boundaries.hpp"

namespace crimecast::storage {

// One area of an area set.
struct AreaGeometry {
  std::string code;
  std::string name;
  double area_km2 = 0;           // planar area in the source's projected CRS (km^2)
  spatial::MultiPolygon lonlat;  // WGS84 lon/lat, exterior ring first in each polygon
  spatial::Envelope envelope;    // of lonlat
};

// Provenance of an area set (one boundary file and code column).
struct AreaSetInfo {
  std::int64_t id = 0;
  std::string file_name;  // as given on the command line
  std::string sha256;     // of the file's bytes, hex
  std::string id_field;   // code column
  std::string source_crs;
  std::int64_t area_count = 0;
};

// Description and provenance of a layer, and its join counts.
struct LayerInfo {
  std::int64_t id = 0;
  std::string name;         // [A-Za-z0-9_-]+, unique in a store
  std::string description;  // free text (what, vintage)
  std::string source;       // provenance (files, publisher)
  std::string unit;         // of the stored value ("rank", "people per km2", ...)
  bool per_km2 = false;     // values were divided by the area's km2 at import
  std::string table_file, key_column, value_column;
  std::int64_t created_at = 0;  // UTC seconds
  AreaSetInfo areas;
  std::int64_t value_count = 0;          // areas with a value
  std::int64_t table_rows = 0;           // data rows read from the table
  std::int64_t codes_without_area = 0;   // table codes with no polygon (not stored)
  std::int64_t areas_without_value = 0;  // polygons with no table row (unknown)
};

// A layer's values per area code (sorted by code).
struct LayerValues {
  LayerInfo info;
  std::vector<std::string> codes;
  std::vector<double> values;
};

// A layer read back for rasterising: its info, and for each area of its set that intersects
// the requested box, the area's index in LoadedLayers::area_sets[area_set] and its value.
struct LoadedLayer {
  LayerInfo info;
  std::size_t area_set = 0;        // index into LoadedLayers::area_sets
  std::vector<std::int32_t> area;  // index into that set's areas
  std::vector<double> value;       // same length as `area`
};
struct LoadedLayers {
  std::vector<std::vector<AreaGeometry>> area_sets;  // each set loaded once
  std::vector<LoadedLayer> layers;                   // by name
};

class LayerStore {
 public:
  virtual ~LayerStore() = default;

  // Stores a layer atomically (one transaction). `areas` are the polygons of the boundary file
  // described by `area_info` (reused when a set with the same sha256 and id_field is stored);
  // `values` are aligned with `codes` and must name areas of `areas`. A layer with the same
  // name is replaced; the returned optional holds the replaced layer's info.
  virtual Result<std::optional<LayerInfo>> PutLayer(const LayerInfo& info,
                                                    const AreaSetInfo& area_info,
                                                    const std::vector<AreaGeometry>& areas,
                                                    const std::vector<std::string>& codes,
                                                    const std::vector<double>& values) = 0;
  virtual Result<std::vector<LayerInfo>> ListLayers() = 0;
  // Removes a layer (and its area set when no other layer uses it). kNotFound when absent.
  virtual Result<LayerInfo> RemoveLayer(const std::string& name) = 0;
  virtual Result<LayerValues> GetLayerValues(const std::string& name) = 0;
  // Every layer, with the areas whose envelope intersects bbox (min_lon, min_lat, max_lon,
  // max_lat). Cost: the geometries of the areas in the box (an index on the envelope) and one
  // small row per value of each layer (35,000 for the LSOAs of England and Wales).
  virtual Result<LoadedLayers> LoadLayers(const std::array<double, 4>& bbox) = 0;
  // A number that changes whenever a layer is added, replaced or removed, and differs between
  // databases (cache keys); 0 when no layer was ever stored.
  virtual Result<std::int64_t> LayersVersion() = 0;
};

// Layer names: 1-64 characters of [A-Za-z0-9_-] (they become feature columns "cov_<name>").
Result<void> ValidateLayerName(const std::string& name);

}  // namespace crimecast::storage
