// End-to-end tests of `crimecast import` / `stats` / `export` on the real shared data.
#include <gtest/gtest.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <thread>

#include "support/paths.hpp"

namespace crimecast {
namespace {

using testing::CliPath;
using testing::RunCommand;
using testing::SharedDataDir;
using testing::TempDir;

// Appended piece by piece: "'" + s + "'" trips GCC 12's false -Wrestrict positive.
std::string Quote(const std::filesystem::path& p) {
  std::string q(1, '\'');
  q += p.string();
  q += '\'';
  return q;
}

nlohmann::json Stats(const std::filesystem::path& db) {
  std::string out;
  const int rc =
      RunCommand(Quote(CliPath()) + " stats --json --db " + Quote(db) + " 2>/dev/null", &out);
  EXPECT_EQ(rc, 0) << out;
  return nlohmann::json::parse(out);
}

std::string GwentGlob() { return Quote(SharedDataDir() / "police-uk-gwent-street") + "/*.csv"; }

TEST(ImportCli, GwentTwentyFourMonthsMatchesReadmeAndReimportAddsNothing) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  const auto dir = TempDir("gwent-import");
  const auto db = dir / "gwent.db";
  std::string out;
  ASSERT_EQ(RunCommand(Quote(CliPath()) + " import --quiet --db " + Quote(db) + " --errors " +
                           Quote(dir / "errors.csv") + " " + GwentGlob(),
                       &out),
            0)
      << out;
  const auto s = Stats(db);
  EXPECT_EQ(s["rows_read"], 131216);
  EXPECT_EQ(s["rejected"], 0);
  EXPECT_EQ(s["rows_unlocated"], 1256);
  // Per-category row counts exactly as the folder's README gives them.
  const std::map<std::string, int> readme = {{"Violence and sexual offences", 51146},
                                             {"Anti-social behaviour", 23498},
                                             {"Public order", 17277},
                                             {"Shoplifting", 7766},
                                             {"Other theft", 7670},
                                             {"Criminal damage and arson", 6099},
                                             {"Vehicle crime", 5676},
                                             {"Burglary", 3435},
                                             {"Other crime", 3145},
                                             {"Drugs", 2922},
                                             {"Possession of weapons", 908},
                                             {"Robbery", 675},
                                             {"Bicycle theft", 549},
                                             {"Theft from the person", 450}};
  for (const auto& [name, n] : readme) EXPECT_EQ(s["rows_by_category"][name], n) << name;
  // A repeated Crime ID is one crime: 726 rows repeat an id already seen (12 in a later month,
  // merged with the latest outcome; 714 within the same month's file).
  const std::int64_t merged = s["merged_repeats"];
  const std::int64_t dup = s["duplicates"];
  EXPECT_EQ(merged, 12);
  EXPECT_EQ(merged + dup, 726);
  EXPECT_EQ(s["events"], 131216 - 726);
  EXPECT_GE(s["out_of_area"].get<int>(), 1);  // the Barnsley row, at least

