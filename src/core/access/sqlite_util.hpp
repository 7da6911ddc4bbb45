// core/access/sqlite_util.hpp
//
// Small RAII helpers over the SQLite C API used by the access module (users, sessions, tokens,
// audit log). They live here rather than in storage/ because the storage module keeps its own
// statement wrapper private; the access tables share the database file but not its code.
//
// Error contract: every failing call becomes Error{kStorage, "<what>: <sqlite message>"}.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "core/common/error.hpp"

struct sqlite3;
struct sqlite3_stmt;

namespace crimecast::access::sql {

Unexpected SqlError(sqlite3* db, std::string_view what);
Result<void> Exec(sqlite3* db, std::string_view sql);

// A prepared statement. Bind indexes are 1-based, column indexes 0-based (SQLite's convention).
class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : db_(o.db_), s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept;
  ~Stmt();

  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql);

  Stmt& Bind(int i, std::int64_t v);
  Stmt& Bind(int i, int v) { return Bind(i, static_cast<std::int64_t>(v)); }
  Stmt& Bind(int i, std::string_view v);
  Stmt& BindNull(int i);
  Stmt& Bind(int i, const std::optional<std::int64_t>& v) { return v ? Bind(i, *v) : BindNull(i); }

  // Steps once: true on a row, false when done; an error otherwise.
  Result<bool> Step();
  // Steps to completion, expecting no rows.
  Result<void> Run();
  void Reset();

  std::int64_t Int(int c) const;
  bool IsNull(int c) const;
  std::string Text(int c) const;
  std::optional<std::int64_t> OptInt(int c) const {
    return IsNull(c) ? std::nullopt : std::optional<std::int64_t>(Int(c));
  }

 private:
  sqlite3* db_ = nullptr;
  sqlite3_stmt* s_ = nullptr;
};

// BEGIN IMMEDIATE ... COMMIT, rolled back on destruction unless committed. IMMEDIATE takes the
// database's write lock at once, so read-modify-write sequences (the audit chain head, failed
// login counters) are serialised across connections and processes.
class Transaction {
 public:
  static Result<Transaction> Begin(sqlite3* db);
  Transaction(Transaction&& o) noexcept : db_(o.db_), open_(o.open_) { o.open_ = false; }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  Transaction& operator=(Transaction&&) = delete;
  ~Transaction();
  Result<void> Commit();

 private:
  explicit Transaction(sqlite3* db) : db_(db), open_(true) {}
  sqlite3* db_;
  bool open_;
};

// Opens (creating when asked) a database with the same durability settings as the event store:
// WAL journal, synchronous=FULL, a 30 s busy timeout.
Result<sqlite3*> OpenDatabase(const std::string& path, bool create);

}  // namespace crimecast::access::sql
