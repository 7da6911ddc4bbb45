#include "server/routes/params.hpp"

#include <fmt/format.h>

#include <charconv>
#include <cmath>

#include "server/error_response.hpp"

namespace crimecast::server {

Result<void> ParseEventFilter(const Request& req, storage::EventFilter& filter) {
  if (auto b = req.Param("bbox")) {
    std::array<double, 4> v{};
    std::string_view rest = *b;
    for (int i = 0; i < 4; ++i) {
      const auto comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      auto [p, ec] = std::from_chars(item.data(), item.data() + item.size(), v[i]);
      if (ec != std::errc() || p != item.data() + item.size() || item.empty() ||
          !std::isfinite(v[i]) || (i < 3 && comma == std::string_view::npos) ||
          (i == 3 && comma != std::string_view::npos)) {
        return Fail(ErrorCode::kInvalidArgument,
                    fmt::format("bbox '{}' must be minlon,minlat,maxlon,maxlat", *b));
      }
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    }
    if (v[0] < -180 || v[2] > 180 || v[1] < -90 || v[3] > 90 || v[0] > v[2] || v[1] > v[3]) {
      return Fail(ErrorCode::kBadCoordinate,
                  fmt::format("bbox '{}' is outside -180..180 x -90..90 or min > max", *b));
    }
    filter.bbox = v;
  }
  for (const char* name : {"from", "to"}) {
    if (auto t = req.Param(name)) {
      auto parsed = ParseInstant(*t);
      if (!parsed) {
        return Fail(ErrorCode::kBadTime,
                    fmt::format("parameter '{}': {}", name, parsed.error().message));
      }
      (std::string_view(name) == "from" ? filter.from : filter.to) = *parsed;
    }
  }
  if (auto c = req.Param("category")) {
    std::string_view rest = *c;
    while (!rest.empty()) {
      const auto comma = rest.find(',');
      const std::string_view item = rest.substr(0, comma);
      rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
      if (item.empty()) continue;
      auto cat = ParseCategory(item);
      if (!cat) {
        return Fail(ErrorCode::kUnknownCategory,
                    fmt::format("unknown category '{}'", item.substr(0, 60)));
      }
      filter.categories.push_back(*cat);
    }
  }
  if (auto s = req.Param("source")) filter.source = *s;
  return {};
}

Result<std::int64_t> IntParam(const Request& req, const std::string& name, std::int64_t fallback,
                              std::int64_t min, std::int64_t max) {
  auto v = req.Param(name);
  if (!v) return fallback;
  std::int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || out < min || out > max) {
    return Fail(ErrorCode::kInvalidArgument,
                fmt::format("parameter '{}' must be an integer in {}..{}", name, min, max));
  }
  return out;
}

Result<std::optional<double>> DoubleParam(const Request& req, const std::string& name) {
  auto v = req.Param(name);
  if (!v) return std::optional<double>();
  double out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size() || !std::isfinite(out)) {
    return Fail(ErrorCode::kInvalidArgument, fmt::format("parameter '{}' must be a number", name));
  }
  return std::optional<double>(out);
}

void AppendEventJson(std::string& out, const Event& e, bool compact) {
  out += "{\"source\":";
  AppendJsonString(out, e.source);
  out += ",\"id\":";
  AppendJsonString(out, e.source_id);
  out += ",\"category\":";
  AppendJsonString(out, Slug(e.category));
  if (!compact) {
    out += ",\"source_type\":";
    AppendJsonString(out, e.source_type);
  }
  fmt::format_to(std::back_inserter(out), ",\"time_start\":\"{}\",\"time_end\":\"{}\"",
                 FormatIso(e.when.start), FormatIso(e.when.end));
  if (e.Located()) {
    fmt::format_to(std::back_inserter(out), ",\"lon\":{:.6f},\"lat\":{:.6f}", e.lon, e.lat);
  } else {
    out += ",\"lon\":null,\"lat\":null";
  }
  out += ",\"quality\":";
  AppendJsonString(out, Name(e.quality));
  const std::pair<const char*, const std::string*> texts[] = {
      {"location", &e.location_text}, {"area_code", &e.area_code}, {"outcome", &e.outcome}};
  for (const auto& [name, value] : texts) {
    if (compact && value->empty()) continue;
    fmt::format_to(std::back_inserter(out), ",\"{}\":", name);
    AppendJsonString(out, *value);
  }
  if (!compact) {
    out += ",\"origin\":";
    AppendJsonString(out, Name(e.origin));
    fmt::format_to(std::back_inserter(out), ",\"out_of_area\":{}", e.out_of_area);
  }
  out += '}';
}

}  // namespace crimecast::server
