// The mapped CSV reader (`--format mapped --mapping FILE.toml`); the mapping is documented in
// mapping.hpp and docs/mapping.md.
#include <fmt/format.h>

#include <memory>

#include "core/ingest/csv_event_reader.hpp"
#include "core/ingest/mapping.hpp"
#include "core/ingest/text.hpp"
#include "core/ingest/time_pattern.hpp"
#include "core/spatial/projection.hpp"

namespace crimecast::ingest::internal {
namespace {

struct Columns {
  std::vector<int> id;
  int category = -1;
  int time = -1;
  int year = -1, month = -1, day = -1, hour = -1, minute = -1, second = -1;
  int a = -1;  // lon or x
  int b = -1;  // lat or y
  int location = -1, area = -1, outcome = -1, force = -1;
};

class MappedReader final : public CsvEventReader {
 public:
  MappedReader(std::string file, const ReaderOptions& options, OpenedCsv opened, Mapping mapping,
               Columns cols, std::shared_ptr<const TimeZone> tz, int input_epsg)
      : CsvEventReader(std::move(file), options, std::move(opened)),
        m_(std::move(mapping)),
        cols_(std::move(cols)),
        tz_(std::move(tz)),
        ids_("mapped/" + m_.source + "/v1") {
    set_source(options.source.empty() ? m_.source : options.source);
    SetCoordinateFields(header().name(cols_.a), header().name(cols_.b));
    SetInputEpsg(input_epsg);
    for (int c : cols_.id) text_columns_.push_back(c);
    for (int c :
         {cols_.category, cols_.time, cols_.year, cols_.month, cols_.day, cols_.hour, cols_.minute,
          cols_.second, cols_.a, cols_.b, cols_.location, cols_.area, cols_.outcome, cols_.force}) {
      if (c >= 0) text_columns_.push_back(c);
    }
  }
  std::string format_name() const override { return "mapped:" + m_.source; }

 private:
  bool ConvertRecord(const CsvRecord& r, std::vector<Event>& events) override;
  std::string_view Field(const CsvRecord& r, int col) const {
    return col < 0 ? std::string_view() : r.fields[static_cast<std::size_t>(col)];
  }
  bool ReadTime(const CsvRecord& r, TimeInterval& when);
  bool ReadPart(const CsvRecord& r, int col, int& out, bool& present);

