#include "core/storage/sqlite_common.hpp"

#include <fmt/format.h>
#include <sqlite3.h>

#include <string>

namespace crimecast::storage::internal {

Unexpected SqlError(sqlite3* db, std::string_view what) {
  return Fail(ErrorCode::kStorage, fmt::format("{}: {}", what, sqlite3_errmsg(db)));
}

Result<void> Exec(sqlite3* db, const char* sql) {
  char* err = nullptr;
  if (sqlite3_exec(db, sql, nullptr, nullptr, &err) != SQLITE_OK) {
    std::string msg = err ? err : "unknown error";
    sqlite3_free(err);
    return Fail(ErrorCode::kStorage, fmt::format("SQL failed ({}): {}", msg, sql));
  }
  return {};
}

}  // namespace crimecast::storage::internal
