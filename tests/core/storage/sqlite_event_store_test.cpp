#include "core/storage/sqlite_event_store.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <map>
#include <optional>
#include <span>
#include <thread>
#include <utility>

#include "core/spatial/zorder.hpp"
#include "core/storage/migrations.hpp"
#include "support/paths.hpp"

namespace crimecast::storage {
namespace {

Event MakeEvent(std::string id, std::string month, double lon, double lat,
                std::string outcome = "Under investigation") {
  Event e;
  e.source = "police-uk";
  e.source_id = std::move(id);
  e.category = Category::kBurglary;
  e.source_type = "Burglary";
  e.when = *ParseMonth(month);
  if (std::isfinite(lon)) {
    e.lon = lon;
    e.lat = lat;
    e.x = 330000 + lon;
    e.y = 190000 + lat;
    e.epsg = 27700;
    e.quality = LocationQuality::kSnapped;
  }
  e.outcome = std::move(outcome);
  return e;
}

std::unique_ptr<SqliteEventStore> OpenTemp(const std::string& name) {
  auto dir = testing::TempDir(name);
  auto s = SqliteEventStore::Open((dir / "t.db").string());
  EXPECT_TRUE(s) << s.error().message;
  return std::move(*s);
}

TEST(SqliteEventStore, CreatesSchemaInWalMode) {
  auto store = OpenTemp("schema");
  EXPECT_EQ(store->SchemaVersion(), LatestSchemaVersion());
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(store->handle(), "PRAGMA journal_mode", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_STREQ(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)), "wal");
  sqlite3_finalize(st);
  EXPECT_EQ(*store->IntegrityCheck(), "ok");
}

TEST(SqliteEventStore, InsertDuplicateAndMergeRepeatedCrimeId) {
  auto store = OpenTemp("merge");
  {
    auto w = store->BeginBatch({.source = "police-uk", .format = "police-uk", .file_name = "a"});
    ASSERT_TRUE(w);
    EXPECT_EQ(*(*w)->Write(MakeEvent("c1", "2024-01", -3.0, 51.6)), WriteOutcome::kInserted);
    EXPECT_EQ(*(*w)->Write(MakeEvent("c2", "2024-01", NAN, NAN)), WriteOutcome::kInserted);
    // Same id, same month again in the same batch: a duplicate.
    EXPECT_EQ(*(*w)->Write(MakeEvent("c1", "2024-01", -3.0, 51.6)), WriteOutcome::kDuplicate);
    ASSERT_TRUE((*w)->Commit({}));
  }
  {
    auto w = store->BeginBatch({.source = "police-uk", .format = "police-uk", .file_name = "b"});
    ASSERT_TRUE(w);
    // Published again the next month with a new outcome: merged into the same event.
    EXPECT_EQ(*(*w)->Write(MakeEvent("c1", "2024-02", -3.0, 51.6, "Charged")),
              WriteOutcome::kMerged);
    ASSERT_TRUE((*w)->Commit({}));
  }
  {
    // Re-importing February: the publication was already merged, so nothing changes.
    auto w = store->BeginBatch({.source = "police-uk", .format = "police-uk", .file_name = "b"});
    EXPECT_EQ(*(*w)->Write(MakeEvent("c1", "2024-02", -3.0, 51.6, "Charged")),
              WriteOutcome::kDuplicate);
    // ... and re-importing January does not undo the later outcome.
    EXPECT_EQ(*(*w)->Write(MakeEvent("c1", "2024-01", -3.0, 51.6)), WriteOutcome::kDuplicate);
    ASSERT_TRUE((*w)->Commit({}));
  }
  EXPECT_EQ(*store->Count({}), 2);
  std::vector<Event> seen;
  ASSERT_TRUE(store->Scan({}, [&](const Event& e) {
    seen.push_back(e);
    return true;
  }));
  ASSERT_EQ(seen.size(), 2u);
  const Event& c1 = seen[0].source_id == "c1" ? seen[0] : seen[1];
  EXPECT_EQ(FormatMonth(c1.when.start), "2024-01");  // earliest occurrence kept
  EXPECT_EQ(c1.outcome, "Charged");                  // latest outcome kept
  const Event& c2 = seen[0].source_id == "c2" ? seen[0] : seen[1];
  EXPECT_FALSE(c2.Located());
  EXPECT_TRUE(std::isnan(c2.lon));
}

TEST(SqliteEventStore, UncommittedBatchRollsBack) {
  auto store = OpenTemp("rollback");
  {
    auto w = store->BeginBatch({.source = "s", .format = "csv", .file_name = "f"});
    ASSERT_TRUE(w);
    ASSERT_TRUE((*w)->Write(MakeEvent("x", "2024-01", -3.0, 51.6)));
    // Destroyed without Commit.
  }
  EXPECT_EQ(*store->Count({}), 0);
  auto batches = store->ListBatches();
  ASSERT_TRUE(batches);
  EXPECT_TRUE(batches->empty());
  // The store is usable afterwards.
  auto w = store->BeginBatch({.source = "s", .format = "csv", .file_name = "f"});
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->Write(MakeEvent("x", "2024-01", -3.0, 51.6)));
  BatchInfo counts;
  counts.rows_read = 1;
  counts.rows_by_category[static_cast<int>(Category::kBurglary)] = 1;
  ASSERT_TRUE((*w)->Commit(counts));
  batches = store->ListBatches();
  ASSERT_EQ(batches->size(), 1u);
  EXPECT_EQ((*batches)[0].rows_read, 1);
  EXPECT_EQ((*batches)[0].rows_by_category[static_cast<int>(Category::kBurglary)], 1);
}

