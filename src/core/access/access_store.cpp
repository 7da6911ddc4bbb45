#include "core/access/access_store.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <chrono>

#include "core/access/schema.hpp"
#include "core/access/sqlite_util.hpp"

namespace crimecast::access {

std::int64_t SystemNowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

Result<void> CheckUserName(const std::string& name) {
  if (name.empty() || name.size() > 64) {
    return Fail(ErrorCode::kInvalidArgument, "user name must have 1 to 64 characters");
  }
  for (char c : name) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '.' || c == '_' || c == '@' || c == '-';
    if (!ok) {
      return Fail(ErrorCode::kInvalidArgument,
                  fmt::format("user name '{}' may contain only letters, digits and . _ @ -", name));
    }
  }
  return {};
}

namespace {
constexpr std::string_view kUserColumns =
    "u.id, u.name, u.role, u.disabled, u.locked_at IS NOT NULL, u.failed_logins, u.created_at, "
    "u.last_login_at";

UserInfo ReadUser(const sql::Stmt& st) {
  UserInfo u;
  u.id = st.Int(0);
  u.name = st.Text(1);
  u.role = static_cast<Role>(st.Int(2));
  u.disabled = st.Int(3) != 0;
  u.locked = st.Int(4) != 0;
  u.failed_logins = static_cast<int>(st.Int(5));
  u.created_at = st.Int(6);
  u.last_login_at = st.OptInt(7);
  return u;
}

Unexpected NoSuchUser(const std::string& name) {
  return Fail(ErrorCode::kNotFound, fmt::format("no user named '{}'", name));
}
}  // namespace

Result<std::unique_ptr<AccessStore>> AccessStore::Open(const std::string& path,
                                                       AccessOptions options, bool create) {
  auto db = sql::OpenDatabase(path, create);
  if (!db) return Unexpected(db.error());
  std::unique_ptr<AccessStore> store(new AccessStore(*db, true, std::move(options)));
  if (auto r = EnsureAccessSchema(*db); !r) return Unexpected(r.error());
  return store;
}

Result<std::unique_ptr<AccessStore>> AccessStore::Attach(sqlite3* db, AccessOptions options) {
  std::unique_ptr<AccessStore> store(new AccessStore(db, false, std::move(options)));
  if (auto r = EnsureAccessSchema(db); !r) return Unexpected(r.error());
  return store;
}

AccessStore::~AccessStore() {
  if (owned_) sqlite3_close_v2(db_);
}

Result<UserInfo> AccessStore::CreateUser(const std::string& name, Role role,
                                         const std::string& password) {
  if (auto r = CheckUserName(name); !r) return Unexpected(r.error());
  if (auto r = CheckPasswordPolicy(name, password); !r) return Unexpected(r.error());
  auto hash = HashPassword(password, options_.password_cost);
  if (!hash) return Unexpected(hash.error());
  auto st = sql::Stmt::Prepare(
      db_,
      "INSERT INTO access_users (name, role, password_hash, created_at, password_changed_at) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO NOTHING");
  if (!st) return Unexpected(st.error());
  const std::int64_t now = Now();
  st->Bind(1, name).Bind(2, static_cast<int>(role)).Bind(3, *hash).Bind(4, now).Bind(5, now);
  if (auto r = st->Run(); !r) return Unexpected(r.error());
  if (sqlite3_changes(db_) == 0) {
    return Fail(ErrorCode::kDuplicate, fmt::format("a user named '{}' already exists", name));
  }
  return GetUser(name);
}

Result<std::vector<UserInfo>> AccessStore::ListUsers() {
  auto st = sql::Stmt::Prepare(
      db_, fmt::format("SELECT {}, (SELECT COUNT(*) FROM access_sessions s WHERE s.user_id = u.id "
                       "AND s.revoked_at IS NULL AND s.expires_at > ?1 AND s.last_seen_at > ?2) "
                       "FROM access_users u ORDER BY u.name",
                       kUserColumns));
  if (!st) return Unexpected(st.error());
  const std::int64_t now = Now();
  st->Bind(1, now).Bind(2, now - options_.idle_timeout_s * 1000);
  std::vector<UserInfo> out;
  for (;;) {
    auto row = st->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    out.push_back(ReadUser(*st));
    out.back().active_sessions = st->Int(8);
  }
  return out;
}

