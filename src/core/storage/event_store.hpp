// core/storage/event_store.hpp
//
// The event store: the one place events and import batches are kept.
//
// Concepts:
// * An import batch is one file (or one API post) written atomically: either every accepted
//   row of it is committed together with its batch record, or nothing is. A batch is opened
//   with BeginBatch and becomes visible only on Commit; destroying an uncommitted BatchWriter
//   rolls it back. A process killed mid-import therefore leaves no partial batch, and running
//   the import again completes it.
// * Events are keyed by (source, source_id). Writing an event whose key exists is an upsert:
//   an identical record is a duplicate (nothing changes); a record of the same crime published
//   in another month (data.police.uk repeats Crime IDs) is merged: one event is kept, with the
//   earliest occurrence and the outcome of the latest publication, and the merge is counted.
// * Durability: a committed batch survives kill -9; it survives power loss once Commit returns
//   (Durability::kOnCommit, the default; SQLite: WAL journal, synchronous=FULL) or, for a batch
//   committed with Durability::kDeferred, once Durable() says so. The importer acknowledges a
//   file only then, and meanwhile writes the next one (decision 0007, fifth round).
//
// EventStore is an interface so that a PostgreSQL/PostGIS backend can implement it later; the
// embedded default is SqliteEventStore (storage/sqlite_event_store.hpp).
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/time.hpp"
#include "core/ingest/event.hpp"

namespace crimecast::storage {

class LayerStore;  // storage/layer_store.hpp

// What happened to one event written in a batch.
enum class WriteOutcome : std::uint8_t {
  kInserted = 0,   // new event
  kDuplicate = 1,  // identical (source, source_id, occurrence) already stored: nothing changed
  kMerged = 2,     // same crime published again in another period: merged into one event
};

// Provenance and counts of one import batch.
struct BatchInfo {
  std::int64_t id = 0;
  std::string source;     // feed name
  std::string format;     // "police-uk", "csv", "mapped:<mapping name>", "api"
  std::string file_name;  // as given on the command line (or "api")
  std::string sha256;     // of the file's bytes (hex)
  TimePoint started_at{};
  TimePoint finished_at{};
  std::int64_t rows_read = 0;    // data rows in the file (header excluded)
  std::int64_t accepted = 0;     // rows that passed validation (inserted + duplicate + merged)
  std::int64_t inserted = 0;     // new events
  std::int64_t rejected = 0;     // rows with an error (reported, not stored)
  std::int64_t duplicate = 0;    // rows already stored identically
  std::int64_t merged = 0;       // rows merged into an existing event (repeated Crime ID)
  std::int64_t unlocated = 0;    // accepted rows without a usable location
  std::int64_t out_of_area = 0;  // accepted rows far outside the force's area
  std::int64_t rows_by_category[kCategoryCount] = {};  // accepted rows by category
};

// Selects events. Empty optionals mean "no restriction".
struct EventFilter {
  std::optional<TimePoint> from;  // events whose occurrence interval starts at or after
  std::optional<TimePoint> to;    // ... and starts before `to`
  std::vector<Category> categories;
  std::optional<std::string> source;
  // Bounding box in WGS84 degrees (min_lon, min_lat, max_lon, max_lat); excludes unlocated.
  std::optional<std::array<double, 4>> bbox;
  bool located_only = false;
  bool include_out_of_area = true;
  std::int64_t limit = -1;  // -1: all
  std::int64_t offset = 0;
};

// Compact columns of located events for models (one entry per event).
struct PointColumns {
  std::vector<double> x, y;           // metres in `epsg`
  std::vector<double> lon, lat;       // WGS84
  std::vector<std::int64_t> t_start;  // UTC seconds
  std::vector<std::int64_t> t_end;    // UTC seconds (exclusive)
  std::vector<Category> category;
  std::vector<std::int64_t> id;       // store row id
  std::vector<std::uint8_t> quality;  // LocationQuality
  std::size_t size() const { return x.size(); }
};

// Values a backend derives from an event alone, without its database: computed ahead by
// EventStore::PrepareRows (on the import pipeline's reader thread) so that the thread holding
// the write transaction does not. Their meaning belongs to the backend.
struct RowHint {
  std::int64_t key = 0;
  std::int64_t spatial = 0;
};

// When a committed batch survives power loss (every committed batch survives the process being
// killed).
enum class Durability : std::uint8_t {
  kOnCommit,  // Commit returns once the batch is durable
  kDeferred,  // Commit returns once the batch is committed; EventStore::Durable tells when it is
              // durable (a backend that cannot defer makes it durable on commit)
};

// Writes one batch inside one transaction. Not thread-safe; one writer at a time per store.
class BatchWriter {
 public:
  virtual ~BatchWriter() = default;
  // Upserts one validated event (see the header comment for merge rules).
  virtual Result<WriteOutcome> Write(const Event& event) = 0;
  // Writes events in order, as Write on each would, and replaces `outcomes` with one outcome per
  // event. Backends override it to amortise per-statement costs over many rows. `hints` is
  // empty, or one per event from PrepareRows on these very events (unchanged since).
  virtual Result<void> WriteMany(std::span<const Event> events, std::vector<WriteOutcome>& outcomes,
                                 std::span<const RowHint> /*hints*/ = {}) {
    outcomes.clear();
    for (const Event& e : events) {
      auto w = Write(e);
      if (!w) return Unexpected(w.error());
      outcomes.push_back(*w);
    }
    return {};
  }
  // Records the batch's final counts and commits everything atomically, durably as asked at
  // BeginBatch.
  virtual Result<BatchInfo> Commit(BatchInfo counts) = 0;
  virtual std::int64_t batch_id() const = 0;
};

struct MonthCategoryCount {
  std::string month;  // "YYYY-MM" of the occurrence start
  Category category;
  std::int64_t events = 0;
  std::int64_t unlocated = 0;
  std::int64_t out_of_area = 0;
};

class EventStore {
 public:
  virtual ~EventStore() = default;

