// core/spatial/boundaries.hpp
//
// Polygon boundaries (LSOAs, police force areas, beats, wards) and fast point-in-polygon.
//
// Loading: Boundaries::Load reads ONE polygon layer with GDAL from any vector format GDAL reads
// (GeoJSON, GeoPackage, Shapefile, ...) in any CRS GDAL/PROJ understands. Every feature is kept
// in two frames:
//   * kLonLat: WGS84 (EPSG:4326) longitude/latitude in degrees, lon first;
//   * kProjected: metres in one projected CRS, `projected_epsg()`: the one asked for, or
//     DefaultProjectedEpsg (projection.hpp) of the features' centres (BNG in Great Britain, else
//     the UTM zone). Events are projected with the same Projection class, so a point and a
//     boundary near it agree to the millimetre whichever frame is used.
// Each feature carries a `code` and a `name` taken from two attribute columns (given, or found
// automatically: LSOA21CD/LSOA21NM, LSOA11CD/LSOA11NM, pfa20_code/pfa20_name, any *CD/*NM or
// *_code/*_name pair, then "code"/"name"), and every attribute as a string.
// Geometries: Polygon and MultiPolygon features (curved ones are linearised); invalid ones (self-
// intersections, bow-ties) are repaired with GDAL's MakeValid and counted in the report; features
// without a polygonal geometry (points, lines, empty) are skipped and counted. Rings are stored
// closed (first point == last), exterior ring first.
//
// Lookup: a BoundaryLocator answers "which feature contains this point?" with GEOS (C API,
// reentrant _r functions): an STRtree over the feature envelopes finds the few candidates, and a
// prepared geometry per feature (an indexed point-in-area locator) tests each in O(log vertices).
// Semantics: a point is inside a feature when it lies in its interior OR on its boundary
// (GEOS "intersects"). A point on an edge shared by two features, or in an overlap of badly
// drawn features, goes to the feature with the SMALLER index, so answers are deterministic.
// Holes are not part of a feature. Non-finite coordinates are never inside anything.
// Cost: about 1.2-1.5 us of CPU a lookup for the 2,696 Welsh LSOAs (670-830 k points/s on one
// core, bench/spatial_bench.cpp), 20-27x faster than the brute-force scan (FindBruteForce,
// ~31 us), whose GEOS calls still reject most features on their envelope.
//
// Threads: Boundaries is immutable once loaded; share it freely between threads (const methods
// only). A BoundaryLocator is NOT thread-safe, because GEOS prepared geometries build their
// indexes lazily on first use: create one locator PER THREAD (it owns its own GEOS context and
// a copy of the geometries; building one for the Welsh LSOAs takes a few milliseconds). The
// batch functions at the end (LocatePoints, CountPointsPerFeature, ClipPoints, CellsInside) do
// this for you and run on all cores through TBB, with one locator per worker thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <filesystem>
#include <limits>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/common/error.hpp"
#include "core/spatial/grid.hpp"

namespace crimecast::spatial {

// The two coordinate frames a Boundaries holds. In kLonLat, x = longitude and y = latitude
// (degrees); in kProjected, x = easting and y = northing (metres, Boundaries::projected_epsg()).
enum class Frame { kLonLat, kProjected };

// An axis-aligned rectangle; empty (min > max) until a point is added.
struct Envelope {
  double min_x = std::numeric_limits<double>::infinity();
  double min_y = std::numeric_limits<double>::infinity();
  double max_x = -std::numeric_limits<double>::infinity();
  double max_y = -std::numeric_limits<double>::infinity();

