// core/storage/sqlite_common.hpp (internal to the storage module)
//
// The error mapping, one-shot execution and the prepared-statement wrapper shared by the SQLite
// event store and its key index. The layer store keeps its own wrapper on purpose: this one
// binds text SQLITE_STATIC (the import hot path) and maps NULL reals to NaN; the layer store
// copies its bindings.
//
// Error contract: every failing call becomes Error{kStorage, "<what>: <sqlite message>"}.
#pragma once

#include <fmt/format.h>
#include <sqlite3.h>

#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>

#include "core/common/error.hpp"

namespace crimecast::storage::internal {

Unexpected SqlError(sqlite3* db, std::string_view what);
// Runs `sql` (one or more statements, no results) with sqlite3_exec.
Result<void> Exec(sqlite3* db, const char* sql);

// RAII prepared statement. Prepared with SQLITE_PREPARE_PERSISTENT (statements may be kept).
class Stmt {
 public:
  Stmt() = default;
  Stmt(const Stmt&) = delete;
  Stmt& operator=(const Stmt&) = delete;
  Stmt(Stmt&& o) noexcept : s_(o.s_) { o.s_ = nullptr; }
  Stmt& operator=(Stmt&& o) noexcept {
    std::swap(s_, o.s_);
    return *this;
  }
  ~Stmt() { sqlite3_finalize(s_); }
  static Result<Stmt> Prepare(sqlite3* db, std::string_view sql) {
    Stmt st;
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &st.s_, nullptr) != SQLITE_OK) {
      return SqlError(db, fmt::format("prepare '{}'", sql.substr(0, 80)));
    }
    return st;
  }
  sqlite3_stmt* get() const { return s_; }
  // Every statement rebinds all its parameters before each step, so bindings are not cleared.
  void Reset() { sqlite3_reset(s_); }
  void Bind(int i, std::int64_t v) { sqlite3_bind_int64(s_, i, v); }
  void Bind(int i, int v) { sqlite3_bind_int(s_, i, v); }
  void Bind(int i, double v) {
    if (std::isfinite(v)) {
      sqlite3_bind_double(s_, i, v);
    } else {
      sqlite3_bind_null(s_, i);
    }
  }
  // SQLITE_STATIC: callers keep the text alive until the statement is stepped and reset, which
  // saves a copy per field on the import hot path.
  void Bind(int i, std::string_view v) {
    sqlite3_bind_text(s_, i, v.data(), static_cast<int>(v.size()), SQLITE_STATIC);
  }
  std::int64_t Int(int c) const { return sqlite3_column_int64(s_, c); }
  double Real(int c) const {
    return sqlite3_column_type(s_, c) == SQLITE_NULL ? std::nan("") : sqlite3_column_double(s_, c);
  }
  // Valid until the next step or reset.
  std::string_view TextView(int c) const {
    const auto* p = sqlite3_column_text(s_, c);
    return p ? std::string_view(reinterpret_cast<const char*>(p),
                                static_cast<std::size_t>(sqlite3_column_bytes(s_, c)))
             : std::string_view();
  }
  std::string Text(int c) const {
    const auto* p = sqlite3_column_text(s_, c);
    return p ? std::string(reinterpret_cast<const char*>(p),
                           static_cast<std::size_t>(sqlite3_column_bytes(s_, c)))
             : std::string();
  }

 private:
  sqlite3_stmt* s_ = nullptr;
};

}  // namespace crimecast::storage::internal
