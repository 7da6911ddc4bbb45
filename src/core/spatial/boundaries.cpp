#include "core/spatial/boundaries.hpp"

// Only the reentrant GEOS API: every call names its context, so locators on different threads
// never share GEOS state.
#define GEOS_USE_ONLY_R_API
#include <fmt/format.h>
#include <geos_c.h>
#include <tbb/blocked_range.h>
#include <tbb/enumerable_thread_specific.h>
#include <tbb/parallel_for.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <optional>
#include <system_error>

#include "core/common/assert.hpp"
#include "core/spatial/gdal_api.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::spatial {

using internal::Gdal;

Envelope EnvelopeOf(const MultiPolygon& geometry) {
  Envelope e;
  for (const Polygon& polygon : geometry) {
    for (const Ring& ring : polygon.rings) {
      for (std::size_t i = 0; i + 1 < ring.xy.size(); i += 2) e.Expand(ring.xy[i], ring.xy[i + 1]);
    }
  }
  return e;
}

namespace {

// ---------------------------------------------------------------------------------------------
// GDAL plumbing
// ---------------------------------------------------------------------------------------------

// GDAL prints warnings and errors to stderr by default; we turn them into Result messages
// instead. The handler stack is per thread in GDAL, so this does not silence other threads.
class QuietGdalErrors {
 public:
  QuietGdalErrors() {
    Gdal().CPLPushErrorHandler(Gdal().CPLQuietErrorHandler);
    Gdal().CPLErrorReset();
  }
  ~QuietGdalErrors() { Gdal().CPLPopErrorHandler(); }
  QuietGdalErrors(const QuietGdalErrors&) = delete;
  QuietGdalErrors& operator=(const QuietGdalErrors&) = delete;
};

std::string LastGdalError() {
  const char* msg = Gdal().CPLGetLastErrorMsg();
  return (msg != nullptr && *msg != '\0') ? std::string(msg) : std::string("no detail from GDAL");
}

struct DatasetCloser {
  void operator()(void* h) const {
    if (h != nullptr) Gdal().GDALClose(h);
  }
};
using DatasetPtr = std::unique_ptr<void, DatasetCloser>;

struct FeatureDestroyer {
  void operator()(void* h) const {
    if (h != nullptr) Gdal().OGR_F_Destroy(h);
  }
};
using FeaturePtr = std::unique_ptr<void, FeatureDestroyer>;

struct GeometryDestroyer {
  void operator()(void* h) const {
    if (h != nullptr) Gdal().OGR_G_DestroyGeometry(h);
  }
};
using GeometryPtr = std::unique_ptr<void, GeometryDestroyer>;

struct SrsReleaser {
  void operator()(void* h) const {
    if (h != nullptr) Gdal().OSRRelease(h);
  }
};
using SrsPtr = std::unique_ptr<void, SrsReleaser>;

struct TransformDestroyer {
  void operator()(void* h) const {
    if (h != nullptr) Gdal().OCTDestroyCoordinateTransformation(h);
  }
};
using TransformPtr = std::unique_ptr<void, TransformDestroyer>;

bool IsPolygonalType(OGRwkbGeometryType type) {
  switch (Gdal().OGR_GT_Flatten(type)) {
    case wkbPolygon:
    case wkbMultiPolygon:
    case wkbCurvePolygon:
    case wkbMultiSurface:
    case wkbPolyhedralSurface:
    case wkbTIN:
      return true;
    default:
      return false;
  }
}

std::string ToLower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() > suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string JoinNames(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) {
    if (!out.empty()) out += ", ";
    out += n;
  }
  return out.empty() ? std::string("(none)") : out;
}

// Index of a column by exact name, else case-insensitively; -1 when absent.
int FindColumn(const std::vector<std::string>& names, std::string_view wanted) {
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (names[i] == wanted) return static_cast<int>(i);
  }
  const std::string lower = ToLower(wanted);
  for (std::size_t i = 0; i < names.size(); ++i) {
    if (ToLower(names[i]) == lower) return static_cast<int>(i);
  }
  return -1;
}

// Picks the code and name columns. Known ONS/police names first (newest vintage first, so a
// file carrying both LSOA21CD and LSOA11CD is keyed by 2021), then the ONS convention (XXXXCD
// with XXXXNM) and the snake-case one (xxx_code with xxx_name), then plain "code"/"name".
std::pair<int, int> DetectCodeAndName(const std::vector<std::string>& names) {
  static constexpr std::pair<std::string_view, std::string_view> kKnown[] = {
      {"LSOA21CD", "LSOA21NM"}, {"LSOA11CD", "LSOA11NM"}, {"LSOA01CD", "LSOA01NM"},
      {"MSOA21CD", "MSOA21NM"}, {"MSOA11CD", "MSOA11NM"}, {"pfa20_code", "pfa20_name"},
      {"PFA20CD", "PFA20NM"},   {"PFA23CD", "PFA23NM"},   {"OA21CD", "LSOA21CD"},
      {"OA11CD", "LSOA11CD"},   {"GEOID", "NAME"},
  };
  for (const auto& [code, name] : kKnown) {
    const int c = FindColumn(names, code);
    if (c >= 0) return {c, FindColumn(names, name)};
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    const std::string lower = ToLower(names[i]);
    if (EndsWith(lower, "cd")) {
      return {static_cast<int>(i), FindColumn(names, lower.substr(0, lower.size() - 2) + "nm")};
    }
    if (EndsWith(lower, "_code")) {
      return {static_cast<int>(i), FindColumn(names, lower.substr(0, lower.size() - 5) + "_name")};
    }
  }
  const int code = FindColumn(names, "code");
  if (code >= 0) return {code, FindColumn(names, "name")};
  return {-1, -1};
}

