// The data.police.uk street-level CSV reader (see reader.hpp for the format).
#include <fmt/format.h>

#include <array>
#include <optional>

#include "core/ingest/csv_event_reader.hpp"
#include "core/ingest/text.hpp"

namespace crimecast::ingest::internal {
namespace {

struct Columns {
  int crime_id = -1;
  int month = -1;
  int falls_within = -1;
  int longitude = -1;
  int latitude = -1;
  int location = -1;
  int lsoa_code = -1;
  int crime_type = -1;
  int outcome = -1;
};

class PoliceUkReader final : public CsvEventReader {
 public:
  PoliceUkReader(std::string file, const ReaderOptions& options, OpenedCsv opened,
                 const Columns& cols)
      : CsvEventReader(std::move(file), options, std::move(opened)),
        cols_(cols),
        ids_("police-uk/asb/v1") {
    set_source(options.source.empty() ? "police-uk" : options.source);
    SetCoordinateFields(header().name(cols.longitude), header().name(cols.latitude));
    text_columns_ = {cols.crime_id,  cols.month,      cols.falls_within,
                     cols.longitude, cols.latitude,   cols.location,
                     cols.lsoa_code, cols.crime_type, cols.outcome};
  }
  std::string format_name() const override { return "police-uk"; }

 private:
  bool ConvertRecord(const CsvRecord& r, std::vector<Event>& events) override;
  std::string_view Field(const CsvRecord& r, int col) const {
    return col < 0 ? std::string_view() : r.fields[static_cast<std::size_t>(col)];
  }

  Columns cols_;
  std::array<int, 9> text_columns_{};
  DerivedIdGenerator ids_;
  SmallMemo<TimeInterval> months_;
  SmallMemo<Category> categories_;
};

bool PoliceUkReader::ConvertRecord(const CsvRecord& r, std::vector<Event>& events) {
  if (!CheckFieldCount(r)) return false;
  if (!CheckText(r, text_columns_)) return false;
  const std::int64_t line = r.line;

  const std::string_view month_text = Trim(Field(r, cols_.month));
  TimeInterval month;
  if (const TimeInterval* memo = months_.Find(month_text)) {
    month = *memo;
  } else {
    auto parsed = ParseMonth(month_text);
    if (!parsed) {
      RowFail(line, header().name(cols_.month), ErrorCode::kBadTime, parsed.error().message);
      return false;
    }
    month = *parsed;
    months_.Add(month_text, month);
  }

  const std::string_view type = Trim(Field(r, cols_.crime_type));
  Category category;
  if (const Category* memo = categories_.Find(type)) {
    category = *memo;
  } else {
    const std::optional<Category> parsed = ParseCategory(type);
    if (!parsed) {
      RowFail(line, header().name(cols_.crime_type), ErrorCode::kUnknownCategory,
              fmt::format("unknown crime type '{}' (not one of the 14 data.police.uk categories)",
                          Excerpt(type)));
      return false;
    }
    category = *parsed;
    categories_.Add(type, category);
  }

  // Empty coordinates are data.police.uk's "no location" (the crime still counts).
  const std::string_view lon_text = Trim(Field(r, cols_.longitude));
  const std::string_view lat_text = Trim(Field(r, cols_.latitude));
  double lon = 0;
  double lat = 0;
  const bool located = !lon_text.empty() || !lat_text.empty();
  if (located) {
    const std::string& lon_name = header().name(cols_.longitude);
    const std::string& lat_name = header().name(cols_.latitude);
    if (lon_text.empty() || lat_text.empty()) {
      RowFail(line, lon_text.empty() ? lon_name : lat_name, ErrorCode::kBadCoordinate,
              lon_text.empty() ? "longitude is empty but latitude is given"
                               : "latitude is empty but longitude is given");
      return false;
    }
    if (!ParseFiniteDouble(lon_text, lon)) {
      RowFail(line, lon_name, ErrorCode::kBadCoordinate,
              fmt::format("longitude '{}' is not a number", Excerpt(lon_text)));
      return false;
    }
    if (!ParseFiniteDouble(lat_text, lat)) {
      RowFail(line, lat_name, ErrorCode::kBadCoordinate,
              fmt::format("latitude '{}' is not a number", Excerpt(lat_text)));
      return false;
    }
    if (lon < -180 || lon > 180) {
      RowFail(line, lon_name, ErrorCode::kBadCoordinate,
              fmt::format("longitude {} is outside -180..180", Excerpt(lon_text)));
      return false;
    }
    if (lat < -90 || lat > 90) {
      RowFail(line, lat_name, ErrorCode::kBadCoordinate,
              fmt::format("latitude {} is outside -90..90", Excerpt(lat_text)));
      return false;
    }
  }

  const std::string_view crime_id = Trim(Field(r, cols_.crime_id));
  const std::string_view location = Field(r, cols_.location);
  const std::string_view lsoa = Trim(Field(r, cols_.lsoa_code));
  const std::string_view force = Trim(Field(r, cols_.falls_within));

  Event& e = AppendEvent(events);
  e.source = source();
  if (!crime_id.empty()) {
    e.source_id.assign(crime_id);
  } else {
    // Anti-social behaviour rows have no Crime ID. The force is part of the content because
    // two forces' files can both hold an ASB report at the same border snap point and month,
    // and those are different records.
    e.source_id = ids_.Next({month_text, lon_text, lat_text, location, lsoa, type, force});
  }
  e.category = category;
  e.source_type.assign(type);
  e.when = month;
  e.quality = located ? LocationQuality::kSnapped : LocationQuality::kWithheld;
  e.location_text.assign(location);
  e.area_code.assign(lsoa);
  e.force.assign(force);
  e.outcome.assign(Trim(Field(r, cols_.outcome)));
  e.origin = DefaultOrigin(category);
  if (located) QueueLonLat(events.size() - 1, line, lon, lat);
  return true;
}

}  // namespace

Result<std::unique_ptr<EventReader>> CreatePoliceUkReader(std::string file,
                                                          const ReaderOptions& options,
                                                          OpenedCsv opened) {
  const Header& h = opened.header;
  Columns cols;
  cols.crime_id = h.Find("Crime ID");
  cols.month = h.Find("Month");
  cols.falls_within = h.Find("Falls within");
  cols.longitude = h.Find("Longitude");
  cols.latitude = h.Find("Latitude");
  cols.location = h.Find("Location");
  cols.lsoa_code = h.Find("LSOA code");
  cols.crime_type = h.Find("Crime type");
  cols.outcome = h.Find("Last outcome category");
  std::string missing;
  auto need = [&](int col, std::string_view name) {
    if (col >= 0) return;
    if (!missing.empty()) missing += ", ";
    missing += fmt::format("'{}'", name);
  };
  need(cols.crime_id, "Crime ID");
  need(cols.month, "Month");
  need(cols.longitude, "Longitude");
  need(cols.latitude, "Latitude");
  need(cols.crime_type, "Crime type");
  if (!missing.empty()) {
    return Fail(ErrorCode::kMissingColumn,
                fmt::format("{}: not a data.police.uk street-level CSV: missing column(s) {} "
                            "(header has {})",
                            file, missing, h.Describe()));
  }
  return std::unique_ptr<EventReader>(
      std::make_unique<PoliceUkReader>(std::move(file), options, std::move(opened), cols));
}

}  // namespace crimecast::ingest::internal
