// core/simulate/output.hpp
//
// Turning simulated events into the project's inputs: canonical CSV files (what `crimecast
// simulate` writes and `crimecast import --format csv` reads), the ground-truth record that goes
// with them, and model History for tests and benchmarks that skip the file round trip.
//
// * CSV: header `id,category,time,lon,lat`; id is the event id (time order), category the
//   category's slug (e.g. "violence"), time either ISO 8601 UTC with seconds ("2024-03-05T14:30:
//   07Z", the exact simulated instant truncated to the second) or, for month-only output, the
//   month ("2024-03"), which is what data.police.uk publishes; lon/lat are WGS84 degrees with 6
//   decimals (about 0.1 m), projected back from the simulation CRS with PROJ.
// * Truth: the parameters with units, the hotspots (projected and WGS84), and the realised
//   counts (background vs triggered, by category, expected total). As JSON (a sidecar file) or as
//   a few readable lines.
#pragma once

#include <cstdint>
#include <memory>
#include <nlohmann/json.hpp>
#include <span>
#include <string>

#include "core/common/error.hpp"
#include "core/models/model.hpp"
#include "core/simulate/simulate.hpp"

namespace crimecast::simulate {

enum class TimeResolution {
  kTimestamp,  // exact instant, ISO 8601 UTC
  kMonth,      // month only: the event is known to lie in [start of month, start of next month)
};

// Streams events to a CSV file ("-" writes to standard output). Not thread-safe.
class CsvEventWriter {
 public:
  static Result<CsvEventWriter> Open(const std::string& path, const SimulationConfig& config,
                                     TimeResolution resolution);
  CsvEventWriter(CsvEventWriter&&) noexcept;
  CsvEventWriter& operator=(CsvEventWriter&&) noexcept;
  ~CsvEventWriter();  // closes the file if Close() was not called (errors are then lost)

  // Appends rows; fails with kFileUnreadable on a write error (disk full) or kProjection when a
  // point cannot be projected to WGS84 (a CRS whose area of use is far from the study area).
  Result<void> Write(std::span<const SimulatedEvent> events);
  // Flushes and closes; reports write errors.
  Result<void> Close();
  std::int64_t rows_written() const;

 private:
  struct Impl;
  explicit CsvEventWriter(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

// The truth record. `csv_path` is written into it for reference (may be empty).
Result<nlohmann::json> TruthJson(const SimulationConfig& config, const SimulationCounts& counts,
                                 TimeResolution resolution, const std::string& csv_path);
// Human-readable summary of the same (several lines, no trailing newline).
std::string TruthText(const SimulationConfig& config, const SimulationCounts& counts);

// The events that started before `before`, as a model History in the simulation CRS: x/y are
// the simulated coordinates; times are [t, t + 1 s) for kTimestamp and the whole calendar month
// for kMonth; weight 1; id = event id.
models::History ToHistory(std::span<const SimulatedEvent> events, const SimulationConfig& config,
                          TimePoint before, TimeResolution resolution);

}  // namespace crimecast::simulate