// The EPSG code of a spatial reference, or 0 when it has none that GDAL can identify.
int IdentifyEpsg(OGRSpatialReferenceH srs) {
  auto code_of = [](OGRSpatialReferenceH h) -> int {
    const char* auth = Gdal().OSRGetAuthorityName(h, nullptr);
    const char* code = Gdal().OSRGetAuthorityCode(h, nullptr);
    if (auth == nullptr || code == nullptr || std::string_view(auth) != "EPSG") return 0;
    return std::atoi(code);
  };
  if (int c = code_of(srs); c > 0) return c;
  // Shapefile .prj files carry ESRI WKT without an authority; ask GDAL for a match it is sure
  // of (confidence >= 90 means "equivalent up to names").
  int entries = 0;
  int* confidence = nullptr;
  OGRSpatialReferenceH* matches = Gdal().OSRFindMatches(srs, nullptr, &entries, &confidence);
  int found = 0;
  for (int i = 0; i < entries && found == 0; ++i) {
    if (confidence[i] >= 90) found = code_of(matches[i]);
  }
  if (matches != nullptr) Gdal().OSRFreeSRSArray(matches);
  Gdal().VSIFree(confidence);  // CPLFree() is a macro for VSIFree()
  return found;
}

// True when the layer stores coordinates as (north, east), e.g. lat/lon in authority order;
// we swap them on read so that everything downstream is (east, north).
bool DataIsNorthFirst(OGRSpatialReferenceH srs) {
  int count = 0;
  const int* mapping = Gdal().OSRGetDataAxisToSRSAxisMapping(srs, &count);
  if (mapping == nullptr || count < 2) return false;
  const int axis = std::abs(mapping[0]) - 1;
  OGRAxisOrientation orientation = OAO_Other;
  Gdal().OSRGetAxis(srs, Gdal().OSRIsProjected(srs) ? "PROJCS" : "GEOGCS", axis, &orientation);
  return orientation == OAO_North || orientation == OAO_South;
}

// A feature as read, before transformation: coordinates in the source CRS, (east, north).
struct RawFeature {
  MultiPolygon geometry;
  std::vector<std::string> values;
};

// Reads one ring; returns false when it is degenerate (fewer than 3 distinct vertices) or has
// a non-finite coordinate.
bool ReadRing(OGRGeometryH ring, bool swap_axes, Ring& out) {
  const int n = Gdal().OGR_G_GetPointCount(ring);
  if (n < 3) return false;
  std::vector<double> xs(static_cast<std::size_t>(n));
  std::vector<double> ys(static_cast<std::size_t>(n));
  Gdal().OGR_G_GetPoints(ring, xs.data(), sizeof(double), ys.data(), sizeof(double), nullptr, 0);
  if (swap_axes) xs.swap(ys);
  out.xy.clear();
  out.xy.reserve(2 * xs.size() + 2);
  for (std::size_t i = 0; i < xs.size(); ++i) {
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) return false;
    out.xy.push_back(xs[i]);
    out.xy.push_back(ys[i]);
  }
  // Close the ring if the file did not (Shapefile readers and GeoJSON writers are not all
  // strict about it); GEOS requires closed rings.
  if (xs.front() != xs.back() || ys.front() != ys.back()) {
    out.xy.push_back(xs.front());
    out.xy.push_back(ys.front());
  }
  return out.PointCount() >= 4;
}

// Appends the polygons of `g` (recursing through collections) to `out`; returns true if `g`
// had any polygonal part.
bool AppendPolygons(OGRGeometryH g, bool swap_axes, MultiPolygon& out) {
  if (g == nullptr || Gdal().OGR_G_IsEmpty(g)) return false;
  if (Gdal().OGR_G_HasCurveGeometry(g, TRUE)) {
    // Arcs (CurvePolygon, MultiSurface): approximate with the default 4-degree step.
    GeometryPtr linear(Gdal().OGR_G_GetLinearGeometry(g, 0, nullptr));
    return linear != nullptr && AppendPolygons(linear.get(), swap_axes, out);
  }
  const OGRwkbGeometryType type = Gdal().OGR_GT_Flatten(Gdal().OGR_G_GetGeometryType(g));
  if (type == wkbPolygon || type == wkbTriangle) {
    Polygon polygon;
    const int rings = Gdal().OGR_G_GetGeometryCount(g);
    for (int r = 0; r < rings; ++r) {
      Ring ring;
      if (ReadRing(Gdal().OGR_G_GetGeometryRef(g, r), swap_axes, ring)) {
        polygon.rings.push_back(std::move(ring));
      } else if (r == 0) {
        return true;  // degenerate exterior: the polygon has no area; holes are meaningless
      }
    }
    if (!polygon.rings.empty()) out.push_back(std::move(polygon));
    return true;
  }
  if (type == wkbMultiPolygon || type == wkbGeometryCollection || type == wkbPolyhedralSurface ||
      type == wkbTIN) {
    bool any = false;
    const int parts = Gdal().OGR_G_GetGeometryCount(g);
    for (int i = 0; i < parts; ++i)
      any |= AppendPolygons(Gdal().OGR_G_GetGeometryRef(g, i), swap_axes, out);
    return any;
  }
  return false;
}

