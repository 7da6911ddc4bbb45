#include "core/access/audit_log.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include <thread>

#include "core/access/credentials.hpp"
#include "core/access/schema.hpp"
#include "core/access/sqlite_util.hpp"
#include "support/paths.hpp"

namespace crimecast::access {
namespace {

struct Db {
  sqlite3* db = nullptr;
  std::string path;
  explicit Db(const std::string& name) {
    path = (testing::TempDir("audit-" + name) / "a.db").string();
    auto d = sql::OpenDatabase(path, true);
    EXPECT_TRUE(d);
    db = *d;
    EXPECT_TRUE(EnsureAccessSchema(db));
  }
  ~Db() { sqlite3_close_v2(db); }
  void Sql(const std::string& s) {
    char* err = nullptr;
    ASSERT_EQ(sqlite3_exec(db, s.c_str(), nullptr, nullptr, &err), SQLITE_OK) << err;
  }
  // What a deliberate attacker with write access does first.
  void DropGuards() {
    Sql("DROP TRIGGER audit_log_append_only_update; DROP TRIGGER audit_log_append_only_delete; "
        "DROP TRIGGER audit_head_forward_only; DROP TRIGGER audit_head_no_delete;");
  }
};

AuditRecord Rec(int i) {
  AuditRecord r;
  r.at_ms = 1'700'000'000'000 + i;
  r.user = i % 2 ? "alice" : "bob";
  r.role = i % 2 ? "analyst" : "officer";
  r.action = i % 3 ? AuditAction::kConsultation : AuditAction::kCollection;
  r.object = "GET /api/events?page=" + std::to_string(i);
  r.outcome = "ok";
  r.status = 200;
  r.client = "127.0.0.1";
  r.purpose = "test";
  r.detail = "rows=" + std::to_string(i);
  return r;
}

void AppendN(sqlite3* db, int n, int first = 1) {
  std::vector<AuditRecord> recs;
  for (int i = first; i < first + n; ++i) recs.push_back(Rec(i));
  ASSERT_TRUE(AppendAudit(db, recs));
}

TEST(AuditLog, CanonicalSerialisationIsUnambiguous) {
  AuditRecord a = Rec(1), b = Rec(1);
  a.user = "al";
  a.role = "ice";
  b.user = "ali";
  b.role = "ce";
  EXPECT_NE(a.Canonical(), b.Canonical());  // length prefixes keep field boundaries
  AuditRecord c = Rec(1);
  EXPECT_EQ(Rec(1).Canonical(), c.Canonical());
  c.seq = 2;
  EXPECT_NE(Rec(1).Canonical(), c.Canonical());  // position is part of the record
}

TEST(AuditLog, AppendChainsHashesAndVerifies) {
  Db d("append");
  auto empty = VerifyAuditChain(d.db);
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->ok);
  EXPECT_EQ(empty->records, 0);
  AppendN(d.db, 10);
  AppendN(d.db, 5, 11);
  auto rep = VerifyAuditChain(d.db);
  ASSERT_TRUE(rep);
  EXPECT_TRUE(rep->ok) << rep->problem;
  EXPECT_EQ(rep->records, 15);
  EXPECT_EQ(rep->head_seq, 15);
  auto recs = ReadAudit(d.db, {});
  ASSERT_TRUE(recs);
  ASSERT_EQ(recs->size(), 15u);
  EXPECT_EQ((*recs)[0].prev_hash, kZeroHash);
  for (std::size_t i = 1; i < recs->size(); ++i) {
    EXPECT_EQ((*recs)[i].prev_hash, (*recs)[i - 1].hash);
    EXPECT_EQ((*recs)[i].seq, static_cast<std::int64_t>(i + 1));
  }
  EXPECT_EQ(rep->head_hash, recs->back().hash);
  // Filters and paging.
  AuditQuery q;
  q.user = "alice";
  EXPECT_EQ(ReadAudit(d.db, q)->size(), 8u);
  q = {};
  q.action = AuditAction::kCollection;
  EXPECT_EQ(ReadAudit(d.db, q)->size(), 5u);  // i = 3, 6, 9, 12, 15
  q = {};
  q.after_seq = 12;
  EXPECT_EQ(ReadAudit(d.db, q)->size(), 3u);
  EXPECT_EQ(*CountAudit(d.db), 15);
}

TEST(AuditLog, TriggersRefuseCasualEdits) {
  Db d("triggers");
  AppendN(d.db, 3);
  char* err = nullptr;
  EXPECT_NE(sqlite3_exec(d.db, "UPDATE audit_log SET user_name = 'eve' WHERE seq = 2", nullptr,
                         nullptr, &err),
            SQLITE_OK);
  sqlite3_free(err);
  EXPECT_NE(sqlite3_exec(d.db, "DELETE FROM audit_log WHERE seq = 3", nullptr, nullptr, &err),
            SQLITE_OK);
  sqlite3_free(err);
  EXPECT_NE(sqlite3_exec(d.db, "UPDATE audit_head SET seq = 2", nullptr, nullptr, &err), SQLITE_OK);
  sqlite3_free(err);
  EXPECT_TRUE(VerifyAuditChain(d.db)->ok);
}

TEST(AuditLog, EditedFieldIsDetectedAndNamed) {
  for (const char* edit : {"user_name = 'eve'", "object = 'GET /api/stats'", "at_ms = at_ms + 1",
                           "action = 'erasure'", "status = 403", "purpose = ''"}) {
    Db d("edit");
    AppendN(d.db, 20);
    d.DropGuards();
    d.Sql(std::string("UPDATE audit_log SET ") + edit + " WHERE seq = 7");
    auto rep = VerifyAuditChain(d.db);
    ASSERT_TRUE(rep);
    EXPECT_FALSE(rep->ok) << edit;
    EXPECT_EQ(rep->bad_seq, 7) << edit;
    EXPECT_NE(rep->problem.find("record 7"), std::string::npos) << rep->problem;
  }
}

TEST(AuditLog, EditWithRecomputedHashBreaksTheNextLink) {
  Db d("rehash");
  AppendN(d.db, 10);
  d.DropGuards();
  // The attacker edits record 4 and recomputes its own hash correctly...
  auto recs = ReadAudit(d.db, {});
  AuditRecord r = (*recs)[3];
  r.user = "eve";
  Sha256Digest prev{};
  FromHex(r.prev_hash, prev);
  std::string bytes(reinterpret_cast<const char*>(prev.data()), 32);
  bytes += r.Canonical();
  d.Sql("UPDATE audit_log SET user_name = 'eve', hash = '" + ToHex(Sha256(bytes)) +
        "' WHERE seq = 4");
  auto rep = VerifyAuditChain(d.db);
  EXPECT_FALSE(rep->ok);
  EXPECT_EQ(rep->bad_seq, 5);  // ... but record 5 still points at the old hash
}

TEST(AuditLog, DeletedMiddleRecordIsDetected) {
  Db d("delete-middle");
  AppendN(d.db, 20);
  d.DropGuards();
  d.Sql("DELETE FROM audit_log WHERE seq = 11");
  auto rep = VerifyAuditChain(d.db);
  EXPECT_FALSE(rep->ok);
  EXPECT_EQ(rep->bad_seq, 11);
  EXPECT_NE(rep->problem.find("record 11 is missing"), std::string::npos) << rep->problem;
}

TEST(AuditLog, DeletedMiddleRecordWithRenumberingIsDetected) {
  Db d("delete-renumber");
  AppendN(d.db, 20);
  d.DropGuards();
  d.Sql(
      "DELETE FROM audit_log WHERE seq = 11; UPDATE audit_log SET seq = seq - 1 WHERE seq > 11; "
      "UPDATE audit_head SET seq = 19");
  auto rep = VerifyAuditChain(d.db);
  EXPECT_FALSE(rep->ok);
  EXPECT_EQ(rep->bad_seq, 11);
}

TEST(AuditLog, DeletedLastRecordIsDetected) {
  Db d("delete-last");
  AppendN(d.db, 20);
  d.DropGuards();
  d.Sql("DELETE FROM audit_log WHERE seq = 20");
  auto rep = VerifyAuditChain(d.db);
  EXPECT_FALSE(rep->ok);
  EXPECT_EQ(rep->bad_seq, 20);
  EXPECT_NE(rep->problem.find("trailing records deleted"), std::string::npos) << rep->problem;
  // Deleting the head as well is detected too.
  d.Sql("DELETE FROM audit_head");
  rep = VerifyAuditChain(d.db);
  EXPECT_FALSE(rep->ok);
  EXPECT_NE(rep->problem.find("head"), std::string::npos);
}

TEST(AuditLog, DeletingEverythingIsDetected) {
  Db d("delete-all");
  AppendN(d.db, 5);
  d.DropGuards();
  d.Sql("DELETE FROM audit_log");
  auto rep = VerifyAuditChain(d.db);
  EXPECT_FALSE(rep->ok);
  EXPECT_EQ(rep->bad_seq, 1);
}

TEST(AuditLog, AnchorsCatchAWholesaleRewrite) {
  Db d("anchor");
  AppendN(d.db, 10);
  auto rep = VerifyAuditChain(d.db);
  const AuditAnchor anchor{rep->head_seq, rep->head_hash};
  const std::string text = std::to_string(anchor.seq) + ":" + anchor.hash;
  auto parsed = AuditAnchor::Parse(text);
  ASSERT_TRUE(parsed);
  EXPECT_EQ(parsed->hash, anchor.hash);
  EXPECT_FALSE(AuditAnchor::Parse("10:abc"));
  EXPECT_FALSE(AuditAnchor::Parse("x:" + anchor.hash));
  AppendN(d.db, 5, 11);
  EXPECT_TRUE(VerifyAuditChain(d.db, std::span(&anchor, 1))->ok);

  // The attacker rewrites the whole log consistently (new chain, new head).
  d.DropGuards();
  auto recs = *ReadAudit(d.db, {});
  d.Sql("DELETE FROM audit_log; UPDATE audit_head SET seq = 0, hash = '" + std::string(kZeroHash) +
        "'");
  recs[2].user = "eve";
  for (auto& r : recs) r.seq = 0;
  ASSERT_TRUE(AppendAudit(d.db, recs));
  EXPECT_TRUE(VerifyAuditChain(d.db)->ok);  // the chain alone cannot tell...
  auto anchored = VerifyAuditChain(d.db, std::span(&anchor, 1));
  EXPECT_FALSE(anchored->ok);  // ... the anchor can
  EXPECT_EQ(anchored->bad_seq, 10);
}

TEST(AuditLog, ConcurrentAppendersFromTwoConnectionsKeepOneChain) {
  Db d("concurrent");
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&d, t] {
      auto db = sql::OpenDatabase(d.path, false);
      ASSERT_TRUE(db);
      for (int i = 0; i < 40; ++i) {
        std::vector<AuditRecord> one{Rec(t * 1000 + i)};
        ASSERT_TRUE(AppendAudit(*db, one));
      }
      sqlite3_close_v2(*db);
    });
  }
  for (auto& t : threads) t.join();
  auto rep = VerifyAuditChain(d.db);
  EXPECT_TRUE(rep->ok) << rep->problem;
  EXPECT_EQ(rep->records, 120);
}

TEST(AuditLog, AppendInCallersTransactionRollsBackWithIt) {
  Db d("rollback");
  AppendN(d.db, 2);
  {
    auto txn = sql::Transaction::Begin(d.db);
    ASSERT_TRUE(txn);
    std::vector<AuditRecord> recs{Rec(3)};
    ASSERT_TRUE(AppendAuditInTransaction(d.db, recs));
    EXPECT_EQ(recs[0].seq, 3);
    // No commit: destroyed -> rolled back.
  }
  EXPECT_EQ(*CountAudit(d.db), 2);
  auto rep = VerifyAuditChain(d.db);
  EXPECT_TRUE(rep->ok) << rep->problem;
  EXPECT_EQ(rep->head_seq, 2);
}

}  // namespace
}  // namespace crimecast::access
