// `crimecast import` leaves one audit record per file (collection, s.62 DPA 2018): imported,
// skipped as already imported, or failed; the chain verifies.
#include <gtest/gtest.h>
#include <sqlite3.h>

#include <fstream>
#include <string>
#include <vector>

#include "support/paths.hpp"

namespace crimecast {
namespace {

std::vector<std::string> AuditLog(const std::string& db) {
  std::vector<std::string> out;
  sqlite3* h = nullptr;
  EXPECT_EQ(sqlite3_open(db.c_str(), &h), SQLITE_OK);
  sqlite3_stmt* st = nullptr;
  EXPECT_EQ(sqlite3_prepare_v2(h,
                               "SELECT action || '|' || outcome || '|' || purpose || '|' || "
                               "substr(user_name, 1, 4) || '|' || detail FROM audit_log "
                               "ORDER BY seq",
                               -1, &st, nullptr),
            SQLITE_OK);
  while (sqlite3_step(st) == SQLITE_ROW) {
    out.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(st, 0)));
  }
  sqlite3_finalize(st);
  sqlite3_close(h);
  return out;
}

TEST(ImportAuditCli, EveryFileIsAudited) {
  const auto dir = testing::TempDir("import-audit");
  std::ofstream(dir / "a.csv")
      << "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,"
         "LSOA name,Crime type,Last outcome category,Context\n"
         "c1,2024-01,Gwent Police,Gwent Police,-3.0,51.6,On or near X,W01,N,Burglary,"
         "Under investigation,\n"
         "c2,2024-01,Gwent Police,Gwent Police,-3.1,51.7,On or near Y,W01,N,Robbery,"
         "Under investigation,\n";
  const std::string db = (dir / "t.db").string();
  const std::string cli = testing::CliPath().string();
  std::string out;
  EXPECT_EQ(
      testing::RunCommand(cli + " import --quiet --db " + db + " " + (dir / "a.csv").string() +
                              " " + (dir / "missing.csv").string() + " 2>&1",
                          &out),
      0)
      << out;
  ASSERT_EQ(testing::RunCommand(cli + " import --quiet --db " + db + " " + (dir / "a.csv").string(),
                                &out),
            0)
      << out;
  const auto log = AuditLog(db);
  ASSERT_EQ(log.size(), 3u);
  EXPECT_EQ(log[0].rfind("collection|ok|import|cli:|batch=1 sha256=", 0), 0u) << log[0];
  EXPECT_NE(log[0].find("rows_read=2 accepted=2 new=2"), std::string::npos) << log[0];
  EXPECT_EQ(log[1], "collection|error|import|cli:|FileNotFound");
  EXPECT_EQ(log[2].rfind("collection|ok|import|cli:|skipped: already imported as batch 1", 0), 0u)
      << log[2];
  ASSERT_EQ(testing::RunCommand(cli + " audit verify --db " + db, &out), 0) << out;
  EXPECT_NE(out.find("audit log ok: 3 records"), std::string::npos) << out;
}

}  // namespace
}  // namespace crimecast