// Transforms every coordinate of `geometry` in place with PROJ; false if any point failed.
bool TransformGeometry(MultiPolygon& geometry, const Projection& projection) {
  std::vector<double> xs;
  std::vector<double> ys;
  for (Polygon& polygon : geometry) {
    for (Ring& ring : polygon.rings) {
      const std::size_t n = ring.PointCount();
      xs.resize(n);
      ys.resize(n);
      for (std::size_t i = 0; i < n; ++i) {
        xs[i] = ring.xy[2 * i];
        ys[i] = ring.xy[2 * i + 1];
      }
      if (projection.Forward(xs, ys) != n) return false;
      for (std::size_t i = 0; i < n; ++i) {
        ring.xy[2 * i] = xs[i];
        ring.xy[2 * i + 1] = ys[i];
      }
    }
  }
  return true;
}

// The same with a GDAL transformation (for source CRSs without an EPSG code).
bool TransformGeometry(MultiPolygon& geometry, OGRCoordinateTransformationH transform) {
  std::vector<double> xs;
  std::vector<double> ys;
  std::vector<int> ok;
  for (Polygon& polygon : geometry) {
    for (Ring& ring : polygon.rings) {
      const std::size_t n = ring.PointCount();
      xs.resize(n);
      ys.resize(n);
      ok.assign(n, 0);
      for (std::size_t i = 0; i < n; ++i) {
        xs[i] = ring.xy[2 * i];
        ys[i] = ring.xy[2 * i + 1];
      }
      if (!Gdal().OCTTransformEx(transform, static_cast<int>(n), xs.data(), ys.data(), nullptr,
                                 ok.data())) {
        return false;
      }
      for (std::size_t i = 0; i < n; ++i) {
        if (!ok[i]) return false;
        ring.xy[2 * i] = xs[i];
        ring.xy[2 * i + 1] = ys[i];
      }
    }
  }
  return true;
}

bool AllLonLatValid(const MultiPolygon& geometry, double* bad_x, double* bad_y) {
  for (const Polygon& polygon : geometry) {
    for (const Ring& ring : polygon.rings) {
      for (std::size_t i = 0; i + 1 < ring.xy.size(); i += 2) {
        if (!IsValidLonLat(ring.xy[i], ring.xy[i + 1])) {
          *bad_x = ring.xy[i];
          *bad_y = ring.xy[i + 1];
          return false;
        }
      }
    }
  }
  return true;
}

std::string DescribeFeature(const RawFeature& f, int code_column, std::size_t index) {
  if (code_column >= 0 && !f.values[static_cast<std::size_t>(code_column)].empty()) {
    return fmt::format("feature {} ('{}')", index, f.values[static_cast<std::size_t>(code_column)]);
  }
  return fmt::format("feature {}", index);
}

}  // namespace

// ---------------------------------------------------------------------------------------------
// Boundaries::Load
// ---------------------------------------------------------------------------------------------

