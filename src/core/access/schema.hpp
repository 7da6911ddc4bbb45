// core/access/schema.hpp
//
// The access tables (users, sessions, API tokens, audit log) live in the same SQLite file as the
// events, but have their own append-only migration sequence recorded in
// access_schema_migrations (see docs/decisions/0004-access-control-and-audit.md for why they
// are not versions 2, 3, ... of storage/migrations.cpp). EnsureAccessSchema is idempotent and
// safe to call from several processes at once (each migration runs in BEGIN IMMEDIATE and is
// re-checked inside the transaction).
#pragma once

#include "core/common/error.hpp"

struct sqlite3;

namespace crimecast::access {

Result<void> EnsureAccessSchema(sqlite3* db);
int LatestAccessSchemaVersion();
Result<int> AccessSchemaVersion(sqlite3* db);

}  // namespace crimecast::access