TEST(SqliteEventStore, FiltersAndAggregates) {
  auto store = OpenTemp("filters");
  auto w = store->BeginBatch({.source = "s", .format = "csv", .file_name = "f"});
  ASSERT_TRUE(w);
  ASSERT_TRUE((*w)->Write(MakeEvent("a", "2024-01", -3.0, 51.6)));
  ASSERT_TRUE((*w)->Write(MakeEvent("b", "2024-02", -3.1, 51.7)));
  Event robbery = MakeEvent("c", "2024-02", 0.5, 52.0);
  robbery.category = Category::kRobbery;
  ASSERT_TRUE((*w)->Write(robbery));
  ASSERT_TRUE((*w)->Write(MakeEvent("d", "2024-03", NAN, NAN)));
  ASSERT_TRUE((*w)->Commit({}));

  EventFilter feb;
  feb.from = ParseMonth("2024-02")->start;
  feb.to = ParseMonth("2024-03")->start;
  EXPECT_EQ(*store->Count(feb), 2);
  feb.categories = {Category::kRobbery};
  EXPECT_EQ(*store->Count(feb), 1);

  EventFilter box;
  box.bbox = std::array<double, 4>{-3.2, 51.5, -2.9, 51.8};
  EXPECT_EQ(*store->Count(box), 2);

  auto counts = store->CountByMonthCategory({});
  ASSERT_TRUE(counts);
  ASSERT_EQ(counts->size(), 4u);
  EXPECT_EQ((*counts)[3].month, "2024-03");
  EXPECT_EQ((*counts)[3].unlocated, 1);

  auto extent = store->Extent();
  ASSERT_TRUE(extent);
  EXPECT_EQ(FormatMonth(extent->start), "2024-01");
  EXPECT_EQ(FormatMonth(extent->end), "2024-04");
  EXPECT_EQ(*store->DominantEpsg(), 27700);

  // LoadPoints returns located events only, reprojecting when asked for another CRS.
  auto pts = store->LoadPoints({}, 27700);
  ASSERT_TRUE(pts);
  EXPECT_EQ(pts->size(), 3u);
  auto utm = store->LoadPoints({}, 32630);
  ASSERT_TRUE(utm);
  ASSERT_EQ(utm->size(), 3u);
  EXPECT_GT(utm->x[0], 100000);  // a real UTM easting, not the stored BNG value
  EXPECT_NE(utm->x[0], pts->x[0]);
}

// Every stored column of every event, in id order, for comparing two stores.
std::string Dump(SqliteEventStore& store) {
  std::string out;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(store.handle(),
                     "SELECT id, source, source_id, category, t_start, t_end, lon, lat, outcome, "
                     "outcome_as_of, batch_id, merged_count, zkey FROM events ORDER BY id",
                     -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    for (int c = 0; c < sqlite3_column_count(st); ++c) {
      const auto* t = sqlite3_column_text(st, c);
      out += t ? reinterpret_cast<const char*>(t) : "NULL";
      out += c + 1 < sqlite3_column_count(st) ? "|" : "\n";
    }
  }
  sqlite3_finalize(st);
  sqlite3_prepare_v2(store.handle(), "SELECT * FROM event_publications ORDER BY 1, 2", -1, &st,
                     nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    out += fmt::format("pub {} {}\n", sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1));
  }
  sqlite3_finalize(st);
  return out;
}

// WriteMany's 32-row blocks must give exactly what Write gives row by row: outcomes, ids,
// merged outcomes and publications, with repeats inside a block, across blocks and across
// batches, and with a partial last block.
TEST(SqliteEventStore, WriteManyMatchesWriteRowByRow) {
  std::vector<std::vector<Event>> batches(3);
  for (int i = 0; i < 100; ++i) {  // January: 100 crimes, every 7th listed twice
    batches[0].push_back(MakeEvent(fmt::format("c{}", i), "2024-01", -3.0 + i * 1e-3, 51.6));
    if (i % 7 == 0) batches[0].push_back(batches[0].back());
  }
  for (int i = 50; i < 170; ++i) {  // February: 50 repeats (new outcome), 70 new, one twice
    batches[1].push_back(
        MakeEvent(fmt::format("c{}", i), "2024-02", -3.0 + i * 1e-3, 51.6, "Charged"));
    if (i == 60) batches[1].push_back(MakeEvent("c60", "2024-02", -3.0, 51.6, "Other"));
  }
  batches[2] = batches[1];                                     // February again: all duplicates
  batches[2].push_back(MakeEvent("c0", "2023-12", NAN, NAN));  // an earlier publication

  auto row_store = OpenTemp("rows");
  auto block_store = OpenTemp("blocks");
  auto hinted_store = OpenTemp("hinted");  // WriteMany with PrepareRows' hints (the importer's way)
  for (const auto& batch : batches) {
    auto wr = row_store->BeginBatch({.source = "police-uk", .format = "police-uk"});
    auto wb = block_store->BeginBatch({.source = "police-uk", .format = "police-uk"});
    auto wh = hinted_store->BeginBatch({.source = "police-uk", .format = "police-uk"});
    ASSERT_TRUE(wr && wb && wh);
    std::vector<WriteOutcome> by_row;
    for (const Event& e : batch) by_row.push_back(*(*wr)->Write(e));
    std::vector<WriteOutcome> by_block;
    ASSERT_TRUE((*wb)->WriteMany(batch, by_block));
    EXPECT_EQ(by_row, by_block);
    std::vector<RowHint> hints;
    hinted_store->PrepareRows(batch, hints);
    ASSERT_EQ(hints.size(), batch.size());
    std::vector<WriteOutcome> by_hinted;
    ASSERT_TRUE((*wh)->WriteMany(batch, by_hinted, hints));
    EXPECT_EQ(by_row, by_hinted);
    ASSERT_TRUE((*wr)->Commit({}));
    ASSERT_TRUE((*wb)->Commit({}));
    ASSERT_TRUE((*wh)->Commit({}));
  }
  EXPECT_EQ(*row_store->Count({}), 170);
  EXPECT_EQ(Dump(*row_store), Dump(*block_store));
  EXPECT_EQ(Dump(*row_store), Dump(*hinted_store));
}