  // Fills `hints` with one RowHint per event for BatchWriter::WriteMany, or leaves it empty when
  // the backend has none. Needs no database access: thread-safe, callable on any thread at any
  // time.
  virtual void PrepareRows(std::span<const Event> events, std::vector<RowHint>& hints) const {
    (void)events;
    hints.clear();
  }
  // A point in the store's commit order covering every batch committed before this call; starts
  // making them durable (those committed with Durability::kDeferred) in the background. 0 when
  // every commit is durable already.
  virtual std::uint64_t CommitPoint() { return 0; }
  // Whether every batch committed before `point` survives power loss; with `wait`, blocks until
  // it does. An error means their durability could not be established (e.g. fdatasync failed).
  virtual Result<bool> Durable(std::uint64_t point, bool wait) {
    (void)point;
    (void)wait;
    return true;
  }
  // Opens a batch; the returned writer holds the store's write transaction until Commit or
  // destruction. `durability` says when its Commit is durable.
  virtual Result<std::unique_ptr<BatchWriter>> BeginBatch(
      const BatchInfo& info, Durability durability = Durability::kOnCommit) = 0;
  // The committed batch whose file had this sha256, if any.
  virtual Result<std::optional<BatchInfo>> FindBatchBySha256(const std::string& sha256) = 0;
  virtual Result<std::vector<BatchInfo>> ListBatches() = 0;

  // Streams events matching the filter in (t_start, id) order. The callback returns false to stop.
  virtual Result<std::int64_t> Scan(const EventFilter& filter,
                                    const std::function<bool(const Event&)>& visit) = 0;
  virtual Result<std::int64_t> Count(const EventFilter& filter) = 0;
  // Located, in-area events matching the filter, as columns, projected to `epsg` (the store
  // reprojects when events were stored in another CRS).
  virtual Result<PointColumns> LoadPoints(const EventFilter& filter, int epsg) = 0;
  virtual Result<std::vector<MonthCategoryCount>> CountByMonthCategory(const EventFilter& f) = 0;
  // Time span of stored events: [min start, max end). NoData when empty.
  virtual Result<TimeInterval> Extent() = 0;
  // The EPSG code most events are stored in (0 when empty).
  virtual Result<int> DominantEpsg() = 0;

  // The area covariate layers kept with the events (storage/layer_store.hpp), on the same
  // connection and with the same threading rule; nullptr when this backend keeps none.
  virtual LayerStore* layers() { return nullptr; }
};

}  // namespace crimecast::storage