Result<Boundaries> Boundaries::Load(const std::filesystem::path& path,
                                    const BoundaryLoadOptions& options) {
  std::error_code ec;
  if (!std::filesystem::exists(path, ec)) {
    return Fail(ErrorCode::kFileNotFound,
                fmt::format("boundary file '{}' does not exist", path.string()));
  }
  // GDAL is loaded on first use (spatial/gdal_api.hpp explains why).
  if (auto gdal = internal::LoadGdal(); !gdal) return Unexpected(gdal.error());
  QuietGdalErrors quiet;
  DatasetPtr dataset(Gdal().GDALOpenEx(path.c_str(), GDAL_OF_VECTOR | GDAL_OF_READONLY, nullptr,
                                       nullptr, nullptr));
  if (dataset == nullptr) {
    return Fail(ErrorCode::kFileUnreadable,
                fmt::format("'{}' is not a vector data set GDAL can read (GeoJSON, GeoPackage, "
                            "Shapefile, ...): {}",
                            path.string(), LastGdalError()));
  }

  // --- Choose the layer.
  const int layer_count = Gdal().GDALDatasetGetLayerCount(dataset.get());
  std::vector<std::string> layer_names;
  for (int i = 0; i < layer_count; ++i) {
    layer_names.emplace_back(Gdal().OGR_L_GetName(Gdal().GDALDatasetGetLayer(dataset.get(), i)));
  }
  OGRLayerH layer = nullptr;
  if (!options.layer.empty()) {
    layer = Gdal().GDALDatasetGetLayerByName(dataset.get(), options.layer.c_str());
    if (layer == nullptr) {
      return Fail(ErrorCode::kNotFound,
                  fmt::format("'{}' has no layer '{}'; its layers: {}", path.string(),
                              options.layer, JoinNames(layer_names)));
    }
  } else if (layer_count == 1) {
    layer = Gdal().GDALDatasetGetLayer(dataset.get(), 0);
  } else {
    for (int i = 0; i < layer_count && layer == nullptr; ++i) {
      OGRLayerH candidate = Gdal().GDALDatasetGetLayer(dataset.get(), i);
      if (IsPolygonalType(Gdal().OGR_L_GetGeomType(candidate))) layer = candidate;
    }
    if (layer == nullptr) {
      return Fail(ErrorCode::kBadGeometry,
                  layer_count == 0
                      ? fmt::format("'{}' has no layers", path.string())
                      : fmt::format("'{}' has no polygon layer (layers: {}); name one explicitly",
                                    path.string(), JoinNames(layer_names)));
    }
  }

  Boundaries out;
  out.layer_name_ = Gdal().OGR_L_GetName(layer);

  // --- Columns.
  OGRFeatureDefnH defn = Gdal().OGR_L_GetLayerDefn(layer);
  const int field_count = Gdal().OGR_FD_GetFieldCount(defn);
  for (int i = 0; i < field_count; ++i) {
    out.property_names_.emplace_back(
        Gdal().OGR_Fld_GetNameRef(Gdal().OGR_FD_GetFieldDefn(defn, i)));
  }
  int code_column = -1;
  int name_column = -1;
  if (!options.code_property.empty() || !options.name_property.empty()) {
    if (!options.code_property.empty()) {
      code_column = FindColumn(out.property_names_, options.code_property);
      if (code_column < 0) {
        return Fail(ErrorCode::kMissingColumn,
                    fmt::format("layer '{}' of '{}' has no property '{}'; its properties: {}",
                                out.layer_name_, path.string(), options.code_property,
                                JoinNames(out.property_names_)));
      }
    }
    if (!options.name_property.empty()) {
      name_column = FindColumn(out.property_names_, options.name_property);
      if (name_column < 0) {
        return Fail(ErrorCode::kMissingColumn,
                    fmt::format("layer '{}' of '{}' has no property '{}'; its properties: {}",
                                out.layer_name_, path.string(), options.name_property,
                                JoinNames(out.property_names_)));
      }
    }
  }
  if (code_column < 0 || (name_column < 0 && options.name_property.empty())) {
    const auto [code, name] = DetectCodeAndName(out.property_names_);
    if (code_column < 0) code_column = code;
    if (name_column < 0 && options.name_property.empty()) name_column = name;
  }

  // --- Source CRS.
  SrsPtr source_srs;
  if (options.source_epsg != 0) {
    source_srs.reset(Gdal().OSRNewSpatialReference(nullptr));
    if (Gdal().OSRImportFromEPSG(source_srs.get(), options.source_epsg) != OGRERR_NONE) {
      return Fail(ErrorCode::kBadCrs,
                  fmt::format("EPSG:{} is not a CRS GDAL knows", options.source_epsg));
    }
    // Gdal().OSRImportFromEPSG gives authority axis order; the data is (east, north).
    Gdal().OSRSetAxisMappingStrategy(source_srs.get(), OAMS_TRADITIONAL_GIS_ORDER);
  } else {
    OGRSpatialReferenceH layer_srs = Gdal().OGR_L_GetSpatialRef(layer);
    if (layer_srs == nullptr) {
      return Fail(ErrorCode::kBadCrs,
                  fmt::format("layer '{}' of '{}' has no coordinate reference system (a "
                              "Shapefile without its .prj?); give the source EPSG code",
                              out.layer_name_, path.string()));
    }
    source_srs.reset(Gdal().OSRClone(layer_srs));
  }
  const bool swap_axes = DataIsNorthFirst(source_srs.get());
  const int source_epsg =
      options.source_epsg != 0 ? options.source_epsg : IdentifyEpsg(source_srs.get());
  {
    const char* srs_name = Gdal().OSRGetName(source_srs.get());
    out.report_.source_crs = source_epsg > 0 ? fmt::format("EPSG:{}", source_epsg)
                                             : std::string(srs_name ? srs_name : "unnamed CRS");
  }

  // --- Read the features (source CRS).
  std::vector<RawFeature> raw;
  Gdal().OGR_L_ResetReading(layer);
  while (FeaturePtr feature{Gdal().OGR_L_GetNextFeature(layer)}) {
    ++out.report_.features_read;
    RawFeature f;
    f.values.resize(static_cast<std::size_t>(field_count));
    for (int i = 0; i < field_count; ++i) {
      if (Gdal().OGR_F_IsFieldSetAndNotNull(feature.get(), i)) {
        f.values[static_cast<std::size_t>(i)] = Gdal().OGR_F_GetFieldAsString(feature.get(), i);
      }
    }
    OGRGeometryH g = Gdal().OGR_F_GetGeometryRef(feature.get());
    if (g == nullptr || Gdal().OGR_G_IsEmpty(g)) {
      ++out.report_.skipped_empty;
      continue;
    }
    GeometryPtr repaired;
    if (IsPolygonalType(Gdal().OGR_G_GetGeometryType(g)) && !Gdal().OGR_G_IsValid(g)) {
      // Self-intersecting rings make point-in-polygon answers depend on the algorithm; repair
      // them the standard way (GEOS MakeValid through GDAL) and say so in the report.
      repaired.reset(Gdal().OGR_G_MakeValid(g));
      if (repaired != nullptr) {
        g = repaired.get();
        ++out.report_.repaired_invalid;
      }
    }
    const bool polygonal = AppendPolygons(g, swap_axes, f.geometry);
    if (f.geometry.empty()) {
      if (polygonal) {
        ++out.report_.skipped_empty;
      } else {
        ++out.report_.skipped_not_polygon;
      }
      continue;
    }
    raw.push_back(std::move(f));
  }
  if (raw.empty()) {
    return Fail(ErrorCode::kBadGeometry,
                fmt::format("layer '{}' of '{}' has no polygons ({} features: {} without "
                            "geometry, {} points or lines)",
                            out.layer_name_, path.string(), out.report_.features_read,
                            out.report_.skipped_empty, out.report_.skipped_not_polygon));
  }
  // Reported after the geometry check: a layer without polygons is the more basic problem.
  if (code_column < 0) {
    return Fail(ErrorCode::kMissingColumn,
                fmt::format("cannot tell which property of layer '{}' of '{}' is the area code "
                            "(looked for LSOA21CD, LSOA11CD, pfa20_code, *CD, *_code, code); "
                            "name it explicitly; its properties: {}",
                            out.layer_name_, path.string(), JoinNames(out.property_names_)));
  }
  out.code_property_ = out.property_names_[static_cast<std::size_t>(code_column)];
  out.name_property_ =
      name_column >= 0 ? out.property_names_[static_cast<std::size_t>(name_column)] : "";

  // --- Source -> WGS84. PROJ (our Projection) when the CRS has an EPSG code, so boundaries and
  // events go through the very same transformation; GDAL's PROJ-based one otherwise.
  std::vector<MultiPolygon> lonlat(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) lonlat[i] = raw[i].geometry;
  if (source_epsg != kWgs84) {
    std::optional<Projection> to_wgs84;
    TransformPtr gdal_transform;
    if (source_epsg > 0) {
      auto p = Projection::Create(source_epsg, kWgs84);
      if (!p) return Unexpected(p.error());
      to_wgs84.emplace(std::move(*p));
    } else {
      SrsPtr wgs84(Gdal().OSRNewSpatialReference(nullptr));
      Gdal().OSRImportFromEPSG(wgs84.get(), kWgs84);
      Gdal().OSRSetAxisMappingStrategy(wgs84.get(), OAMS_TRADITIONAL_GIS_ORDER);
      // Our copy of the coordinates is already (east, north).
      SrsPtr source_traditional(Gdal().OSRClone(source_srs.get()));
      Gdal().OSRSetAxisMappingStrategy(source_traditional.get(), OAMS_TRADITIONAL_GIS_ORDER);
      gdal_transform.reset(
          Gdal().OCTNewCoordinateTransformation(source_traditional.get(), wgs84.get()));
      if (gdal_transform == nullptr) {
        return Fail(ErrorCode::kBadCrs,
                    fmt::format("cannot transform layer '{}' from its CRS ({}) to WGS84: {}",
                                out.layer_name_, out.report_.source_crs, LastGdalError()));
      }
    }
    for (std::size_t i = 0; i < raw.size(); ++i) {
      const bool ok = to_wgs84 ? TransformGeometry(lonlat[i], *to_wgs84)
                               : TransformGeometry(lonlat[i], gdal_transform.get());
      if (!ok) {
        return Fail(ErrorCode::kBadCrs,
                    fmt::format("{} of layer '{}' cannot be transformed from {} to WGS84; is "
                                "the CRS right?",
                                DescribeFeature(raw[i], code_column, i), out.layer_name_,
                                out.report_.source_crs));
      }
    }
  }
  for (std::size_t i = 0; i < raw.size(); ++i) {
    double bx = 0;
    double by = 0;
    if (!AllLonLatValid(lonlat[i], &bx, &by)) {
      return Fail(ErrorCode::kBadCrs,
                  fmt::format("{} of layer '{}' has a point ({}, {}) that is not a valid "
                              "longitude/latitude once read as {}; is the CRS right (metres "
                              "labelled as degrees?)",
                              DescribeFeature(raw[i], code_column, i), out.layer_name_, bx, by,
                              out.report_.source_crs));
    }
  }

  // --- Projected frame.
  int projected_epsg = options.projected_epsg;
  if (projected_epsg == 0) {
    std::vector<LonLat> centres;
    centres.reserve(lonlat.size());
    for (const MultiPolygon& g : lonlat) {
      const Envelope e = EnvelopeOf(g);
      centres.push_back(LonLat{(e.min_x + e.max_x) / 2, (e.min_y + e.max_y) / 2});
    }
    auto chosen = DefaultProjectedEpsg(centres);
    if (!chosen) return Unexpected(chosen.error());
    projected_epsg = *chosen;
  }
  out.projected_epsg_ = projected_epsg;
  std::vector<MultiPolygon> projected(raw.size());
  if (projected_epsg == source_epsg) {
    // Already in the target CRS: keep the file's own coordinates rather than a round trip.
    for (std::size_t i = 0; i < raw.size(); ++i) projected[i] = std::move(raw[i].geometry);
  } else {
    auto to_projected = Projection::Create(kWgs84, projected_epsg);
    if (!to_projected) return Unexpected(to_projected.error());
    for (std::size_t i = 0; i < raw.size(); ++i) {
      projected[i] = lonlat[i];
      if (!TransformGeometry(projected[i], *to_projected)) {
        return Fail(
            ErrorCode::kBadCrs,
            fmt::format("{} of layer '{}' cannot be projected to EPSG:{}; choose a "
                        "projected CRS that covers the whole layer",
                        DescribeFeature(raw[i], code_column, i), out.layer_name_, projected_epsg));
      }
    }
  }

  // --- Assemble.
  out.features_.reserve(raw.size());
  for (std::size_t i = 0; i < raw.size(); ++i) {
    BoundaryFeature f;
    f.values = std::move(raw[i].values);
    f.code = f.values[static_cast<std::size_t>(code_column)];
    f.name = name_column >= 0 ? f.values[static_cast<std::size_t>(name_column)] : f.code;
    f.lonlat = std::move(lonlat[i]);
    f.projected = std::move(projected[i]);
    f.lonlat_envelope = EnvelopeOf(f.lonlat);
    f.projected_envelope = EnvelopeOf(f.projected);
    out.lonlat_extent_.Expand(f.lonlat_envelope);
    out.projected_extent_.Expand(f.projected_envelope);
    if (!out.by_code_.emplace(f.code, static_cast<int>(out.features_.size())).second) {
      ++out.report_.duplicate_codes;
    }
    out.features_.push_back(std::move(f));
  }
  return out;
}

