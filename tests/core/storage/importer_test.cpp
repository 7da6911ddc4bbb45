// The import pipeline over several files (storage::ImportFiles) against file-by-file imports,
// and the readers' reuse of consumed events (EventReader::ReuseEvents).
#include "core/storage/importer.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <cmath>
#include <filesystem>
#include <string>
#include <vector>

#include "core/ingest/ingest_fixtures.hpp"
#include "core/ingest/reader.hpp"
#include "core/storage/sqlite_event_store.hpp"
#include "support/paths.hpp"

namespace crimecast::storage {
namespace {

using ingest::testing::kPoliceHeader;
using ingest::testing::PoliceRow;

// Every stored column of every event, batch and publication, in id order (import times aside).
std::vector<std::string> Dump(SqliteEventStore& store) {
  std::vector<std::string> rows;
  for (const char* sql :
       {"SELECT * FROM events ORDER BY id",
        "SELECT id, source, format, file_name, sha256, rows_read, accepted, inserted, rejected, "
        "duplicate, merged, unlocated, out_of_area FROM import_batches ORDER BY id",
        "SELECT * FROM event_publications ORDER BY 1, 2",
        "SELECT * FROM batch_category_rows ORDER BY 1, 2"}) {
    sqlite3_stmt* st = nullptr;
    EXPECT_EQ(sqlite3_prepare_v2(store.handle(), sql, -1, &st, nullptr), SQLITE_OK);
    while (sqlite3_step(st) == SQLITE_ROW) {
      std::string row;
      for (int c = 0; c < sqlite3_column_count(st); ++c) {
        const auto* text = sqlite3_column_text(st, c);
        row += (text ? reinterpret_cast<const char*>(text) : "NULL") + std::string("|");
      }
      rows.push_back(row);
    }
    sqlite3_finalize(st);
  }
  return rows;
}

struct FileResult {
  bool ok = false;
  ErrorCode code = ErrorCode::kInternal;
  bool skipped = false;
  std::int64_t previous_batch = 0;
  BatchInfo batch;
};

FileResult Summarise(const Result<ImportReport>& r) {
  FileResult f;
  f.ok = r.has_value();
  if (!r) {
    f.code = r.error().code;
    return f;
  }
  f.skipped = r->skipped;
  f.previous_batch = r->previous_batch;
  f.batch = r->batch;
  return f;
}

void ExpectSameResult(const FileResult& a, const FileResult& b, std::size_t file) {
  SCOPED_TRACE(::testing::Message() << "file " << file);
  ASSERT_EQ(a.ok, b.ok);
  if (!a.ok) {
    EXPECT_EQ(a.code, b.code);
    return;
  }
  EXPECT_EQ(a.skipped, b.skipped);
  EXPECT_EQ(a.previous_batch, b.previous_batch);
  EXPECT_EQ(a.batch.id, b.batch.id);
  EXPECT_EQ(a.batch.sha256, b.batch.sha256);
  EXPECT_EQ(a.batch.rows_read, b.batch.rows_read);
  EXPECT_EQ(a.batch.accepted, b.batch.accepted);
  EXPECT_EQ(a.batch.inserted, b.batch.inserted);
  EXPECT_EQ(a.batch.duplicate, b.batch.duplicate);
  EXPECT_EQ(a.batch.merged, b.batch.merged);
  EXPECT_EQ(a.batch.rejected, b.batch.rejected);
  EXPECT_EQ(a.batch.unlocated, b.batch.unlocated);
  EXPECT_EQ(a.batch.out_of_area, b.batch.out_of_area);
  for (int c = 0; c < kCategoryCount; ++c) {
    EXPECT_EQ(a.batch.rows_by_category[c], b.batch.rows_by_category[c]);
  }
}

// January, February repeating crime A (a merge) with a bad row, a byte-identical copy of
// January (skipped), a missing file, a file that is not CSV, and March, read in chunks of 2 rows
// so chunks, blocks, files and recycled events all interleave.
TEST(ImportFiles, MatchesFileByFileImports) {
  const auto dir = testing::TempDir("importfiles-match");
  auto write = [&](const std::string& name, const std::string& text) {
    return ingest::testing::WriteFile(dir / name, text).string();
  };
  std::string jan = kPoliceHeader;
  for (int i = 0; i < 7; ++i) jan += PoliceRow(fmt::format("jan{}", i), "2024-01");
  jan += PoliceRow("A", "2024-01");
  jan +=
      ",2024-01,Gwent Police,Gwent Police,-3.01,51.6,On or near Park,W01001440,Newport 001A,"
      "Anti-social behaviour,,\n";
  jan += PoliceRow("unlocated", "2024-01", "", "");
  std::string feb = kPoliceHeader;
  feb += PoliceRow("A", "2024-02");
  feb += PoliceRow("feb1", "2024-02", "-3.002", "95");  // bad latitude: rejected
  for (int i = 2; i < 6; ++i) feb += PoliceRow(fmt::format("feb{}", i), "2024-02");
  std::string mar = kPoliceHeader;
  for (int i = 0; i < 5; ++i) mar += PoliceRow(fmt::format("mar{}", i), "2024-03");
  const std::vector<std::string> paths = {write("jan.csv", jan),
                                          write("feb.csv", feb),
                                          write("copy.csv", jan),
                                          (dir / "missing.csv").string(),
                                          write("png.csv", "\x89PNG\r\n\x1A\nnot a csv at all"),
                                          write("mar.csv", mar)};

  ImportOptions options;
  options.chunk_rows = 2;
  std::vector<std::string> errors_seen;
  options.on_error = [&](const ingest::RowError& e) { errors_seen.push_back(e.ToString()); };

  auto piped = SqliteEventStore::Open((dir / "piped.db").string());
  ASSERT_TRUE(piped);
  std::vector<FileResult> piped_results;
  std::vector<std::size_t> order;
  ImportFiles(**piped, paths, options, [&](std::size_t i, const Result<ImportReport>& r) {
    order.push_back(i);
    piped_results.push_back(Summarise(r));
  });
  const std::vector<std::string> piped_errors = errors_seen;

  errors_seen.clear();
  auto single = SqliteEventStore::Open((dir / "single.db").string());
  ASSERT_TRUE(single);
  std::vector<FileResult> single_results;
  for (const std::string& p : paths)
    single_results.push_back(Summarise(ImportFile(**single, p, options)));

  ASSERT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 4, 5}));
  ASSERT_EQ(piped_results.size(), single_results.size());
  for (std::size_t i = 0; i < paths.size(); ++i) {
    ExpectSameResult(piped_results[i], single_results[i], i);
  }
  EXPECT_EQ(piped_errors, errors_seen);
  EXPECT_EQ(Dump(**piped), Dump(**single));

  // What the files hold, so the comparison above cannot pass vacuously.
  EXPECT_TRUE(piped_results[0].ok && !piped_results[0].skipped);
  EXPECT_EQ(piped_results[0].batch.inserted, 10);
  EXPECT_EQ(piped_results[0].batch.unlocated, 1);
  EXPECT_EQ(piped_results[1].batch.merged, 1);
  EXPECT_EQ(piped_results[1].batch.rejected, 1);
  EXPECT_TRUE(piped_results[2].skipped);
  EXPECT_EQ(piped_results[2].previous_batch, piped_results[0].batch.id);
  EXPECT_FALSE(piped_results[3].ok);
  EXPECT_EQ(piped_results[3].code, ErrorCode::kFileNotFound);
  EXPECT_FALSE(piped_results[4].ok);
  EXPECT_EQ(piped_results[4].code, ErrorCode::kMalformedCsv);
  EXPECT_EQ(piped_results[5].batch.inserted, 5);
  ASSERT_EQ(piped_errors.size(), 1u);
  EXPECT_NE(piped_errors[0].find("feb.csv:3"), std::string::npos) << piped_errors[0];

  // Running the whole list again changes nothing: every readable file is skipped.
  const auto before = Dump(**piped);
  std::vector<FileResult> again;
  ImportFiles(**piped, paths, options,
              [&](std::size_t, const Result<ImportReport>& r) { again.push_back(Summarise(r)); });
  ASSERT_EQ(again.size(), paths.size());
  for (std::size_t i : {0u, 1u, 2u, 5u}) EXPECT_TRUE(again[i].ok && again[i].skipped) << i;
  EXPECT_EQ(Dump(**piped), before);
}

