// The canonical CSV reader (`--format csv`).
//
// Columns (found by name, case-insensitively, in any order; other columns are ignored):
//   id, category, time, and lon+lat (WGS84) or x+y (in ReaderOptions::input_epsg)
//   optional: source_type, location, area_code, outcome, force, quality
// * id: the record's id in its source; an empty id gets a derived id (hash of the row plus its
//   ordinal among identical rows), like data.police.uk ASB rows.
// * category: a canonical category (display name, slug or data.police.uk API slug).
// * time: see time_pattern.hpp (YYYY-MM month, YYYY-MM-DD day, or a date-time).
// * location: exact points (quality "exact" unless a `quality` column says "snapped"); both
//   coordinates empty = withheld.
#include <fmt/format.h>

#include <array>
#include <memory>

#include "core/ingest/csv_event_reader.hpp"
#include "core/ingest/text.hpp"
#include "core/ingest/time_pattern.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::ingest::internal {
namespace {

struct Columns {
  int id = -1;
  int category = -1;
  int time = -1;
  int a = -1;  // lon or x
  int b = -1;  // lat or y
  int source_type = -1;
  int location = -1;
  int area_code = -1;
  int outcome = -1;
  int force = -1;
  int quality = -1;
};

class CanonicalReader final : public CsvEventReader {
 public:
  CanonicalReader(std::string file, const ReaderOptions& options, OpenedCsv opened,
                  const Columns& cols, bool xy, std::shared_ptr<const TimeZone> tz)
      : CsvEventReader(std::move(file), options, std::move(opened)),
        cols_(cols),
        xy_(xy),
        tz_(std::move(tz)),
        ids_("csv/v1") {
    set_source(options.source.empty() ? "csv" : options.source);
    SetCoordinateFields(header().name(cols.a), header().name(cols.b));
    if (xy) SetInputEpsg(options.input_epsg);
    text_columns_ = {cols.id,      cols.category,    cols.time,     cols.a,
                     cols.b,       cols.source_type, cols.location, cols.area_code,
                     cols.outcome, cols.force,       cols.quality};
  }
  std::string format_name() const override { return "csv"; }

 private:
  bool ConvertRecord(const CsvRecord& r, std::vector<Event>& events) override;
  std::string_view Field(const CsvRecord& r, int col) const {
    return col < 0 ? std::string_view() : r.fields[static_cast<std::size_t>(col)];
  }