int Boundaries::FindByCode(std::string_view code) const {
  auto it = by_code_.find(std::string(code));
  return it == by_code_.end() ? -1 : it->second;
}

Result<std::string_view> Boundaries::Property(std::size_t i, std::string_view property) const {
  const int column = FindColumn(property_names_, property);
  if (column < 0 || i >= features_.size()) {
    return Fail(ErrorCode::kMissingColumn,
                i >= features_.size()
                    ? fmt::format("no feature {} (there are {})", i, features_.size())
                    : fmt::format("layer '{}' has no property '{}'; its properties: {}",
                                  layer_name_, property, JoinNames(property_names_)));
  }
  return std::string_view(features_[i].values[static_cast<std::size_t>(column)]);
}

// ---------------------------------------------------------------------------------------------
// BoundaryLocator
// ---------------------------------------------------------------------------------------------

struct BoundaryLocator::Impl {
  GEOSContextHandle_t ctx = nullptr;
  Frame frame = Frame::kLonLat;
  std::vector<GEOSGeometry*> geometries;
  std::vector<const GEOSPreparedGeometry*> prepared;
  GEOSSTRtree* tree = nullptr;
  std::vector<int> candidates;  // scratch for one query, reused to avoid allocations
  std::size_t errors = 0;
  std::string last_error;