  Mapping m_;
  Columns cols_;
  std::shared_ptr<const TimeZone> tz_;
  std::vector<int> text_columns_;
  DerivedIdGenerator ids_;
  SmallMemo<std::optional<Category>> categories_;
  std::string id_scratch_;
};

bool MappedReader::ReadPart(const CsvRecord& r, int col, int& out, bool& present) {
  present = false;
  if (col < 0) return true;
  const std::string_view text = Trim(Field(r, col));
  if (text.empty()) return true;
  std::int64_t v = 0;
  if (!ParseInt64(text, v) || v < 0 || v > 99999) {
    RowFail(r.line, header().name(col), ErrorCode::kBadTime,
            fmt::format("'{}' is not a whole number", Excerpt(text)));
    return false;
  }
  out = static_cast<int>(v);
  present = true;
  return true;
}

bool MappedReader::ReadTime(const CsvRecord& r, TimeInterval& when) {
  if (cols_.time >= 0) {
    const std::string_view text = Field(r, cols_.time);
    auto parsed =
        m_.time_pattern ? m_.time_pattern->Parse(text, *tz_) : ParseIsoInterval(text, *tz_);
    if (!parsed) {
      RowFail(r.line, header().name(cols_.time), ErrorCode::kBadTime, parsed.error().message);
      return false;
    }
    when = *parsed;
    return true;
  }
  CivilTime c{0, 0, 1, 0, 0, 0};
  bool has_year = false;
  bool has_month = false;
  bool has_day = false;
  bool has_hour = false;
  bool has_minute = false;
  bool has_second = false;
  if (!ReadPart(r, cols_.year, c.year, has_year) || !ReadPart(r, cols_.month, c.month, has_month) ||
      !ReadPart(r, cols_.day, c.day, has_day) || !ReadPart(r, cols_.hour, c.hour, has_hour) ||
      !ReadPart(r, cols_.minute, c.minute, has_minute) ||
      !ReadPart(r, cols_.second, c.second, has_second)) {
    return false;
  }
  if (!has_year || !has_month) {
    RowFail(r.line, header().name(has_year ? cols_.month : cols_.year), ErrorCode::kBadTime,
            has_year ? "the month is empty" : "the year is empty");
    return false;
  }
  // The interval spans what the row says: no day -> the month, no hour -> the day.
  TimePrecision precision = TimePrecision::kMonth;
  if (has_day) precision = has_hour ? TimePrecision::kSecond : TimePrecision::kDay;
  if (!has_day) c.day = 1;
  if (precision == TimePrecision::kSecond && m_.midnight_means_unknown && c.hour == 0 &&
      c.minute == 0 && c.second == 0) {
    // Feeds like Vancouver's write 00:00 when the time of day is unknown (or withheld).
    precision = TimePrecision::kDay;
  }
  if (!IsValidCivil(c) || c.year < 1900 || c.year > 2200) {
    RowFail(r.line, header().name(cols_.year), ErrorCode::kBadTime,
            fmt::format("no such date or time: {:04d}-{:02d}-{:02d} {:02d}:{:02d}:{:02d}", c.year,
                        c.month, c.day, c.hour, c.minute, c.second));
    return false;
  }
  when = IntervalFromCivil(c, precision, *tz_);
  return true;
}

bool MappedReader::ConvertRecord(const CsvRecord& r, std::vector<Event>& events) {
  if (!CheckFieldCount(r)) return false;
  if (!CheckText(r, text_columns_)) return false;
  const std::int64_t line = r.line;

  const std::string_view type = Trim(Field(r, cols_.category));
  std::optional<Category> category;
  if (const std::optional<Category>* memo = categories_.Find(type)) {
    category = *memo;
  } else {
    if (auto it = m_.category_exact.find(std::string(type)); it != m_.category_exact.end()) {
      category = it->second;
    } else if (auto it2 = m_.category_folded.find(AsciiLower(type));
               it2 != m_.category_folded.end()) {
      category = it2->second;
    } else {
      category = m_.default_category;
    }
    categories_.Add(type, category);
  }
  if (!category) {
    RowFail(line, header().name(cols_.category), ErrorCode::kUnknownCategory,
            fmt::format("type '{}' is not in [category.map] of {} and there is no default",
                        Excerpt(type), m_.path));
    return false;
  }

  TimeInterval when;
  if (!ReadTime(r, when)) return false;

  const std::string_view a_text = Trim(Field(r, cols_.a));
  const std::string_view b_text = Trim(Field(r, cols_.b));
  const std::string& a_name = header().name(cols_.a);
  const std::string& b_name = header().name(cols_.b);
  bool withheld = a_text.empty() && b_text.empty();
  if (!withheld && m_.withheld_when && m_.withheld_when->Matches(r.fields)) withheld = true;
  double a = 0;
  double b = 0;
  if (!withheld) {
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
    if (m_.withheld_if_zero && a == 0 && b == 0) {
      withheld = true;
    } else if (!m_.uses_xy()) {
      if (a < -180 || a > 180) {
        RowFail(line, a_name, ErrorCode::kBadCoordinate,
                fmt::format("longitude {} is outside -180..180", Excerpt(a_text)));
        return false;
      }
      if (b < -90 || b > 90) {
        RowFail(line, b_name, ErrorCode::kBadCoordinate,
                fmt::format("latitude {} is outside -90..90", Excerpt(b_text)));
        return false;
      }
    }
  }

  Event& e = AppendEvent(events);
  e.source = source();
  id_scratch_.clear();
  for (std::size_t i = 0; i < cols_.id.size(); ++i) {
    if (i > 0) id_scratch_ += '|';
    id_scratch_ += Trim(Field(r, cols_.id[i]));
  }
  if (cols_.id.empty() || id_scratch_.size() == cols_.id.size() - 1) {
    // No id column, or every id column empty: hash of the whole row plus its ordinal among
    // identical rows (Vancouver has exact duplicates that are distinct incidents).
    e.source_id = ids_.Next(r.fields);
  } else {
    e.source_id = id_scratch_;
  }
  e.category = *category;
  e.source_type.assign(type);
  e.when = when;
  e.quality = withheld ? LocationQuality::kWithheld : m_.quality;
  e.location_text.assign(Trim(Field(r, cols_.location)));
  e.area_code.assign(Trim(Field(r, cols_.area)));
  e.outcome.assign(Trim(Field(r, cols_.outcome)));
  if (cols_.force >= 0) {
    e.force.assign(Trim(Field(r, cols_.force)));
  } else {
    e.force = m_.force;
  }
  e.origin = DefaultOrigin(*category);
  if (!withheld) {
    if (m_.uses_xy()) {
      QueueXy(events.size() - 1, line, a, b);
    } else {
      QueueLonLat(events.size() - 1, line, a, b);
    }
  }
  return true;
}

}  // namespace

Result<std::unique_ptr<EventReader>> CreateMappedReader(std::string file,
                                                        const ReaderOptions& options,
                                                        Mapping mapping, OpenedCsv opened) {
  const Header& h = opened.header;
  std::string missing;
  auto find = [&](const std::string& name, std::string_view key) -> int {
    if (name.empty()) return -1;
    const int col = h.Find(name);
    if (col < 0) {
      missing += fmt::format("{}'{}' (mapping key {})", missing.empty() ? "" : ", ", name, key);
    }
    return col;
  };
  Columns cols;
  for (const std::string& name : mapping.id_columns) cols.id.push_back(find(name, "[id]"));
  cols.category = find(mapping.category_column, "[category] column");
  cols.time = find(mapping.time_column, "[time] column");
  cols.year = find(mapping.year_column, "[time] year");
  cols.month = find(mapping.month_column, "[time] month");
  cols.day = find(mapping.day_column, "[time] day");
  cols.hour = find(mapping.hour_column, "[time] hour");
  cols.minute = find(mapping.minute_column, "[time] minute");
  cols.second = find(mapping.second_column, "[time] second");
  cols.a = find(mapping.first_coordinate(), mapping.uses_xy() ? "[location] x" : "[location] lon");
  cols.b = find(mapping.second_coordinate(), mapping.uses_xy() ? "[location] y" : "[location] lat");
  cols.location = find(mapping.location_column, "[columns] location_text");
  cols.area = find(mapping.area_column, "[columns] area_code");
  cols.outcome = find(mapping.outcome_column, "[columns] outcome");
  cols.force = find(mapping.force_column, "[columns] force");
  if (!missing.empty()) {
    return Fail(ErrorCode::kMissingColumn,
                fmt::format("{}: column(s) named in mapping {} are not in the header: {} (header "
                            "has {})",
                            file, mapping.path, missing, h.Describe()));
  }
  if (mapping.withheld_when) {
    const Mapping& m = mapping;
    auto bound = mapping.withheld_when->Bind([&](std::string_view name) { return h.Find(name); },
                                             [&](std::string_view name) -> std::string {
                                               if (m.uses_xy() && IEquals(name, "x"))
                                                 return m.x_column;
                                               if (m.uses_xy() && IEquals(name, "y"))
                                                 return m.y_column;
                                               if (!m.uses_xy() && IEquals(name, "lon"))
                                                 return m.lon_column;
                                               if (!m.uses_xy() && IEquals(name, "lat"))
                                                 return m.lat_column;
                                               return std::string();
                                             });
    if (!bound) {
      return Fail(bound.error().code,
                  fmt::format("{}: mapping {}: {}", file, mapping.path, bound.error().message));
    }
  }
  const std::string& tz_name = options.timezone.empty() ? mapping.timezone : options.timezone;
  auto tz = TimeZone::Get(tz_name);
  if (!tz) return Fail(tz.error().code, fmt::format("time zone: {}", tz.error().message));
  const int input_epsg = options.input_epsg != 0 ? options.input_epsg : mapping.epsg;
  if (input_epsg != spatial::kWgs84) {
    if (auto p = CachedProjection(input_epsg, spatial::kWgs84); !p) {
      return Fail(p.error().code, fmt::format("{}: {}", file, p.error().message));
    }
  }
  if (options.store_epsg != 0) {
    if (auto p = CachedProjection(spatial::kWgs84, options.store_epsg); !p) {
      return Fail(p.error().code, fmt::format("{}: {}", file, p.error().message));
    }
  }
  return std::unique_ptr<EventReader>(std::make_unique<MappedReader>(
      std::move(file), options, std::move(opened), std::move(mapping), std::move(cols),
      std::move(*tz), input_epsg));
}

}  // namespace crimecast::ingest::internal