// The same file twice in one list: the second copy is decided only once the first copy's batch
// is closed, so it is skipped after a commit (and the reader never reads it).
TEST(ImportFiles, SameFileTwiceIsImportedOnce) {
  const auto dir = testing::TempDir("importfiles-twice");
  std::string text = kPoliceHeader;
  for (int i = 0; i < 9; ++i) text += PoliceRow(fmt::format("x{}", i), "2024-01");
  const std::string path = ingest::testing::WriteFile(dir / "a.csv", text).string();
  auto store = SqliteEventStore::Open((dir / "t.db").string());
  ASSERT_TRUE(store);
  ImportOptions options;
  options.chunk_rows = 4;
  std::vector<FileResult> results;
  const std::vector<std::string> paths = {path, path, path};
  ImportFiles(**store, paths, options,
              [&](std::size_t, const Result<ImportReport>& r) { results.push_back(Summarise(r)); });
  ASSERT_EQ(results.size(), 3u);
  EXPECT_TRUE(results[0].ok && !results[0].skipped);
  EXPECT_EQ(results[0].batch.inserted, 9);
  for (int i : {1, 2}) {
    EXPECT_TRUE(results[i].ok && results[i].skipped) << i;
    EXPECT_EQ(results[i].previous_batch, results[0].batch.id) << i;
  }
  auto n = (*store)->Count({});
  ASSERT_TRUE(n);
  EXPECT_EQ(*n, 9);
}

