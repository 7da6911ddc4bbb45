#include "core/access/access_store.hpp"

#include <gtest/gtest.h>
#include <sqlite3.h>

#include "core/storage/sqlite_event_store.hpp"
#include "support/paths.hpp"

namespace crimecast::access {
namespace {

constexpr char kPassword[] = "correct horse battery";

struct Fixture {
  std::int64_t now_ms = 1'700'000'000'000;
  std::unique_ptr<AccessStore> store;
  explicit Fixture(const std::string& name) {
    AccessOptions o;
    o.password_cost = PasswordCost::Minimum();
    o.clock = [this] { return now_ms; };
    auto dir = testing::TempDir("access-" + name);
    auto s = AccessStore::Open((dir / "a.db").string(), o);
    EXPECT_TRUE(s) << s.error().message;
    store = std::move(*s);
  }
  void Advance(std::int64_t seconds) { now_ms += seconds * 1000; }
};

TEST(AccessStore, CreateListAndRejectDuplicatesAndBadNames) {
  Fixture f("create");
  auto u = f.store->CreateUser("alice", Role::kAnalyst, kPassword);
  ASSERT_TRUE(u) << u.error().message;
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->role, Role::kAnalyst);
  EXPECT_EQ(f.store->CreateUser("ALICE", Role::kOfficer, kPassword).error().code,
            ErrorCode::kDuplicate);
  EXPECT_EQ(f.store->CreateUser("bob smith", Role::kOfficer, kPassword).error().code,
            ErrorCode::kInvalidArgument);
  EXPECT_EQ(f.store->CreateUser("bob", Role::kOfficer, "short").error().code,
            ErrorCode::kInvalidArgument);
  ASSERT_TRUE(f.store->CreateUser("bob", Role::kPartner, kPassword));
  auto list = f.store->ListUsers();
  ASSERT_TRUE(list);
  ASSERT_EQ(list->size(), 2u);
  EXPECT_EQ((*list)[0].name, "alice");
  EXPECT_EQ((*list)[1].role, Role::kPartner);
}

TEST(AccessStore, PasswordIsStoredAsArgon2idOnly) {
  Fixture f("hash");
  ASSERT_TRUE(f.store->CreateUser("alice", Role::kAnalyst, kPassword));
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(f.store->handle(), "SELECT password_hash FROM access_users", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  const std::string hash = reinterpret_cast<const char*>(sqlite3_column_text(st, 0));
  sqlite3_finalize(st);
  EXPECT_TRUE(hash.starts_with("$argon2id$"));
  EXPECT_EQ(hash.find(kPassword), std::string::npos);
}

TEST(AccessStore, LoginAuthenticateLogout) {
  Fixture f("login");
  ASSERT_TRUE(f.store->CreateUser("alice", Role::kOfficer, kPassword));
  auto login = f.store->Login("alice", kPassword, "127.0.0.1", "shift briefing");
  ASSERT_TRUE(login) << login.error().message;
  EXPECT_TRUE(login->token.starts_with("ccs_"));
  auto p = f.store->Authenticate(login->token);
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->user_name, "alice");
  EXPECT_EQ(p->role, Role::kOfficer);
  EXPECT_EQ(p->purpose, "shift briefing");
  EXPECT_EQ(p->kind, Principal::Kind::kSession);
  // The token itself is not in the database.
  sqlite3_stmt* st = nullptr;
  sqlite3_prepare_v2(f.store->handle(), "SELECT token_hash FROM access_sessions", -1, &st, nullptr);
  ASSERT_EQ(sqlite3_step(st), SQLITE_ROW);
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(sqlite3_column_text(st, 0))),
            TokenHash(login->token));
  sqlite3_finalize(st);

  ASSERT_TRUE(f.store->Logout(login->token));
  EXPECT_EQ(f.store->Authenticate(login->token).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(f.store->Authenticate("ccs_forged").error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(f.store->Authenticate("").error().code, ErrorCode::kUnauthenticated);
}

TEST(AccessStore, WrongUserAndWrongPasswordLookTheSame) {
  Fixture f("enum");
  ASSERT_TRUE(f.store->CreateUser("alice", Role::kOfficer, kPassword));
  auto a = f.store->Login("alice", "wrong password!!", "x", "");
  auto b = f.store->Login("nobody", "wrong password!!", "x", "");
  ASSERT_FALSE(a);
  ASSERT_FALSE(b);
  EXPECT_EQ(a.error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(a.error().code, b.error().code);
  EXPECT_EQ(a.error().message, b.error().message);
}

TEST(AccessStore, LockOutAfterFiveFailuresUntilReset) {
  Fixture f("lockout");
  ASSERT_TRUE(f.store->CreateUser("alice", Role::kOfficer, kPassword));
  for (int i = 0; i < 4; ++i) {
    EXPECT_EQ(f.store->Login("alice", "not the password", "x", "").error().code,
              ErrorCode::kUnauthenticated);
  }
  EXPECT_FALSE(f.store->GetUser("alice")->locked);
  // A success resets the consecutive count.
  ASSERT_TRUE(f.store->Login("alice", kPassword, "x", ""));
  EXPECT_EQ(f.store->GetUser("alice")->failed_logins, 0);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(f.store->Login("alice", "not the password", "x", ""));
  EXPECT_TRUE(f.store->GetUser("alice")->locked);
  // Locked: even the right password is refused, and time does not unlock it.
  f.Advance(24 * 3600);
  EXPECT_EQ(f.store->Login("alice", kPassword, "x", "").error().code, ErrorCode::kAccountLocked);
  ASSERT_TRUE(f.store->ResetPassword("alice", "a brand new passphrase"));
  EXPECT_FALSE(f.store->GetUser("alice")->locked);
  EXPECT_FALSE(f.store->Login("alice", kPassword, "x", ""));
  EXPECT_TRUE(f.store->Login("alice", "a brand new passphrase", "x", ""));
}

TEST(AccessStore, LockingOutEndsOpenSessions) {
  Fixture f("lockout-sessions");
  ASSERT_TRUE(f.store->CreateUser("alice", Role::kOfficer, kPassword));
  auto login = f.store->Login("alice", kPassword, "x", "");
  ASSERT_TRUE(login);
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(f.store->Login("alice", "not the password", "x", ""));
  EXPECT_EQ(f.store->Authenticate(login->token).error().code, ErrorCode::kAccountLocked);
}

TEST(AccessStore, IdleSessionsExpireButActiveOnesLive) {
  Fixture f("idle");
  ASSERT_TRUE(f.store->CreateUser("alice", Role::kOfficer, kPassword));
  auto login = f.store->Login("alice", kPassword, "x", "");
  ASSERT_TRUE(login);
  // Active every 20 minutes for 2 hours: stays signed in (idle timeout 30 min).
  for (int i = 0; i < 6; ++i) {
    f.Advance(20 * 60);
    ASSERT_TRUE(f.store->Authenticate(login->token)) << "after " << (i + 1) * 20 << " min";
  }
  f.Advance(31 * 60);
  auto p = f.store->Authenticate(login->token);
  ASSERT_FALSE(p);
  EXPECT_EQ(p.error().code, ErrorCode::kSessionExpired);
}

TEST(AccessStore, SessionsHaveAnAbsoluteLifetime) {
  Fixture f("lifetime");
  ASSERT_TRUE(f.store->CreateUser("alice", Role::kOfficer, kPassword));
  auto login = f.store->Login("alice", kPassword, "x", "");
  ASSERT_TRUE(login);
  for (int i = 0; i < 12 * 3; ++i) {  // a request every 20 minutes for 12 hours
    f.Advance(20 * 60);
    auto p = f.store->Authenticate(login->token);
    if (i < 12 * 3 - 1) {
      ASSERT_TRUE(p) << i;
    } else {
      ASSERT_FALSE(p);
      EXPECT_EQ(p.error().code, ErrorCode::kSessionExpired);
    }
  }
}

TEST(AccessStore, DisableAndRoleChangeRevokeSessions) {
  Fixture f("disable");
  ASSERT_TRUE(f.store->CreateUser("alice", Role::kAnalyst, kPassword));
  auto login = f.store->Login("alice", kPassword, "x", "");
  ASSERT_TRUE(login);
  ASSERT_TRUE(f.store->SetRole("alice", Role::kPartner));
  EXPECT_FALSE(f.store->Authenticate(login->token));
  login = f.store->Login("alice", kPassword, "x", "");
  ASSERT_TRUE(login);
  EXPECT_EQ(login->principal.role, Role::kPartner);
  ASSERT_TRUE(f.store->SetDisabled("alice", true));
  EXPECT_FALSE(f.store->Authenticate(login->token));
  EXPECT_EQ(f.store->Login("alice", kPassword, "x", "").error().code, ErrorCode::kAccountDisabled);
  ASSERT_TRUE(f.store->SetDisabled("alice", false));
  EXPECT_TRUE(f.store->Login("alice", kPassword, "x", ""));
  EXPECT_EQ(f.store->SetDisabled("nobody", true).error().code, ErrorCode::kNotFound);
}

TEST(AccessStore, ApiTokensForMachineFeeds) {
  Fixture f("api");
  ASSERT_TRUE(f.store->CreateUser("rms-feed", Role::kAnalyst, kPassword));
  auto tok = f.store->CreateApiToken("rms-feed", "records management system", 3600);
  ASSERT_TRUE(tok) << tok.error().message;
  EXPECT_TRUE(tok->first.starts_with("cca_"));
  auto p = f.store->Authenticate(tok->first);
  ASSERT_TRUE(p);
  EXPECT_EQ(p->kind, Principal::Kind::kApiToken);
  EXPECT_EQ(p->role, Role::kAnalyst);
  // Not subject to idle expiry, but to its own expiry.
  f.Advance(59 * 60);
  EXPECT_TRUE(f.store->Authenticate(tok->first));
  f.Advance(2 * 60);
  EXPECT_EQ(f.store->Authenticate(tok->first).error().code, ErrorCode::kSessionExpired);

  auto forever = f.store->CreateApiToken("rms-feed", "no expiry");
  ASSERT_TRUE(forever);
  f.Advance(365 * 24 * 3600);
  EXPECT_TRUE(f.store->Authenticate(forever->first));
  ASSERT_TRUE(f.store->RevokeApiToken(forever->second.id));
  EXPECT_EQ(f.store->Authenticate(forever->first).error().code, ErrorCode::kUnauthenticated);
  EXPECT_EQ(f.store->RevokeApiToken(forever->second.id).error().code, ErrorCode::kNotFound);
  auto list = f.store->ListApiTokens();
  ASSERT_TRUE(list);
  EXPECT_EQ(list->size(), 2u);
  EXPECT_TRUE((*list)[1].revoked);
  // A disabled user's tokens stop working.
  auto third = f.store->CreateApiToken("rms-feed", "third");
  ASSERT_TRUE(f.store->SetDisabled("rms-feed", true));
  EXPECT_EQ(f.store->Authenticate(third->first).error().code, ErrorCode::kAccountDisabled);
}

TEST(AccessStore, SharesTheEventDatabaseFile) {
  auto dir = testing::TempDir("access-shared");
  const std::string path = (dir / "c.db").string();
  auto events = storage::SqliteEventStore::Open(path);
  ASSERT_TRUE(events);
  AccessOptions o;
  o.password_cost = PasswordCost::Minimum();
  auto access = AccessStore::Open(path, o);
  ASSERT_TRUE(access) << access.error().message;
  ASSERT_TRUE((*access)->CreateUser("alice", Role::kAdmin, kPassword));
  access->reset();
  // Reopening applies no migration twice, and the event schema is untouched.
  auto again = AccessStore::Open(path, o);
  ASSERT_TRUE(again);
  EXPECT_EQ((*again)->ListUsers()->size(), 1u);
  EXPECT_EQ((*events)->SchemaVersion(), 1);
  EXPECT_EQ(*(*events)->IntegrityCheck(), "ok");
  auto attached = AccessStore::Attach((*events)->handle(), o);
  ASSERT_TRUE(attached);
  EXPECT_EQ((*attached)->ListUsers()->size(), 1u);
}

}  // namespace
}  // namespace crimecast::access