Result<UserInfo> AccessStore::GetUser(const std::string& name) {
  auto st = sql::Stmt::Prepare(
      db_, fmt::format("SELECT {} FROM access_users u WHERE u.name = ?", kUserColumns));
  if (!st) return Unexpected(st.error());
  st->Bind(1, name);
  auto row = st->Step();
  if (!row) return Unexpected(row.error());
  if (!*row) return NoSuchUser(name);
  return ReadUser(*st);
}

Result<void> AccessStore::RevokeSessionsOf(std::int64_t user_id) {
  auto st = sql::Stmt::Prepare(db_,
                               "UPDATE access_sessions SET revoked_at = ? WHERE user_id = ? AND "
                               "revoked_at IS NULL");
  if (!st) return Unexpected(st.error());
  st->Bind(1, Now()).Bind(2, user_id);
  return st->Run();
}

Result<void> AccessStore::SetDisabled(const std::string& name, bool disabled) {
  auto user = GetUser(name);
  if (!user) return Unexpected(user.error());
  auto txn = sql::Transaction::Begin(db_);
  if (!txn) return Unexpected(txn.error());
  auto st = sql::Stmt::Prepare(db_, "UPDATE access_users SET disabled = ? WHERE id = ?");
  if (!st) return Unexpected(st.error());
  st->Bind(1, disabled ? 1 : 0).Bind(2, user->id);
  if (auto r = st->Run(); !r) return r;
  if (disabled) {
    if (auto r = RevokeSessionsOf(user->id); !r) return r;
  }
  return txn->Commit();
}

Result<void> AccessStore::ResetPassword(const std::string& name, const std::string& password) {
  auto user = GetUser(name);
  if (!user) return Unexpected(user.error());
  if (auto r = CheckPasswordPolicy(user->name, password); !r) return r;
  auto hash = HashPassword(password, options_.password_cost);
  if (!hash) return Unexpected(hash.error());
  auto txn = sql::Transaction::Begin(db_);
  if (!txn) return Unexpected(txn.error());
  auto st = sql::Stmt::Prepare(db_,
                               "UPDATE access_users SET password_hash = ?, failed_logins = 0, "
                               "locked_at = NULL, password_changed_at = ? WHERE id = ?");
  if (!st) return Unexpected(st.error());
  st->Bind(1, *hash).Bind(2, Now()).Bind(3, user->id);
  if (auto r = st->Run(); !r) return r;
  if (auto r = RevokeSessionsOf(user->id); !r) return r;
  return txn->Commit();
}

Result<void> AccessStore::SetRole(const std::string& name, Role role) {
  auto user = GetUser(name);
  if (!user) return Unexpected(user.error());
  auto txn = sql::Transaction::Begin(db_);
  if (!txn) return Unexpected(txn.error());
  auto st = sql::Stmt::Prepare(db_, "UPDATE access_users SET role = ? WHERE id = ?");
  if (!st) return Unexpected(st.error());
  st->Bind(1, static_cast<int>(role)).Bind(2, user->id);
  if (auto r = st->Run(); !r) return r;
  // A changed role must not ride on sessions opened under the old one.
  if (auto r = RevokeSessionsOf(user->id); !r) return r;
  return txn->Commit();
}