  Impl() = default;
  Impl(const Impl&) = delete;
  Impl& operator=(const Impl&) = delete;
  ~Impl() {
    if (ctx == nullptr) return;
    if (tree != nullptr) GEOSSTRtree_destroy_r(ctx, tree);
    for (const GEOSPreparedGeometry* p : prepared) GEOSPreparedGeom_destroy_r(ctx, p);
    for (GEOSGeometry* g : geometries) GEOSGeom_destroy_r(ctx, g);
    GEOS_finish_r(ctx);
  }

  static void OnError(const char* message, void* userdata) {
    auto* self = static_cast<Impl*>(userdata);
    ++self->errors;
    self->last_error = message != nullptr ? message : "";
  }

  GEOSGeometry* MakeRing(const Ring& ring) {
    GEOSCoordSequence* seq = GEOSCoordSeq_copyFromBuffer_r(
        ctx, ring.xy.data(), static_cast<unsigned int>(ring.PointCount()), 0, 0);
    if (seq == nullptr) return nullptr;
    return GEOSGeom_createLinearRing_r(ctx, seq);  // takes ownership of seq, even on failure
  }

  GEOSGeometry* MakePolygon(const Polygon& polygon) {
    GEOSGeometry* shell = MakeRing(polygon.rings.front());
    if (shell == nullptr) return nullptr;
    std::vector<GEOSGeometry*> holes;
    for (std::size_t r = 1; r < polygon.rings.size(); ++r) {
      GEOSGeometry* hole = MakeRing(polygon.rings[r]);
      if (hole == nullptr) {
        GEOSGeom_destroy_r(ctx, shell);
        for (GEOSGeometry* h : holes) GEOSGeom_destroy_r(ctx, h);
        return nullptr;
      }
      holes.push_back(hole);
    }
    return GEOSGeom_createPolygon_r(ctx, shell, holes.data(),
                                    static_cast<unsigned int>(holes.size()));
  }

  GEOSGeometry* MakeGeometry(const MultiPolygon& mp) {
    if (mp.empty()) return GEOSGeom_createEmptyPolygon_r(ctx);
    if (mp.size() == 1) return MakePolygon(mp.front());
    std::vector<GEOSGeometry*> parts;
    for (const Polygon& p : mp) {
      GEOSGeometry* g = MakePolygon(p);
      if (g == nullptr) {
        for (GEOSGeometry* q : parts) GEOSGeom_destroy_r(ctx, q);
        return nullptr;
      }
      parts.push_back(g);
    }
    return GEOSGeom_createCollection_r(ctx, GEOS_MULTIPOLYGON, parts.data(),
                                       static_cast<unsigned int>(parts.size()));
  }

  static void Collect(void* item, void* userdata) {
    // Items are stored as index + 1 so that no item is a null pointer.
    static_cast<std::vector<int>*>(userdata)->push_back(
        static_cast<int>(reinterpret_cast<std::uintptr_t>(item) - 1));
  }

  // 1 inside (interior or boundary), 0 outside; GEOS exceptions count as outside.
  bool Hit(int feature, const GEOSGeometry* point) {
    const char r =
        GEOSPreparedIntersects_r(ctx, prepared[static_cast<std::size_t>(feature)], point);
    return r == 1;
  }

  int Find(double x, double y, std::span<const std::uint8_t> selected) {
    if (!std::isfinite(x) || !std::isfinite(y)) return kNoFeature;
    GEOSGeometry* point = GEOSGeom_createPointFromXY_r(ctx, x, y);
    if (point == nullptr) return kNoFeature;
    candidates.clear();
    GEOSSTRtree_query_r(ctx, tree, point, &Impl::Collect, &candidates);
    // Test in index order so the smallest containing index wins (see the header).
    if (candidates.size() > 1) std::sort(candidates.begin(), candidates.end());
    int found = kNoFeature;
    for (int c : candidates) {
      if (!selected.empty() && selected[static_cast<std::size_t>(c)] == 0) continue;
      if (Hit(c, point)) {
        found = c;
        break;
      }
    }
    GEOSGeom_destroy_r(ctx, point);
    return found;
  }
};