std::vector<std::string> EventIndexes(SqliteEventStore& store) {
  std::vector<std::string> out;
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(store.handle(),
                     "SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'events' "
                     "AND sql IS NOT NULL ORDER BY name",
                     -1, &st, nullptr);
  while (sqlite3_step(st) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  return out;
}

std::int64_t QueryInt(SqliteEventStore& store, const char* sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(store.handle(), sql, -1, &st, nullptr), SQLITE_OK);
  sqlite3_step(st);
  const std::int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

std::int64_t CacheSize(SqliteEventStore& store) {
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(store.handle(), "PRAGMA cache_size", -1, &st, nullptr);
  sqlite3_step(st);
  const std::int64_t v = sqlite3_column_int64(st, 0);
  sqlite3_finalize(st);
  return v;
}

// The bulk path (indexes dropped mid-batch, re-created at Commit) must store exactly what the
// row-by-row path stores, leave the indexes complete, and leave them in place when the batch is
// rolled back. A threshold of 40 rows makes the first batch switch to it part-way through, with
// duplicates and merges written after the switch.
TEST(SqliteEventStore, BulkPathMatchesRowByRowAndKeepsIndexes) {
  std::vector<std::vector<Event>> batches(3);
  for (int i = 0; i < 300; ++i) {
    batches[0].push_back(MakeEvent(fmt::format("c{}", i), "2024-01", -3.0 + i * 1e-3, 51.6));
    if (i % 7 == 0) batches[0].push_back(batches[0].back());
    if (i == 250) batches[0].push_back(MakeEvent("c3", "2024-02", -3.0, 51.6, "Charged"));
  }
  for (int i = 250; i < 900; ++i) {  // large against the table: also bulk
    batches[1].push_back(
        MakeEvent(fmt::format("c{}", i), "2024-03", -2.0 + i * 1e-3, 51.2, "Charged"));
    if (i % 11 == 0) batches[1].push_back(MakeEvent(fmt::format("c{}", i), "2023-12", NAN, NAN));
  }
  batches[2] = {MakeEvent("late", "2024-04", -3.5, 51.9), MakeEvent("c1", "2024-04", -3, 51.6)};

  auto row_store = OpenTemp("bulk_rows");
  row_store->set_bulk_rows(0);
  auto bulk_store = OpenTemp("bulk");
  bulk_store->set_bulk_rows(40);
  // As `crimecast import` runs: a small cache, grown for the index rebuild and given back.
  ASSERT_TRUE(bulk_store->SetCacheKiB(SqliteEventStore::kImportCacheKiB));
  const auto indexes = EventIndexes(*row_store);
  ASSERT_EQ(indexes, (std::vector<std::string>{"events_time", "events_tzkey"}));
  for (const auto& batch : batches) {
    auto wr = row_store->BeginBatch({.source = "police-uk", .format = "police-uk"});
    auto wb = bulk_store->BeginBatch({.source = "police-uk", .format = "police-uk"});
    ASSERT_TRUE(wr && wb);
    std::vector<WriteOutcome> by_row;
    for (const Event& e : batch) by_row.push_back(*(*wr)->Write(e));
    std::vector<WriteOutcome> by_bulk;
    for (std::size_t i = 0; i < batch.size(); i += 50) {
      std::vector<WriteOutcome> part;
      const std::span<const Event> chunk(batch.data() + i,
                                         std::min<std::size_t>(50, batch.size() - i));
      ASSERT_TRUE((*wb)->WriteMany(chunk, part));
      by_bulk.insert(by_bulk.end(), part.begin(), part.end());
    }
    EXPECT_EQ(by_row, by_bulk);
    ASSERT_TRUE((*wr)->Commit({}));
    ASSERT_TRUE((*wb)->Commit({}));
    EXPECT_EQ(EventIndexes(*bulk_store), indexes);
    EXPECT_EQ(CacheSize(*bulk_store), -SqliteEventStore::kImportCacheKiB);
  }
  EXPECT_EQ(Dump(*row_store), Dump(*bulk_store));
  EXPECT_EQ(*bulk_store->IntegrityCheck(), "ok");
  EventFilter march;
  march.from = ParseMonth("2024-03")->start;
  march.to = ParseMonth("2024-04")->start;
  EventFilter box;
  box.bbox = std::array<double, 4>{-1.5, 51.1, -1.2, 51.3};
  EXPECT_GT(*bulk_store->Count(march), 500);
  EXPECT_EQ(*bulk_store->Count(march), *row_store->Count(march));
  EXPECT_GT(*bulk_store->Count(box), 200);
  EXPECT_EQ(*bulk_store->Count(box), *row_store->Count(box));

  // A bulk batch that is abandoned rolls back with its index drops.
  const std::int64_t before = *bulk_store->Count({});
  {
    auto w = bulk_store->BeginBatch({.source = "police-uk", .format = "police-uk"});
    ASSERT_TRUE(w);
    std::vector<Event> many;
    for (int i = 0; i < 2000; ++i)
      many.push_back(MakeEvent(fmt::format("r{}", i), "2024-05", -3, 51));
    std::vector<WriteOutcome> out;
    ASSERT_TRUE((*w)->WriteMany(many, out));
    EXPECT_LT(EventIndexes(*bulk_store).size(), indexes.size());  // the switch happened
  }
  EXPECT_EQ(EventIndexes(*bulk_store), indexes);
  EXPECT_EQ(CacheSize(*bulk_store), -SqliteEventStore::kImportCacheKiB);
  EXPECT_EQ(*bulk_store->Count({}), before);
  EXPECT_EQ(*bulk_store->IntegrityCheck(), "ok");
}

// Runs SQL on the store's file through a connection of its own.
void ExecOnFile(const std::string& path, const std::string& sql) {
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
  ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
      << sqlite3_errmsg(db);
  sqlite3_close(db);
}

std::unique_ptr<SqliteEventStore> OpenPath(const std::string& path) {
  auto s = SqliteEventStore::Open(path);
  EXPECT_TRUE(s) << s.error().message;
  return s ? std::move(*s) : nullptr;
}

// Forges a hash collision: stores "other" under the key that "victim" hashes to, then drops the
// key chunks so that the store reads the forged key back from events.key_hash.
std::unique_ptr<SqliteEventStore> StoreWithForgedCollision(const std::string& name) {
  const std::string path = (testing::TempDir(name) / "t.db").string();
  {
    auto store = OpenPath(path);
    auto w = store->BeginBatch({.source = "police-uk", .format = "police-uk"});
    EXPECT_TRUE(w);
    EXPECT_EQ(*(*w)->Write(MakeEvent("other", "2024-01", -3.0, 51.6)), WriteOutcome::kInserted);
    EXPECT_TRUE((*w)->Commit({}));
  }
  ExecOnFile(path, fmt::format("UPDATE events SET key_hash = {} WHERE source_id = 'other'; "
                               "DELETE FROM event_key_chunks;",
                               EventKeyHash("police-uk", "victim")));
  return OpenPath(path);
}

// Two different records whose keys hash alike must stay two events: the second takes the next
// key, and both are found again (as duplicates) on re-import, row by row and in blocks.
TEST(SqliteEventStore, KeyHashCollisionKeepsBothRecords) {
  const std::int64_t key = EventKeyHash("police-uk", "victim");
  auto store = StoreWithForgedCollision("collision");
  std::vector<Event> block;
  for (int i = 0; i < 40; ++i) block.push_back(MakeEvent(fmt::format("n{}", i), "2024-01", -3, 51));
  block[5] = MakeEvent("victim", "2024-01", -3.1, 51.7);
  block[9] = MakeEvent("victim", "2024-01", -3.1, 51.7);
  {
    auto w = store->BeginBatch({.source = "police-uk", .format = "police-uk"});
    ASSERT_EQ(*(*w)->Write(MakeEvent("victim", "2024-01", -3.1, 51.7)), WriteOutcome::kInserted);
    ASSERT_EQ(*(*w)->Write(MakeEvent("victim", "2024-01", -3.1, 51.7)), WriteOutcome::kDuplicate);
    std::vector<WriteOutcome> out;
    ASSERT_TRUE((*w)->WriteMany(block, out));
    for (int i = 0; i < 40; ++i) {
      EXPECT_EQ(out[i], i == 5 || i == 9 ? WriteOutcome::kDuplicate : WriteOutcome::kInserted) << i;
    }
    ASSERT_TRUE((*w)->Commit({}));
  }
  EXPECT_EQ(*store->Count({}), 40);
  EXPECT_EQ(QueryInt(*store, "SELECT key_hash FROM events WHERE source_id = 'victim'"), key + 1);
  EXPECT_EQ(*store->IntegrityCheck(), "ok");
  // A fresh block whose first row collides with a stored key and whose later row repeats it.
  auto store2 = StoreWithForgedCollision("collision2");
  {
    auto w = store2->BeginBatch({.source = "police-uk", .format = "police-uk"});
    std::vector<WriteOutcome> out;
    ASSERT_TRUE((*w)->WriteMany(block, out));
    EXPECT_EQ(out[5], WriteOutcome::kInserted);
    EXPECT_EQ(out[9], WriteOutcome::kDuplicate);
    ASSERT_TRUE((*w)->Commit({}));
  }
  EXPECT_EQ(*store2->Count({}), 40);
  EXPECT_EQ(*store2->IntegrityCheck(), "ok");
}

std::vector<Event> NumberedEvents(int from, int to) {
  std::vector<Event> out;
  for (int i = from; i < to; ++i) {
    out.push_back(MakeEvent(fmt::format("e{}", i), "2024-01", -3.0 + i * 1e-4, 51.6));
  }
  return out;
}

std::vector<WriteOutcome> WriteBatch(SqliteEventStore& store, std::span<const Event> events,
                                     bool commit = true) {
  auto w = store.BeginBatch({.source = "police-uk", .format = "police-uk"});
  EXPECT_TRUE(w) << w.error().message;
  std::vector<WriteOutcome> out;
  EXPECT_TRUE((*w)->WriteMany(events, out));
  if (commit) {
    EXPECT_TRUE((*w)->Commit({}));
  }
  return out;
}

std::size_t CountOf(const std::vector<WriteOutcome>& out, WriteOutcome what) {
  return static_cast<std::size_t>(std::count(out.begin(), out.end(), what));
}

// Two connections writing the same file in turn: each batch first learns the keys the other
// committed, so nothing is stored twice (the invariant the unique index used to enforce).
TEST(SqliteEventStore, KeyIndexFollowsOtherConnections) {
  const std::string path = (testing::TempDir("two_writers") / "t.db").string();
  auto a = OpenPath(path);
  auto b = OpenPath(path);
  const auto first = NumberedEvents(0, 100);
  const auto second = NumberedEvents(50, 150);
  const auto third = NumberedEvents(120, 200);
  EXPECT_EQ(CountOf(WriteBatch(*a, first), WriteOutcome::kInserted), 100u);
  auto out = WriteBatch(*b, second);
  EXPECT_EQ(CountOf(out, WriteOutcome::kDuplicate), 50u);
  EXPECT_EQ(CountOf(out, WriteOutcome::kInserted), 50u);
  out = WriteBatch(*a, third);
  EXPECT_EQ(CountOf(out, WriteOutcome::kDuplicate), 30u);
  EXPECT_EQ(CountOf(out, WriteOutcome::kInserted), 50u);
  out = WriteBatch(*b, NumberedEvents(0, 200));
  EXPECT_EQ(CountOf(out, WriteOutcome::kDuplicate), 200u);
  EXPECT_EQ(*a->Count({}), 200);
  EXPECT_EQ(QueryInt(*a, "SELECT COUNT(DISTINCT source_id) FROM events"), 200);
  EXPECT_EQ(*a->IntegrityCheck(), "ok");
}

// A batch rolled back leaves no key behind: the same events are new to the next batch.
TEST(SqliteEventStore, RolledBackBatchLeavesNoKeys) {
  auto store = OpenTemp("rollback_keys");
  const auto events = NumberedEvents(0, 70);
  EXPECT_EQ(CountOf(WriteBatch(*store, std::span(events).first(10)), WriteOutcome::kInserted), 10u);
  WriteBatch(*store, events, /*commit=*/false);
  EXPECT_EQ(*store->Count({}), 10);
  const auto out = WriteBatch(*store, events);
  EXPECT_EQ(CountOf(out, WriteOutcome::kDuplicate), 10u);
  EXPECT_EQ(CountOf(out, WriteOutcome::kInserted), 60u);
  EXPECT_EQ(*store->Count({}), 70);
  EXPECT_EQ(QueryInt(*store, "SELECT MAX(id) FROM events"), 70);
  EXPECT_EQ(*store->IntegrityCheck(), "ok");
}

// The key chunks are a cache of events.key_hash: written with the events (1,024 ids a chunk,
// across batches), checked by IntegrityCheck, and rebuilt when missing or damaged.
TEST(SqliteEventStore, KeyChunksPersistAndRebuild) {
  const std::string path = (testing::TempDir("key_chunks") / "t.db").string();
  const auto events = NumberedEvents(0, 2500);
  {
    auto store = OpenPath(path);
    WriteBatch(*store, std::span(events).first(700));
    WriteBatch(*store, std::span(events).subspan(700, 1400));
    WriteBatch(*store, std::span(events).subspan(2100));
    EXPECT_EQ(QueryInt(*store, "SELECT COUNT(*) FROM event_key_chunks"), 3);
    // ids 0 (none) to 2,500: two full chunks and 453 keys.
    EXPECT_EQ(QueryInt(*store, "SELECT SUM(length(keys)) FROM event_key_chunks"), 2501 * 8);
    EXPECT_EQ(*store->IntegrityCheck(), "ok");
  }
  // Every way of losing chunks: all of them (a legal state: a database upgraded from schema 4
  // has none), a middle one, a damaged blob.
  for (const auto& [damage, consistent] :
       {std::pair{"DELETE FROM event_key_chunks", true},
        std::pair{"DELETE FROM event_key_chunks WHERE chunk = 1", false},
        std::pair{"UPDATE event_key_chunks SET keys = x'0102' WHERE chunk = 0", false}}) {
    ExecOnFile(path, damage);
    auto store = OpenPath(path);
    EXPECT_EQ(*store->IntegrityCheck() == "ok", consistent) << damage;
    const auto out = WriteBatch(*store, events);
    EXPECT_EQ(CountOf(out, WriteOutcome::kDuplicate), events.size()) << damage;
    EXPECT_EQ(*store->Count({}), 2500);
    EXPECT_EQ(QueryInt(*store, "SELECT SUM(length(keys)) FROM event_key_chunks"), 2501 * 8);
    EXPECT_EQ(*store->IntegrityCheck(), "ok") << damage;
  }
  // A wrong key is reported by the check.
  ExecOnFile(path, "UPDATE events SET key_hash = key_hash + 1 WHERE id = 1500");
  auto store = OpenPath(path);
  EXPECT_NE(store->IntegrityCheck()->find("gives event 1500 the key"), std::string::npos);
}

// A version-1 database (unique key over key_hash, source and source_id) upgrades in place:
// events, ids and publications are kept, and re-writing them adds nothing.
TEST(SqliteEventStore, UpgradesVersionOneDatabase) {
  auto dir = testing::TempDir("upgrade");
  const auto path = (dir / "t.db").string();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    const std::string v1(Migrations()[0].sql);
    ASSERT_EQ(sqlite3_exec(db, v1.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    const std::string rows = fmt::format(
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL, "
        "description TEXT NOT NULL);"
        "INSERT INTO schema_migrations VALUES (1, 0, 'v1');"
        "INSERT INTO events (id, source, source_id, category, source_type, t_start, t_end, lon, "
        "lat, x, y, epsg, quality, location_text, area_code, force, outcome, outcome_as_of, "
        "origin, out_of_area, batch_id, merged_count, zkey, key_hash) VALUES "
        "(7, 'police-uk', 'c1', 2, 'Burglary', 1704067200, 1706745600, -3, 51.6, 1, 2, 27700, 1, "
        "'', '', '', 'Charged', 1706745600, 0, 0, 1, 1, {}, {}),"
        "(9, 'police-uk', 'c2', 2, 'Burglary', 1704067200, 1706745600, NULL, NULL, NULL, NULL, "
        "0, 2, '', '', '', '', 1704067200, 0, 0, 1, 0, NULL, {});"
        "INSERT INTO event_publications VALUES (7, 1704067200), (7, 1706745600);",
        static_cast<std::int64_t>(spatial::ZKey(-3, 51.6)), EventKeyHash("police-uk", "c1"),
        EventKeyHash("police-uk", "c2"));
    ASSERT_EQ(sqlite3_exec(db, rows.c_str(), nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = SqliteEventStore::Open(path);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(*(*store)->IntegrityCheck(), "ok");
  EXPECT_EQ(*(*store)->Count({}), 2);
  auto w = (*store)->BeginBatch({.source = "police-uk", .format = "police-uk"});
  ASSERT_TRUE(w);
  EXPECT_EQ(*(*w)->Write(MakeEvent("c1", "2024-02", -3.0, 51.6, "Charged")),
            WriteOutcome::kDuplicate);
  EXPECT_EQ(*(*w)->Write(MakeEvent("c2", "2024-01", NAN, NAN, "")), WriteOutcome::kDuplicate);
  EXPECT_EQ(*(*w)->Write(MakeEvent("c3", "2024-01", NAN, NAN)), WriteOutcome::kInserted);
  ASSERT_TRUE((*w)->Commit({}));
  auto points = (*store)->LoadPoints({}, 27700);
  ASSERT_TRUE(points);
  ASSERT_EQ(points->size(), 1u);
  EXPECT_EQ(points->id[0], 7);  // ids survive the rebuild
  EventFilter box;
  box.bbox = std::array<double, 4>{-3.1, 51.5, -2.9, 51.7};
  EXPECT_EQ(*(*store)->Count(box), 1);
  EXPECT_EQ(*(*store)->Count({}), 3);
}

TEST(SqliteEventStore, RejectsNewerSchema) {
  auto dir = testing::TempDir("newer");
  const auto path = (dir / "t.db").string();
  { ASSERT_TRUE(SqliteEventStore::Open(path)); }
  sqlite3* db = nullptr;
  sqlite3_open(path.c_str(), &db);
  sqlite3_exec(db, "INSERT INTO schema_migrations VALUES (99, 0, 'future')", nullptr, nullptr,
               nullptr);
  sqlite3_close(db);
  auto s = SqliteEventStore::Open(path);
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kSchemaVersion);
}

TEST(SqliteEventStore, OpenFailsClearlyOnUnwritablePath) {
  auto s = SqliteEventStore::Open("/nonexistent-dir/x/y.db");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, ErrorCode::kStorage);
  EXPECT_NE(s.error().message.find("/nonexistent-dir/x/y.db"), std::string::npos);
}

// A located event at `lon`, `lat` starting at UTC second `t` (one hour long).
Event EventAt(std::string id, std::int64_t t, double lon, double lat) {
  Event e = MakeEvent(std::move(id), "2024-01", lon, lat);
  e.when = {TimePoint{Seconds{t}}, TimePoint{Seconds{t + 3600}}};
  return e;
}

// Bucket width of events_tzkey (t_start >> 21).
constexpr std::int64_t kBucket = std::int64_t{1} << 21;

TEST(SqliteEventStore, UpgradesVersionThreeDatabase) {
  auto dir = testing::TempDir("upgrade_v3");
  const auto path = (dir / "t.db").string();
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open(path.c_str(), &db), SQLITE_OK);
    std::string sql =
        "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT "
        "NULL, description TEXT NOT NULL);";
    for (int v = 1; v <= 3; ++v) {
      sql += std::string(Migrations()[static_cast<std::size_t>(v - 1)].sql);
      sql += fmt::format("INSERT INTO schema_migrations VALUES ({}, 0, 'v{}');", v, v);
    }
    // Two located rows in buckets far apart, one unlocated.
    sql += fmt::format(
        "INSERT INTO events (id, source, source_id, category, source_type, t_start, t_end, lon, "
        "lat, x, y, epsg, quality, location_text, area_code, force, outcome, outcome_as_of, "
        "origin, out_of_area, batch_id, merged_count, zkey, key_hash) VALUES "
        "(4, 'police-uk', 'a', 2, 'Burglary', 1704067200, 1706745600, -3, 51.6, 1, 2, 27700, 1, "
        "'', '', '', '', 1704067200, 0, 0, 1, 0, {0}, {1}),"
        "(5, 'police-uk', 'b', 2, 'Burglary', 1514764800, 1517443200, -3, 51.6, 1, 2, 27700, 1, "
        "'', '', '', '', 1514764800, 0, 0, 1, 0, {0}, {2}),"
        "(6, 'police-uk', 'c', 2, 'Burglary', 1704067200, 1706745600, NULL, NULL, NULL, NULL, "
        "0, 2, '', '', '', '', 1704067200, 0, 0, 1, 0, NULL, {3});",
        static_cast<std::int64_t>(spatial::ZKey(-3, 51.6)), EventKeyHash("police-uk", "a"),
        EventKeyHash("police-uk", "b"), EventKeyHash("police-uk", "c"));
    ASSERT_EQ(sqlite3_exec(db, sql.c_str(), nullptr, nullptr, nullptr), SQLITE_OK)
        << sqlite3_errmsg(db);
    sqlite3_close(db);
  }
  auto store = SqliteEventStore::Open(path);
  ASSERT_TRUE(store) << store.error().message;
  EXPECT_EQ((*store)->SchemaVersion(), 5);
  EXPECT_EQ((*store)->SchemaVersion(), LatestSchemaVersion());
  EXPECT_EQ(*(*store)->IntegrityCheck(), "ok");
  EXPECT_EQ(EventIndexes(**store), (std::vector<std::string>{"events_time", "events_tzkey"}));
  EventFilter box;
  box.bbox = std::array<double, 4>{-3.1, 51.5, -2.9, 51.7};
  EXPECT_EQ(*(*store)->Count(box), 2);
  box.from = TimePoint{Seconds{1704067200}};
  EXPECT_EQ(*(*store)->Count(box), 1);
  auto points = (*store)->LoadPoints(box, 27700);
  ASSERT_TRUE(points);
  ASSERT_EQ(points->size(), 1u);
  EXPECT_EQ(points->id[0], 4);
  // The upgraded store goes on importing, into the new index, and knows the keys of the events
  // stored before the upgrade (schema 5 read them back from events.key_hash).
  auto w = (*store)->BeginBatch({.source = "police-uk", .format = "police-uk"});
  ASSERT_TRUE(w);
  EXPECT_EQ(*(*w)->Write(EventAt("d", 1704067200 + 40 * kBucket, -3.0, 51.6)),
            WriteOutcome::kInserted);
  EXPECT_EQ(*(*w)->Write(MakeEvent("a", "2024-01", -3, 51.6)), WriteOutcome::kDuplicate);
  EXPECT_EQ(*(*w)->Write(MakeEvent("c", "2024-01", NAN, NAN)), WriteOutcome::kDuplicate);
  ASSERT_TRUE((*w)->Commit({}));
  box.from.reset();
  EXPECT_EQ(*(*store)->Count(box), 3);
  EXPECT_EQ(*(*store)->Count({}), 4);
  EXPECT_EQ(*(*store)->IntegrityCheck(), "ok");
  EXPECT_EQ(QueryInt(**store, "SELECT COUNT(*) FROM event_key_chunks"), 1);
}

// The SQL of the statements the store prepares while `run` runs, with bound values expanded.
template <class F>
std::vector<std::string> CapturedSql(SqliteEventStore& store, F run) {
  std::vector<std::string> sql;
  sqlite3_trace_v2(
      store.handle(), SQLITE_TRACE_STMT,
      [](unsigned, void* ctx, void* p, void*) {
        char* text = sqlite3_expanded_sql(static_cast<sqlite3_stmt*>(p));
        if (text != nullptr) static_cast<std::vector<std::string>*>(ctx)->emplace_back(text);
        sqlite3_free(text);
        return 0;
      },
      &sql);
  run();
  sqlite3_trace_v2(store.handle(), 0, nullptr, nullptr);
  return sql;
}

std::string QueryPlan(SqliteEventStore& store, const std::string& sql) {
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(
      sqlite3_prepare_v2(store.handle(), ("EXPLAIN QUERY PLAN " + sql).c_str(), -1, &st, nullptr),
      SQLITE_OK)
      << sqlite3_errmsg(store.handle());
  std::string plan;
  while (sqlite3_step(st) == SQLITE_ROW) {
    plan += reinterpret_cast<const char*>(sqlite3_column_text(st, 3));
    plan += '\n';
  }
  sqlite3_finalize(st);
  return plan;
}

TEST(SqliteEventStore, BoundingBoxQueriesSeekTheTimeBucketedIndex) {
  auto store = OpenTemp("bbox_plan");
  auto w = store->BeginBatch({.source = "police-uk", .format = "police-uk"});
  ASSERT_TRUE(w);
  for (int i = 0; i < 2000; ++i) {
    const std::int64_t t = 1704067200 + static_cast<std::int64_t>(i) * 20000;
    ASSERT_TRUE(
        (*w)->Write(EventAt(fmt::format("e{}", i), t, -4 + (i % 97) * 0.02, 51 + (i % 89) * 0.01)));
  }
  ASSERT_TRUE((*w)->Commit({}));
  EventFilter with_time;
  with_time.bbox = std::array<double, 4>{-3.2, 51.3, -3.0, 51.5};
  with_time.from = TimePoint{Seconds{1704067200 + 5 * kBucket}};
  with_time.to = TimePoint{Seconds{1704067200 + 9 * kBucket}};
  EventFilter without_time;
  without_time.bbox = with_time.bbox;
  for (const EventFilter& f : {with_time, without_time}) {
    const auto sql = CapturedSql(*store, [&] {
      ASSERT_TRUE(store->Count(f));
      ASSERT_TRUE(store->LoadPoints(f, 27700));
      ASSERT_TRUE(store->Scan(f, [](const Event&) { return true; }));
      ASSERT_TRUE(store->CountByMonthCategory(f));
    });
    int queries = 0;
    for (const std::string& q : sql) {
      if (q.find("cc_bucket") == std::string::npos) continue;
      ++queries;
      const std::string plan = QueryPlan(*store, q);
      EXPECT_NE(plan.find("SEARCH e USING INDEX events_tzkey (<expr>>? AND <expr><?)"),
                std::string::npos)
          << q << "\n"
          << plan;
      EXPECT_EQ(plan.find("SCAN e"), std::string::npos) << q << "\n" << plan;
    }
    EXPECT_EQ(queries, 4);
  }
}

TEST(SqliteEventStore, BoundingBoxQueriesEqualBruteForce) {
  auto store = OpenTemp("bbox_brute");
  // Three years of events (about 45 buckets), a few before 1970 (negative t_start, where the
  // bucket shift rounds towards minus infinity), rows on bucket edges, unlocated and withheld
  // rows and out-of-area rows, written in several batches like monthly files.
  const std::int64_t t0 = 1609459200;  // 2021-01-01
  std::vector<Event> all;
  std::uint64_t rng = 12345;
  auto next = [&rng] {
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return rng >> 33;
  };
  for (int i = 0; i < 3000; ++i) {
    const std::int64_t t = t0 + static_cast<std::int64_t>(next() % (3 * 365 * 86400ULL));
    const double lon = -4.0 + static_cast<double>(next() % 100000) * 2e-5;
    const double lat = 51.0 + static_cast<double>(next() % 100000) * 1e-5;
    Event e = EventAt(fmt::format("r{}", i), t, lon, lat);
    if (i % 13 == 0) e = MakeEvent(fmt::format("r{}", i), "2022-05", NAN, NAN);
    if (i % 17 == 0) e.out_of_area = true;
    all.push_back(e);
  }
  for (std::int64_t k : {std::int64_t{770}, std::int64_t{790}, std::int64_t{-3}}) {
    all.push_back(EventAt(fmt::format("edge{}a", k), k * kBucket, -3.5, 51.5));
    all.push_back(EventAt(fmt::format("edge{}b", k), k * kBucket - 1, -3.5, 51.5));
    all.push_back(EventAt(fmt::format("edge{}c", k), k * kBucket - 1, -3.0, 51.2));
  }
  for (std::size_t i = 0; i < all.size(); i += 400) {
    auto w = store->BeginBatch({.source = "police-uk", .format = "police-uk"});
    ASSERT_TRUE(w);
    for (std::size_t j = i; j < std::min(all.size(), i + 400); ++j) {
      ASSERT_TRUE((*w)->Write(all[j]));
    }
    ASSERT_TRUE((*w)->Commit({}));
  }

  using Box = std::array<double, 4>;
  const std::vector<Box> boxes = {{-3.6, 51.3, -3.2, 51.6},
                                  {-4.0, 51.0, -2.0, 52.0},
                                  {-3.5, 51.5, -3.5, 51.5},  // a point: the edge rows
                                  {-3.01, 51.19, -2.99, 51.21},
                                  {10, 10, 11, 11}};  // empty
  const std::vector<std::pair<std::optional<std::int64_t>, std::optional<std::int64_t>>> times = {
      {std::nullopt, std::nullopt},
      {t0 + 100 * 86400, std::nullopt},
      {std::nullopt, t0 + 400 * 86400},
      {770 * kBucket, 790 * kBucket},          // on bucket edges
      {770 * kBucket - 1, 790 * kBucket + 1},  // one second either side
      {t0 + 5 * 86400, t0 + 6 * 86400},        // within one bucket
      {-10 * kBucket, 0},                      // before 1970 only
      {t0 + 900 * 86400, t0 + 800 * 86400},    // empty range
      {0, 100}};                               // no data
  // The stored occurrence of every event (duplicates merged), for the time-only reference.
  std::map<std::string, std::int64_t> stored_start;
  ASSERT_TRUE(store->Scan({}, [&](const Event& e) {
    stored_start[e.source_id] = e.when.start.time_since_epoch().count();
    return true;
  }));
  int non_empty = 0;
  for (const auto& [from, to] : times) {
    EventFilter base;
    if (from) base.from = TimePoint{Seconds{*from}};
    if (to) base.to = TimePoint{Seconds{*to}};
    // The time range alone against the events tested in C++, in time order.
    std::vector<std::pair<std::int64_t, std::string>> want_time;
    for (const auto& [id, t] : stored_start) {
      if ((!from || t >= *from) && (!to || t < *to)) want_time.emplace_back(t, id);
    }
    std::sort(want_time.begin(), want_time.end());
    std::vector<std::pair<std::int64_t, std::string>> got_time;
    ASSERT_TRUE(store->Scan(base, [&](const Event& e) {
      got_time.emplace_back(e.when.start.time_since_epoch().count(), e.source_id);
      return true;
    }));
    std::vector<std::pair<std::int64_t, std::string>> sorted = got_time;
    std::stable_sort(sorted.begin(), sorted.end(),
                     [](const auto& a, const auto& b) { return a.first < b.first; });
    EXPECT_EQ(got_time, sorted) << "not in time order";
    std::sort(got_time.begin(), got_time.end());
    EXPECT_EQ(got_time, want_time) << (from ? *from : -1) << " " << (to ? *to : -1);
    EXPECT_EQ(*store->Count(base), static_cast<std::int64_t>(want_time.size()));
    // Brute force: the same time filter without a box, then the box tested here.
    std::vector<std::string> scan_all;
    std::vector<std::pair<double, double>> scan_pos;
    ASSERT_TRUE(store->Scan(base, [&](const Event& e) {
      scan_all.push_back(e.source_id);
      scan_pos.emplace_back(e.lon, e.lat);
      return true;
    }));
    auto points_all = store->LoadPoints(base, 27700);
    ASSERT_TRUE(points_all);
    for (const Box& b : boxes) {
      auto in = [&b](double lon, double lat) {
        return lon >= b[0] && lon <= b[2] && lat >= b[1] && lat <= b[3];
      };
      std::vector<std::string> want;
      for (std::size_t i = 0; i < scan_all.size(); ++i) {
        if (std::isfinite(scan_pos[i].first) && in(scan_pos[i].first, scan_pos[i].second)) {
          want.push_back(scan_all[i]);
        }
      }
      std::vector<std::int64_t> want_ids;
      for (std::size_t i = 0; i < points_all->size(); ++i) {
        if (in(points_all->lon[i], points_all->lat[i])) want_ids.push_back(points_all->id[i]);
      }
      EventFilter f = base;
      f.bbox = b;
      std::vector<std::string> got;
      ASSERT_TRUE(store->Scan(f, [&](const Event& e) {
        got.push_back(e.source_id);
        return true;
      }));
      const std::string where = fmt::format("from {} to {} box {},{},{},{}", from.value_or(-1),
                                            to.value_or(-1), b[0], b[1], b[2], b[3]);
      EXPECT_EQ(got, want) << where;
      EXPECT_EQ(*store->Count(f), static_cast<std::int64_t>(want.size())) << where;
      auto points = store->LoadPoints(f, 27700);
      ASSERT_TRUE(points);
      EXPECT_EQ(points->id, want_ids) << where;
      if (!want.empty()) ++non_empty;
    }
  }
  EXPECT_GE(non_empty, 20);  // the cases are not all trivially empty
}

}  // namespace
}  // namespace crimecast::storage