Result<LoginResult> AccessStore::Login(const std::string& name, const std::string& password,
                                       const std::string& client, const std::string& purpose) {
  const auto wrong = [] {
    return Fail(ErrorCode::kUnauthenticated, "wrong user name or password");
  };
  if (name.empty() || name.size() > 64 || password.size() > 1024) return wrong();
  auto st = sql::Stmt::Prepare(db_,
                               "SELECT id, name, role, password_hash, disabled, locked_at IS NOT "
                               "NULL FROM access_users WHERE name = ?");
  if (!st) return Unexpected(st.error());
  st->Bind(1, name);
  auto row = st->Step();
  if (!row) return Unexpected(row.error());
  if (!*row) {
    // Spend the same argon2id work as for a real user, so response time does not reveal
    // whether the name exists.
    if (dummy_hash_.empty()) {
      auto h = HashPassword("crimecast-no-such-user", options_.password_cost);
      if (h) dummy_hash_ = *h;
    }
    (void)VerifyPassword(dummy_hash_, password);
    return wrong();
  }
  const std::int64_t user_id = st->Int(0);
  Principal p;
  p.user_id = user_id;
  p.user_name = st->Text(1);
  p.role = static_cast<Role>(st->Int(2));
  const std::string hash = st->Text(3);
  const bool disabled = st->Int(4) != 0;
  const bool locked = st->Int(5) != 0;
  st->Reset();

  // Verify outside any write transaction: argon2id takes ~0.1 s and must not hold the lock.
  const bool good = VerifyPassword(hash, password);
  if (disabled) {
    return Fail(ErrorCode::kAccountDisabled,
                fmt::format("account '{}' is disabled; ask an administrator", p.user_name));
  }
  if (locked) {
    return Fail(ErrorCode::kAccountLocked,
                fmt::format("account '{}' is locked after {} failed sign-ins; ask an "
                            "administrator to reset it",
                            p.user_name, options_.max_failed_logins));
  }
  const std::int64_t now = Now();
  if (!good) {
    // One statement, so concurrent failures cannot lose increments.
    auto up = sql::Stmt::Prepare(
        db_,
        "UPDATE access_users SET failed_logins = failed_logins + 1, locked_at = CASE WHEN "
        "failed_logins + 1 >= ? THEN COALESCE(locked_at, ?) ELSE locked_at END WHERE id = ?");
    if (!up) return Unexpected(up.error());
    up->Bind(1, options_.max_failed_logins).Bind(2, now).Bind(3, user_id);
    if (auto r = up->Run(); !r) return Unexpected(r.error());
    return wrong();
  }

  LoginResult out;
  out.token = NewToken(kSessionTokenPrefix);
  p.kind = Principal::Kind::kSession;
  p.token_hash = TokenHash(out.token);
  p.purpose = purpose;
  p.expires_at = now + options_.session_lifetime_s * 1000;
  auto txn = sql::Transaction::Begin(db_);
  if (!txn) return Unexpected(txn.error());
  // Re-check the lock inside the transaction: a concurrent wrong attempt may have locked it.
  auto up = sql::Stmt::Prepare(db_,
                               "UPDATE access_users SET failed_logins = 0, last_login_at = ? "
                               "WHERE id = ? AND locked_at IS NULL AND disabled = 0");
  if (!up) return Unexpected(up.error());
  up->Bind(1, now).Bind(2, user_id);
  if (auto r = up->Run(); !r) return Unexpected(r.error());
  if (sqlite3_changes(db_) == 0) {
    return Fail(ErrorCode::kAccountLocked,
                fmt::format("account '{}' is locked; ask an administrator", p.user_name));
  }
  auto ins =
      sql::Stmt::Prepare(db_,
                         "INSERT INTO access_sessions (token_hash, user_id, created_at, "
                         "last_seen_at, expires_at, purpose, client) VALUES (?,?,?,?,?,?,?)");
  if (!ins) return Unexpected(ins.error());
  ins->Bind(1, p.token_hash)
      .Bind(2, user_id)
      .Bind(3, now)
      .Bind(4, now)
      .Bind(5, p.expires_at)
      .Bind(6, purpose)
      .Bind(7, client);
  if (auto r = ins->Run(); !r) return Unexpected(r.error());
  if (auto r = txn->Commit(); !r) return Unexpected(r.error());
  out.principal = std::move(p);
  return out;
}

Result<void> AccessStore::Logout(const std::string& token) {
  auto st = sql::Stmt::Prepare(db_,
                               "UPDATE access_sessions SET revoked_at = ? WHERE token_hash = ? "
                               "AND revoked_at IS NULL");
  if (!st) return Unexpected(st.error());
  st->Bind(1, Now()).Bind(2, TokenHash(token));
  return st->Run();
}