  bool IsEmpty() const { return !(min_x <= max_x && min_y <= max_y); }
  void Expand(double x, double y) {
    min_x = x < min_x ? x : min_x;
    min_y = y < min_y ? y : min_y;
    max_x = x > max_x ? x : max_x;
    max_y = y > max_y ? y : max_y;
  }
  void Expand(const Envelope& e) {
    if (e.IsEmpty()) return;
    Expand(e.min_x, e.min_y);
    Expand(e.max_x, e.max_y);
  }
  bool Contains(double x, double y) const {
    return x >= min_x && x <= max_x && y >= min_y && y <= max_y;
  }
};

// A closed ring as interleaved coordinates x0, y0, x1, y1, ...; at least 4 points and the first
// point equals the last.
struct Ring {
  std::vector<double> xy;
  std::size_t PointCount() const { return xy.size() / 2; }
};
// rings[0] is the exterior ring; any others are holes.
struct Polygon {
  std::vector<Ring> rings;
};
using MultiPolygon = std::vector<Polygon>;

// The envelope of every ring of a multipolygon.
Envelope EnvelopeOf(const MultiPolygon& geometry);

struct BoundaryFeature {
  std::string code;
  std::string name;
  // One value per Boundaries::property_names(), as text ("" for a null attribute).
  std::vector<std::string> values;
  MultiPolygon lonlat;     // Frame::kLonLat
  MultiPolygon projected;  // Frame::kProjected
  Envelope lonlat_envelope;
  Envelope projected_envelope;

  const MultiPolygon& geometry(Frame frame) const {
    return frame == Frame::kLonLat ? lonlat : projected;
  }
  const Envelope& envelope(Frame frame) const {
    return frame == Frame::kLonLat ? lonlat_envelope : projected_envelope;
  }
};

struct BoundaryLoadOptions {
  // The layer to read. Empty: the only layer, or else the first layer declaring a polygon type.
  std::string layer;
  // Attribute giving each feature's code / name. Empty: detected automatically (see top). The
  // name falls back to the code when no name column is found.
  std::string code_property;
  std::string name_property;
  // Projected CRS for Frame::kProjected. 0: chosen from the data (DefaultProjectedEpsg).
  int projected_epsg = 0;
  // The CRS of the file's coordinates, overriding the file's own (or supplying one for a
  // Shapefile without .prj). 0: use the file's CRS; a file without one is an error.
  int source_epsg = 0;
};

struct BoundaryLoadReport {
  std::size_t features_read = 0;        // every feature of the layer
  std::size_t skipped_empty = 0;        // no geometry, or nothing left after cleaning
  std::size_t skipped_not_polygon = 0;  // point / line geometries
  std::size_t repaired_invalid = 0;     // made valid with MakeValid
  std::size_t duplicate_codes = 0;      // features whose code an earlier feature already had
  std::string source_crs;               // "EPSG:27700", or the CRS name when it has no EPSG code
};

class Boundaries {
 public:
  // Reads a polygon layer. Errors: kFileNotFound (no such path), kFileUnreadable (GDAL cannot
  // open it as a vector data set), kNotFound (no layer of that name; the message lists them),
  // kMissingColumn (a named property is absent; the message lists the columns; also when no
  // code column can be detected), kBadCrs (no CRS, an unknown one, or coordinates outside the
  // CRS's range, e.g. metres labelled as degrees), kBadGeometry (the layer has no polygon).
  static Result<Boundaries> Load(const std::filesystem::path& path,
                                 const BoundaryLoadOptions& options = {});

  std::size_t size() const { return features_.size(); }
  bool empty() const { return features_.empty(); }
  const BoundaryFeature& operator[](std::size_t i) const { return features_[i]; }
  const std::vector<BoundaryFeature>& features() const { return features_; }

  const std::string& layer_name() const { return layer_name_; }
  const std::vector<std::string>& property_names() const { return property_names_; }
  const std::string& code_property() const { return code_property_; }
  const std::string& name_property() const { return name_property_; }
  int projected_epsg() const { return projected_epsg_; }
  const BoundaryLoadReport& report() const { return report_; }
  const Envelope& extent(Frame frame) const {
    return frame == Frame::kLonLat ? lonlat_extent_ : projected_extent_;
  }

  // Index of the first feature whose code is `code`, or -1. O(1).
  int FindByCode(std::string_view code) const;
  // The value of attribute `property` of feature i; kMissingColumn for an unknown attribute.
  Result<std::string_view> Property(std::size_t i, std::string_view property) const;

