// core/storage/sqlite_event_store.hpp
//
// The embedded EventStore: one SQLite file, WAL journal, synchronous=FULL, versioned schema
// migrations (storage/migrations.cpp). Spatial queries use an index on (time bucket, Z-order
// key), the bucket being t_start >> 21 (2^21 s, about 24 days) and the key a Z-order key over
// WGS84 positions (spatial/zorder.hpp): a bounding-box query seeks each Z-order range in each
// bucket of its time range (of the stored data when it has none), so an import batch appends to
// its own buckets instead of rewriting the whole index. Time queries use an index on t_start.
//
// Keys: every event has a key, EventKeyHash(source, source_id), stored in events.key_hash. No two
// events share a key; the store keeps that invariant itself with an in-memory key index that it
// persists append-only beside the events (storage/event_key_index.hpp; a unique SQLite index in
// hash order was rewritten by every import batch). The stored (source, source_id) is always
// compared, so a hash collision cannot merge two records: the second record of a colliding pair
// takes the next free key (linear probing; events are never deleted, so probe sequences have no
// holes). IntegrityCheck checks the invariant as well as SQLite's own structures.
//
// Import cost (docs/decisions/0007-import-speed.md): BatchWriter::WriteMany gives new rows their
// ids itself and inserts them 32 rows per INSERT statement, reading stored rows only for keys
// already taken; the writer's statements are prepared once per store and kept from batch to
// batch; new databases use 8 KiB pages; commits only append to the WAL, and a background
// connection copies it into the database file (storage/wal_checkpointer.hpp). A batch that grows
// large against the table (at least bulk_rows() inserted rows, and at least as many as the table
// held before it) takes the bulk path: the time and Z-order indexes are dropped inside the
// batch's transaction and re-created at Commit.
//
// Threading: one SqliteEventStore is one SQLite connection opened in no-mutex mode; use it from
// one thread at a time. Open one store per thread for concurrent readers (WAL lets them run
// alongside the single writer).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "core/storage/event_store.hpp"
#include "core/storage/layer_store.hpp"

struct sqlite3;

namespace crimecast::storage {

namespace internal {
struct WriterStatements;  // the batch writer's prepared statements (sqlite_event_store.cpp)
class EventKeyIndex;      // storage/event_key_index.hpp
class WalCheckpointer;    // storage/wal_checkpointer.hpp
class WalSyncer;          // storage/wal_syncer.hpp
}  // namespace internal

// 63-bit FNV-1a of source '\0' source_id (non-negative, so it sorts as an SQLite integer). Stored
// in events.key_hash unless a collision moved the event to a later key.
std::int64_t EventKeyHash(std::string_view source, std::string_view source_id);

class SqliteEventStore final : public EventStore {
 public:
  // Opens or creates the database and brings its schema up to date.
  static Result<std::unique_ptr<SqliteEventStore>> Open(const std::string& path);
  ~SqliteEventStore() override;

  Result<std::unique_ptr<BatchWriter>> BeginBatch(
      const BatchInfo& info, Durability durability = Durability::kOnCommit) override;
  // RowHint::key = EventKeyHash(source, source_id); RowHint::spatial = spatial::ZKey(lon, lat), or
  // -1 when unlocated.
  void PrepareRows(std::span<const Event> events, std::vector<RowHint>& hints) const override;
  // Durability::kDeferred commits use synchronous=NORMAL; a background thread fdatasyncs the WAL
  // file (storage/wal_syncer.hpp). Without one (temporary or in-memory database), every commit is
  // durable on commit.
  std::uint64_t CommitPoint() override;
  Result<bool> Durable(std::uint64_t point, bool wait) override;
  // WAL syncs made by the background thread; -1 when there is none (for tests).
  std::int64_t background_syncs() const;
  Result<std::optional<BatchInfo>> FindBatchBySha256(const std::string& sha256) override;
  Result<std::vector<BatchInfo>> ListBatches() override;
  Result<std::int64_t> Scan(const EventFilter& filter,
                            const std::function<bool(const Event&)>& visit) override;
  Result<std::int64_t> Count(const EventFilter& filter) override;
  Result<PointColumns> LoadPoints(const EventFilter& filter, int epsg) override;
  Result<std::vector<MonthCategoryCount>> CountByMonthCategory(const EventFilter& f) override;
  Result<TimeInterval> Extent() override;
  Result<int> DominantEpsg() override;
  LayerStore* layers() override;

  // Inserted rows of one batch after which the bulk path may start (see above); 0 disables it.
  static constexpr std::int64_t kDefaultBulkRows = 200'000;
  std::int64_t bulk_rows() const { return bulk_rows_; }
  void set_bulk_rows(std::int64_t rows) { bulk_rows_ = rows; }

  // WAL frames after a commit from which the background checkpointer copies them into the
  // database file (storage/wal_checkpointer.hpp). Takes effect if set before the first batch.
  static constexpr int kDefaultCheckpointFrames = 256;
  void set_checkpoint_frames(int frames) { checkpoint_frames_ = frames; }
  // Background checkpoints completed so far; -1 when there is no checkpointer.
  std::int64_t background_checkpoints() const;

  // The connection's page cache in KiB (Open sets 65,536: queries revisit pages). An import
  // writes each page about once, and a small cache recycles its page buffers instead of taking
  // fresh memory for every page written (a page fault each): `crimecast import` uses
  // kImportCacheKiB, 3 % faster on the Gwent files (decision 0007, fifth round).
  static constexpr std::int64_t kImportCacheKiB = 8 * 1024;
  Result<void> SetCacheKiB(std::int64_t kib);

  int SchemaVersion() const;
  sqlite3* handle() { return db_; }  // for tests and integrity checks
  // "ok", or what is wrong: SQLite's integrity_check, then the key invariant (no two events
  // share a key; the persisted key index agrees with events.key_hash).
  Result<std::string> IntegrityCheck();

 private:
  explicit SqliteEventStore(sqlite3* db);
  sqlite3* db_ = nullptr;
  std::int64_t bulk_rows_ = kDefaultBulkRows;
  int checkpoint_frames_ = kDefaultCheckpointFrames;
  std::unique_ptr<LayerStore> layers_;  // created on first use, on db_
  // Prepared once and kept from batch to batch; finalised before the connection closes.
  std::unique_ptr<internal::WriterStatements> writer_statements_;
  // Which event id holds each key; loaded by the first batch, kept up to date by the next ones.
  std::unique_ptr<internal::EventKeyIndex> keys_;
  // Started by the first batch: checkpoints the WAL on its own thread (none for a temporary or
  // in-memory database, or when a second connection cannot be opened).
  std::unique_ptr<internal::WalCheckpointer> checkpointer_;
  std::unique_ptr<internal::WalSyncer> syncer_;  // started with the checkpointer
  bool checkpointer_tried_ = false;
};

}  // namespace crimecast::storage
