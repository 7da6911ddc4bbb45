#include "core/access/sqlite_util.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <utility>

namespace crimecast::access::sql {

Unexpected SqlError(sqlite3* db, std::string_view what) {
  return Fail(ErrorCode::kStorage, fmt::format("{}: {}", what, sqlite3_errmsg(db)));
}

Result<void> Exec(sqlite3* db, std::string_view sql) {
  char* err = nullptr;
  const std::string text(sql);
  if (sqlite3_exec(db, text.c_str(), nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : sqlite3_errmsg(db);
    sqlite3_free(err);
    return Fail(ErrorCode::kStorage, fmt::format("SQL failed ({}): {}", msg, text.substr(0, 120)));
  }
  return {};
}

Stmt& Stmt::operator=(Stmt&& o) noexcept {
  std::swap(db_, o.db_);
  std::swap(s_, o.s_);
  return *this;
}

Stmt::~Stmt() { sqlite3_finalize(s_); }

Result<Stmt> Stmt::Prepare(sqlite3* db, std::string_view sql) {
  Stmt st;
  st.db_ = db;
  if (sqlite3_prepare_v2(db, sql.data(), static_cast<int>(sql.size()), &st.s_, nullptr) !=
      SQLITE_OK) {
    return SqlError(db, fmt::format("prepare '{}'", sql.substr(0, 80)));
  }
  return st;
}

Stmt& Stmt::Bind(int i, std::int64_t v) {
  sqlite3_bind_int64(s_, i, v);
  return *this;
}
Stmt& Stmt::Bind(int i, std::string_view v) {
  sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_TRANSIENT);
  return *this;
}
Stmt& Stmt::BindNull(int i) {
  sqlite3_bind_null(s_, i);
  return *this;
}

Result<bool> Stmt::Step() {
  const int rc = sqlite3_step(s_);
  if (rc == SQLITE_ROW) return true;
  if (rc == SQLITE_DONE) return false;
  return SqlError(db_, "step");
}

Result<void> Stmt::Run() {
  for (;;) {
    auto r = Step();
    if (!r) return Unexpected(r.error());
    if (!*r) return {};
  }
}

void Stmt::Reset() {
  sqlite3_reset(s_);
  sqlite3_clear_bindings(s_);
}

std::int64_t Stmt::Int(int c) const { return sqlite3_column_int64(s_, c); }
bool Stmt::IsNull(int c) const { return sqlite3_column_type(s_, c) == SQLITE_NULL; }
std::string Stmt::Text(int c) const {
  const auto* p = sqlite3_column_text(s_, c);
  return p ? std::string(reinterpret_cast<const char*>(p),
                         static_cast<std::size_t>(sqlite3_column_bytes(s_, c)))
           : std::string();
}

Result<Transaction> Transaction::Begin(sqlite3* db) {
  if (auto r = Exec(db, "BEGIN IMMEDIATE"); !r) return Unexpected(r.error());
  return Transaction(db);
}

Transaction::~Transaction() {
  if (open_) sqlite3_exec(db_, "ROLLBACK", nullptr, nullptr, nullptr);
}

Result<void> Transaction::Commit() {
  if (auto r = Exec(db_, "COMMIT"); !r) return r;
  open_ = false;
  return {};
}

Result<sqlite3*> OpenDatabase(const std::string& path, bool create) {
  sqlite3* db = nullptr;
  int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_FULLMUTEX;
  if (create) flags |= SQLITE_OPEN_CREATE;
  if (sqlite3_open_v2(path.c_str(), &db, flags, nullptr) != SQLITE_OK) {
    std::string msg = db ? sqlite3_errmsg(db) : "out of memory";
    sqlite3_close(db);
    return Fail(create ? ErrorCode::kStorage : ErrorCode::kFileNotFound,
                fmt::format("cannot open database '{}': {}", path, msg));
  }
  sqlite3_busy_timeout(db, 30000);
  for (const char* pragma : {"PRAGMA journal_mode=WAL", "PRAGMA synchronous=FULL"}) {
    if (auto r = Exec(db, pragma); !r) {
      sqlite3_close(db);
      return Unexpected(r.error());
    }
  }
  return db;
}

}  // namespace crimecast::access::sql