// Files are committed with deferred durability and reported, in order, only once a background
// fdatasync of the WAL covers their commit; the connection is back to synchronous=FULL after.
TEST(ImportFiles, ReportsEachFileOnlyOnceDurable) {
  const auto dir = testing::TempDir("importfiles-durable");
  std::vector<std::string> paths;
  for (int f = 0; f < 4; ++f) {
    std::string text = kPoliceHeader;
    for (int i = 0; i < 50; ++i) text += PoliceRow(fmt::format("f{}x{}", f, i), "2024-01");
    paths.push_back(ingest::testing::WriteFile(dir / fmt::format("{}.csv", f), text).string());
  }
  paths.push_back((dir / "missing.csv").string());  // a failure is reported in its place
  auto store = SqliteEventStore::Open((dir / "t.db").string());
  ASSERT_TRUE(store);
  ImportOptions options;
  options.chunk_rows = 16;
  std::vector<std::size_t> order;
  std::vector<std::int64_t> syncs_seen;
  ImportFiles(**store, paths, options, [&](std::size_t i, const Result<ImportReport>& r) {
    order.push_back(i);
    syncs_seen.push_back((*store)->background_syncs());
    EXPECT_EQ(r.has_value(), i < 4) << i;
  });
  EXPECT_EQ(order, (std::vector<std::size_t>{0, 1, 2, 3, 4}));
  // The first file could only be reported after a sync.
  ASSERT_FALSE(syncs_seen.empty());
  EXPECT_GE(syncs_seen.front(), 1);
  EXPECT_EQ(*(*store)->Count({}), 200);
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2((*store)->handle(), "PRAGMA synchronous", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(sqlite3_column_int(st, 0), 2);  // FULL
  sqlite3_finalize(st);
}

// Events taken from a pool of used events (with other values in every field) equal events
// built fresh, for located, unlocated and anti-social behaviour rows.
TEST(ReuseEvents, PooledEventsEqualFreshOnes) {
  std::string text = kPoliceHeader;
  for (int i = 0; i < 6; ++i) text += PoliceRow(fmt::format("id{}", i), "2024-05");
  text += PoliceRow("nowhere", "2024-05", "", "");
  text +=
      ",2024-05,Gwent Police,Gwent Police,-3.01,51.6,On or near Park,W01001440,Newport 001A,"
      "Anti-social behaviour,,\n";
  const auto path = ingest::testing::WriteFile(testing::TempDir("reuse-events") / "r.csv", text);
  auto read = [&](std::vector<Event>* pool) {
    auto reader = ingest::OpenEventReader(path.string(), {});
    EXPECT_TRUE(reader);
    (*reader)->ReuseEvents(pool);
    std::vector<Event> events;
    std::vector<ingest::RowError> errors;
    for (bool more = true; more;) {
      auto next = (*reader)->Next(events, errors, 3);
      EXPECT_TRUE(next);
      more = next && *next;
    }
    EXPECT_TRUE(errors.empty());
    return events;
  };
  std::vector<Event> pool(20);
  for (Event& e : pool) {
    e.source = e.source_id = e.source_type = e.location_text = e.area_code = e.force = e.outcome =
        std::string(80, 'z');
    e.category = Category::kRobbery;
    e.when = {TimePoint{Seconds{1}}, TimePoint{Seconds{2}}};
    e.lon = e.lat = e.x = e.y = 1.0;
    e.epsg = 32630;
    e.quality = LocationQuality::kExact;
    e.origin = Origin::kPoliceGenerated;
    e.out_of_area = true;
    e.batch_id = 99;
  }
  const std::vector<Event> fresh = read(nullptr);
  const std::vector<Event> reused = read(&pool);
  EXPECT_EQ(pool.size(), 20u - fresh.size());  // the pool was used
  ASSERT_EQ(fresh.size(), 8u);
  ASSERT_EQ(reused.size(), fresh.size());
  auto same_double = [](double a, double b) { return a == b || (std::isnan(a) && std::isnan(b)); };
  for (std::size_t i = 0; i < fresh.size(); ++i) {
    SCOPED_TRACE(::testing::Message() << "event " << i);
    const Event& a = fresh[i];
    const Event& b = reused[i];
    EXPECT_EQ(a.source, b.source);
    EXPECT_EQ(a.source_id, b.source_id);
    EXPECT_EQ(a.category, b.category);
    EXPECT_EQ(a.source_type, b.source_type);
    EXPECT_EQ(a.when.start, b.when.start);
    EXPECT_EQ(a.when.end, b.when.end);
    EXPECT_TRUE(same_double(a.lon, b.lon));
    EXPECT_TRUE(same_double(a.lat, b.lat));
    EXPECT_TRUE(same_double(a.x, b.x));
    EXPECT_TRUE(same_double(a.y, b.y));
    EXPECT_EQ(a.epsg, b.epsg);
    EXPECT_EQ(a.quality, b.quality);
    EXPECT_EQ(a.location_text, b.location_text);
    EXPECT_EQ(a.area_code, b.area_code);
    EXPECT_EQ(a.force, b.force);
    EXPECT_EQ(a.outcome, b.outcome);
    EXPECT_EQ(a.origin, b.origin);
    EXPECT_EQ(a.out_of_area, b.out_of_area);
    EXPECT_EQ(a.batch_id, b.batch_id);
  }
  EXPECT_FALSE(fresh[6].Located());
  EXPECT_TRUE(std::isnan(reused[6].x));
  EXPECT_EQ(reused[6].epsg, 0);
}

}  // namespace
}  // namespace crimecast::storage