  Columns cols_;
  bool xy_;
  std::shared_ptr<const TimeZone> tz_;
  std::array<int, 11> text_columns_{};
  DerivedIdGenerator ids_;
  SmallMemo<Category> categories_;
};

bool CanonicalReader::ConvertRecord(const CsvRecord& r, std::vector<Event>& events) {
  if (!CheckFieldCount(r)) return false;
  if (!CheckText(r, text_columns_)) return false;
  const std::int64_t line = r.line;

  const std::string_view cat_text = Trim(Field(r, cols_.category));
  Category category;
  if (const Category* memo = categories_.Find(cat_text)) {
    category = *memo;
  } else if (auto parsed = ParseCategory(cat_text)) {
    category = *parsed;
    categories_.Add(cat_text, category);
  } else {
    RowFail(line, header().name(cols_.category), ErrorCode::kUnknownCategory,
            fmt::format("unknown category '{}' (expected one of the 14 canonical categories, "
                        "e.g. 'burglary' or 'Violence and sexual offences')",
                        Excerpt(cat_text)));
    return false;
  }

  auto when = ParseIsoInterval(Field(r, cols_.time), *tz_);
  if (!when) {
    RowFail(line, header().name(cols_.time), ErrorCode::kBadTime, when.error().message);
    return false;
  }

  LocationQuality quality = LocationQuality::kExact;
  const std::string_view quality_text = Trim(Field(r, cols_.quality));
  bool withheld_by_quality = false;
  if (!quality_text.empty()) {
    if (IEquals(quality_text, "exact")) {
      quality = LocationQuality::kExact;
    } else if (IEquals(quality_text, "snapped")) {
      quality = LocationQuality::kSnapped;
    } else if (IEquals(quality_text, "withheld")) {
      withheld_by_quality = true;
    } else {
      RowFail(
          line, header().name(cols_.quality), ErrorCode::kBadField,
          fmt::format("quality '{}' must be exact, snapped or withheld", Excerpt(quality_text)));
      return false;
    }
  }

  const std::string_view a_text = Trim(Field(r, cols_.a));
  const std::string_view b_text = Trim(Field(r, cols_.b));
  const std::string& a_name = header().name(cols_.a);
  const std::string& b_name = header().name(cols_.b);
  double a = 0;
  double b = 0;
  const bool located = !a_text.empty() || !b_text.empty();
  if (withheld_by_quality && located) {
    RowFail(line, header().name(cols_.quality), ErrorCode::kBadField,
            "quality is 'withheld' but coordinates are given");
    return false;
  }
  if (located) {
    if (a_text.empty() || b_text.empty()) {
      RowFail(line, a_text.empty() ? a_name : b_name, ErrorCode::kBadCoordinate,
              fmt::format("{} is empty but {} is given", a_text.empty() ? a_name : b_name,
                          a_text.empty() ? b_name : a_name));
      return false;
    }
    if (!ParseFiniteDouble(a_text, a)) {
      RowFail(line, a_name, ErrorCode::kBadCoordinate,
              fmt::format("'{}' is not a number", Excerpt(a_text)));
      return false;
    }
    if (!ParseFiniteDouble(b_text, b)) {
      RowFail(line, b_name, ErrorCode::kBadCoordinate,
              fmt::format("'{}' is not a number", Excerpt(b_text)));
      return false;
    }
    if (!xy_ && (a < -180 || a > 180)) {
      RowFail(line, a_name, ErrorCode::kBadCoordinate,
              fmt::format("longitude {} is outside -180..180", Excerpt(a_text)));
      return false;
    }
    if (!xy_ && (b < -90 || b > 90)) {
      RowFail(line, b_name, ErrorCode::kBadCoordinate,
              fmt::format("latitude {} is outside -90..90", Excerpt(b_text)));
      return false;
    }
  }

  const std::string_view id = Trim(Field(r, cols_.id));
  Event& e = AppendEvent(events);
  e.source = source();
  if (id.empty()) {
    e.source_id = ids_.Next(r.fields);
  } else {
    e.source_id.assign(id);
  }
  e.category = category;
  const std::string_view source_type = Trim(Field(r, cols_.source_type));
  e.source_type.assign(source_type.empty() ? cat_text : source_type);
  e.when = *when;
  e.quality = located ? quality : LocationQuality::kWithheld;
  e.location_text.assign(Field(r, cols_.location));
  e.area_code.assign(Trim(Field(r, cols_.area_code)));
  e.force.assign(Trim(Field(r, cols_.force)));
  e.outcome.assign(Trim(Field(r, cols_.outcome)));
  e.origin = DefaultOrigin(category);
  if (located) {
    if (xy_) {
      QueueXy(events.size() - 1, line, a, b);
    } else {
      QueueLonLat(events.size() - 1, line, a, b);
    }
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<EventReader>> CreateCanonicalReader(std::string file,
                                                           const ReaderOptions& options,
                                                           OpenedCsv opened) {
  const Header& h = opened.header;
  Columns cols;
  cols.id = h.Find("id");
  cols.category = h.Find("category");
  cols.time = h.Find("time");
  const int lon = h.Find("lon");
  const int lat = h.Find("lat");
  const int x = h.Find("x");
  const int y = h.Find("y");
  cols.source_type = h.Find("source_type");
  cols.location = h.Find("location");
  cols.area_code = h.Find("area_code");
  cols.outcome = h.Find("outcome");
  cols.force = h.Find("force");
  cols.quality = h.Find("quality");
  std::string missing;
  for (auto [col, name] : {std::pair{cols.id, "id"}, std::pair{cols.category, "category"},
                           std::pair{cols.time, "time"}}) {
    if (col < 0) missing += fmt::format("{}'{}'", missing.empty() ? "" : ", ", name);
  }
  const bool has_lonlat = lon >= 0 && lat >= 0;
  const bool has_xy = x >= 0 && y >= 0;
  if (!has_lonlat && !has_xy) {
    missing += fmt::format("{}'lon' and 'lat' (or 'x' and 'y')", missing.empty() ? "" : ", ");
  }
  if (!missing.empty()) {
    return Fail(ErrorCode::kMissingColumn,
                fmt::format("{}: not a canonical crimecast CSV: missing column(s) {} (expected "
                            "the header id,category,time,lon,lat or id,category,time,x,y; found "
                            "{})",
                            file, missing, h.Describe()));
  }
  if (has_lonlat && has_xy) {
    return Fail(
        ErrorCode::kMissingColumn,
        fmt::format("{}: the header has both lon/lat and x/y columns; keep one pair", file));
  }
  if (has_xy && options.input_epsg == 0) {
    return Fail(ErrorCode::kBadCrs,
                fmt::format("{}: the file has x,y columns, so their CRS must be given "
                            "(--crs EPSG:N)",
                            file));
  }
  if (has_lonlat && options.input_epsg != 0 && options.input_epsg != spatial::kWgs84) {
    return Fail(ErrorCode::kBadCrs,
                fmt::format("{}: --crs EPSG:{} was given but the file has lon,lat columns, which "
                            "are always WGS84; use x,y columns for projected coordinates",
                            file, options.input_epsg));
  }
  if (has_xy) {
    if (auto p = CachedProjection(options.input_epsg, spatial::kWgs84); !p) {
      return Fail(p.error().code, fmt::format("{}: {}", file, p.error().message));
    }
  }
  if (options.store_epsg != 0) {
    if (auto p = CachedProjection(spatial::kWgs84, options.store_epsg); !p) {
      return Fail(p.error().code, fmt::format("{}: {}", file, p.error().message));
    }
  }
  auto tz = TimeZone::Get(options.timezone);
  if (!tz) return Fail(tz.error().code, fmt::format("--timezone: {}", tz.error().message));
  cols.a = has_xy ? x : lon;
  cols.b = has_xy ? y : lat;
  return std::unique_ptr<EventReader>(std::make_unique<CanonicalReader>(
      std::move(file), options, std::move(opened), cols, has_xy, std::move(*tz)));
}

}  // namespace crimecast::ingest::internal
