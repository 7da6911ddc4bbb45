// core/ingest/reader.hpp
//
// Reading crime records from files into validated Events.
//
// Formats:
// * kPoliceUk: data.police.uk street-level CSV (12 columns, month-only dates, WGS84 snap points;
//   optional UTF-8 BOM, CRLF, quoted fields). Anti-social behaviour rows have no Crime ID and get
//   a stable derived id (a hash of the row's content plus its ordinal among identical rows of the
//   file), so re-importing never duplicates them.
// * kCanonicalCsv: header `id,category,time,lon,lat` (or `x,y` with a CRS); time is ISO 8601 or
//   YYYY-MM (month-only); times without an offset are local to `timezone`.
// * kMapped: any CSV described by a TOML mapping file (see docs/mapping.md and
//   mappings/vancouver-vpd.toml).
//
// Error contract: a row that cannot be read becomes a RowError (file, line, field, reason) and
// the reader moves on; good rows are never lost. Only problems that make the whole file
// unreadable (missing file, not CSV, missing required columns, bad mapping) fail Open/Next.
// Rows are returned in file order. Line numbers are 1-based physical line numbers of the row's
// first line (the header is line 1).
//
// Readers fill lon/lat (WGS84) and x/y (metres in `Event::epsg`, the batch's projected CRS)
// and LocationQuality; out-of-area flagging is done per batch by ingest/area_check.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/common/error.hpp"
#include "core/ingest/event.hpp"

namespace crimecast::ingest {

enum class InputFormat { kPoliceUk, kCanonicalCsv, kMapped };
Result<InputFormat> ParseInputFormat(std::string_view text);  // "police-uk", "csv", "mapped"

struct ReaderOptions {
  InputFormat format = InputFormat::kPoliceUk;
  std::string mapping_path;              // kMapped: TOML file
  std::string timezone;                  // local time zone of the data when times have no offset
  int input_epsg = 0;                    // CRS of x,y columns (0: lon/lat WGS84)
  int store_epsg = 0;                    // projected CRS for Event::x/y (0: chosen from the data)
  std::string source;                    // overrides the feed name
  std::size_t max_line_bytes = 1 << 20;  // longer physical records are rejected, not buffered
  std::size_t chunk_bytes = 1 << 20;     // bytes read per system call (tests use tiny chunks)
};

struct RowError {
  std::string file;
  std::int64_t line = 0;  // 0 when the error concerns the whole file
  std::string field;      // column name, or "" for the whole row
  ErrorCode code = ErrorCode::kBadField;
  std::string reason;
  std::string ToString() const;  // "file:line: field 'Latitude': latitude 95 is outside -90..90"
};

class EventReader {
 public:
  virtual ~EventReader() = default;
  // Appends up to max_rows rows' worth of events and errors. Returns false once the file is
  // exhausted (the call that returns false may still have appended rows).
  virtual Result<bool> Next(std::vector<Event>& events, std::vector<RowError>& errors,
                            std::size_t max_rows) = 0;
  virtual std::int64_t rows_read() const = 0;  // data rows consumed so far
  virtual double fraction_done() const = 0;    // 0..1 by bytes, for progress bars
  virtual const std::string& source() const = 0;
  virtual std::string format_name() const = 0;  // "police-uk", "csv", "mapped:vancouver-vpd"
  // EPSG code of Event::x/y for this file: ReaderOptions::store_epsg, or the code chosen from
  // the first located point; 0 until a located row has been read.
  virtual int store_epsg() const { return 0; }
  // Events to reuse, or nullptr (the default). Next() then takes the events it appends from the
  // back of *pool while it is non-empty, reset to a default Event except that their strings keep
  // their heap buffers: a long-running import hands consumed events back here, and filling them
  // costs no allocation per text field (and no free on the thread that consumed them). *pool
  // must outlive the calls to Next(); it is only touched inside Next().
  virtual void ReuseEvents(std::vector<Event>* pool) { (void)pool; }
};

Result<std::unique_ptr<EventReader>> OpenEventReader(const std::string& path,
                                                     const ReaderOptions& options);

// The same over bytes in memory (tests, fuzzers, uploads). `data` must outlive the reader;
// `name` stands in for the file name in errors.
Result<std::unique_ptr<EventReader>> OpenEventReaderFromMemory(std::string_view data,
                                                               const std::string& name,
                                                               const ReaderOptions& options);

}  // namespace crimecast::ingest
