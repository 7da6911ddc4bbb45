// The audit trail of the server: one record per data-touching request, durable before the
// reply, readable only by auditors, and tamper-evident.
#include <fmt/format.h>
#include <sqlite3.h>

#include "core/access/audit_log.hpp"
#include "core/access/sqlite_util.hpp"
#include "server/server_fixture.hpp"

namespace crimecast::testing {
namespace {

using Audit = ServerTest;

TEST_F(Audit, OneRecordPerDataTouchingRequest) {
  Start();
  const std::int64_t start = AuditCount();  // the five sign-ins of Start()
  EXPECT_EQ(start, 5);
  int expected = 0;
  // Audited: reads and writes of data, denied attempts, sign-in/out.
  EXPECT_EQ(Post("/api/events", Events("a", 5), "analyst").status, 200);
  ++expected;
  EXPECT_EQ(Get("/api/events", "officer").status, 200);
  ++expected;
  EXPECT_EQ(Get("/api/events?category=burglary", "admin").status, 200);
  ++expected;
  EXPECT_EQ(Get("/api/stats", "partner").status, 200);
  ++expected;
  EXPECT_EQ(Get("/api/events", "partner").status, 403);
  ++expected;
  EXPECT_EQ(Get("/api/events").status, 401);
  ++expected;
  EXPECT_EQ(Post("/api/events", Events("b", 1), "officer").status, 403);
  ++expected;
  EXPECT_EQ(Get("/api/audit", "auditor").status, 200);
  ++expected;
  EXPECT_EQ(Login("officer", "bad password!!"), "");
  ++expected;
  EXPECT_EQ(Post("/api/events", "[]", "analyst").status, 400);
  ++expected;
  // Not audited: no data touched.
  EXPECT_EQ(Get("/healthz").status, 200);
  EXPECT_EQ(Get("/metrics").status, 200);
  EXPECT_EQ(Get("/api/openapi.json").status, 200);
  EXPECT_EQ(Get("/api/session", "officer").status, 200);
  EXPECT_EQ(Get("/no/such/path", "officer").status, 404);
  // The reply is sent only after the record is committed, so the count is exact now.
  EXPECT_EQ(AuditCount(), start + expected);

  auto page = Get("/api/audit?after=5&limit=1000", "auditor").Json();
  const auto& recs = page["records"];
  ASSERT_EQ(recs.size(), static_cast<std::size_t>(expected));
  EXPECT_EQ(recs[0]["user"], "analyst");
  EXPECT_EQ(recs[0]["action"], "collection");
  EXPECT_EQ(recs[0]["object"], "POST /api/events");
  EXPECT_EQ(recs[0]["status"], 200);
  EXPECT_EQ(recs[0]["client"], "127.0.0.1");
  EXPECT_EQ(recs[0]["purpose"], "server tests");  // from the session
  EXPECT_NE(recs[0]["detail"].get<std::string>().find("inserted=5"), std::string::npos);
  EXPECT_EQ(recs[1]["action"], "consultation");
  EXPECT_EQ(recs[1]["detail"], "rows=5");
  EXPECT_EQ(recs[3]["role"], "partner");
  EXPECT_EQ(recs[3]["action"], "disclosure");  // aggregates leaving the force
  EXPECT_EQ(recs[4]["outcome"], "denied");
  EXPECT_EQ(recs[4]["status"], 403);
  EXPECT_EQ(recs[5]["user"], "");
  EXPECT_EQ(recs[5]["status"], 401);
  EXPECT_EQ(recs[7]["object"], "GET /api/audit");  // reading the log is on the log
  EXPECT_EQ(recs[8]["action"], "authentication");
  EXPECT_EQ(recs[8]["outcome"], "denied");
  EXPECT_EQ(recs[9]["outcome"], "error");
}

TEST_F(Audit, PurposeHeaderOverridesTheSession) {
  Start();
  HttpOptions o;
  o.token = tokens["officer"];
  o.headers = {{"X-Purpose", "burglary briefing, north sector"}};
  ASSERT_EQ(Http(port(), "GET", "/api/events", "", o).status, 200);
  auto recs = Get("/api/audit?user=officer", "auditor").Json()["records"];
  ASSERT_GE(recs.size(), 2u);
  EXPECT_EQ(recs.back()["purpose"], "burglary briefing, north sector");
}

TEST_F(Audit, VerifyFailsAfterARawEditAndNamesTheRecord) {
  Start();
  for (int i = 0; i < 3; ++i) ASSERT_EQ(Get("/api/events", "officer").status, 200);
  auto ok = Get("/api/audit?verify=true", "auditor").Json();
  EXPECT_TRUE(ok["verify"]["ok"].get<bool>()) << ok.dump();
  // Someone with database access rewrites who read the data.
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  sqlite3_busy_timeout(db, 5000);
  ASSERT_EQ(sqlite3_exec(db,
                         "DROP TRIGGER audit_log_append_only_update; UPDATE audit_log SET "
                         "user_name = 'someone-else' WHERE seq = 7",
                         nullptr, nullptr, nullptr),
            SQLITE_OK);
  auto rep = access::VerifyAuditChain(db);
  sqlite3_close(db);
  ASSERT_TRUE(rep);
  EXPECT_FALSE(rep->ok);
  EXPECT_EQ(rep->bad_seq, 7);
  auto broken = Get("/api/audit?verify=true", "auditor").Json();
  EXPECT_FALSE(broken["verify"]["ok"].get<bool>());
  EXPECT_EQ(broken["verify"]["bad_seq"], 7);
  EXPECT_NE(broken["verify"]["problem"].get<std::string>().find("record 7 was altered"),
            std::string::npos);
}

TEST_F(Audit, ConcurrentRequestsShareCommitsAndKeepTheChain) {
  Start();
  const std::int64_t before = AuditCount();
  std::vector<std::thread> clients;
  std::atomic<int> ok{0};
  for (int c = 0; c < 8; ++c) {
    clients.emplace_back([&, c] {
      for (int i = 0; i < 15; ++i) {
        auto r = (i % 5 == 0)
                     ? Post("/api/events", Events(fmt::format("c{}-{}", c, i), 3), "analyst")
                     : Get("/api/events?limit=5", "officer");
        if (r.status == 200) ++ok;
      }
    });
  }
  for (auto& t : clients) t.join();
  EXPECT_EQ(ok, 120);
  EXPECT_EQ(AuditCount(), before + 120);
  EXPECT_EQ(EventCount(), 8 * 3 * 3);
  sqlite3* db = nullptr;
  ASSERT_EQ(sqlite3_open(db_path.c_str(), &db), SQLITE_OK);
  auto rep = access::VerifyAuditChain(db);
  sqlite3_close(db);
  ASSERT_TRUE(rep);
  EXPECT_TRUE(rep->ok) << rep->problem;
  // Group commit: fewer durable commits than records.
  EXPECT_LT(srv->service().writer().audit_commits(), 120);
}

}  // namespace
}  // namespace crimecast::testing