BoundaryLocator::BoundaryLocator(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
BoundaryLocator::~BoundaryLocator() = default;
BoundaryLocator::BoundaryLocator(BoundaryLocator&&) noexcept = default;
BoundaryLocator& BoundaryLocator::operator=(BoundaryLocator&&) noexcept = default;

Result<BoundaryLocator> BoundaryLocator::Create(const Boundaries& boundaries, Frame frame) {
  auto impl = std::make_unique<Impl>();
  impl->ctx = GEOS_init_r();
  if (impl->ctx == nullptr) return Fail(ErrorCode::kInternal, "cannot create a GEOS context");
  GEOSContext_setErrorMessageHandler_r(impl->ctx, &Impl::OnError, impl.get());
  impl->frame = frame;
  const std::size_t n = boundaries.size();
  impl->geometries.reserve(n);
  impl->prepared.reserve(n);
  // Node capacity 10 is GEOS's default; LSOA-sized sets give a tree of depth 3-4.
  impl->tree = GEOSSTRtree_create_r(impl->ctx, 10);
  if (impl->tree == nullptr) return Fail(ErrorCode::kInternal, "cannot create a GEOS STRtree");
  for (std::size_t i = 0; i < n; ++i) {
    GEOSGeometry* g = impl->MakeGeometry(boundaries[i].geometry(frame));
    if (g == nullptr) {
      return Fail(ErrorCode::kBadGeometry,
                  fmt::format("GEOS rejects the geometry of feature {} ('{}'): {}", i,
                              boundaries[i].code, impl->last_error));
    }
    impl->geometries.push_back(g);
    const GEOSPreparedGeometry* p = GEOSPrepare_r(impl->ctx, g);
    if (p == nullptr) {
      return Fail(ErrorCode::kBadGeometry, fmt::format("GEOS cannot prepare feature {} ('{}'): {}",
                                                       i, boundaries[i].code, impl->last_error));
    }
    impl->prepared.push_back(p);
    GEOSSTRtree_insert_r(impl->ctx, impl->tree, g, reinterpret_cast<void*>(std::uintptr_t{i + 1}));
  }
  impl->errors = 0;
  return BoundaryLocator(std::move(impl));
}

Frame BoundaryLocator::frame() const { return impl_->frame; }
std::size_t BoundaryLocator::feature_count() const { return impl_->geometries.size(); }
std::size_t BoundaryLocator::geos_errors() const { return impl_->errors; }

int BoundaryLocator::Find(double x, double y) { return impl_->Find(x, y, {}); }

int BoundaryLocator::FindAmong(double x, double y, std::span<const std::uint8_t> selected) {
  CRIMECAST_ASSERT(selected.size() == impl_->geometries.size(),
                   "selection mask must have one entry per feature");
  return impl_->Find(x, y, selected);
}

bool BoundaryLocator::Contains(int feature, double x, double y) {
  CRIMECAST_ASSERT(feature >= 0 && static_cast<std::size_t>(feature) < impl_->geometries.size(),
                   "feature index out of range");
  if (!std::isfinite(x) || !std::isfinite(y)) return false;
  GEOSGeometry* point = GEOSGeom_createPointFromXY_r(impl_->ctx, x, y);
  if (point == nullptr) return false;
  const bool hit = impl_->Hit(feature, point);
  GEOSGeom_destroy_r(impl_->ctx, point);
  return hit;
}

int BoundaryLocator::FindBruteForce(double x, double y) {
  if (!std::isfinite(x) || !std::isfinite(y)) return kNoFeature;
  GEOSGeometry* point = GEOSGeom_createPointFromXY_r(impl_->ctx, x, y);
  if (point == nullptr) return kNoFeature;
  int found = kNoFeature;
  for (std::size_t i = 0; i < impl_->geometries.size(); ++i) {
    if (GEOSIntersects_r(impl_->ctx, impl_->geometries[i], point) == 1) {
      found = static_cast<int>(i);
      break;
    }
  }
  GEOSGeom_destroy_r(impl_->ctx, point);
  return found;
}

// ---------------------------------------------------------------------------------------------
// Batch operations
// ---------------------------------------------------------------------------------------------

namespace {

// Below this many points a single locator on the calling thread beats spinning up one per
// worker (each costs a few milliseconds to build for the Welsh LSOAs, ~1 us a lookup).
constexpr std::size_t kParallelThreshold = 50'000;
constexpr std::size_t kGrain = 8'192;

Result<void> CheckSameLength(std::span<const double> xs, std::span<const double> ys) {
  if (xs.size() != ys.size()) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("{} x coordinates but {} y coordinates", xs.size(), ys.size()));
  }
  return {};
}

