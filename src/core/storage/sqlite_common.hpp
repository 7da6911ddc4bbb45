// core/storage/sqlite_common.hpp (internal to the storage module)
//
// The error mapping and one-shot execution shared by the SQLite event store and layer store.
// Each keeps its own prepared-statement wrapper on purpose: the event store binds text
// SQLITE_STATIC on the import hot path and maps NULL reals to NaN; the layer store copies its
// bindings and reads blobs.
//
// Error contract: every failing call becomes Error{kStorage, "<what>: <sqlite message>"}.
#pragma once

#include <string_view>

#include "core/common/error.hpp"

struct sqlite3;

namespace crimecast::storage::internal {

Unexpected SqlError(sqlite3* db, std::string_view what);
// Runs `sql` (one or more statements, no results) with sqlite3_exec.
Result<void> Exec(sqlite3* db, const char* sql);

}  // namespace crimecast::storage::internal