Result<Principal> AccessStore::Authenticate(const std::string& token) {
  const auto unknown = [] {
    return Fail(ErrorCode::kUnauthenticated, "the token is not valid; sign in again");
  };
  if (token.size() < 8 || token.size() > 200) return unknown();
  const std::string hash = TokenHash(token);
  const std::int64_t now = Now();
  const std::string_view prefix = std::string_view(token).substr(0, 4);
  Principal p;
  p.token_hash = hash;
  if (prefix == kSessionTokenPrefix) {
    auto st = sql::Stmt::Prepare(
        db_,
        "SELECT u.id, u.name, u.role, u.disabled, u.locked_at IS NOT NULL, s.last_seen_at, "
        "s.expires_at, s.revoked_at IS NOT NULL, s.purpose FROM access_sessions s JOIN "
        "access_users u ON u.id = s.user_id WHERE s.token_hash = ?");
    if (!st) return Unexpected(st.error());
    st->Bind(1, hash);
    auto row = st->Step();
    if (!row) return Unexpected(row.error());
    if (!*row || st->Int(7) != 0) return unknown();
    p.kind = Principal::Kind::kSession;
    p.user_id = st->Int(0);
    p.user_name = st->Text(1);
    p.role = static_cast<Role>(st->Int(2));
    if (st->Int(3) != 0) return Fail(ErrorCode::kAccountDisabled, "the account is disabled");
    if (st->Int(4) != 0) return Fail(ErrorCode::kAccountLocked, "the account is locked");
    const std::int64_t last_seen = st->Int(5);
    p.expires_at = st->Int(6);
    p.purpose = st->Text(8);
    st->Reset();
    if (now >= p.expires_at) {
      return Fail(ErrorCode::kSessionExpired, "the session has reached its maximum lifetime");
    }
    if (now - last_seen >= options_.idle_timeout_s * 1000) {
      return Fail(ErrorCode::kSessionExpired, "the session expired after inactivity");
    }
    if (now - last_seen >= options_.touch_interval_s * 1000) {
      auto up = sql::Stmt::Prepare(
          db_, "UPDATE access_sessions SET last_seen_at = ? WHERE token_hash = ?");
      if (!up) return Unexpected(up.error());
      up->Bind(1, now).Bind(2, hash);
      if (auto r = up->Run(); !r) return Unexpected(r.error());
    }
    return p;
  }
  if (prefix == kApiTokenPrefix) {
    auto st = sql::Stmt::Prepare(
        db_,
        "SELECT u.id, u.name, u.role, u.disabled, u.locked_at IS NOT NULL, t.expires_at, "
        "t.revoked_at IS NOT NULL, t.last_used_at, t.id FROM access_api_tokens t JOIN "
        "access_users u ON u.id = t.user_id WHERE t.token_hash = ?");
    if (!st) return Unexpected(st.error());
    st->Bind(1, hash);
    auto row = st->Step();
    if (!row) return Unexpected(row.error());
    if (!*row || st->Int(6) != 0) return unknown();
    p.kind = Principal::Kind::kApiToken;
    p.user_id = st->Int(0);
    p.user_name = st->Text(1);
    p.role = static_cast<Role>(st->Int(2));
    if (st->Int(3) != 0) return Fail(ErrorCode::kAccountDisabled, "the account is disabled");
    if (st->Int(4) != 0) return Fail(ErrorCode::kAccountLocked, "the account is locked");
    const auto expires = st->OptInt(5);
    const auto last_used = st->OptInt(7);
    const std::int64_t id = st->Int(8);
    st->Reset();
    p.expires_at = expires.value_or(0);
    if (expires && now >= *expires) {
      return Fail(ErrorCode::kSessionExpired, "the API token has expired");
    }
    if (!last_used || now - *last_used >= options_.touch_interval_s * 1000) {
      auto up =
          sql::Stmt::Prepare(db_, "UPDATE access_api_tokens SET last_used_at = ? WHERE id = ?");
      if (!up) return Unexpected(up.error());
      up->Bind(1, now).Bind(2, id);
      if (auto r = up->Run(); !r) return Unexpected(r.error());
    }
    return p;
  }
  return unknown();
}

