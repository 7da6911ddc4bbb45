// core/storage/sqlite_event_store.hpp
//
// The embedded EventStore: one SQLite file, WAL journal, synchronous=FULL, versioned schema
// migrations (storage/migrations.cpp). Spatial queries use a Z-order key index over WGS84
// positions (spatial/zorder.hpp); time queries an index on t_start.
//
// Threading: one SqliteEventStore is one SQLite connection opened in no-mutex mode; use it from
// one thread at a time. Open one store per thread for concurrent readers (WAL lets them run
// alongside the single writer).
#pragma once

#include <memory>
#include <string>

#include "core/storage/event_store.hpp"

struct sqlite3;

namespace crimecast::storage {

class SqliteEventStore final : public EventStore {
 public:
  // Opens or creates the database and brings its schema up to date.
  static Result<std::unique_ptr<SqliteEventStore>> Open(const std::string& path);
  ~SqliteEventStore() override;

  Result<std::unique_ptr<BatchWriter>> BeginBatch(const BatchInfo& info) override;
  Result<std::optional<BatchInfo>> FindBatchBySha256(const std::string& sha256) override;
  Result<std::vector<BatchInfo>> ListBatches() override;
  Result<std::int64_t> Scan(const EventFilter& filter,
                            const std::function<bool(const Event&)>& visit) override;
  Result<std::int64_t> Count(const EventFilter& filter) override;
  Result<PointColumns> LoadPoints(const EventFilter& filter, int epsg) override;
  Result<std::vector<MonthCategoryCount>> CountByMonthCategory(const EventFilter& f) override;
  Result<TimeInterval> Extent() override;
  Result<int> DominantEpsg() override;

  int SchemaVersion() const;
  sqlite3* handle() { return db_; }  // for tests and integrity checks
  Result<std::string> IntegrityCheck();

 private:
  explicit SqliteEventStore(sqlite3* db) : db_(db) {}
  sqlite3* db_ = nullptr;
};

}  // namespace crimecast::storage