  // Importing the same files again adds nothing: skipped by content hash...
  ASSERT_EQ(RunCommand(Quote(CliPath()) + " import --db " + Quote(db) + " " + GwentGlob(), &out),
            0);
  EXPECT_NE(out.find("already imported"), std::string::npos);
  EXPECT_EQ(Stats(db)["events"], s["events"]);
  // ... and, forced to re-read every row, de-duplicated row by row.
  ASSERT_EQ(
      RunCommand(Quote(CliPath()) + " import --force --quiet --db " + Quote(db) + " " + GwentGlob(),
                 &out),
      0)
      << out;
  const auto s2 = Stats(db);
  EXPECT_EQ(s2["events"], s["events"]);
  EXPECT_EQ(s2["rows_read"], 2 * 131216);                         // every row was read again ...
  EXPECT_EQ(s2["duplicates"].get<std::int64_t>(), dup + 131216);  // ... and changed nothing
  EXPECT_EQ(s2["merged_repeats"], s["merged_repeats"]);           // merges were not counted twice
}

TEST(ImportCli, VancouverThroughShippedMapping) {
  CRIMECAST_REQUIRE_SHARED_DATA("vancouver-vpd-crime");
  const auto dir = TempDir("vancouver-import");
  const auto db = dir / "van.db";
  std::string out;
  ASSERT_EQ(
      RunCommand(Quote(CliPath()) + " import --quiet --format mapped --mapping " +
                     Quote(testing::SourceDir() / "mappings" / "vancouver-vpd.toml") + " --db " +
                     Quote(db) + " " + Quote(SharedDataDir() / "vancouver-vpd-crime") + "/*.csv",
                 &out),
      0)
      << out;
  const auto s = Stats(db);
  EXPECT_EQ(s["rows_read"], 103918);
  EXPECT_EQ(s["rejected"], 0);
  EXPECT_EQ(s["unlocated"], 11452);
  EXPECT_EQ(s["events"], 103918);  // exact duplicate rows are distinct incidents: none lost
}

TEST(ImportCli, ExportWritesEveryEventIncludingUnlocated) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-gwent-street");
  const auto dir = TempDir("export");
  const auto db = dir / "g.db";
  const auto file = SharedDataDir() / "police-uk-gwent-street" / "2024-01-gwent-street.csv";
  std::string out;
  ASSERT_EQ(
      RunCommand(Quote(CliPath()) + " import --quiet --db " + Quote(db) + " " + Quote(file), &out),
      0)
      << out;
  const std::int64_t events = Stats(db)["events"];
  ASSERT_EQ(RunCommand(
                Quote(CliPath()) + " export --db " + Quote(db) + " --out " + Quote(dir / "all.csv"),
                &out),
            0)
      << out;
  std::ifstream in(dir / "all.csv");
  std::string line;
  std::int64_t lines = 0, empty_coords = 0;
  std::getline(in, line);
  EXPECT_EQ(line.rfind("source,source_id,category,", 0), 0u);
  while (std::getline(in, line)) {
    ++lines;
    if (line.find(",withheld,") != std::string::npos) ++empty_coords;
  }
  EXPECT_EQ(lines, events);
  EXPECT_GT(empty_coords, 0);
  ASSERT_EQ(RunCommand(Quote(CliPath()) + " export --db " + Quote(db) + " --category burglary " +
                           "--out " + Quote(dir / "b.geojson"),
                       &out),
            0)
      << out;
  std::ifstream gj(dir / "b.geojson");
  const auto j = nlohmann::json::parse(gj);
  ASSERT_TRUE(j["features"].is_array());
  EXPECT_GT(j["features"].size(), 50u);
  for (const auto& f : j["features"]) EXPECT_EQ(f["properties"]["category"], "burglary");
  // Bad filters get clear errors.
  EXPECT_NE(RunCommand(Quote(CliPath()) + " export --db " + Quote(db) +
                           " --category nonsense --out " + Quote(dir / "x.csv"),
                       &out),
            0);
  EXPECT_NE(out.find("unknown category 'nonsense'"), std::string::npos) << out;
}

// Records stored more than once: must be 0 after any kill and rerun.
constexpr const char* kRepeatedKeys =
    "SELECT COUNT(*) FROM (SELECT 1 FROM events GROUP BY source, source_id HAVING COUNT(*) > 1)";

std::int64_t QueryInt(const std::filesystem::path& db, const char* sql) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::int64_t v = -1;
  if (sqlite3_prepare_v2(h, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    v = sqlite3_column_int64(st, 0);
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

std::string QueryText(const std::filesystem::path& db, const char* sql) {
  sqlite3* h = nullptr;
  sqlite3_open_v2(db.c_str(), &h, SQLITE_OPEN_READONLY, nullptr);
  sqlite3_stmt* st = nullptr;
  std::string v;
  if (sqlite3_prepare_v2(h, sql, -1, &st, nullptr) == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
    v = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return v;
}

// kill -9 in the middle of a multi-file import: the database stays consistent (every batch
// wholly present or absent) and running the import again completes it.
TEST(ImportCli, KillNineMidImportLeavesWholeBatchesAndRerunCompletes) {
  CRIMECAST_REQUIRE_SHARED_DATA("police-uk-national-2019-02");
  const auto dir = TempDir("crash");
  const auto db = dir / "crash.db";
  const std::string files = Quote(SharedDataDir() / "police-uk-national-2019-02") + "/*.csv";
  for (int attempt = 0; attempt < 3; ++attempt) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c",
              ("exec " + Quote(CliPath()) + " import --quiet --db " + Quote(db) + " " + files +
               " >/dev/null 2>&1")
                  .c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    // Let it commit a few batches and be in the middle of another, then kill it hard.
    std::this_thread::sleep_for(std::chrono::milliseconds(600 + 300 * attempt));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status)) {
      // Later attempts skip already-imported files and may finish first; the first must not.
      ASSERT_GT(attempt, 0) << "import finished before it could be killed";
    }
    EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
    // No event belongs to a batch that is not recorded, and every batch's new events are there.
    EXPECT_EQ(QueryInt(db,
                       "SELECT COUNT(*) FROM events WHERE batch_id NOT IN "
                       "(SELECT id FROM import_batches)"),
              0);
    EXPECT_EQ(QueryInt(db, "SELECT COALESCE(SUM(inserted), 0) FROM import_batches"),
              QueryInt(db, "SELECT COUNT(*) FROM events"));
  }
  std::string out;
  ASSERT_EQ(RunCommand(Quote(CliPath()) + " import --quiet --db " + Quote(db) + " " + files, &out),
            0)
      << out;
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM import_batches"), 41);
  EXPECT_EQ(QueryInt(db, "SELECT SUM(rows_read) FROM import_batches"), 343201);
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
  // Keys survived the kills (the store, not SQLite, keeps them unique; event_key_index.hpp).
  EXPECT_EQ(QueryInt(db, kRepeatedKeys), 0);
}