namespace crimecast::storage {
namespace {

// Commits only append to the WAL; a background connection copies them into the database file
// while the store stays open (SQLite's own automatic checkpoint is replaced, so nothing else
// could grow the file), and closing the store leaves no WAL behind.
TEST(SqliteEventStore, BackgroundCheckpointsCopyTheWalWhileOpen) {
  const auto dir = testing::TempDir("bg_checkpoint");
  const std::string path = (dir / "t.db").string();
  {
    auto store = OpenPath(path);
    store->set_checkpoint_frames(1);
    const auto before = std::filesystem::file_size(path);
    EXPECT_EQ(store->background_checkpoints(), -1);  // started by the first batch
    const auto events = NumberedEvents(0, 3000);
    for (int b = 0; b < 3; ++b) WriteBatch(*store, std::span(events).subspan(b * 1000, 1000));
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    // The file grows while a checkpoint copies; the count goes up when it returns.
    while ((std::filesystem::file_size(path) <= before || store->background_checkpoints() < 1) &&
           std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    EXPECT_GT(std::filesystem::file_size(path), before);
    EXPECT_GE(store->background_checkpoints(), 1);
    EXPECT_EQ(*store->Count({}), 3000);
  }
  EXPECT_FALSE(std::filesystem::exists(path + "-wal"));
  auto again = OpenPath(path);
  EXPECT_EQ(*again->Count({}), 3000);
  EXPECT_EQ(*again->IntegrityCheck(), "ok");
}

}  // namespace
}  // namespace crimecast::storage

namespace crimecast::storage {
namespace {

std::int64_t Synchronous(SqliteEventStore& store) { return QueryInt(store, "PRAGMA synchronous"); }

// A deferred batch commits with synchronous=NORMAL and becomes durable through the background
// WAL sync (CommitPoint, Durable); a rolled-back one and a default one leave the connection at
// synchronous=FULL.
TEST(SqliteEventStore, DeferredCommitsBecomeDurableThroughTheWalSyncer) {
  const std::string path = (testing::TempDir("deferred") / "t.db").string();
  auto store = OpenPath(path);
  EXPECT_EQ(store->CommitPoint(), 0u);  // nothing started yet: every commit is durable
  EXPECT_EQ(store->background_syncs(), -1);
  const auto events = NumberedEvents(0, 30);
  std::uint64_t point = 0;
  for (int b = 0; b < 3; ++b) {
    auto w =
        store->BeginBatch({.source = "police-uk", .format = "police-uk"}, Durability::kDeferred);
    ASSERT_TRUE(w);
    EXPECT_EQ(Synchronous(*store), 1);  // NORMAL for this transaction
    std::vector<WriteOutcome> out;
    ASSERT_TRUE((*w)->WriteMany(std::span(events).subspan(b * 10, 10), out));
    ASSERT_TRUE((*w)->Commit({}));
    EXPECT_EQ(Synchronous(*store), 2);
    const std::uint64_t next = store->CommitPoint();
    EXPECT_GT(next, point);
    point = next;
  }
  auto durable = store->Durable(point, /*wait=*/true);
  ASSERT_TRUE(durable);
  EXPECT_TRUE(*durable);
  EXPECT_GE(store->background_syncs(), 1);
  {
    auto w =
        store->BeginBatch({.source = "police-uk", .format = "police-uk"}, Durability::kDeferred);
    ASSERT_TRUE(w);
  }  // rolled back
  EXPECT_EQ(Synchronous(*store), 2);
  WriteBatch(*store, NumberedEvents(30, 31));  // kOnCommit
  EXPECT_EQ(Synchronous(*store), 2);
  EXPECT_EQ(*store->Count({}), 31);
  store.reset();
  EXPECT_EQ(*OpenPath(path)->Count({}), 31);
}

}  // namespace
}  // namespace crimecast::storage
