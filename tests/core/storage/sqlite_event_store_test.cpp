#include "core/storage/sqlite_event_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

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
  EXPECT_EQ(store->SchemaVersion(), 1);
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

}  // namespace
}  // namespace crimecast::storage
