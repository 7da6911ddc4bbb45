#include "core/ingest/record_validation.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <memory>

#include "core/ingest/text.hpp"
#include "core/ingest/time_pattern.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::ingest {
namespace {

constexpr std::size_t kMaxIdBytes = 200;
constexpr std::size_t kMaxTextBytes = 1000;

// Projections are not thread-safe and cost ~1 ms to create: keep one per (from, to) per thread.
Result<const spatial::Projection*> ThreadProjection(int from, int to) {
  thread_local std::map<std::pair<int, int>, std::unique_ptr<spatial::Projection>> cache;
  auto& slot = cache[{from, to}];
  if (!slot) {
    auto p = spatial::Projection::Create(from, to);
    if (!p) {
      cache.erase({from, to});
      return Unexpected(p.error());
    }
    slot = std::make_unique<spatial::Projection>(std::move(*p));
  }
  return slot.get();
}

ValidatedRecord Bad(std::string field, ErrorCode code, std::string reason) {
  ValidatedRecord r;
  r.error = FieldError{std::move(field), code, std::move(reason)};
  return r;
}
ValidatedRecord Good(Event e) {
  ValidatedRecord r;
  r.event = std::move(e);
  return r;
}

}  // namespace

std::string StorableTextProblem(std::string_view s) {
  // The importers' own check (ingest/text.hpp), so API and file input accept the same text.
  const TextCheck check = CheckText(s);
  if (check.problem == TextProblem::kNone) return {};
  return DescribeTextProblem(check, s);
}

Result<TimeInterval> ParseOccurrence(std::string_view text, const TimeZone* tz) {
  // The importers' parser (ingest/time_pattern.hpp): identical intervals for API and files.
  return ParseIsoInterval(text, tz ? *tz : *TimeZone::Utc());
}

