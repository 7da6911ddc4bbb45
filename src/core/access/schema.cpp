#include "core/access/schema.hpp"

#include <fmt/format.h>

#include <chrono>
#include <string_view>

#include "core/access/sqlite_util.hpp"

namespace crimecast::access {
namespace {

struct AccessMigration {
  int version;
  std::string_view description;
  std::string_view sql;
};

// Append-only: never edit a shipped migration; add a new version.
constexpr AccessMigration kMigrations[] = {
    {1, "users, sessions, API tokens, hash-chained audit log", R"sql(
CREATE TABLE access_users (
  id                   INTEGER PRIMARY KEY,
  name                 TEXT NOT NULL UNIQUE COLLATE NOCASE,
  role                 INTEGER NOT NULL,          -- access::Role
  password_hash        TEXT NOT NULL,             -- argon2id, libsodium string format
  disabled             INTEGER NOT NULL DEFAULT 0,
  failed_logins        INTEGER NOT NULL DEFAULT 0,  -- consecutive failures
  locked_at            INTEGER,                   -- UTC ms; NULL unless locked out
  created_at           INTEGER NOT NULL,          -- UTC ms
  password_changed_at  INTEGER NOT NULL,
  last_login_at        INTEGER
);

-- Sessions and API tokens are stored by sha256(token) only.
CREATE TABLE access_sessions (
  token_hash    TEXT PRIMARY KEY,
  user_id       INTEGER NOT NULL REFERENCES access_users(id),
  created_at    INTEGER NOT NULL,
  last_seen_at  INTEGER NOT NULL,
  expires_at    INTEGER NOT NULL,                 -- absolute end of the session
  purpose       TEXT NOT NULL,
  client        TEXT NOT NULL,
  revoked_at    INTEGER
) WITHOUT ROWID;
CREATE INDEX access_sessions_user ON access_sessions(user_id);

CREATE TABLE access_api_tokens (
  id            INTEGER PRIMARY KEY,
  token_hash    TEXT NOT NULL UNIQUE,
  user_id       INTEGER NOT NULL REFERENCES access_users(id),
  label         TEXT NOT NULL,
  created_at    INTEGER NOT NULL,
  expires_at    INTEGER,
  last_used_at  INTEGER,
  revoked_at    INTEGER
);

-- The audit log: one row per data-touching request, hash-chained (access/audit_log.hpp).
CREATE TABLE audit_log (
  seq        INTEGER PRIMARY KEY,    -- 1, 2, 3, ... without gaps
  at_ms      INTEGER NOT NULL,       -- UTC milliseconds
  user_name  TEXT NOT NULL,
  role       TEXT NOT NULL,
  action     TEXT NOT NULL,          -- DPA 2018 s.62 kind
  object     TEXT NOT NULL,
  outcome    TEXT NOT NULL,
  status     INTEGER NOT NULL,
  client     TEXT NOT NULL,
  purpose    TEXT NOT NULL,
  detail     TEXT NOT NULL,
  prev_hash  TEXT NOT NULL,          -- hex sha256 of the previous record (64 zeros for seq 1)
  hash       TEXT NOT NULL           -- hex sha256(prev_hash bytes || canonical serialisation)
);
CREATE INDEX audit_log_time ON audit_log(at_ms);

-- The chain head: the last record's seq and hash. Without it, deleting the LAST records would
-- leave a chain that still verifies.
CREATE TABLE audit_head (
  id    INTEGER PRIMARY KEY CHECK (id = 1),
  seq   INTEGER NOT NULL,
  hash  TEXT NOT NULL
);
INSERT INTO audit_head VALUES (1, 0, '0000000000000000000000000000000000000000000000000000000000000000');

-- Defence in depth against accidental edits; a deliberate attacker can drop these, which is what
-- the hash chain is for.
CREATE TRIGGER audit_log_append_only_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_append_only_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_head_forward_only BEFORE UPDATE ON audit_head WHEN NEW.seq <= OLD.seq
BEGIN SELECT RAISE(ABORT, 'audit_head only moves forward'); END;
CREATE TRIGGER audit_head_no_delete BEFORE DELETE ON audit_head
BEGIN SELECT RAISE(ABORT, 'audit_head cannot be deleted'); END;
)sql"},
};

std::int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

}  // namespace

int LatestAccessSchemaVersion() { return kMigrations[std::size(kMigrations) - 1].version; }

Result<int> AccessSchemaVersion(sqlite3* db) {
  auto st =
      sql::Stmt::Prepare(db, "SELECT COALESCE(MAX(version), 0) FROM access_schema_migrations");
  if (!st) return Unexpected(st.error());
  auto row = st->Step();
  if (!row) return Unexpected(row.error());
  return *row ? static_cast<int>(st->Int(0)) : 0;
}

Result<void> EnsureAccessSchema(sqlite3* db) {
  if (auto r = sql::Exec(db,
                         "CREATE TABLE IF NOT EXISTS access_schema_migrations (version INTEGER "
                         "PRIMARY KEY, applied_at INTEGER NOT NULL, description TEXT NOT NULL)");
      !r) {
    return r;
  }
  auto current = AccessSchemaVersion(db);
  if (!current) return Unexpected(current.error());
  if (*current > LatestAccessSchemaVersion()) {
    return Fail(ErrorCode::kSchemaVersion,
                fmt::format("the access tables have schema version {}, newer than this "
                            "crimecast ({}); upgrade crimecast",
                            *current, LatestAccessSchemaVersion()));
  }
  for (const AccessMigration& m : kMigrations) {
    if (m.version <= *current) continue;
    auto txn = sql::Transaction::Begin(db);
    if (!txn) return Unexpected(txn.error());
    // Another process may have applied it between our read and BEGIN IMMEDIATE.
    auto again = AccessSchemaVersion(db);
    if (!again) return Unexpected(again.error());
    if (*again >= m.version) continue;
    if (auto r = sql::Exec(db, m.sql); !r) return r;
    auto st = sql::Stmt::Prepare(db, "INSERT INTO access_schema_migrations VALUES (?, ?, ?)");
    if (!st) return Unexpected(st.error());
    st->Bind(1, m.version).Bind(2, NowMs()).Bind(3, m.description);
    if (auto r = st->Run(); !r) return r;
    if (auto r = txn->Commit(); !r) return r;
  }
  return {};
}

}  // namespace crimecast::access