 private:
  std::vector<BoundaryFeature> features_;
  std::string layer_name_;
  std::vector<std::string> property_names_;
  std::string code_property_;
  std::string name_property_;
  int projected_epsg_ = 0;
  BoundaryLoadReport report_;
  Envelope lonlat_extent_;
  Envelope projected_extent_;
  std::unordered_map<std::string, int> by_code_;
};

inline constexpr int kNoFeature = -1;

// Point-in-polygon lookups on one frame of a Boundaries. Not thread-safe: one per thread (see
// the top of this file). It copies the geometry, so it does not keep the Boundaries alive;
// feature indices are those of the Boundaries it was built from.
class BoundaryLocator {
 public:
  // Builds the GEOS geometries, prepared geometries and STRtree. Fails with kBadGeometry if GEOS
  // rejects a ring (cannot happen for a Boundaries from Load, which validates them).
  static Result<BoundaryLocator> Create(const Boundaries& boundaries, Frame frame);
  ~BoundaryLocator();
  BoundaryLocator(BoundaryLocator&&) noexcept;
  BoundaryLocator& operator=(BoundaryLocator&&) noexcept;
  BoundaryLocator(const BoundaryLocator&) = delete;
  BoundaryLocator& operator=(const BoundaryLocator&) = delete;

  Frame frame() const;
  std::size_t feature_count() const;

  // The smallest index of a feature containing (x, y) (x = lon or easting), or kNoFeature.
  int Find(double x, double y);
  // As Find, but only features with selected[i] != 0 count (selected.size() == feature_count()).
  int FindAmong(double x, double y, std::span<const std::uint8_t> selected);
  // True when feature i contains (x, y).
  bool Contains(int feature, double x, double y);
  // The reference answer: tests every feature in index order with plain (unprepared, unindexed)
  // GEOS predicates. O(features x vertices) a point; for tests and as the benchmark baseline.
  int FindBruteForce(double x, double y);

  // GEOS reported an exception (treated as "not inside") this many times; 0 on valid input.
  std::size_t geos_errors() const;

 private:
  struct Impl;
  explicit BoundaryLocator(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// ---- Batch operations: parallel (TBB), one BoundaryLocator per worker thread. ----
// xs and ys are coordinates in `frame` and must have the same length (kInvalidArgument if not).

// out[i] = the feature containing point i (BoundaryLocator::Find), or kNoFeature.
Result<std::vector<int>> LocatePoints(const Boundaries& boundaries, Frame frame,
                                      std::span<const double> xs, std::span<const double> ys);

struct FeatureCounts {
  std::vector<std::int64_t> counts;  // one per feature
  std::int64_t outside = 0;          // finite points inside no feature
  std::int64_t invalid = 0;          // points with a NaN / infinite coordinate
};
// How many points fall in each feature (e.g. events per LSOA).
Result<FeatureCounts> CountPointsPerFeature(const Boundaries& boundaries, Frame frame,
                                            std::span<const double> xs, std::span<const double> ys);

// Indices (ascending) of the points inside the area formed by the union of `features` (e.g. the
// one police force area, or the LSOAs of five local authorities). An empty `features` means the
// union of all features. kOutOfRange for a feature index that does not exist.
Result<std::vector<std::size_t>> ClipPoints(const Boundaries& boundaries, Frame frame,
                                            std::span<const int> features,
                                            std::span<const double> xs, std::span<const double> ys);

// A mask over the grid's window in local order: 1 where the cell's CENTRE lies inside the union
// of `features` (empty = all), else 0. The grid may be in any CRS: when it is not the
// boundaries' projected CRS, the centres are transformed to lon/lat first. Typical use: mask the
// sea and the neighbouring forces out of a force's grid.
Result<std::vector<std::uint8_t>> CellsInside(const Boundaries& boundaries, const Grid& grid,
                                              std::span<const int> features = {});

}  // namespace crimecast::spatial