ValidatedRecord ValidateRecord(const RecordFields& f, const RecordContext& ctx) {
  const std::string_view id = Trim(f.id);
  if (id.empty()) return Bad("id", ErrorCode::kBadField, "id is required");
  if (id.size() > kMaxIdBytes) {
    return Bad("id", ErrorCode::kBadField, fmt::format("id longer than {} bytes", kMaxIdBytes));
  }
  if (auto p = StorableTextProblem(id); !p.empty()) return Bad("id", ErrorCode::kBadEncoding, p);

  const std::string_view cat_text = Trim(f.category);
  const auto category = ParseCategory(cat_text);
  if (!category) {
    return Bad("category", ErrorCode::kUnknownCategory,
               fmt::format("unknown category '{}' (expected one of the 14 canonical categories, "
                           "e.g. 'burglary' or 'Violence and sexual offences')",
                           cat_text.substr(0, 60)));
  }
  if (Trim(f.time).empty()) return Bad("time", ErrorCode::kBadTime, "time is required");
  auto when = ParseOccurrence(f.time, ctx.tz);
  if (!when) return Bad("time", ErrorCode::kBadTime, when.error().message);

  struct NamedText {
    const char* name;
    std::string_view value;
  };
  for (const NamedText& t : {NamedText{"source_type", f.source_type},
                             {"location", f.location},
                             {"area_code", f.area_code},
                             {"outcome", f.outcome},
                             {"force", f.force},
                             {"quality", f.quality}}) {
    if (t.value.size() > kMaxTextBytes) {
      return Bad(t.name, ErrorCode::kBadField,
                 fmt::format("{} longer than {} bytes", t.name, kMaxTextBytes));
    }
    if (auto p = StorableTextProblem(t.value); !p.empty())
      return Bad(t.name, ErrorCode::kBadEncoding, p);
  }

  LocationQuality quality = LocationQuality::kExact;
  bool withheld_by_quality = false;
  const std::string_view q = Trim(f.quality);
  if (!q.empty()) {
    if (IEquals(q, "exact")) {
      quality = LocationQuality::kExact;
    } else if (IEquals(q, "snapped")) {
      quality = LocationQuality::kSnapped;
    } else if (IEquals(q, "withheld")) {
      withheld_by_quality = true;
    } else {
      return Bad("quality", ErrorCode::kBadField,
                 fmt::format("quality '{}' must be exact, snapped or withheld", q.substr(0, 60)));
    }
  }

  const bool has_ll = f.lon || f.lat;
  const bool has_xy = f.x || f.y;
  if (has_ll && has_xy) {
    return Bad("lon", ErrorCode::kBadCoordinate, "give lon/lat or x/y, not both");
  }
  const bool located = has_ll || has_xy;
  if (withheld_by_quality && located) {
    return Bad("quality", ErrorCode::kBadField, "quality is 'withheld' but coordinates are given");
  }
  Event e;
  e.source = ctx.source;
  e.source_id.assign(id);
  e.category = *category;
  e.source_type.assign(Trim(f.source_type).empty() ? cat_text : Trim(f.source_type));
  e.when = *when;
  e.location_text.assign(f.location);
  e.area_code.assign(Trim(f.area_code));
  e.force.assign(Trim(f.force));
  e.outcome.assign(Trim(f.outcome));
  e.origin = DefaultOrigin(*category);
  e.quality = LocationQuality::kWithheld;
  if (!located) return Good(std::move(e));

  const char* a_name = has_ll ? "lon" : "x";
  const char* b_name = has_ll ? "lat" : "y";
  const std::optional<double>& a = has_ll ? f.lon : f.x;
  const std::optional<double>& b = has_ll ? f.lat : f.y;
  if (!a || !b) {
    return Bad(
        a ? b_name : a_name, ErrorCode::kBadCoordinate,
        fmt::format("{} is missing but {} is given", a ? b_name : a_name, a ? a_name : b_name));
  }
  if (!std::isfinite(*a)) {
    return Bad(a_name, ErrorCode::kBadCoordinate, fmt::format("{} is not a finite number", a_name));
  }
  if (!std::isfinite(*b)) {
    return Bad(b_name, ErrorCode::kBadCoordinate, fmt::format("{} is not a finite number", b_name));
  }
  double lon = *a, lat = *b;
  if (has_ll) {
    if (lon < -180 || lon > 180) {
      return Bad("lon", ErrorCode::kBadCoordinate,
                 fmt::format("longitude {} is outside -180..180", lon));
    }
    if (lat < -90 || lat > 90) {
      return Bad("lat", ErrorCode::kBadCoordinate,
                 fmt::format("latitude {} is outside -90..90", lat));
    }
  } else {
    if (f.input_epsg <= 0) {
      return Bad("crs", ErrorCode::kBadCrs, "x/y need a CRS (\"crs\": \"EPSG:27700\")");
    }
    auto inv = ThreadProjection(f.input_epsg, spatial::kWgs84);
    if (!inv) return Bad("crs", ErrorCode::kBadCrs, inv.error().message);
    auto ll = (*inv)->Forward(lon, lat);
    if (!ll || !spatial::IsValidLonLat(ll->x, ll->y)) {
      return Bad(
          "x", ErrorCode::kBadCoordinate,
          fmt::format("x/y ({}, {}) cannot be transformed from EPSG:{}", lon, lat, f.input_epsg));
    }
    lon = ll->x;
    lat = ll->y;
  }
  const int epsg = ctx.store_epsg > 0 ? ctx.store_epsg : spatial::DefaultProjectedEpsg(lon, lat);
  auto fwd = ThreadProjection(spatial::kWgs84, epsg);
  if (!fwd) return Bad(a_name, ErrorCode::kBadCrs, fwd.error().message);
  auto xy = (*fwd)->Forward(lon, lat);
  if (!xy) {
    return Bad(a_name, ErrorCode::kBadCoordinate,
               fmt::format("({}, {}) cannot be projected to EPSG:{}", lon, lat, epsg));
  }
  e.lon = lon;
  e.lat = lat;
  e.x = xy->x;
  e.y = xy->y;
  e.epsg = epsg;
  e.quality = quality;
  return Good(std::move(e));
}

}  // namespace crimecast::ingest
