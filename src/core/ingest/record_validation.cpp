#include "core/ingest/record_validation.hpp"

#include <fmt/format.h>

#include <cmath>
#include <map>
#include <memory>

#include "core/spatial/projection.hpp"

namespace crimecast::ingest {
namespace {

constexpr std::size_t kMaxIdBytes = 200;
constexpr std::size_t kMaxTextBytes = 1000;

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

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

bool AllDigits(std::string_view s) {
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return !s.empty();
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

std::string TextProblem(std::string_view s) {
  std::size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  while (i < s.size()) {
    const unsigned char c = p[i];
    if (c == 0) return fmt::format("embedded NUL byte at offset {}", i);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t n = 0;
    unsigned min = 0;
    unsigned cp = 0;
    if ((c & 0xE0) == 0xC0) {
      n = 1, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      n = 2, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      n = 3, min = 0x10000, cp = c & 0x07;
    } else {
      return fmt::format("invalid UTF-8 (byte 0x{:02X} at offset {})", c, i);
    }
    if (i + n >= s.size()) {
      return fmt::format("invalid UTF-8 (truncated sequence at offset {})", i);
    }
    for (std::size_t k = 1; k <= n; ++k) {
      if (i + k >= s.size() || (p[i + k] & 0xC0) != 0x80) {
        return fmt::format("invalid UTF-8 (byte 0x{:02X} at offset {})", c, i);
      }
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return fmt::format("invalid UTF-8 (overlong or out-of-range sequence at offset {})", i);
    }
    i += n + 1;
  }
  return {};
}

Result<TimeInterval> ParseOccurrence(std::string_view text, const TimeZone* tz) {
  text = Trim(text);
  const TimeZone& zone = tz ? *tz : *TimeZone::Utc();
  auto civil_interval = [&](CivilTime start, CivilTime next) -> Result<TimeInterval> {
    return TimeInterval{zone.LocalToUtc(start), zone.LocalToUtc(next)};
  };
  // YYYY-MM: the month, in local time.
  if (text.size() == 7 && text[4] == '-' && AllDigits(text.substr(0, 4)) &&
      AllDigits(text.substr(5, 2))) {
    auto month = ParseMonth(text);  // validates year and month
    if (!month) return Unexpected(month.error());
    CivilTime a{std::stoi(std::string(text.substr(0, 4))),
                std::stoi(std::string(text.substr(5, 2))), 1};
    CivilTime b = a;
    if (++b.month > 12) {
      b.month = 1;
      ++b.year;
    }
    return civil_interval(a, b);
  }
  // YYYY-MM-DD: the day, in local time.
  if (text.size() == 10 && text[4] == '-' && text[7] == '-') {
    auto t = ParseDateTime(text, nullptr);  // validates the date (read as UTC midnight)
    if (!t) return Unexpected(t.error());
    CivilTime a = UtcToCivil(*t);
    const CivilTime b = UtcToCivil(*t + std::chrono::days(1));
    return civil_interval(a, b);
  }
  auto t = ParseDateTime(text, &zone);
  if (!t) return Unexpected(t.error());
  return TimeInterval{*t, *t + Seconds{1}};
}

ValidatedRecord ValidateRecord(const RecordFields& f, const RecordContext& ctx) {
  const std::string_view id = Trim(f.id);
  if (id.empty()) return Bad("id", ErrorCode::kBadField, "id is required");
  if (id.size() > kMaxIdBytes) {
    return Bad("id", ErrorCode::kBadField, fmt::format("id longer than {} bytes", kMaxIdBytes));
  }
  if (auto p = TextProblem(id); !p.empty()) return Bad("id", ErrorCode::kBadEncoding, p);

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
    if (auto p = TextProblem(t.value); !p.empty()) return Bad(t.name, ErrorCode::kBadEncoding, p);
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
