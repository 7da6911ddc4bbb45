#include "core/spatial/projection.hpp"

#include <fmt/format.h>
#include <proj.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <limits>
#include <map>
#include <mutex>
#include <vector>

namespace crimecast::spatial {

struct Projection::Impl {
  PJ_CONTEXT* ctx = nullptr;
  PJ* pj = nullptr;
  ~Impl() {
    if (pj) proj_destroy(pj);
    if (ctx) proj_context_destroy(ctx);
  }
};

bool IsValidLonLat(double lon, double lat) {
  return std::isfinite(lon) && std::isfinite(lat) && lon >= -180 && lon <= 180 && lat >= -90 &&
         lat <= 90;
}

int UtmEpsgFor(double lon, double lat) {
  int zone = static_cast<int>(std::floor((lon + 180.0) / 6.0)) + 1;
  zone = std::clamp(zone, 1, 60);
  // The UTM grid's two historical exceptions (as in MGRS and every GIS): zone 32V is widened
  // westwards so that south-west Norway is in one zone, and Svalbard uses four double-width
  // zones. National data sets there are published in these zones, so follow them.
  if (lat >= 56.0 && lat < 64.0 && lon >= 3.0 && lon < 12.0) zone = 32;
  if (lat >= 72.0 && lat <= 84.0 && lon >= 0.0 && lon < 42.0) {
    if (lon < 9.0) {
      zone = 31;
    } else if (lon < 21.0) {
      zone = 33;
    } else if (lon < 33.0) {
      zone = 35;
    } else {
      zone = 37;
    }
  }
  return (lat >= 0 ? 32600 : 32700) + zone;
}

int DefaultProjectedEpsg(double lon, double lat) {
  if (lon >= -9.0 && lon <= 3.0 && lat >= 49.0 && lat <= 61.0) return kBritishNationalGrid;
  return UtmEpsgFor(lon, lat);
}

Result<int> DefaultProjectedEpsg(std::span<const LonLat> points) {
  std::vector<double> lons;
  std::vector<double> lats;
  lons.reserve(points.size());
  lats.reserve(points.size());
  for (const LonLat& p : points) {
    if (!IsValidLonLat(p.lon, p.lat)) continue;
    lons.push_back(p.lon);
    lats.push_back(p.lat);
  }
  if (lons.empty()) {
    return Fail(ErrorCode::kNoData,
                fmt::format("cannot choose a projected CRS: none of the {} points has a valid "
                            "longitude/latitude",
                            points.size()));
  }
  // Lower median (no averaging): enough to pick a zone, and exact for a single point.
  const auto mid = static_cast<std::ptrdiff_t>((lons.size() - 1) / 2);
  std::nth_element(lons.begin(), lons.begin() + mid, lons.end());
  std::nth_element(lats.begin(), lats.begin() + mid, lats.end());
  return DefaultProjectedEpsg(lons[static_cast<std::size_t>(mid)],
                              lats[static_cast<std::size_t>(mid)]);
}

Result<int> ParseEpsg(std::string_view text) {
  std::string_view digits = text;
  if (digits.size() > 5 && (digits.substr(0, 5) == "EPSG:" || digits.substr(0, 5) == "epsg:")) {
    digits.remove_prefix(5);
  }
  int code = 0;
  auto [p, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), code);
  if (ec != std::errc() || p != digits.data() + digits.size() || code <= 0) {
    return Fail(ErrorCode::kBadCrs, fmt::format("'{}' is not a CRS (expected EPSG:N)", text));
  }
  return code;
}

Projection::Projection(int from, int to, std::unique_ptr<Impl> impl)
    : from_(from), to_(to), impl_(std::move(impl)) {}
Projection::~Projection() = default;
Projection::Projection(Projection&&) noexcept = default;
Projection& Projection::operator=(Projection&&) noexcept = default;