// out[i] = locator.FindAmong(xs[i], ys[i], selected) (Find when `selected` is empty), computed
// in parallel with one locator per worker thread.
Result<void> FindParallel(const Boundaries& boundaries, Frame frame, std::span<const double> xs,
                          std::span<const double> ys, std::span<const std::uint8_t> selected,
                          std::span<int> out) {
  auto first = BoundaryLocator::Create(boundaries, frame);
  if (!first) return Unexpected(first.error());
  auto run = [&](BoundaryLocator& locator, std::size_t begin, std::size_t end) {
    for (std::size_t i = begin; i < end; ++i) {
      out[i] =
          selected.empty() ? locator.Find(xs[i], ys[i]) : locator.FindAmong(xs[i], ys[i], selected);
    }
  };
  if (xs.size() < kParallelThreshold) {
    run(*first, 0, xs.size());
    return {};
  }
  // The locator built above (which also proved the geometry acceptable to GEOS) serves the
  // first worker that asks; the others build their own.
  std::atomic<bool> first_taken{false};
  std::atomic<bool> failed{false};
  tbb::enumerable_thread_specific<std::optional<BoundaryLocator>> locators;
  tbb::parallel_for(tbb::blocked_range<std::size_t>(0, xs.size(), kGrain),
                    [&](const tbb::blocked_range<std::size_t>& range) {
                      std::optional<BoundaryLocator>& mine = locators.local();
                      if (!mine) {
                        if (!first_taken.exchange(true)) {
                          mine.emplace(std::move(*first));
                        } else {
                          auto made = BoundaryLocator::Create(boundaries, frame);
                          if (!made) {
                            failed = true;
                            return;
                          }
                          mine.emplace(std::move(*made));
                        }
                      }
                      run(*mine, range.begin(), range.end());
                    });
  if (failed) return Fail(ErrorCode::kInternal, "could not build a boundary locator per thread");
  return {};
}

Result<std::vector<std::uint8_t>> SelectionMask(const Boundaries& boundaries,
                                                std::span<const int> features) {
  std::vector<std::uint8_t> mask;
  if (features.empty()) return mask;  // empty = every feature; Find needs no mask
  mask.assign(boundaries.size(), 0);
  for (int f : features) {
    if (f < 0 || static_cast<std::size_t>(f) >= boundaries.size()) {
      return Fail(ErrorCode::kOutOfRange,
                  fmt::format("feature index {} does not exist (there are {} features)", f,
                              boundaries.size()));
    }
    mask[static_cast<std::size_t>(f)] = 1;
  }
  return mask;
}

}  // namespace

Result<std::vector<int>> LocatePoints(const Boundaries& boundaries, Frame frame,
                                      std::span<const double> xs, std::span<const double> ys) {
  if (auto ok = CheckSameLength(xs, ys); !ok) return Unexpected(ok.error());
  std::vector<int> out(xs.size(), kNoFeature);
  if (auto ok = FindParallel(boundaries, frame, xs, ys, {}, out); !ok) {
    return Unexpected(ok.error());
  }
  return out;
}

Result<FeatureCounts> CountPointsPerFeature(const Boundaries& boundaries, Frame frame,
                                            std::span<const double> xs,
                                            std::span<const double> ys) {
  auto located = LocatePoints(boundaries, frame, xs, ys);
  if (!located) return Unexpected(located.error());
  FeatureCounts counts;
  counts.counts.assign(boundaries.size(), 0);
  for (std::size_t i = 0; i < located->size(); ++i) {
    const int f = (*located)[i];
    if (f >= 0) {
      ++counts.counts[static_cast<std::size_t>(f)];
    } else if (!std::isfinite(xs[i]) || !std::isfinite(ys[i])) {
      ++counts.invalid;
    } else {
      ++counts.outside;
    }
  }
  return counts;
}

Result<std::vector<std::size_t>> ClipPoints(const Boundaries& boundaries, Frame frame,
                                            std::span<const int> features,
                                            std::span<const double> xs,
                                            std::span<const double> ys) {
  if (auto ok = CheckSameLength(xs, ys); !ok) return Unexpected(ok.error());
  auto mask = SelectionMask(boundaries, features);
  if (!mask) return Unexpected(mask.error());
  std::vector<int> found(xs.size(), kNoFeature);
  if (auto ok = FindParallel(boundaries, frame, xs, ys, *mask, found); !ok) {
    return Unexpected(ok.error());
  }
  std::vector<std::size_t> inside;
  for (std::size_t i = 0; i < found.size(); ++i) {
    if (found[i] != kNoFeature) inside.push_back(i);
  }
  return inside;
}

Result<std::vector<std::uint8_t>> CellsInside(const Boundaries& boundaries, const Grid& grid,
                                              std::span<const int> features) {
  auto mask = SelectionMask(boundaries, features);
  if (!mask) return Unexpected(mask.error());
  const auto n = static_cast<std::size_t>(grid.cell_count());
  std::vector<double> xs(n);
  std::vector<double> ys(n);
  for (std::size_t i = 0; i < n; ++i) {
    const CellIndex c = grid.IndexOfLocal(static_cast<std::int64_t>(i));
    xs[i] = grid.CentreX(c);
    ys[i] = grid.CentreY(c);
  }
  Frame frame = Frame::kProjected;
  if (grid.epsg() != boundaries.projected_epsg()) {
    // Different CRSs: meet in WGS84, which the boundaries always carry.
    auto to_wgs84 = Projection::Create(grid.epsg(), kWgs84);
    if (!to_wgs84) return Unexpected(to_wgs84.error());
    to_wgs84->Forward(xs, ys);  // failures become NaN, which are inside nothing
    frame = Frame::kLonLat;
  }
  std::vector<int> found(n, kNoFeature);
  if (auto ok = FindParallel(boundaries, frame, xs, ys, *mask, found); !ok) {
    return Unexpected(ok.error());
  }
  std::vector<std::uint8_t> inside(n, 0);
  for (std::size_t i = 0; i < n; ++i) inside[i] = found[i] != kNoFeature ? 1 : 0;
  return inside;
}

}  // namespace crimecast::spatial
