// core/spatial/projection.hpp
//
// Coordinate transformations, always through PROJ (never hand-written formulas).
//
// Conventions:
// * Geographic coordinates are WGS84 (EPSG:4326) in degrees, ALWAYS in lon, lat order in our
//   API (PROJ is told to use the traditional GIS axis order, whatever the CRS definition says).
// * Projected coordinates are metres, x = easting, y = northing, in the CRS named by its EPSG
//   code: EPSG:27700 (British National Grid) for UK data, otherwise a UTM zone (EPSG:326zz north,
//   327zz south), chosen automatically from the data when the user gives none.
//
// A Projection is cheap to move, not thread-safe (PROJ contexts are per thread): create one per
// thread. Creating one is NOT cheap: PROJ searches its database for the best operation, about
// 1 ms for WGS84 <-> UTM but about 40 ms for WGS84 <-> BNG (measured, PROJ 9.1), so create it
// once per thread and reuse it. Transforming WGS84 -> BNG costs about 0.55 us of CPU a point,
// the same through the batch and the single-point calls (bench/spatial_bench.cpp): PROJ's
// arithmetic, not the call, is the cost.
// Without the OSTN15 grid file (not in Debian's proj-data), WGS84 <-> BNG uses the 7-parameter
// Helmert transformation: about 2 m absolute accuracy, and a forward+inverse round trip agrees to
// ~2 mm (PROJ inverts the Helmert step to first order only).
#pragma once

#include <memory>
#include <span>
#include <string>
#include <string_view>

#include "core/common/error.hpp"

namespace crimecast::spatial {

inline constexpr int kWgs84 = 4326;
inline constexpr int kBritishNationalGrid = 27700;

struct LonLat {
  double lon = 0;
  double lat = 0;
};
struct ProjectedPoint {
  double x = 0;  // metres east
  double y = 0;  // metres north
};

// True when lon/lat are finite and in [-180,180] x [-90,90].
bool IsValidLonLat(double lon, double lat);

// The UTM zone CRS (WGS84 datum) containing the point: 326zz north of the equator (lat >= 0),
// 327zz south. Zones are the standard 6-degree bands (zone 1 starts at 180 W; lon = 180 is in
// zone 60), with the two conventional exceptions of the UTM grid: south-west Norway
// (lat 56..64, lon 3..12) is zone 32, and Svalbard (lat 72..84) uses zones 31/33/35/37 only.
int UtmEpsgFor(double lon, double lat);
// EPSG:27700 when the point lies in Great Britain and its waters (lon -9..3, lat 49..61),
// otherwise the point's UTM zone.
int DefaultProjectedEpsg(double lon, double lat);
// The projected CRS for a whole data set: DefaultProjectedEpsg of the median longitude and median
// latitude of the valid points (invalid ones, see IsValidLonLat, are ignored). The median keeps a
// few far-away outliers (a mis-geocoded row in another country) from choosing the zone.
// Fails with kNoData when no point is valid. O(n) time, O(n) extra memory.
Result<int> DefaultProjectedEpsg(std::span<const LonLat> points);

// Parses "EPSG:27700", "epsg:27700" or "27700".
Result<int> ParseEpsg(std::string_view text);

class Projection {
 public:
  // A transformation between two EPSG CRSs. Fails with kBadCrs for unknown codes.
  static Result<Projection> Create(int from_epsg, int to_epsg);
  ~Projection();
  Projection(Projection&&) noexcept;
  Projection& operator=(Projection&&) noexcept;
  Projection(const Projection&) = delete;
  Projection& operator=(const Projection&) = delete;

  int from_epsg() const { return from_; }
  int to_epsg() const { return to_; }

  // Transforms in place. Points that cannot be transformed become NaN; returns how many did.
  std::size_t Forward(std::span<double> xs, std::span<double> ys) const;
  std::size_t Inverse(std::span<double> xs, std::span<double> ys) const;
  // Single point; fails with kProjection when PROJ cannot transform it.
  Result<ProjectedPoint> Forward(double x, double y) const;
  Result<ProjectedPoint> Inverse(double x, double y) const;

 private:
  struct Impl;
  Projection(int from, int to, std::unique_ptr<Impl> impl);
  int from_ = 0;
  int to_ = 0;
  std::unique_ptr<Impl> impl_;
};

// A Projection borrowed from a process-wide pool and returned to it on destruction.
// Creating a Projection costs ~150 million instructions (PROJ searches its database for the
// best operation), so short-lived threads (one per imported file) must not create their own.
// A lease is used by one thread at a time; different leases may be used concurrently.
class ProjectionLease {
 public:
  ProjectionLease(ProjectionLease&&) noexcept;
  ProjectionLease& operator=(ProjectionLease&&) noexcept;
  ProjectionLease(const ProjectionLease&) = delete;
  ProjectionLease& operator=(const ProjectionLease&) = delete;
  ~ProjectionLease();
  const Projection& operator*() const { return *p_; }
  const Projection* operator->() const { return p_.get(); }
  const Projection* get() const { return p_.get(); }

 private:
  friend Result<ProjectionLease> LeaseProjection(int from_epsg, int to_epsg);
  explicit ProjectionLease(std::unique_ptr<Projection> p) : p_(std::move(p)) {}
  std::unique_ptr<Projection> p_;
};

// An idle pooled Projection for (from, to), or a new one.
Result<ProjectionLease> LeaseProjection(int from_epsg, int to_epsg);

}  // namespace crimecast::spatial