Result<Projection> Projection::Create(int from_epsg, int to_epsg) {
  auto impl = std::make_unique<Impl>();
  impl->ctx = proj_context_create();
  // Never reach for network grids: the build machines and deployments may be offline.
  proj_context_set_enable_network(impl->ctx, 0);
  proj_log_level(impl->ctx, PJ_LOG_NONE);
  const std::string from = fmt::format("EPSG:{}", from_epsg);
  const std::string to = fmt::format("EPSG:{}", to_epsg);
  // The candidate operations are limited to the projected side's area of use (for WGS84 to the
  // British National Grid, Great Britain). Why: without an area PROJ weighs every operation
  // between the two datums worldwide, 38 ms of the 45 ms it took to set up WGS84 -> EPSG:27700,
  // on the critical path of every import (decision 0007, fifth round); with it, 27 ms. Inside
  // that area PROJ picks the same operation either way.
  PJ* raw = nullptr;
  PJ* src = proj_create(impl->ctx, from.c_str());
  PJ* dst = proj_create(impl->ctx, to.c_str());
  if (src != nullptr && dst != nullptr) {
    PJ* area_crs = proj_get_type(dst) == PJ_TYPE_GEOGRAPHIC_2D_CRS ? src : dst;
    double west = 0, south = 0, east = 0, north = 0;
    PJ_AREA* area = nullptr;
    if (proj_get_area_of_use(impl->ctx, area_crs, &west, &south, &east, &north, nullptr) &&
        west > -1000) {
      area = proj_area_create();
      proj_area_set_bbox(area, west, south, east, north);
    }
    raw = proj_create_crs_to_crs_from_pj(impl->ctx, src, dst, area, nullptr);
    if (area != nullptr) proj_area_destroy(area);
  }
  if (src != nullptr) proj_destroy(src);
  if (dst != nullptr) proj_destroy(dst);
  if (raw == nullptr) {
    return Fail(ErrorCode::kBadCrs,
                fmt::format("PROJ cannot transform {} to {} (unknown EPSG code?)", from, to));
  }
  // Our API is lon/lat (x/y) order whatever the CRS's official axis order is.
  impl->pj = proj_normalize_for_visualization(impl->ctx, raw);
  proj_destroy(raw);
  if (impl->pj == nullptr) {
    return Fail(ErrorCode::kBadCrs, fmt::format("PROJ cannot normalise {} -> {}", from, to));
  }
  return Projection(from_epsg, to_epsg, std::move(impl));
}

namespace {
std::size_t TransformAll(PJ* pj, PJ_DIRECTION dir, std::span<double> xs, std::span<double> ys) {
  const std::size_t n = std::min(xs.size(), ys.size());
  if (n == 0) return 0;
  proj_trans_generic(pj, dir, xs.data(), sizeof(double), n, ys.data(), sizeof(double), n, nullptr,
                     0, 0, nullptr, 0, 0);
  std::size_t ok = 0;
  for (std::size_t i = 0; i < n; ++i) {
    // PROJ marks failures with HUGE_VAL.
    if (!std::isfinite(xs[i]) || !std::isfinite(ys[i]) || std::abs(xs[i]) > 1e20 ||
        std::abs(ys[i]) > 1e20) {
      xs[i] = ys[i] = std::numeric_limits<double>::quiet_NaN();
    } else {
      ++ok;
    }
  }
  return ok;
}
}  // namespace

std::size_t Projection::Forward(std::span<double> xs, std::span<double> ys) const {
  return TransformAll(impl_->pj, PJ_FWD, xs, ys);
}
std::size_t Projection::Inverse(std::span<double> xs, std::span<double> ys) const {
  return TransformAll(impl_->pj, PJ_INV, xs, ys);
}

Result<ProjectedPoint> Projection::Forward(double x, double y) const {
  double xs[1] = {x};
  double ys[1] = {y};
  if (TransformAll(impl_->pj, PJ_FWD, xs, ys) != 1) {
    return Fail(ErrorCode::kProjection,
                fmt::format("cannot transform ({}, {}) from EPSG:{} to EPSG:{}", x, y, from_, to_));
  }
  return ProjectedPoint{xs[0], ys[0]};
}
Result<ProjectedPoint> Projection::Inverse(double x, double y) const {
  double xs[1] = {x};
  double ys[1] = {y};
  if (TransformAll(impl_->pj, PJ_INV, xs, ys) != 1) {
    return Fail(ErrorCode::kProjection,
                fmt::format("cannot transform ({}, {}) from EPSG:{} to EPSG:{}", x, y, to_, from_));
  }
  return ProjectedPoint{xs[0], ys[0]};
}

namespace {
std::mutex& PoolMutex() {
  static std::mutex mu;
  return mu;
}
std::map<std::pair<int, int>, std::vector<std::unique_ptr<Projection>>>& Pool() {
  static auto* pool = new std::map<std::pair<int, int>, std::vector<std::unique_ptr<Projection>>>();
  return *pool;  // never destroyed: leases held by thread_local caches may outlive statics
}
}  // namespace

ProjectionLease::ProjectionLease(ProjectionLease&&) noexcept = default;
ProjectionLease& ProjectionLease::operator=(ProjectionLease&& o) noexcept {
  std::swap(p_, o.p_);
  return *this;
}
ProjectionLease::~ProjectionLease() {
  if (!p_) return;
  std::lock_guard lock(PoolMutex());
  Pool()[{p_->from_epsg(), p_->to_epsg()}].push_back(std::move(p_));
}

Result<ProjectionLease> LeaseProjection(int from_epsg, int to_epsg) {
  {
    std::lock_guard lock(PoolMutex());
    auto& idle = Pool()[{from_epsg, to_epsg}];
    if (!idle.empty()) {
      auto p = std::move(idle.back());
      idle.pop_back();
      return ProjectionLease(std::move(p));
    }
  }
  auto p = Projection::Create(from_epsg, to_epsg);
  if (!p) return Unexpected(p.error());
  return ProjectionLease(std::make_unique<Projection>(std::move(*p)));
}

}  // namespace crimecast::spatial