Result<std::int64_t> AccessStore::PurgeEndedSessions(std::int64_t keep_s) {
  const std::int64_t cutoff = Now() - keep_s * 1000;
  auto st = sql::Stmt::Prepare(
      db_,
      "DELETE FROM access_sessions WHERE COALESCE(revoked_at, expires_at) < ?1 OR "
      "last_seen_at < ?1 - ?2");
  if (!st) return Unexpected(st.error());
  st->Bind(1, cutoff).Bind(2, options_.idle_timeout_s * 1000);
  if (auto r = st->Run(); !r) return Unexpected(r.error());
  return static_cast<std::int64_t>(sqlite3_changes(db_));
}

Result<std::pair<std::string, ApiTokenInfo>> AccessStore::CreateApiToken(
    const std::string& user_name, const std::string& label,
    std::optional<std::int64_t> lifetime_s) {
  auto user = GetUser(user_name);
  if (!user) return Unexpected(user.error());
  if (label.empty() || label.size() > 200) {
    return Fail(ErrorCode::kInvalidArgument, "token label must have 1 to 200 characters");
  }
  if (lifetime_s && *lifetime_s <= 0) {
    return Fail(ErrorCode::kInvalidArgument, "token lifetime must be positive");
  }
  const std::string token = NewToken(kApiTokenPrefix);
  const std::int64_t now = Now();
  ApiTokenInfo info;
  info.user_name = user->name;
  info.label = label;
  info.created_at = now;
  if (lifetime_s) info.expires_at = now + *lifetime_s * 1000;
  auto st = sql::Stmt::Prepare(db_,
                               "INSERT INTO access_api_tokens (token_hash, user_id, label, "
                               "created_at, expires_at) VALUES (?,?,?,?,?)");
  if (!st) return Unexpected(st.error());
  st->Bind(1, TokenHash(token))
      .Bind(2, user->id)
      .Bind(3, label)
      .Bind(4, now)
      .Bind(5, info.expires_at);
  if (auto r = st->Run(); !r) return Unexpected(r.error());
  info.id = sqlite3_last_insert_rowid(db_);
  return std::make_pair(token, info);
}

Result<std::vector<ApiTokenInfo>> AccessStore::ListApiTokens() {
  auto st = sql::Stmt::Prepare(db_,
                               "SELECT t.id, u.name, t.label, t.created_at, t.expires_at, "
                               "t.last_used_at, t.revoked_at IS NOT NULL FROM access_api_tokens t "
                               "JOIN access_users u ON u.id = t.user_id ORDER BY t.id");
  if (!st) return Unexpected(st.error());
  std::vector<ApiTokenInfo> out;
  for (;;) {
    auto row = st->Step();
    if (!row) return Unexpected(row.error());
    if (!*row) break;
    ApiTokenInfo t;
    t.id = st->Int(0);
    t.user_name = st->Text(1);
    t.label = st->Text(2);
    t.created_at = st->Int(3);
    t.expires_at = st->OptInt(4);
    t.last_used_at = st->OptInt(5);
    t.revoked = st->Int(6) != 0;
    out.push_back(std::move(t));
  }
  return out;
}

Result<void> AccessStore::RevokeApiToken(std::int64_t id) {
  auto st = sql::Stmt::Prepare(db_,
                               "UPDATE access_api_tokens SET revoked_at = ? WHERE id = ? AND "
                               "revoked_at IS NULL");
  if (!st) return Unexpected(st.error());
  st->Bind(1, Now()).Bind(2, id);
  if (auto r = st->Run(); !r) return r;
  if (sqlite3_changes(db_) == 0) {
    return Fail(ErrorCode::kNotFound, fmt::format("no active API token with id {}", id));
  }
  return {};
}

}  // namespace crimecast::access