// A batch large enough for the bulk path (decision 0007: the time and Z-order indexes are
// dropped inside the batch's transaction and re-created at commit) killed while it is writing or
// committing must leave nothing of itself, with every index in place; the rerun completes it.
// Needs no shared data: the events come from `crimecast simulate` (about 280,000 of them).
TEST(ImportCli, KillNineDuringBulkBatchLeavesItAbsentAndRerunCompletes) {
  const auto dir = TempDir("bulkcrash");
  const auto csv = dir / "sim.csv";
  const auto db = dir / "bulk.db";
  const auto log = dir / "progress.txt";
  std::string out;
  ASSERT_EQ(RunCommand(Quote(CliPath()) + " simulate --out " + Quote(csv) +
                           " --seed 3 --start 2024-01-01 --days 30 --mu 7000 --theta 0.3"
                           " --size-km 500 --centre -1.5,52.6 --hotspots 100 --quiet",
                       &out),
            0)
      << out;
  const std::string import =
      Quote(CliPath()) + " import --db " + Quote(db) + " --format csv --source sim " + Quote(csv);
  const char* indexes =
      "SELECT group_concat(name) FROM (SELECT name FROM sqlite_master WHERE type = 'index' AND "
      "tbl_name = 'events' AND sql IS NOT NULL ORDER BY name)";
  int killed = 0;
  // Killed mid-way through the rows (after the switch at 200,000), then just after the last row
  // was read, during the commit's index rebuild.
  for (int after_read_ms : {-1, 50}) {
    std::filesystem::remove(log);
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      ::execl("/bin/sh", "sh", "-c", ("exec " + import + " >" + Quote(log) + " 2>&1").c_str(),
              static_cast<char*>(nullptr));
      ::_exit(127);
    }
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    for (;;) {
      std::ifstream in(log);
      std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
      // The first progress line with at least 200,000 rows, or the 100 % line.
      bool seen = false;
      if (after_read_ms < 0) {
        for (std::size_t at = text.find('('); at != std::string::npos;
             at = text.find('(', at + 1)) {
          if (std::atoll(text.c_str() + at + 1) >= 220000) seen = true;
        }
      } else {
        seen = text.find("100.0%") != std::string::npos;
      }
      if (seen || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    if (after_read_ms > 0) std::this_thread::sleep_for(std::chrono::milliseconds(after_read_ms));
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    if (!WIFSIGNALED(status)) break;  // finished first (a very fast machine): checked below
    ++killed;
    EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
    EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM events"), 0);
    EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM import_batches"), 0);
    EXPECT_EQ(QueryText(db, indexes), "events_time,events_tzkey");
  }
  EXPECT_GE(killed, 1) << "every import finished before it could be killed";
  ASSERT_EQ(RunCommand(import + " --quiet", &out), 0) << out;
  EXPECT_EQ(QueryText(db, "PRAGMA integrity_check"), "ok");
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM import_batches"), 1);
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM events"), 279434);
  EXPECT_EQ(QueryInt(db, kRepeatedKeys), 0);
  EXPECT_EQ(QueryText(db, indexes), "events_time,events_tzkey");
  EXPECT_EQ(QueryInt(db, "SELECT COUNT(*) FROM events INDEXED BY events_time WHERE t_start > 0"),
            279434);
  EXPECT_EQ(
      QueryInt(db, "SELECT COUNT(*) FROM events INDEXED BY events_tzkey WHERE zkey IS NOT NULL"),
      QueryInt(db, "SELECT COUNT(*) FROM events WHERE zkey IS NOT NULL"));
}

}  // namespace
}  // namespace crimecast
