// core/ingest/record_validation.hpp
//
// Validation of one canonical record given field by field (the HTTP API's POST /api/events, and
// any other feed that delivers records one at a time rather than as a CSV file).
//
// The fields and rules are those of the canonical CSV importer (`--format csv`, reader.hpp), so
// a record is accepted by the API exactly when the same values would be accepted in a file:
// * id: the record's id in its source (required here: an API client must be able to retry, and
//   idempotency is by (source, id)); at most 200 bytes.
// * category: a canonical category (display name, slug or data.police.uk API slug).
// * time: "YYYY-MM" (the month), "YYYY-MM-DD" (the day) or an ISO 8601 date-time (to the
//   second); the occurrence interval spans what the text says: [local start of the month, next
//   month), [local midnight, next local midnight), [t, t + 1 s). A time without an offset is
//   local to `tz`.
// * location: lon+lat (WGS84 degrees) or x+y in `input_epsg`; none at all = withheld
//   (unlocated); one coordinate without the other, non-finite values or out-of-range degrees
//   are errors. quality: "exact" (default), "snapped", or "withheld" (then no coordinates).
// * text fields (source_type, location, area_code, outcome, force): valid UTF-8 without NUL
//   bytes, at most 1,000 bytes each.
// Projected coordinates are computed with PROJ into `store_epsg` (0: DefaultProjectedEpsg of
// the point: EPSG:27700 in Great Britain, else the UTM zone).
//
// Unvalidated values live in RecordFields (OSRM's Unsafe* idea); only ValidateRecord turns them
// into an Event.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "core/common/error.hpp"
#include "core/common/time.hpp"
#include "core/ingest/event.hpp"

namespace crimecast::ingest {

struct RecordFields {
  std::string_view id, category, time;
  std::optional<double> lon, lat;  // WGS84
  std::optional<double> x, y;      // in input_epsg
  int input_epsg = 0;
  std::string_view source_type, location, area_code, outcome, force, quality;
};

struct FieldError {
  std::string field;  // the field's name as the client wrote it ("lat"), "" for the record
  ErrorCode code = ErrorCode::kBadField;
  std::string reason;
};

struct RecordContext {
  std::string source;            // feed name for Event::source
  const TimeZone* tz = nullptr;  // local zone of times without an offset (null: UTC)
  int store_epsg = 0;            // projected CRS of Event::x/y (0: per point default)
};

// Either an event or the first problem found. (Not std::expected: the libFuzzer build uses
// clang 14, whose library lacks it; see common/error.hpp.)
struct ValidatedRecord {
  std::optional<Event> event;
  FieldError error;  // meaningful when !event
  bool ok() const { return event.has_value(); }
};

// Thread-safe (projections are cached per thread).
ValidatedRecord ValidateRecord(const RecordFields& fields, const RecordContext& context);

// "2024-03" / "2024-03-05" / date-time -> the honest occurrence interval (see above).
Result<TimeInterval> ParseOccurrence(std::string_view text, const TimeZone* tz);

// Empty when the text is storable (the importers' rule, ingest/text.hpp: valid UTF-8 without NUL
// bytes); else the reason.
std::string StorableTextProblem(std::string_view text);

}  // namespace crimecast::ingest
